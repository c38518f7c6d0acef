// Package tourtest holds the checks of the tour's output that the tour's
// own tests and cmd/rawsock's share: cmd runs the whole command as uid
// 65534, the tour's tests run its steps in the test process.
package tourtest

import (
	"regexp"
	"testing"
	"time"
)

// MustMatch fails t unless out has a match for each pattern, and returns
// the submatches of the last.
func MustMatch(t testing.TB, out string, patterns ...string) []string {
	t.Helper()
	var m []string
	for _, p := range patterns {
		m = regexp.MustCompile(p).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("output has no line matching %s", p)
		}
	}
	return m
}

// Section returns the text of the tour's section with the given title.
func Section(t testing.TB, out, title string) string {
	t.Helper()
	re := regexp.MustCompile(`(?ms)^== \d+\. ` + regexp.QuoteMeta(title) + ` ==\n(.*?)(?:^== |\z)`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Errorf("tour output has no section %q", title)
		return ""
	}
	return m[1]
}

// CheckTimestampReply checks a reply of the tutorial's server in out:
// ctime() of about now (time.ANSIC, the tour's layout), then the data.
func CheckTimestampReply(t testing.TB, out, data string) {
	t.Helper()
	m := MustMatch(t, out, `client got "(.{24})`+regexp.QuoteMeta(data)+`"`)
	if m == nil {
		return
	}
	ts, err := time.ParseInLocation(time.ANSIC, m[1], time.Local)
	if err != nil {
		t.Errorf("reply %q does not start with ctime(): %v", m[0], err)
		return
	}
	if d := time.Since(ts); d < -time.Minute || d > time.Minute {
		t.Errorf("reply's ctime %q is %v away from now", m[1], d)
	}
}

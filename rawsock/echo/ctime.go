package echo

import "time"

// CtimeLen is the length of a ctime(3) string without its newline.
const CtimeLen = 24

// ctimeLayout is C's "%a %b %e %H:%M:%S %Y": the day of the month is padded
// with a space, as ctime(3) and Python's time.ctime() pad it.
const ctimeLayout = "Mon Jan _2 15:04:05 2006"

// Ctime formats t as C's ctime(3) does, without the trailing newline:
// "Tue Sep 13 19:11:20 2016", 24 bytes for years 1000 to 9999. t is
// formatted in its own location; pass time.Now() for local time.
func Ctime(t time.Time) string { return t.Format(ctimeLayout) }

// AppendCtime appends Ctime(t) to b.
func AppendCtime(b []byte, t time.Time) []byte { return t.AppendFormat(b, ctimeLayout) }

// stamper caches the current ctime, which changes once a second: each reply
// costs a clock read, not a format.
type stamper struct {
	sec int64
	b   [CtimeLen]byte
}

// stamp writes the ctime of now into dst[:CtimeLen].
func (s *stamper) stamp(dst []byte, now time.Time) {
	if sec := now.Unix(); sec != s.sec || s.b[0] == 0 {
		s.sec = sec
		AppendCtime(s.b[:0], now)
	}
	copy(dst[:CtimeLen], s.b[:])
}

// IsCtime reports whether b is shaped like a ctime(3) string: weekday,
// month, space-padded day, hh:mm:ss and a four-digit year. Clients use it
// to tell the server's timestamps from the data around them.
func IsCtime(b []byte) bool {
	if len(b) != CtimeLen {
		return false
	}
	if !isName(b[0:3], "SunMonTueWedThuFriSat") || b[3] != ' ' ||
		!isName(b[4:7], "JanFebMarAprMayJunJulAugSepOctNovDec") || b[7] != ' ' {
		return false
	}
	if !(b[8] == ' ' || b[8] >= '1' && b[8] <= '3') || !digit(b[9]) || b[10] != ' ' {
		return false
	}
	// hh:mm:ss yyyy
	for i, c := range b[11:] {
		switch i {
		case 2, 5:
			if c != ':' {
				return false
			}
		case 8:
			if c != ' ' {
				return false
			}
		default:
			if !digit(c) {
				return false
			}
		}
	}
	return true
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// isName reports whether the three bytes b are one of the names in list.
func isName(b []byte, list string) bool {
	for i := 0; i+3 <= len(list); i += 3 {
		if string(b) == list[i:i+3] {
			return true
		}
	}
	return false
}

// isCtimePrefix reports whether b could be the first len(b) bytes of a
// ctime.
func isCtimePrefix(b []byte) bool {
	if len(b) >= CtimeLen {
		return IsCtime(b[:CtimeLen])
	}
	var full [CtimeLen]byte
	copy(full[:], "Sun Jan  1 00:00:00 2000")
	n := copy(full[:], b)
	// Complete a partial weekday or month with a name it could begin.
	for _, f := range [2]struct {
		at   int
		list string
	}{{0, "SunMonTueWedThuFriSat"}, {4, "JanFebMarAprMayJunJulAugSepOctNovDec"}} {
		if n > f.at && n < f.at+3 {
			for i := 0; i < len(f.list); i += 3 {
				if string(full[f.at:n]) == f.list[i:i+n-f.at] {
					copy(full[f.at:f.at+3], f.list[i:i+3])
					break
				}
			}
		}
	}
	return IsCtime(full[:])
}

// maybeCtimeStart reports whether a ctime could begin with c: every
// weekday's name starts with one of these letters.
func maybeCtimeStart(c byte) bool {
	return c == 'S' || c == 'M' || c == 'T' || c == 'W' || c == 'F'
}

//go:build linux

package netns_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"golang.org/x/sys/unix"
)

// A test of a ping through three routers, one of which drops 30% of the
// echo requests and duplicates every reply: it runs the command under test
// in host A and compares its figures with the rules' counters.
func ExampleNewLine() {
	testPing := func(t *testing.T) {
		l := netns.NewLine(t, 3) // skips unless root (CAP_SYS_ADMIN)
		drop := l.Routers[1].Loss(30, "icmp type echo-request")
		dup := l.Routers[2].Dup("icmp type echo-reply", l.A.Addr4())
		out, err := l.A.Command("rawsock", "ping", "-c", "100", "-i", "0.01", l.B.Addr4().String()).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "packet loss") {
			t.Fatalf("%v\n%s", err, out)
		}
		_, dropped, err := drop.Counters()
		if err != nil {
			t.Fatal(err)
		}
		_, copies, _ := dup.Counters()
		t.Logf("the rules dropped %d requests and copied %d replies:\n%s", dropped, copies, out)
	}
	_ = testPing
}

// Do runs code inside a namespace; the sockets it opens stay there.
func ExampleNamespace_Do() {
	testUDP := func(t *testing.T) {
		tp := netns.New(t)
		a, b := tp.Host("a"), tp.Host("b")
		link := tp.Connect(a, b)
		var fd int
		err := a.Do(func() (err error) {
			fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		// Back on any goroutine, fd still sends from inside a.
		dst := link.B4.As4()
		if err := unix.Sendto(fd, []byte("hi"), 0, &unix.SockaddrInet4{Addr: dst, Port: 9}); err != nil {
			t.Fatal(err)
		}
	}
	_ = testUDP
}

// Routes of any shape: a diamond where AutoRoute picks the shorter side.
func ExampleTopology_AutoRoute() {
	testDiamond := func(t *testing.T) {
		tp := netns.New(t)
		a, b := tp.Host("a"), tp.Host("b")
		r1, r2, r3 := tp.Router("r1"), tp.Router("r2"), tp.Router("r3")
		tp.Connect(a, r1)
		last := tp.Connect(r1, b)
		tp.Connect(a, r2)
		tp.Connect(r2, r3)
		tp.Connect(r3, b)
		tp.AutoRoute()
		a.Route(netip.MustParsePrefix("0.0.0.0/0"), a.Links()[0].B4)
		_ = last.B4 // b, two hops from a through r1
	}
	_ = testDiamond
}

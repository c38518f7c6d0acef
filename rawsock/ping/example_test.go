package ping_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock/ping"
)

// Ping 127.0.0.1 three times, printing each reply as it comes, then the
// statistics.
func Example() {
	p, err := ping.New(ping.Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 3, Interval: 200 * time.Millisecond})
	if err != nil {
		log.Fatal(err) // ErrNoSocket: see the sysctl, setcap or root the message names
	}
	defer p.Close()
	st, err := p.Run(context.Background(), func(e *ping.Event) {
		switch e.Kind {
		case ping.EventReply:
			fmt.Printf("%d bytes from %v: icmp_seq=%d ttl=%d time=%v\n", e.Size, e.From, e.Seq, e.TTL, e.RTT)
		case ping.EventTimeout:
			fmt.Printf("no answer for icmp_seq=%d\n", e.Seq)
		case ping.EventError:
			fmt.Printf("From %v icmp_seq=%d %s\n", e.From, e.Seq, e.Reason())
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d sent, %d received, %.0f%% loss, rtt min/avg/max/mdev %v/%v/%v/%v (%v socket)\n",
		st.Transmitted, st.Received, st.Loss(), st.Min, st.Avg, st.Max, st.Mdev, p.SocketKind())
}

// A program that runs as root, or with CAP_NET_RAW from setcap, gives the
// privilege up once the socket is open, as ping does.
func ExampleDropPrivileges() {
	p, err := ping.New(ping.Config{Dst: netip.MustParseAddr("::1"), Count: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	if err := ping.DropPrivileges(); err != nil {
		log.Fatal(err)
	}
	st, _ := p.Run(context.Background(), nil)
	fmt.Println(st.Received, "reply")
}

// A Printer turns Run's events into iputils' lines; here three events
// made up, as a test of an event handler would.
func ExamplePrinter() {
	lo := netip.MustParseAddr("127.0.0.1")
	pr := &ping.Printer{W: os.Stdout, Err: os.Stdout, Host: "localhost", Dst: lo, Size: 56, Timed: true}
	pr.Header(lo)
	pr.Event(&ping.Event{Kind: ping.EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 45 * time.Microsecond, Mismatch: -1})
	pr.Event(&ping.Event{Kind: ping.EventError, Seq: 2, From: netip.MustParseAddr("10.0.2.2"), Type: 3, Code: 1})
	pr.Statistics(&ping.Statistics{Transmitted: 2, Received: 1, Errors: 1, Timed: true,
		Min: 45 * time.Microsecond, Avg: 45 * time.Microsecond, Max: 45 * time.Microsecond, Time: 1001 * time.Millisecond})
	// Output:
	// PING localhost (127.0.0.1) 56(84) bytes of data.
	// 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
	// From 10.0.2.2 icmp_seq=2 Destination Host Unreachable
	//
	// --- localhost ping statistics ---
	// 2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1001ms
	// rtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms
}

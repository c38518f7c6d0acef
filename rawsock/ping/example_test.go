package ping_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
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

package traceroute

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
)

// BenchmarkTraceLoopback is one whole trace of 127.0.0.1 (one hop, three
// probes) per op, sockets opened and closed included.
func BenchmarkTraceLoopback(b *testing.B) {
	for _, m := range []method{methods[0], methods[1], methods[3]} {
		b.Run(m.name, func(b *testing.B) {
			if m.m != UDP {
				socktest.NeedRaw(b)
			}
			cfg := Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: m.m, Socket: m.socket, Wait: time.Second}
			for b.Loop() {
				tr, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				res, err := tr.Run(context.Background(), nil)
				tr.Close()
				if err != nil || !res.Reached() {
					b.Fatalf("%v, reached %v", err, res.Reached())
				}
			}
		})
	}
}

// BenchmarkTraceLine is one whole trace from A to B through three routers
// per op (4 hops, 12 probes), sockets opened in A and closed included.
func BenchmarkTraceLine(b *testing.B) {
	l := netns.NewLine(b, 3)
	l.A.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	for _, m := range methods[:4] {
		b.Run(m.name, func(b *testing.B) {
			cfg := m.config(l.B.Addr4())
			for b.Loop() {
				var tr *Tracer
				if err := l.A.Do(func() (err error) { tr, err = New(cfg); return err }); err != nil {
					b.Fatal(err)
				}
				res, err := tr.Run(context.Background(), nil)
				tr.Close()
				if err != nil || !res.Reached() || len(res.Hops) != 4 {
					b.Fatalf("%v, %d hops, reached %v", err, len(res.Hops), res.Reached())
				}
			}
		})
	}
}

// BenchmarkSilentHop is one whole trace from A to B through three routers,
// the second silent, per op, with the default wait (-w 5,3,10): this
// library, then the system's traceroute (Debian's 2.1) run in A for
// comparison. With the adaptive wait neither waits the 5 s of MAX for the
// silent hop; the system tool's time includes its fork and exec.
func BenchmarkSilentHop(b *testing.B) {
	l := netns.NewLine(b, 3)
	if err := netns.CheckNft(); err != nil {
		b.Skipf("no nft(8) to silence a router: %v", err)
	}
	l.Routers[1].Nft(`table inet rstest_silent {
	chain out {
		type filter hook output priority 0; policy accept;
		icmp type time-exceeded drop
	}
}`)
	dst := l.B.Addr4()
	b.Run("rawsock", func(b *testing.B) {
		for b.Loop() {
			var tr *Tracer
			if err := l.A.Do(func() (err error) { tr, err = New(Config{Dst: dst}); return err }); err != nil {
				b.Fatal(err)
			}
			res, err := tr.Run(context.Background(), nil)
			tr.Close()
			if err != nil || !res.Reached() || len(res.Hops) != 4 || res.Hops[1].Probes[0].Answered() {
				b.Fatalf("%v, %d hops, reached %v", err, len(res.Hops), res.Reached())
			}
		}
	})
	b.Run("traceroute", func(b *testing.B) {
		path, err := exec.LookPath("traceroute")
		if err != nil {
			b.Skipf("no system traceroute: %v", err)
		}
		for b.Loop() {
			out, err := l.A.Command(path, "-n", dst.String()).CombinedOutput()
			if err != nil || !strings.Contains(string(out), " 2  * * *") || !strings.Contains(string(out), " 4  "+dst.String()) {
				b.Fatalf("%v:\n%s", err, out)
			}
		}
	})
}

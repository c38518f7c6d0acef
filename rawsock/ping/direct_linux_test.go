package ping

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
)

// TestFloodDirectStops checks that a flood on a raw socket, which Run
// takes off the poller (direct_linux.go), still ends on each of the ways a
// run ends while it waits in ppoll: nothing answers (the namespace drops
// every request), so without the stop the run would never end.
func TestFloodDirectStops(t *testing.T) {
	socktest.NeedRaw(t)
	for _, tc := range []struct {
		name string
		stop func(p *Pinger, cancel context.CancelFunc)
		cfg  Config
	}{
		{"cancel", func(_ *Pinger, cancel context.CancelFunc) { cancel() }, Config{}},
		{"close", func(p *Pinger, _ context.CancelFunc) { p.Close() }, Config{}},
		{"deadline", nil, Config{Deadline: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := rawNS(t)
			if ns == nil {
				t.Skip("no network namespace (netns.Check failed): a silent target needs one")
			}
			ns.Loss(100, "icmp type echo-request")
			cfg := tc.cfg
			cfg.Dst, cfg.Flood, cfg.Socket, cfg.Timeout = netip.MustParseAddr("127.0.0.1"), true, SocketRaw, time.Hour
			p := openIn(t, ns, cfg)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sent := make(chan struct{}, 1)
			done := make(chan error, 1)
			go func() {
				_, err := p.Run(ctx, func(e *Event) {
					if e.Kind == EventSent && e.Seq == 3 {
						sent <- struct{}{}
					}
				})
				done <- err
			}()
			if tc.stop != nil {
				select {
				case <-sent: // three requests out: the run waits in ppoll now
				case <-time.After(30 * time.Second):
					t.Fatal("no third request in 30 s")
				}
				tc.stop(p, cancel)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				p.Close()
				t.Fatal("the run did not end in 30 s")
			}
			if !p.sys.direct {
				t.Error("the flood did not take the socket off the poller")
			}
			if tc.name == "close" && p.sys.d.fd != -1 {
				t.Errorf("after Close and the run's end, fd %d is still open", p.sys.d.fd)
			}
		})
	}
}

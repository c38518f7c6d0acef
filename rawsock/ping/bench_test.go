package ping

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
)

// BenchmarkFlood is the library's flood to 127.0.0.1 on a raw socket: one
// op is one request and its reply. It reports requests per second and the
// min and avg round trip, as the command's statistics would.
//
//	sudo go test -run '^$' -bench Flood -benchtime 200000x ./rawsock/ping
func BenchmarkFlood(b *testing.B) {
	socktest.NeedRaw(b)
	p, err := New(Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: b.N, Flood: true, Timeout: 5 * time.Second, Socket: SocketRaw})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	st, err := p.Run(context.Background(), func(*Event) {})
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || st.Received != b.N {
		b.Fatalf("%+v %v", st, err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pps")
	b.ReportMetric(float64(st.Min.Nanoseconds())/1e3, "min-µs")
	b.ReportMetric(float64(st.Avg.Nanoseconds())/1e3, "avg-µs")
}

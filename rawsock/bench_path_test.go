package rawsock_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// BenchmarkCallPath measures the user-space path of a call: one cheap
// syscall (EAGAIN, or a UDP datagram to itself) per call, so that the
// path from the method to the syscall is a large share of the time. With
// deadline=none, Recv, RecvfromInet and SendtoInet take the fast path;
// with deadline=set, and Recvmsg always, the call goes through the op.
func BenchmarkCallPath(b *testing.B) {
	for _, dl := range []string{"none", "set"} {
		setup := func(b *testing.B) (*rawsock.Conn, []byte) {
			s := socktest.BoundUDP(b, rawsock.AF_INET)
			if dl == "set" {
				if err := s.SetDeadline(time.Now().Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
			return s, make([]byte, 64)
		}
		b.Run("deadline="+dl+"/op=Recv-EAGAIN", func(b *testing.B) {
			s, buf := setup(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Recv(buf, unix.MSG_DONTWAIT); !errors.Is(err, unix.EAGAIN) {
					b.Fatal(err)
				}
			}
		})
		b.Run("deadline="+dl+"/op=RecvfromInet-EAGAIN", func(b *testing.B) {
			s, buf := setup(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.RecvfromInet(buf, unix.MSG_DONTWAIT); !errors.Is(err, unix.EAGAIN) {
					b.Fatal(err)
				}
			}
		})
		b.Run("deadline="+dl+"/op=Recvmsg-EAGAIN", func(b *testing.B) {
			s, buf := setup(b)
			oob := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, _, err := s.Recvmsg(buf, oob, unix.MSG_DONTWAIT); !errors.Is(err, unix.EAGAIN) {
					b.Fatal(err)
				}
			}
		})
		b.Run("deadline="+dl+"/op=SendtoInet-self", func(b *testing.B) {
			s, buf := setup(b)
			sa, _ := s.Getsockname()
			to, _ := rawsock.AddrPortFromSockaddr(sa)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.SendtoInet(buf, 0, to); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package tour

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// maxICMPReads bounds the receive loop, with the deadline: a raw ICMP
// socket sees every ICMP packet of the host, not only the reply to ours, and
// another program's ping can send thousands. Only the first few strangers
// are described.
const (
	maxICMPReads = 4096
	maxIgnored   = 4
)

var stepICMPEcho = tourStep{
	title: "Raw socket: ICMP echo to 127.0.0.1",
	about: `A SOCK_RAW socket sends the ICMP message you build (the kernel adds the IP
header) and receives every ICMP packet with its IP header in front (raw(7)).
The echo request is built and the reply parsed with golang.org/x/net/icmp.`,
	trace:   true,
	needRaw: true,
	run: func(s *stepRun) error {
		if v, on := echoIgnoreAll(); on {
			return skip("net.ipv4.icmp_echo_ignore_all is %s: this kernel answers no echo request", v)
		}
		s.say("ping", "s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)")
		c, err := s.socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP)
		if err != nil {
			return err
		}
		id, seq := os.Getpid()&0xffff, 1
		payload := fmt.Appendf(nil, "rawsock tour %d", time.Now().UnixNano())
		req, err := (&icmp.Message{
			Type: ipv4.ICMPTypeEcho,
			Body: &icmp.Echo{ID: id, Seq: seq, Data: payload},
		}).Marshal(nil)
		if err != nil {
			return err
		}
		s.say("ping", "s.sendto(echo_request(id=%d, seq=%d), ('127.0.0.1', 0))    %d bytes: type 8, code 0, checksum, id, seq, data", id, seq, len(req))
		sent := time.Now()
		if _, err := c.Sendto(req, 0, loopback4()); err != nil {
			return err
		}

		deadline := sent.Add(s.opts.CallTimeout)
		buf := make([]byte, 1500)
		paused := false // the trace, while strangers are read
		for i := range maxICMPReads {
			if time.Now().After(deadline) {
				break
			}
			if i < maxIgnored {
				s.say("ping", "data, addr = s.recvfrom(1500)")
			} else if i == maxIgnored {
				s.say("ping", "... more ICMP from other programs: reading on, quietly")
				if rawsock.Tracing() {
					rawsock.SetTrace(nil)
					paused = true
					defer func() {
						if paused {
							rawsock.SetTrace(s.traceW)
						}
					}()
				}
			}
			n, _, err := c.Recvfrom(buf, 0)
			if err != nil {
				return err
			}
			rtt := time.Since(sent)
			h, err := ipv4.ParseHeader(buf[:n])
			if err != nil {
				if i < maxIgnored {
					s.result("not an IPv4 packet (%v): ignored", err)
				}
				continue
			}
			if h.Len > n {
				if i < maxIgnored {
					s.result("IPv4 header of %d bytes in a %d-byte packet: ignored", h.Len, n)
				}
				continue
			}
			m, err := icmp.ParseMessage(1, buf[h.Len:n]) // 1: ICMP for IPv4
			if err != nil {
				if i < maxIgnored {
					s.result("unparsable ICMP from %s (%v): ignored", h.Src, err)
				}
				continue
			}
			echo, ok := m.Body.(*icmp.Echo)
			switch {
			case !ok || echo.ID != id || echo.Seq != seq || !bytes.Equal(echo.Data, payload):
				if i < maxIgnored {
					s.result("%v from %s, not ours: ignored", m.Type, h.Src)
				}
			case m.Type == ipv4.ICMPTypeEcho:
				s.result("our own echo request, looped back: a raw socket sees outgoing ICMP on lo too")
			case m.Type == ipv4.ICMPTypeEchoReply:
				s.result("IPv4 %s > %s ttl=%d, %d-byte header, then ICMP %v id=%d seq=%d, %d data bytes",
					h.Src, h.Dst, h.TTL, h.Len, m.Type, echo.ID, echo.Seq, len(echo.Data))
				s.result("echo reply from %s: icmp_seq=%d ttl=%d time=%.3f ms", h.Src, echo.Seq, h.TTL, float64(rtt.Microseconds())/1000)
				if paused {
					rawsock.SetTrace(s.traceW)
					paused = false
				}
				s.say("ping", "s.close()")
				return c.Close()
			}
		}
		return fmt.Errorf("no echo reply from 127.0.0.1 within %v", s.opts.CallTimeout)
	},
}

// echoIgnoreAll returns net.ipv4.icmp_echo_ignore_all, and whether it is
// set: then this kernel answers no echo request.
func echoIgnoreAll() (string, bool) {
	b, err := os.ReadFile(procEchoIgnored)
	v := strings.TrimSpace(string(b))
	return v, err == nil && v != "0"
}

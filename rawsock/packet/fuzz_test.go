package packet

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Fuzz targets. Each feeds untrusted bytes to a parser and checks: no panic;
// an error is one of this package's kinds; a success round-trips (Append of
// what Parse returned gives the same bytes, checksums aside) and agrees with
// x/net where x/net parses the same thing. Seeds are in testdata/fuzz, written
// by TestFuzzSeeds from fuzzSeeds below.

func checkKind(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %q matches neither ErrTruncated nor ErrMalformed", err)
	}
}

// sameExcept reports whether a and b are equal but for the 16-bit field at off.
func sameExcept(a, b []byte, off int) bool {
	if len(a) != len(b) || len(a) < off+2 {
		return false
	}
	return bytes.Equal(a[:off], b[:off]) && bytes.Equal(a[off+2:], b[off+2:])
}

func FuzzParseIPv4(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h IPv4
		payload, err := h.Parse(b)
		_ = VerifyIPv4Checksum(b)
		var lenient IPv4
		lp, lerr := lenient.parse(b, false)
		if err != nil {
			checkKind(t, err)
			if lerr == nil && !errors.Is(err, ErrTruncated) {
				t.Fatalf("strict parse failed (%v) on something other than length, lenient did not", err)
			}
			return
		}
		if lerr != nil || !reflect.DeepEqual(h, lenient) || !bytes.Equal(payload, lp) {
			t.Fatalf("lenient parse differs: %v %+v", lerr, lenient)
		}
		hl, tl := int(h.IHL)*4, int(h.TotalLen)
		if !bytes.Equal(payload, b[hl:tl]) || cap(payload) != len(payload) {
			t.Fatalf("payload %x (cap %d) is not b[%d:%d]", payload, cap(payload), hl, tl)
		}
		// x/net agrees field by field.
		x, err := ipv4.ParseHeader(b)
		if err != nil {
			t.Fatalf("x/net rejects what Parse accepted: %v", err)
		}
		var fromX IPv4
		if err := fromX.FromHeader(x); err != nil {
			t.Fatal(err)
		}
		if len(h.Options) == 0 && len(fromX.Options) == 0 {
			fromX.Options, h.Options = nil, nil // nil and empty: both "no options"
		}
		if !reflect.DeepEqual(fromX, h) {
			t.Fatalf("x/net parsed\n %+v\nwe parsed\n %+v", fromX, h)
		}
		// Round trip: the same bytes but the checksum, which Append computes.
		out, err := h.Append(nil, payload)
		if err != nil {
			t.Fatalf("Append of a parsed header: %v", err)
		}
		if !sameExcept(out, b[:tl], 10) {
			t.Fatalf("round trip:\n %x\nwant\n %x", out, b[:tl])
		}
		if err := VerifyIPv4Checksum(out); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseIPv6(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h IPv6
		payload, err := h.Parse(b)
		if err != nil {
			checkKind(t, err)
			return
		}
		if !bytes.Equal(payload, b[40:40+int(h.PayloadLen)]) {
			t.Fatalf("payload is not b[40:%d]", 40+int(h.PayloadLen))
		}
		x, err := ipv6.ParseHeader(b)
		if err != nil {
			t.Fatalf("x/net rejects what Parse accepted: %v", err)
		}
		if x.TrafficClass != int(h.TrafficClass) || x.FlowLabel != int(h.FlowLabel) || x.PayloadLen != int(h.PayloadLen) ||
			x.NextHeader != int(h.NextHeader) || x.HopLimit != int(h.HopLimit) || !x.Src.Equal(h.Src.AsSlice()) || !x.Dst.Equal(h.Dst.AsSlice()) {
			t.Fatalf("x/net parsed %v, we parsed %+v", x, h)
		}
		out, err := h.Append(nil, payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b[:40+len(payload)]) {
			t.Fatalf("round trip:\n %x\nwant\n %x", out, b[:40+len(payload)])
		}
		proto, off, _, err := skipIPv6Extensions(h.NextHeader, payload)
		if err != nil {
			checkKind(t, err)
		} else if off > len(payload) {
			t.Fatalf("upper layer %d at %d, past the %d-byte payload", proto, off, len(payload))
		}
	})
}

func FuzzParseICMP(f *testing.F) {
	f.Fuzz(func(t *testing.T, v6 bool, b []byte) {
		proto := ProtoICMP
		if v6 {
			proto = ProtoICMPv6
		}
		xm, xerr := ParseMessage(proto, b) // x/net's parser must not panic either
		var m ICMP
		err := m.Parse(proto, b)
		q := &m.Quoted
		sp, dp, pok := q.Ports()
		id, seq, eok := q.Echo()
		if err != nil {
			checkKind(t, err)
			return
		}
		if !bytes.Equal(m.Data, b[ICMPHeaderLen:]) {
			t.Fatal("Data is not the bytes after the header")
		}
		if m.IsError() {
			if q.Version == 0 || !q.Src().IsValid() {
				t.Fatalf("error message without a quoted header: %+v", q)
			}
			if pok && (len(q.Payload) < 4 || sp != uint16(q.Payload[0])<<8|uint16(q.Payload[1]) || dp != uint16(q.Payload[2])<<8|uint16(q.Payload[3])) {
				t.Fatal("Ports disagree with the quoted bytes")
			}
			if eok && (len(q.Payload) < 8 || id != uint16(q.Payload[4])<<8|uint16(q.Payload[5]) || seq != uint16(q.Payload[6])<<8|uint16(q.Payload[7])) {
				t.Fatal("Echo disagrees with the quoted bytes")
			}
		} else if q.Version != 0 || pok || eok {
			t.Fatalf("a non-error message has a quoted datagram: %+v", q)
		}
		if m.IsEcho() && xerr == nil {
			e, ok := xm.Body.(*icmp.Echo)
			if !ok || e.ID != int(m.ID) || e.Seq != int(m.Seq) || !bytes.Equal(e.Data, m.Data) && len(m.Data) > 0 {
				t.Fatalf("x/net parsed %+v %+v, we parsed %+v", xm, xm.Body, m)
			}
		}
		out, err := m.Append(nil, netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		if !sameExcept(out, b, 2) {
			t.Fatalf("round trip:\n %x\nwant\n %x", out, b)
		}
		if !v6 && VerifyICMPChecksum(proto, netip.Addr{}, netip.Addr{}, b) == nil && Checksum(out) != 0 {
			t.Fatalf("the input's checksum was right, Append's is not: %x", out)
		}
	})
}

func FuzzParseUDP(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h UDP
		payload, err := h.Parse(b)
		_ = VerifyUDPChecksum(addrA4, addrB4, b)
		_ = VerifyUDPChecksum(addrA6, addrB6, b)
		if err != nil {
			checkKind(t, err)
			return
		}
		if int(h.Length) != UDPHeaderLen+len(payload) || !bytes.Equal(payload, b[8:h.Length]) {
			t.Fatalf("length %d, payload %d bytes", h.Length, len(payload))
		}
		for _, a := range [][2]netip.Addr{{addrA4, addrB4}, {addrA6, addrB6}} {
			out, err := h.Append(nil, a[0], a[1], payload)
			if err != nil {
				t.Fatal(err)
			}
			if !sameExcept(out, b[:h.Length], 6) {
				t.Fatalf("round trip:\n %x\nwant\n %x", out, b[:h.Length])
			}
			if err := VerifyUDPChecksum(a[0], a[1], out); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseTCP(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h TCP
		payload, err := h.Parse(b)
		_ = VerifyTCPChecksum(addrA6, addrB6, b)
		if err != nil {
			checkKind(t, err)
			return
		}
		if int(h.DataOffset)*4+len(payload) != len(b) {
			t.Fatalf("data offset %d and %d payload bytes do not add up to %d", h.DataOffset, len(payload), len(b))
		}
		out, err := h.Append(nil, addrA4, addrB4, payload)
		if err != nil {
			t.Fatal(err)
		}
		if !sameExcept(out, b, 16) {
			t.Fatalf("round trip:\n %x\nwant\n %x", out, b)
		}
		if err := VerifyTCPChecksum(addrA4, addrB4, out); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseEthernet(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Ethernet
		payload, err := h.Parse(b)
		if err != nil {
			checkKind(t, err)
			return
		}
		if out := h.Append(nil, payload); !bytes.Equal(out, b) {
			t.Fatalf("round trip:\n %x\nwant\n %x", out, b)
		}
	})
}

func FuzzParseARP(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var h ARP
		rest, err := h.Parse(b)
		if err != nil {
			checkKind(t, err)
			return
		}
		if len(rest) != len(b)-ARPLen {
			t.Fatalf("%d bytes after the packet, want %d", len(rest), len(b)-ARPLen)
		}
		out, err := h.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(b[:ARPLen])
		if want[0] == 0 && want[1] == 0 {
			want[1] = 1 // hardware type 0 is reserved; Append writes Ethernet
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip:\n %x\nwant\n %x", out, want)
		}
	})
}

// FuzzDump checks that the dump of any bytes, from any first layer, shows
// every byte exactly once at the offset it claims.
func FuzzDump(f *testing.F) {
	f.Fuzz(func(t *testing.T, layer byte, b []byte) {
		checkDump(t, b, Layer(layer%10))
		if len(b) > 0 && Hexdump(b) == "" {
			t.Fatal("empty hexdump")
		}
	})
}

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "write the fuzz seed corpus to testdata/fuzz")

// TestFuzzSeeds checks that testdata/fuzz holds every seed fuzzSeeds makes,
// so the committed corpus and the code that documents it cannot drift; with
// -update-fuzz-seeds it writes them. (Inputs the fuzzer found are kept there
// too, under their hash names.)
func TestFuzzSeeds(t *testing.T) {
	for target, seeds := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, args := range seeds {
			path := filepath.Join(dir, "seed-"+name)
			want := encodeSeed(args...)
			if *updateSeeds {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale (%v): run go test -run TestFuzzSeeds -update-fuzz-seeds", path, err)
			}
		}
	}
}

// encodeSeed writes values in the "go test fuzz v1" corpus format.
func encodeSeed(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		default:
			panic(fmt.Sprintf("seed value of type %T", a))
		}
	}
	return b.Bytes()
}

// fuzzSeeds returns, per fuzz target, named seeds: real packets built by
// hand, the same cut short, and the same with a length field that lies.
func fuzzSeeds(t *testing.T) map[string]map[string][]any {
	one := func(b []byte) []any { return []any{b} }
	udp4 := mustHex(t, udp4Packet)
	samples := samplePackets(t)
	ip4tcp := samples["ethernet ipv4 tcp"].b[EthernetHeaderLen:]
	ip6frag := samples["ethernet ipv6 frag udp"].b[EthernetHeaderLen:]
	ip4te := samples["ipv4 icmp time exceeded"].b
	ip6echo := samples["ipv6 icmpv6 echo reply"].b
	te := ip4te[IPv4HeaderLen:]
	set := func(b []byte, i int, v ...byte) []byte { return modified(b, func(c []byte) { copy(c[i:], v) }) }

	seeds := map[string]map[string][]any{
		"FuzzParseIPv4": {
			"udp":                    one(udp4),
			"tcp-options":            one(ip4tcp),
			"icmp-time-exceeded":     one(ip4te),
			"cut-14":                 one(udp4[:14]),
			"cut-20":                 one(udp4[:20]),
			"cut-30":                 one(udp4[:30]),
			"total-length-lies":      one(set(udp4, 2, 0x05, 0xdc)),
			"total-length-0":         one(set(udp4, 2, 0, 0)),
			"total-length-below-ihl": one(set(udp4, 2, 0, 19)),
			"ihl-4":                  one(set(udp4, 0, 0x44)),
			"ihl-15-short":           one(set(udp4, 0, 0x4f)),
			"version-6":              one(set(udp4, 0, 0x65)),
			"option-length-lies":     one(withIPv4Options(udp4, 7, 9, 0, 0)),
			"fragment":               one(set(udp4, 6, 0x20, 0x10)),
		},
		"FuzzParseIPv6": {
			"frag-udp":            one(ip6frag),
			"icmpv6-echo":         one(ip6echo),
			"cut-39":              one(ip6echo[:39]),
			"payload-length-lies": one(set(ip6echo, 4, 0xff, 0xff)),
			"version-4":           one(set(ip6echo, 0, 0x40)),
		},
		"FuzzParseICMP": {
			"echo":                   {false, mustHex(t, echo4)},
			"echo-cut-7":             {false, mustHex(t, echo4)[:7]},
			"time-exceeded-udp":      {false, te},
			"time-exceeded-cut":      {false, te[:20]},
			"time-exceeded-bad-ihl":  {false, set(te, 8, 0x4f)},
			"time-exceeded-rfc4884":  {false, set(append(slices.Clone(te), 0x20, 0, 0, 0), 5, 7)},
			"echo6":                  {true, mustHex(t, echo6)},
			"icmpv6-time-exceeded":   {true, mustMessage(t, ProtoICMPv6, ICMPv6TimeExceeded, 0, ip6frag)},
			"icmpv6-packet-too-big":  {true, mustMessage(t, ProtoICMPv6, ICMPv6PacketTooBig, 0, ip6echo[:48])},
			"icmpv6-quoting-ipv4":    {true, mustMessage(t, ProtoICMPv6, ICMPv6DestUnreach, 4, udp4)},
			"icmpv6-extension-chain": {true, mustMessage(t, ProtoICMPv6, ICMPv6TimeExceeded, 0, set(ip6frag, 40, ipv6DestOptions))},
		},
		"FuzzParseUDP": {
			"ipv4":        one(udp4[20:]),
			"length-lies": one(set(udp4[20:], 4, 0, 99)),
			"length-7":    one(set(udp4[20:], 4, 0, 7)),
			"trailer":     one(append(slices.Clone(udp4[20:]), 0, 0)),
			"cut-5":       one(udp4[20:25]),
		},
		"FuzzParseTCP": {
			"syn-mss":            one(mustHex(t, tcpSyn)),
			"ack-timestamps":     one(ip4tcp[24:]),
			"data-offset-lies":   one(set(mustHex(t, tcpSyn), 12, 0xf0)),
			"data-offset-4":      one(set(mustHex(t, tcpSyn), 12, 0x40)),
			"option-length-lies": one(set(mustHex(t, tcpSyn), 21, 40)),
			"cut-19":             one(mustHex(t, tcpSyn)[:19]),
		},
		"FuzzParseEthernet": {
			"ipv4-tcp":  one(samples["ethernet ipv4 tcp"].b),
			"arp":       one(samples["ethernet arp padded"].b),
			"cut-13":    one(samples["ethernet arp padded"].b[:13]),
			"8023-llc":  one(append(make([]byte, 12), 0, 3, 0x42, 0x42, 3)),
			"vlan-ipv4": one(append(append(make([]byte, 12), 0x81, 0, 0, 5, 8, 0), udp4...)),
			"vlan-udp":  one(samples["ethernet vlan ipv4 udp"].b),
			"qinq-ipv6": one(samples["ethernet qinq ipv6 echo"].b),
			"vlan-cut":  one(samples["ethernet qinq ipv6 echo"].b[:17]),
			"vlan-x3":   one(append(make([]byte, 12), 0x81, 0, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 8, 0)),
		},
		"FuzzParseARP": {
			"request":         one(mustHex(t, arpRequest)[14:42]),
			"reply-padded":    one(samples["ethernet arp padded"].b[14:]),
			"cut-27":          one(mustHex(t, arpRequest)[14:41]),
			"hardware-len-8":  one(set(mustHex(t, arpRequest)[14:42], 4, 8)),
			"hardware-type-0": one(set(mustHex(t, arpRequest)[14:42], 0, 0, 0)),
		},
		"FuzzDump": {},
	}
	for name, s := range samples {
		n := strings.NewReplacer(", ", "-", " ", "-").Replace(name)
		seeds["FuzzDump"][n] = []any{byte(s.layer), s.b}
		seeds["FuzzDump"][n+"-cut-half"] = []any{byte(s.layer), s.b[:len(s.b)/2]}
	}
	seeds["FuzzDump"]["ipv4-total-length-lies"] = []any{byte(LayerIPv4), set(udp4, 2, 0x05, 0xdc)}
	seeds["FuzzDump"]["ipv4-ihl-4"] = []any{byte(LayerIPv4), set(udp4, 0, 0x44)}
	seeds["FuzzDump"]["icmp-rfc4884"] = []any{byte(LayerICMP), set(append(slices.Clone(te), 0x20, 0, 0, 0), 5, 7)}
	// Types whose header fields the dump takes apart.
	seeds["FuzzDump"]["icmp-timestamp"] = []any{byte(LayerICMP), mustMessage(t, ProtoICMP, 13, 0, make([]byte, 12))}
	seeds["FuzzDump"]["icmp-redirect"] = []any{byte(LayerICMP), set(slices.Clone(te), 0, 5, 1)}
	seeds["FuzzDump"]["icmp-parameter-problem"] = []any{byte(LayerICMP), set(slices.Clone(te), 0, 12, 0, 0, 0, 9)}
	seeds["FuzzDump"]["icmp-frag-needed"] = []any{byte(LayerICMP), set(slices.Clone(te), 0, 3, 4, 0, 0, 0, 0, 5, 0xdc)}
	seeds["FuzzDump"]["icmp-router-advert"] = []any{byte(LayerICMP), mustMessage(t, ProtoICMP, 9, 0, make([]byte, 8))}
	seeds["FuzzDump"]["icmp-mask-reply"] = []any{byte(LayerICMP), mustMessage(t, ProtoICMP, 18, 0, []byte{0, 1, 0, 2, 255, 255, 255, 0})}
	return seeds
}

func mustMessage(t *testing.T, proto int, typ, code uint8, data []byte) []byte {
	t.Helper()
	b, err := (&ICMP{Proto: proto, Type: typ, Code: code, Data: data}).Append(nil, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

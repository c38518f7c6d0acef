package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// pcapPacket is a record as a test writes and expects it back.
type pcapPacket struct {
	ci   CaptureInfo
	data []byte
}

// corpusPackets returns the print corpus as records, 1.000123456 s apart.
func corpusPackets(t testing.TB) []pcapPacket { return packetsOf(printCorpus(t)) }

// writePcap writes ps with a Writer and returns the file's bytes.
func writePcap(t testing.TB, ps []pcapPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, DefaultSnaplen, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// readPcap reads every record of file, failing the test on any error.
func readPcap(t testing.TB, file []byte) (*Reader, []pcapPacket) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var ps []pcapPacket
	for {
		ci, data, err := r.ReadPacket(nil)
		if err == io.EOF {
			return r, ps
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, pcapPacket{ci, data})
	}
}

// samePackets compares records: bytes, lengths, and timestamps to res.
func samePackets(t *testing.T, got, want []pcapPacket, res time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !bytes.Equal(g.data, w.data) || g.ci.CaptureLength != w.ci.CaptureLength || g.ci.Length != w.ci.Length ||
			!g.ci.Timestamp.Equal(w.ci.Timestamp.Truncate(res)) {
			t.Errorf("record %d: got %v caplen %d len %d %x\nwant %v caplen %d len %d %x", i+1,
				g.ci.Timestamp, g.ci.CaptureLength, g.ci.Length, g.data, w.ci.Timestamp.Truncate(res), w.ci.CaptureLength, w.ci.Length, w.data)
		}
	}
}

func TestPcapRoundTrip(t *testing.T) {
	want := corpusPackets(t)
	file := writePcap(t, want)
	r, got := readPcap(t, file)
	if r.LinkType() != LinkTypeEthernet || r.Snaplen() != DefaultSnaplen || !r.Nanosecond() {
		t.Errorf("header: linktype %d snaplen %d nanosecond %v", r.LinkType(), r.Snaplen(), r.Nanosecond())
	}
	samePackets(t, got, want, 1)
	// What was read, written again, is the same file byte for byte.
	if again := writePcap(t, got); !bytes.Equal(again, file) {
		t.Errorf("rewritten file differs (%d and %d bytes)", len(again), len(file))
	}
	// The header, as pcap-savefile(5) lays it out.
	wantHdr := []byte{0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0}
	if !bytes.Equal(file[:24], wantHdr) {
		t.Errorf("file header % x, want % x", file[:24], wantHdr)
	}
}

// swapPcap rewrites a little-endian pcap file in big-endian byte order, as
// a SPARC or PowerPC libpcap writes it. With micro it also turns nanosecond
// timestamps into microseconds (truncating), giving the fourth magic.
func swapPcap(t testing.TB, file []byte, micro bool) []byte {
	t.Helper()
	le, be := binary.LittleEndian, binary.BigEndian
	out := make([]byte, 0, len(file))
	magic := le.Uint32(file[0:4])
	if micro {
		magic = magicMicro
	}
	out = be.AppendUint32(out, magic)
	out = be.AppendUint16(out, le.Uint16(file[4:6]))
	out = be.AppendUint16(out, le.Uint16(file[6:8]))
	for off := 8; off < 24; off += 4 {
		out = be.AppendUint32(out, le.Uint32(file[off:]))
	}
	for off := 24; off < len(file); {
		frac := le.Uint32(file[off+4:])
		if micro {
			frac /= 1000
		}
		caplen := int(le.Uint32(file[off+8:]))
		out = be.AppendUint32(out, le.Uint32(file[off:]))
		out = be.AppendUint32(out, frac)
		out = be.AppendUint32(out, uint32(caplen))
		out = be.AppendUint32(out, le.Uint32(file[off+12:]))
		out = append(out, file[off+16:off+16+caplen]...)
		off += 16 + caplen
	}
	return out
}

// toMicro rewrites a little-endian nanosecond file as a microsecond one.
func toMicro(t testing.TB, file []byte) []byte {
	t.Helper()
	out := bytes.Clone(file)
	binary.LittleEndian.PutUint32(out, magicMicro)
	for off := 24; off < len(out); {
		frac := binary.LittleEndian.Uint32(out[off+4:])
		binary.LittleEndian.PutUint32(out[off+4:], frac/1000)
		off += 16 + int(binary.LittleEndian.Uint32(out[off+8:]))
	}
	return out
}

func TestPcapMagics(t *testing.T) {
	want := corpusPackets(t)
	nano := writePcap(t, want)
	for _, c := range []struct {
		name  string
		file  []byte
		nano  bool
		res   time.Duration
		magic []byte
	}{
		{"little-endian nanosecond", nano, true, 1, []byte{0x4d, 0x3c, 0xb2, 0xa1}},
		{"little-endian microsecond", toMicro(t, nano), false, time.Microsecond, []byte{0xd4, 0xc3, 0xb2, 0xa1}},
		{"big-endian nanosecond", swapPcap(t, nano, false), true, 1, []byte{0xa1, 0xb2, 0x3c, 0x4d}},
		{"big-endian microsecond", swapPcap(t, nano, true), false, time.Microsecond, []byte{0xa1, 0xb2, 0xc3, 0xd4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Equal(c.file[:4], c.magic) {
				t.Fatalf("test file starts % x, want % x", c.file[:4], c.magic)
			}
			r, got := readPcap(t, c.file)
			if r.Nanosecond() != c.nano || r.LinkType() != LinkTypeEthernet || r.Snaplen() != DefaultSnaplen {
				t.Errorf("header: nanosecond %v linktype %d snaplen %d", r.Nanosecond(), r.LinkType(), r.Snaplen())
			}
			samePackets(t, got, want, c.res)
		})
	}
}

// TestPcapTcpdumpWritten reads files tcpdump itself wrote: tcpdump -r of
// our file -w a new one, at both timestamp precisions. (tcpdump rewrites
// every record through libpcap's own writer.)
func TestPcapTcpdumpWritten(t *testing.T) {
	tcpdump := needTool(t, "tcpdump")
	want := corpusPackets(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(in, writePcap(t, want), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		precision string
		nano      bool
		res       time.Duration
	}{{"nano", true, 1}, {"micro", false, time.Microsecond}} {
		t.Run(c.precision, func(t *testing.T) {
			out := filepath.Join(dir, c.precision+".pcap")
			cmd := exec.Command(tcpdump, "--time-stamp-precision="+c.precision, "-r", in, "-w", out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", cmd, err, b)
			}
			file, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			r, got := readPcap(t, file)
			if r.Nanosecond() != c.nano {
				t.Errorf("tcpdump wrote nanosecond=%v, want %v", r.Nanosecond(), c.nano)
			}
			samePackets(t, got, want, c.res)
		})
	}
}

// needTool returns the path of a system tool, or skips the test.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (%v): the comparison with it is skipped (.ci/run installs it)", name, err)
	}
	return p
}

// TestPcapToolsRead checks that tcpdump and tshark read what Writer wrote:
// the packet count, and the addresses and ports they decode.
func TestPcapToolsRead(t *testing.T) {
	want := corpusPackets(t)[:8] // ICMP echo both ways and versions, UDP both versions, ICMP errors
	file := filepath.Join(t.TempDir(), "w.pcap")
	if err := os.WriteFile(file, writePcap(t, want), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("tcpdump", func(t *testing.T) {
		tcpdump := needTool(t, "tcpdump")
		cmd := exec.Command(tcpdump, "-n", "-r", file)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		wantLines := []string{
			"07:00:00.123456 IP 192.0.2.1 > 198.51.100.7: ICMP echo request, id 4660, seq 1, length 64",
			"07:00:01.123580 IP 198.51.100.7 > 192.0.2.1: ICMP echo reply, id 4660, seq 1, length 64",
			"07:00:02.123703 IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 4660, seq 2, length 64",
			"07:00:03.123827 IP6 2001:db8::2 > 2001:db8::1: ICMP6, echo reply, id 4660, seq 2, length 64",
			"07:00:04.123950 IP 192.0.2.1.40000 > 198.51.100.7.40001: UDP, length 5",
			"07:00:05.124074 IP6 2001:db8::1.40000 > 2001:db8::2.40001: UDP, length 12",
			"07:00:06.124197 IP 203.0.113.9 > 192.0.2.1: ICMP time exceeded in-transit, length 36",
			"07:00:07.124320 IP 198.51.100.7 > 192.0.2.1: ICMP 198.51.100.7 udp port 33434 unreachable, length 36",
		}
		if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
			t.Errorf("tcpdump -n -r printed\n%s\nwant\n%s", out, strings.Join(wantLines, "\n"))
		}
	})
	t.Run("tshark", func(t *testing.T) {
		tshark := needTool(t, "tshark")
		cmd := exec.Command(tshark, "-r", file, "-T", "fields", "-E", "separator=;",
			"-e", "frame.len", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
			"-e", "udp.srcport", "-e", "udp.dstport", "-e", "icmp.type", "-e", "icmpv6.type", "-e", "frame.time_epoch")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // tshark wants a writable profile directory
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		// Quoted headers in ICMP errors are fields too: tshark lists both, comma-separated.
		wantLines := []string{
			"98;192.0.2.1;198.51.100.7;;;;;8;;1796281200.123456789",
			"98;198.51.100.7;192.0.2.1;;;;;0;;1796281201.123580245",
			"118;;;2001:db8::1;2001:db8::2;;;;128;1796281202.123703701",
			"118;;;2001:db8::2;2001:db8::1;;;;129;1796281203.123827157",
			"60;192.0.2.1;198.51.100.7;;;40000;40001;;;1796281204.123950613",
			"74;;;2001:db8::1;2001:db8::2;40000;40001;;;1796281205.124074069",
			"70;203.0.113.9,192.0.2.1;192.0.2.1,198.51.100.7;;;50000;33434;11;;1796281206.124197525",
			"70;198.51.100.7,192.0.2.1;192.0.2.1,198.51.100.7;;;50000;33434;3;;1796281207.124320981",
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
			t.Errorf("tshark printed\n%s\nwant\n%s", out, strings.Join(wantLines, "\n"))
		}
	})
}

func TestPcapReaderErrors(t *testing.T) {
	good := writePcap(t, corpusPackets(t)[:3])
	rec2 := 24 + 16 + 98   // offset of the second record: 138
	rec3 := rec2 + 16 + 98 // 252; this record has 118 bytes
	le := binary.LittleEndian
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, c := range []struct {
		name string
		file []byte
		want string // the error, exactly
		eof  bool   // it wraps io.ErrUnexpectedEOF
	}{
		{"empty", nil, "pcap: file header truncated (0 of 24 bytes): unexpected EOF", true},
		{"short header", good[:10], "pcap: file header truncated (10 of 24 bytes): unexpected EOF", true},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 0; return b }), "pcap: bad magic 0xa1b23c00: not a classic pcap file", false},
		{"pcapng", mod(func(b []byte) []byte { putBE32(b, 0x0a0d0d0a); return b }),
			"pcap: this is a pcapng file; only classic pcap is read (convert it with editcap -F pcap)", false},
		{"version", mod(func(b []byte) []byte { b[4] = 3; return b }), "pcap: version 3.4, want 2.x", false},
		{"caplen > len", mod(func(b []byte) []byte { le.PutUint32(b[rec2+12:], 97); return b }),
			"pcap: record 2 at offset 138: caplen 98 exceeds len 97", false},
		{"caplen > maximum", mod(func(b []byte) []byte {
			le.PutUint32(b[rec2+8:], 300000)
			le.PutUint32(b[rec2+12:], 300000)
			return b
		}), "pcap: record 2 at offset 138: caplen 300000 exceeds the maximum 262144", false},
		{"caplen past the hard cap", mod(func(b []byte) []byte {
			le.PutUint32(b[16:], 0xffffffff) // a snaplen of 4 GiB does not raise the cap past 256 MiB
			le.PutUint32(b[rec2+8:], 0x20000000)
			le.PutUint32(b[rec2+12:], 0x20000000)
			return b
		}), "pcap: record 2 at offset 138: caplen 536870912 exceeds the maximum 268435456", false},
		{"record cut short", good[:rec3+16+12], "pcap: record 3 at offset 252: truncated (caplen 118, 12 bytes left): unexpected EOF", true},
		{"record header cut short", good[:rec3+5], "pcap: record 3 at offset 252: truncated header (5 of 16 bytes): unexpected EOF", true},
		{"a claimed 200 MiB", mod(func(b []byte) []byte {
			le.PutUint32(b[16:], 256<<20)
			le.PutUint32(b[rec2+8:], 200<<20)
			le.PutUint32(b[rec2+12:], 200<<20)
			return b
		}), "pcap: record 2 at offset 138: truncated (caplen 209715200, 232 bytes left): unexpected EOF", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(c.file))
			if err == nil {
				for err == nil {
					_, _, err = r.ReadPacket(nil)
				}
			}
			if err == nil || err.Error() != c.want {
				t.Fatalf("error %v\nwant  %s", err, c.want)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != c.eof {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v", !c.eof, c.eof)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has more than one line")
			}
		})
	}
}

func putBE32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }

// TestPcapHugeClaimAllocatesLittle: a record header claiming 200 MiB in a
// small file must not make the reader allocate 200 MiB before it finds the
// bytes missing.
func TestPcapHugeClaimAllocatesLittle(t *testing.T) {
	file := writePcap(t, corpusPackets(t)[:1])
	binary.LittleEndian.PutUint32(file[16:], 256<<20)
	binary.LittleEndian.PutUint32(file[24+8:], 200<<20)
	binary.LittleEndian.PutUint32(file[24+12:], 200<<20)
	var before, after runtimeMem
	before.read()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.ReadPacket(nil)
	after.read()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want a truncated record", err)
	}
	if got := after.total - before.total; got > 4<<20 {
		t.Errorf("allocated %d bytes for a record of 98 bytes claiming 200 MiB", got)
	}
}

func TestPcapWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, 0, LinkTypeEthernet); err == nil || err.Error() != "pcap: snaplen 0 is outside 1..268435456" {
		t.Errorf("NewWriter(snaplen 0): %v", err)
	}
	w, err := NewWriter(io.Discard, 64, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ci   CaptureInfo
		data []byte
		want string
	}{
		{"past snaplen", CaptureInfo{Timestamp: corpusStart}, make([]byte, 65), "pcap: packet of 65 bytes exceeds the snaplen 64"},
		{"before 1970", CaptureInfo{Timestamp: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}, nil,
			"pcap: timestamp 1969-12-31T00:00:00Z is outside pcap's 32-bit seconds"},
		{"zero time", CaptureInfo{}, nil, "pcap: timestamp 0001-01-01T00:00:00Z is outside pcap's 32-bit seconds"},
		{"after 2106", CaptureInfo{Timestamp: time.Date(2107, 1, 1, 0, 0, 0, 0, time.UTC)}, nil,
			"pcap: timestamp 2107-01-01T00:00:00Z is outside pcap's 32-bit seconds"},
	} {
		if err := w.WritePacket(c.ci, c.data); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	// A failing io.Writer's error is passed on, wrapped.
	w, err = NewWriter(&failAfter{n: 24}, 64, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(CaptureInfo{Timestamp: corpusStart}, []byte{1}); !errors.Is(err, errFail) {
		t.Errorf("WritePacket on a failing writer: %v", err)
	}
}

var errFail = errors.New("disk full")

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errFail
	}
	f.n -= len(p)
	return len(p), nil
}

func TestPcapAllocs(t *testing.T) {
	ps := corpusPackets(t)
	w, err := NewWriter(io.Discard, DefaultSnaplen, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		p := ps[i%len(ps)]
		i++
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("WritePacket: %v allocations per packet, want 0", n)
	}

	// Read a long file through one buffer.
	var many []pcapPacket
	for len(many) < 3000 {
		many = append(many, ps...)
	}
	r, err := NewReader(bytes.NewReader(writePcap(t, many)))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(2000, func() {
		var err error
		if _, buf, err = r.ReadPacket(buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ReadPacket: %v allocations per packet, want 0", n)
	}
}

func BenchmarkPcapWrite(b *testing.B) {
	ps := corpusPackets(b)
	w, err := NewWriter(io.Discard, DefaultSnaplen, LinkTypeEthernet)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := ps[i%len(ps)]
		if err := w.WritePacket(p.ci, p.data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPcapRead(b *testing.B) {
	var ps []pcapPacket
	for len(ps) < 5000 {
		ps = append(ps, corpusPackets(b)...)
	}
	file := writePcap(b, ps)
	br := bytes.NewReader(file)
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	r, err := NewReader(br)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var err error
		if _, buf, err = r.ReadPacket(buf); err == io.EOF {
			br.Reset(file)
			if r, err = NewReader(br); err != nil {
				b.Fatal(err)
			}
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// runtimeMem is the process's running total of allocated bytes.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

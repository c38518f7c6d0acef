package capture

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updatePcapSeeds = flag.Bool("update-pcap-seeds", false, "rewrite testdata/fuzz/FuzzReader/seed-* (the tcpdump-written seeds need tcpdump)")

// FuzzReader feeds any bytes to the Reader. It must not panic; errors are one
// line; every record it returns lies inside the input where the headers say;
// and what it read, written again and read back, is the same.
func FuzzReader(f *testing.F) {
	for _, s := range pcapSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			oneLine(t, err)
			return
		}
		var got []pcapPacket
		var buf []byte
		off := fileHeaderLen
		for range 10000 {
			ci, data, err := r.ReadPacket(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				oneLine(t, err)
				if !strings.HasPrefix(err.Error(), fmt.Sprintf("pcap: record %d at offset %d: ", len(got)+1, off)) {
					t.Fatalf("error %q does not name record %d at offset %d", err, len(got)+1, off)
				}
				break
			}
			if len(data) != ci.CaptureLength || ci.CaptureLength > ci.Length || len(data) > MaxCaptureLength {
				t.Fatalf("record %d: %d bytes, caplen %d, len %d", len(got)+1, len(data), ci.CaptureLength, ci.Length)
			}
			if !bytes.Equal(data, b[off+recordHeaderLen:off+recordHeaderLen+len(data)]) {
				t.Fatalf("record %d: bytes are not the file's at offset %d", len(got)+1, off+recordHeaderLen)
			}
			off += recordHeaderLen + len(data)
			got = append(got, pcapPacket{ci, bytes.Clone(data)})
			buf = data
		}
		// Round trip through the Writer, where pcap can hold the timestamp
		// (a fraction of 1e9 or more carries into a 33rd bit of seconds).
		var out bytes.Buffer
		w, err := NewWriter(&out, MaxCaptureLength, r.LinkType())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range got {
			if err := w.WritePacket(p.ci, p.data); err != nil {
				oneLine(t, err)
				if !strings.Contains(err.Error(), "timestamp") {
					t.Fatalf("writing back a record read: %v", err)
				}
				return
			}
		}
		r2, err := NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range got {
			ci, data, err := r2.ReadPacket(nil)
			if err != nil || !bytes.Equal(data, p.data) || ci.Length != p.ci.Length || !ci.Timestamp.Equal(p.ci.Timestamp) {
				t.Fatalf("record %d read back: %v %v len %d, want %v len %d", i+1, err, ci.Timestamp, ci.Length, p.ci.Timestamp, p.ci.Length)
			}
		}
	})
}

func oneLine(t *testing.T, err error) {
	t.Helper()
	if s := err.Error(); strings.Contains(s, "\n") || !strings.HasPrefix(s, "pcap: ") {
		t.Fatalf("error %q is not one line starting pcap:", s)
	}
}

// pcapSeeds are files in every form the Reader takes, small enough for the
// fuzzer to work on: ours in the four magics, and the ones tcpdump wrote.
func pcapSeeds(t testing.TB) map[string][]byte {
	ps := corpusPackets(t)[:6] // echo both ways and versions, UDP both versions
	nano := writePcap(t, ps)
	seeds := map[string][]byte{
		"le-nano":  nano,
		"le-micro": toMicro(t, nano),
		"be-nano":  swapPcap(t, nano, false),
		"be-micro": swapPcap(t, nano, true),
		"empty":    nano[:fileHeaderLen],
	}
	// The tcpdump-written seeds are committed; read them back from there.
	for _, name := range []string{"tcpdump-nano", "tcpdump-micro"} {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzReader", "seed-"+name))
		if err == nil {
			if v, err := decodeFuzzBytes(b); err == nil {
				seeds[name] = v
			}
		}
	}
	return seeds
}

// TestPcapFuzzSeeds checks that testdata/fuzz/FuzzReader holds the seeds
// pcapSeeds makes; with -update-pcap-seeds it writes them, and has tcpdump
// rewrite the little-endian one at both precisions for the tcpdump seeds.
func TestPcapFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	seeds := pcapSeeds(t)
	if *updatePcapSeeds {
		tcpdump := needTool(t, "tcpdump")
		in := filepath.Join(t.TempDir(), "in.pcap")
		if err := os.WriteFile(in, seeds["le-nano"], 0o644); err != nil {
			t.Fatal(err)
		}
		for _, prec := range []string{"nano", "micro"} {
			out := in + "." + prec
			if b, err := exec.Command(tcpdump, "--time-stamp-precision="+prec, "-r", in, "-w", out).CombinedOutput(); err != nil {
				t.Fatalf("tcpdump: %v\n%s", err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			seeds["tcpdump-"+prec] = b
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range seeds {
		path := filepath.Join(dir, "seed-"+name)
		want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
		if *updatePcapSeeds {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v): run go test -run TestPcapFuzzSeeds -update-pcap-seeds", path, err)
		}
	}
	for _, name := range []string{"tcpdump-nano", "tcpdump-micro"} {
		if _, ok := seeds[name]; !ok {
			t.Errorf("seed %s is missing: run go test -run TestPcapFuzzSeeds -update-pcap-seeds", name)
		}
	}
}

// decodeFuzzBytes reads a one-[]byte file in the fuzz corpus format.
func decodeFuzzBytes(b []byte) ([]byte, error) {
	s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
	if !ok {
		return nil, fmt.Errorf("not a fuzz corpus file")
	}
	s, ok = strings.CutSuffix(strings.TrimSpace(s), ")")
	if !ok {
		return nil, fmt.Errorf("not a fuzz corpus file")
	}
	v, err := strconv.Unquote(s)
	return []byte(v), err
}

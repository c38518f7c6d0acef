package capture

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/internal/netns"
)

// TestPrintLive captures real traffic with tcpdump itself (-w, at both
// timestamp precisions) on a veth pair in namespaces of the test's own:
// ping and ping -6, UDP to a closed port (and the ICMP errors that answer
// it), and a TCP connection with data both ways. The Reader must read both
// files, and Printer must print them as tcpdump -n -r does, line for line.
func TestPrintLive(t *testing.T) {
	tcpdump := needTool(t, "tcpdump")
	ping := needTool(t, "ping")
	tp := netns.New(t) // skips without CAP_SYS_ADMIN, with the reason
	a, b := tp.Host("a"), tp.Host("b")
	link := tp.Connect(a, b)
	dir := t.TempDir()

	files := map[string]string{"nano": filepath.Join(dir, "nano.pcap"), "micro": filepath.Join(dir, "micro.pcap")}
	var dumps []*exec.Cmd
	for prec, file := range files {
		cmd := exec.Command(tcpdump, "-i", link.AIf, "--immediate-mode", "-U", "-n", "--time-stamp-precision="+prec, "-w", file)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(cmd); err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, cmd)
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// tcpdump says "listening on" once its socket is bound.
		line, err := bufio.NewReader(stderr).ReadString('\n')
		if !strings.Contains(line, "listening on") {
			t.Fatalf("tcpdump: %q %v", line, err)
		}
		go io.Copy(io.Discard, stderr)
	}

	// The traffic, all of it between the two ends of the link.
	for _, dst := range []netip.Addr{link.B4, link.B6} {
		if out, err := a.Command(ping, "-c", "2", "-i", "0.2", dst.String()).CombinedOutput(); err != nil {
			t.Fatalf("ping %v: %v\n%s", dst, err, out)
		}
	}
	err := a.Do(func() error {
		for _, dst := range []netip.Addr{link.B4, link.B6} {
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 40001)))
			if err != nil {
				return err
			}
			_, err = c.Write([]byte("hello"))
			c.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := b.Do(func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(link.B4, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			buf := make([]byte, 5)
			if _, err = io.ReadFull(c, buf); err == nil {
				_, err = c.Write([]byte("world!\n"))
			}
			c.Close()
		}
		served <- err
	}()
	err = a.Do(func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("hello")); err != nil {
			return err
		}
		_, err = io.ReadAll(c) // until the server's FIN
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	time.Sleep(300 * time.Millisecond) // the last ACK and FIN on their way (no assertion on time)
	for _, cmd := range dumps {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}

	var first []pcapPacket
	for _, prec := range []string{"nano", "micro"} {
		t.Run(prec, func(t *testing.T) {
			file, err := os.ReadFile(files[prec])
			if err != nil {
				t.Fatal(err)
			}
			r, got := readPcap(t, file)
			if r.Nanosecond() != (prec == "nano") || r.LinkType() != LinkTypeEthernet {
				t.Errorf("tcpdump wrote nanosecond=%v linktype %d", r.Nanosecond(), r.LinkType())
			}
			if len(got) < 20 {
				t.Errorf("only %d packets captured", len(got))
			}
			// Both tcpdumps saw the same packets the test sent. (Not with
			// the same timestamps: each packet socket stamps a received
			// packet itself. Nor the same multicast: an MLD report the
			// kernel sends on its own can fall between the two stops.)
			got = unicastFrames(got)
			if first == nil {
				first = got
			} else if len(got) != len(first) {
				t.Errorf("%d packets, the nanosecond file has %d", len(got), len(first))
			} else {
				for i := range got {
					if !bytes.Equal(got[i].data, first[i].data) || got[i].ci.Length != first[i].ci.Length {
						t.Errorf("record %d differs from the nanosecond file's", i+1)
					}
				}
			}
			want := runTcpdump(t, tcpdump, files[prec], []string{"-n"})
			printed := printFile(t, file, false)
			if printed != want {
				t.Errorf("Printer printed\n%s\ntcpdump -n -r printed\n%s", printed, want)
			}
			wantX := runTcpdump(t, tcpdump, files[prec], []string{"-n", "-X"})
			if printed := printFile(t, file, true); printed != wantX {
				t.Errorf("Printer printed\n%s\ntcpdump -n -X -r printed\n%s", printed, wantX)
			}
			t.Logf("%d packets, as tcpdump -n -r prints them:\n%s", len(got), want)
		})
	}
}

// unicastFrames keeps the frames sent to one station: those the test made.
func unicastFrames(ps []pcapPacket) []pcapPacket {
	var out []pcapPacket
	for _, p := range ps {
		if len(p.data) > 0 && p.data[0]&1 == 0 {
			out = append(out, p)
		}
	}
	return out
}

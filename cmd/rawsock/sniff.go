package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock/capture"
	"golang.org/x/net/bpf"
)

func init() {
	register("sniff", "capture packets as tcpdump -n does: a filter expression run in the kernel, pcap files", runSniff)
}

const sniffUsage = `usage: rawsock sniff [-i IFACE] [-c N] [-n] [-X] [-v] [-w FILE] [-r FILE] [-d] [EXPR]

Captures packets on an AF_PACKET socket (packet(7)) and prints one line per
packet in tcpdump's -n form. EXPR is a tcpdump filter expression, possibly
in several words, compiled to classic BPF and run in the kernel:

  icmp icmp6 udp tcp arp ip ip6   protocols
  host A, src host A, dst host A  addresses (IPv4 or IPv6)
  port N, src port N, dst port N  UDP and TCP ports
  net A/N                         networks
  and or not ( )                  (also && || !)

On exit (-c reached, Ctrl-C or SIGTERM) it prints tcpdump's three
statistics lines on standard error. On a loopback device each packet is
shown once: the copy the kernel shows on the way out is skipped, as libpcap
does ("received by filter" counts both, as tcpdump's does).

  -i IFACE  the interface (default: all of them; "any" names them all too)
  -c N      stop after N packets
  -n        accepted for tcpdump's sake: names are never looked up
  -X        the packet in hex and ASCII after each line, from the IP header
  -v        the annotated dump of every header field after each line
  -w FILE   write the packets to FILE (pcap, nanosecond timestamps,
            LINKTYPE_ETHERNET, snapshot length 262144); print none of them.
            "-" is standard output
  -r FILE   read packets from a pcap file instead, through the same filter
            and printer; needs no privilege. "-" is standard input
  -d        print the compiled filter program as tcpdump -d does, and exit

Capturing needs CAP_NET_RAW (root, or setcap cap_net_raw+ep on the binary).

Exit status: 0 done; 1 a failure while capturing; 2 bad arguments, filter,
interface or file, or no privilege.

Examples:
  sudo rawsock sniff -i lo icmp
  sudo rawsock sniff -i lo -c 10 -X udp and port 53
  sudo rawsock sniff -i eth0 -w out.pcap 'tcp and (port 80 or port 443)'
  rawsock sniff -r out.pcap -v not arp
  rawsock sniff -d 'ip and host 127.0.0.1'
  sudo rawsock sniff -i lo -w - udp | tcpdump -n -r -
`

// sniffOpts is what the command line asked for.
type sniffOpts struct {
	iface        string
	count        uint64
	hex, verbose bool
	dump         bool
	wfile, rfile string
	expr         string
}

// parseSniffArgs reads tcpdump's option letters (getopt(3) style, so
// "-c5", "-nX" and options after the expression work) and joins the
// remaining words into the expression, as tcpdump does.
func parseSniffArgs(args []string) (*sniffOpts, error) {
	o := &sniffOpts{}
	rest, err := getopt(args, "icwr", "option requires an argument -- '%c'",
		func(a string) error {
			if a == "--help" {
				return errHelp
			}
			return fmt.Errorf("unrecognized option '%s'", a)
		},
		func(c byte, val string) error {
			switch c {
			case 'i':
				o.iface = val
			case 'c':
				n, err := strconv.ParseUint(val, 10, 64)
				if err != nil || n == 0 {
					return fmt.Errorf("invalid packet count %s", val)
				}
				o.count = n
			case 'w':
				o.wfile = val
			case 'r':
				o.rfile = val
			case 'n':
			case 'X':
				o.hex = true
			case 'v':
				o.verbose = true
			case 'd':
				o.dump = true
			case 'h':
				return errHelp
			default:
				return fmt.Errorf("invalid option -- '%c'", c)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if o.rfile != "" && o.iface != "" {
		return nil, errors.New("-r and -i: read a file or capture on an interface, not both")
	}
	o.expr = strings.Join(rest, " ")
	return o, nil
}

func runSniff(args []string, stdout, stderr io.Writer) int {
	o, err := parseSniffArgs(args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stderr, sniffUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "rawsock sniff: %v\n%s", err, strings.SplitN(sniffUsage, "\n", 2)[0]+"\n")
		return 2
	}
	prog, err := capture.Compile(o.expr, capture.DefaultSnaplen)
	if err != nil {
		sniffFilterError(stderr, o.expr, err)
		return 2
	}
	if o.dump {
		if err := capture.WriteProgram(stdout, prog); err != nil {
			fmt.Fprintf(stderr, "rawsock sniff: %v\n", err)
			return 1
		}
		return 0
	}

	// The source first, as tcpdump: no file is created for a capture that
	// cannot start.
	loop := &capture.Loop{Count: o.count}
	var src *sniffSource
	if o.rfile != "" {
		src, err = openSniffFile(o.rfile, prog, loop)
	} else {
		src, err = openSniffLive(o.iface, prog, loop)
	}
	if err != nil {
		fmt.Fprintf(stderr, "rawsock sniff: %v\n", err)
		return 2
	}
	defer src.close()

	var closeOut func() error
	loop.Packet, closeOut, err = sniffOutput(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "rawsock sniff: %v\n", err)
		return 2
	}
	fmt.Fprintln(stderr, src.banner)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	var interrupted atomic.Bool
	go func() {
		select {
		case <-sig:
			interrupted.Store(true)
			loop.Stop()
		case <-done:
		}
	}()

	code := 0
	if err := loop.Run(src.read, src.wake); err != nil {
		fmt.Fprintf(stderr, "rawsock sniff: %s%v\n", src.errPrefix, err)
		code = src.errCode
	}
	if err := closeOut(); err != nil && code == 0 {
		fmt.Fprintf(stderr, "rawsock sniff: %v\n", err)
		code = 1
	}
	if src.stats == nil {
		return code
	}
	if interrupted.Load() && o.wfile == "" {
		// tcpdump ends an interrupted capture's printed lines with a
		// newline, in case one was cut short (not with -w).
		fmt.Fprintln(stdout)
	}
	st, err := src.stats()
	if err != nil {
		fmt.Fprintf(stderr, "rawsock sniff: %v\n", err)
		return 1
	}
	capture.WriteSummary(stderr, loop.Captured(), st)
	return code
}

// sniffSource is where packets come from: a live capture or a pcap file.
type sniffSource struct {
	banner    string // tcpdump's startup line
	read      capture.Read
	wake      func()                        // unblocks read (nil for files)
	stats     func() (capture.Stats, error) // nil for files: no statistics
	close     func() error
	errPrefix string // names the file in a read error
	errCode   int    // exit status of a read error: 2 for a bad file
}

// openSniffLive opens the capture: the filter attached in the kernel before
// the socket is bound, so nothing unfiltered is read.
func openSniffLive(iface string, prog []bpf.RawInstruction, loop *capture.Loop) (*sniffSource, error) {
	name := iface
	if iface == "any" || iface == "" {
		iface, name = "", "any"
	}
	h, err := capture.Open(capture.Config{
		Interface: iface, Filter: prog, Snaplen: capture.DefaultSnaplen,
	})
	if err != nil {
		return nil, err
	}
	if lt := uint32(h.LinkType()); lt != capture.LinkTypeEthernet {
		h.Close()
		return nil, fmt.Errorf("%s: link-type %s: only Ethernet links are decoded", name, linkTypeName(lt))
	}
	if loop.Loopback, err = capture.LoopbackIndex(); err != nil {
		h.Close()
		return nil, err
	}
	return &sniffSource{
		banner:  fmt.Sprintf("listening on %s, link-type %s, snapshot length %d bytes", name, linkTypeName(capture.LinkTypeEthernet), capture.DefaultSnaplen),
		read:    h.ReadPacket,
		wake:    func() { h.SetReadDeadline(time.Unix(1, 0)) },
		stats:   h.Stats,
		close:   h.Close,
		errCode: 1,
	}, nil
}

// openSniffFile opens a pcap file; the filter runs on its records in user
// space.
func openSniffFile(path string, prog []bpf.RawInstruction, loop *capture.Loop) (*sniffSource, error) {
	vm, err := capture.NewFilterVM(prog)
	if err != nil {
		return nil, err
	}
	var f io.ReadCloser = io.NopCloser(os.Stdin) // "-r -", as tcpdump
	if path != "-" {
		if f, err = os.Open(path); err != nil {
			return nil, err
		}
	}
	r, err := capture.NewReader(f)
	if err == nil && r.LinkType() != capture.LinkTypeEthernet {
		err = fmt.Errorf("link-type %s: only Ethernet (EN10MB) files are decoded", linkTypeName(r.LinkType()))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	loop.Filter = vm
	return &sniffSource{
		banner:    fmt.Sprintf("reading from file %s, link-type %s, snapshot length %d", path, linkTypeName(r.LinkType()), r.Snaplen()),
		read:      capture.ReaderSource(r),
		close:     f.Close,
		errPrefix: path + ": ",
		errCode:   2,
	}, nil
}

// sniffOutput returns where each packet goes: a record of the -w file, or
// a printed line on stdout.
func sniffOutput(o *sniffOpts, stdout io.Writer) (packet func(capture.CaptureInfo, []byte) error, closeOut func() error, err error) {
	if o.wfile == "" {
		out := bufio.NewWriterSize(stdout, 64<<10)
		p := &capture.Printer{W: out, Hex: o.hex, Verbose: o.verbose, Location: time.Local}
		packet = func(ci capture.CaptureInfo, frame []byte) error {
			if err := p.Print(ci, frame); err != nil {
				return err
			}
			return out.Flush() // a line as soon as its packet comes, as on a terminal
		}
		return packet, out.Flush, nil
	}
	var f io.WriteCloser = nopWriteCloser{stdout} // "-w -", as tcpdump
	if o.wfile != "-" {
		if f, err = os.Create(o.wfile); err != nil {
			return nil, nil, err
		}
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	w, err := capture.NewWriter(bw, capture.DefaultSnaplen, capture.LinkTypeEthernet)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", o.wfile, err)
	}
	closeOut = func() error {
		err := bw.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return w.WritePacket, closeOut, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// linkTypeName names a link type as tcpdump's startup line does.
func linkTypeName(lt uint32) string {
	switch lt {
	case capture.LinkTypeEthernet:
		return "EN10MB (Ethernet)"
	case 101:
		return "RAW (Raw IP)"
	}
	return fmt.Sprintf("%d", lt)
}

// sniffFilterError reports a bad expression: one line naming the token and
// its offset, then the expression with a caret under the token.
func sniffFilterError(w io.Writer, expr string, err error) {
	var se *capture.SyntaxError
	if !errors.As(err, &se) {
		fmt.Fprintf(w, "rawsock sniff: filter %q: %v\n", expr, err)
		return
	}
	fmt.Fprintf(w, "rawsock sniff: %v\n  %s\n  %s^\n", se, se.Expr, strings.Repeat(" ", se.Offset))
}

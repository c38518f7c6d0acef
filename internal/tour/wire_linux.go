package tour

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/capture"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/sys/unix"
)

var stepWire = tourStep{
	title: "The wire: the TCP exchange, syscall by syscall, packet by packet",
	about: `The TCP exchange again, with an AF_PACKET capture on lo filtered to the
server's port. Each syscall line is followed by the segments it put on the
wire: connect() makes the three-way handshake, send() one segment with PSH,
close() a FIN. On lo every packet passes twice (out, then in); it is shown
once, as tcpdump does. Sequence numbers are relative, as in tcpdump.`,
	needRaw: true,
	run:     runWire,
}

// wireEvent is one line of the step's timeline: a narration or trace line,
// or a packet, with the time it happened.
type wireEvent struct {
	at    time.Time
	line  string // narration or syscall
	said  bool   // line is narration
	frame []byte // a packet, from its Ethernet header
}

// wireLog collects narration and trace lines with the time each was
// written. The tracer writes a syscall's line when the call returns, so
// the packets a call caused come before its line in time.
type wireLog struct {
	mu     sync.Mutex
	events []wireEvent
}

func (l *wireLog) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	for _, s := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		l.events = append(l.events, wireEvent{at: now, line: tracePrefix + s})
	}
	l.mu.Unlock()
	return len(p), nil
}

func (l *wireLog) say(who, format string, args ...any) {
	line := fmt.Sprintf("  %-8s %s", "["+who+"]", fmt.Sprintf(format, args...))
	l.mu.Lock()
	l.events = append(l.events, wireEvent{at: time.Now(), line: line, said: true})
	l.mu.Unlock()
}

func runWire(s *stepRun) error {
	srv, addr, err := s.loopbackSocket(rawsock.SOCK_STREAM)
	if err != nil {
		return err
	}
	port := addrPort(addr)
	if err := srv.Listen(5); err != nil {
		return err
	}
	prog, err := capture.Compile(fmt.Sprintf("tcp port %d", port), capture.DefaultSnaplen)
	if err != nil {
		return err
	}
	// Small blocks handed over at once: the packets are read as they come.
	h, err := capture.Open(capture.Config{Interface: "lo", Filter: prog, RingBlocks: 4, RingBlockSize: 1 << 16, RingTimeout: time.Millisecond})
	if err != nil {
		return err
	}
	s.track(h)
	fmt.Fprintf(s.w, "  (listening on 127.0.0.1:%d; capturing 'tcp port %d' on lo)\n", port, port)

	log := &wireLog{}
	packets := make(chan []wireEvent, 1)
	go func() {
		var got []wireEvent
		for {
			ci, frame, err := h.ReadPacket()
			if err != nil {
				packets <- got
				return
			}
			if ci.Outgoing() {
				continue // lo's second copy
			}
			got = append(got, wireEvent{at: ci.Timestamp, frame: append([]byte(nil), frame...)})
		}
	}()

	wasOn := rawsock.Tracing()
	rawsock.SetTrace(log)
	err = wireExchange(s, log, srv, addr)
	if wasOn {
		rawsock.SetTrace(os.Stderr)
	} else {
		rawsock.SetTrace(nil)
	}
	if err != nil {
		return err
	}
	// The last ACK follows the server's close at once; give the ring's
	// block timeout (1 ms) ample time to hand it over, then stop reading.
	h.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	evs := <-packets
	h.Close()
	printLadder(s.w, log.events, evs, port)
	return nil
}

// wireExchange is the tutorial's exchange, narrated into log.
func wireExchange(s *stepRun, log *wireLog, srv *rawsock.Conn, addr unix.Sockaddr) error {
	log.say("client", "tcpCliSock = socket(AF_INET, SOCK_STREAM)")
	cli, err := s.socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	log.say("client", "tcpCliSock.connect(('127.0.0.1', %d))", addrPort(addr))
	if err := cli.Connect(addr); err != nil {
		return err
	}
	log.say("server", "tcpCliSock, addr = tcpSerSock.accept()    no packet: the handshake is done")
	conn, _, err := srv.Accept()
	if err != nil {
		return err
	}
	s.track(conn)
	msg := []byte("hello")
	log.say("client", "tcpCliSock.send(b'hello')")
	if err := cli.Sendall(msg, 0); err != nil {
		return err
	}
	log.say("server", "data = tcpCliSock.recv(BUFSIZ)")
	data, err := recvAll(conn, len(msg))
	if err != nil {
		return err
	}
	log.say("server", "tcpCliSock.send(bytes(ctime(), 'utf-8') + data)")
	if err := conn.Sendall(ctimeReply(data), 0); err != nil {
		return err
	}
	log.say("client", "data = tcpCliSock.recv(BUFSIZ)")
	if _, err := recvAll(cli, len(ctimeLayout)+len(msg)); err != nil {
		return err
	}
	log.say("client", "tcpCliSock.close()")
	if err := cli.Close(); err != nil {
		return err
	}
	log.say("server", "data = tcpCliSock.recv(BUFSIZ)    0 bytes: the client's FIN")
	if _, err := conn.Recv(make([]byte, bufsiz), 0); err != nil {
		return err
	}
	log.say("server", "tcpCliSock.close()")
	return conn.Close()
}

// printLadder prints the lines in order, each syscall line followed by the
// packets that went out while it ran (before it returned), as arrows
// between client and server.
func printLadder(w io.Writer, lines, pkts []wireEvent, srvPort int) {
	const width = 44
	seqs := tcpSeqs{}
	fmt.Fprintf(w, "%s%-*sserver :%d\n", tracePrefix, width+6, "client", srvPort)
	shown := 0
	upTo := func(t time.Time) {
		for ; shown < len(pkts) && !pkts[shown].at.After(t); shown++ {
			fmt.Fprintln(w, ladderArrow(pkts[shown].frame, srvPort, width, seqs))
		}
	}
	for _, l := range lines {
		if l.said {
			// A narration line: what came before it (a delayed ACK)
			// belongs to what came before.
			upTo(l.at)
			fmt.Fprintln(w, l.line)
			continue
		}
		fmt.Fprintln(w, l.line)
		upTo(l.at)
	}
	for ; shown < len(pkts); shown++ {
		fmt.Fprintln(w, ladderArrow(pkts[shown].frame, srvPort, width, seqs))
	}
	fmt.Fprintf(w, "  => %d segments on the wire\n", len(pkts))
}

// tcpSeqs remembers each direction's first sequence number, to print
// relative numbers as tcpdump does.
type tcpSeqs map[uint16]uint32

func ladderArrow(frame []byte, srvPort, width int, seqs tcpSeqs) string {
	var eth packet.Ethernet
	var ip packet.IPv4
	var t packet.TCP
	seg, err := eth.Parse(frame)
	if err == nil {
		seg, err = ip.Parse(seg)
	}
	var data []byte
	if err == nil {
		data, err = t.Parse(seg)
	}
	if err != nil {
		return tracePrefix + "  (undecoded packet: " + err.Error() + ")"
	}
	if _, ok := seqs[t.SrcPort]; !ok {
		seqs[t.SrcPort] = t.Seq
	}
	label := fmt.Sprintf(" %s seq %d", tcpdumpFlags(t.Flags), t.Seq-seqs[t.SrcPort])
	if t.Flags&packet.TCPAck != 0 {
		label += fmt.Sprintf(" ack %d", t.Ack-seqs[t.DstPort])
	}
	if len(data) > 0 {
		label += fmt.Sprintf(" len %d", len(data))
	}
	label += " "
	pad := max(width-len(label)-2, 2)
	if int(t.SrcPort) == srvPort {
		return fmt.Sprintf("%s%5d |<%s%s| %d", tracePrefix, t.DstPort, label, strings.Repeat("-", pad), t.SrcPort)
	}
	return fmt.Sprintf("%s%5d |%s%s>| %d", tracePrefix, t.SrcPort, label, strings.Repeat("-", pad), t.DstPort)
}

// tcpdumpFlags writes flags as tcpdump does: [S], [S.], [P.], [F.].
func tcpdumpFlags(f packet.TCPFlags) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for _, fl := range []struct {
		f packet.TCPFlags
		c byte
	}{{packet.TCPFin, 'F'}, {packet.TCPSyn, 'S'}, {packet.TCPRst, 'R'}, {packet.TCPPsh, 'P'}, {packet.TCPUrg, 'U'}, {packet.TCPEce, 'E'}, {packet.TCPCwr, 'W'}} {
		if f&fl.f != 0 {
			sb.WriteByte(fl.c)
		}
	}
	if f&packet.TCPAck != 0 {
		sb.WriteByte('.')
	}
	sb.WriteByte(']')
	return sb.String()
}

package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
	"golang.org/x/sys/unix"
)

func init() {
	register("connect", "the tutorial's client for rawsock serve: >>: prompt, prints each answer", runConnect)
}

const connectUsage = `usage: rawsock connect [flags]

The tutorial's client. It connects to a timestamp echo server (rawsock serve,
or the tutorial's Python server), prompts ">>:", sends the line, and prints
the answer (ctime + the line) as text; an empty line quits. When stdin is
not a terminal it sends every line until EOF, without prompts and skipping
empty lines, so it scripts; -m sends one message and exits.

The whole answer is printed: a message longer than the server's buffer
comes back as several ctime+chunk segments, and the client reads until all
of the message has come back.

Exit status: 0; 1 when the server cannot be reached or goes away, with one
line naming the cause ("rawsock connect: connect: connection refused
(127.0.0.1:9999)"); 2 for a bad flag or address.

Examples:
  rawsock connect                               # tcp to 127.0.0.1:9999
  rawsock connect -m hello
  printf 'one\ntwo\n' | rawsock connect --proto unix --addr /tmp/echo.sock
  rawsock connect --trace -m hi                 # every syscall on stderr

flags:
`

func runConnect(args []string, stdout, stderr io.Writer) int {
	return connectMain(args, os.Stdin, isTerminal(os.Stdin), stdout, stderr)
}

// isTerminal reports whether f is a terminal (it answers TCGETS, TIOCGETA
// on the BSDs: ioctlGetTermios).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}

// connectMain is rawsock connect with its stdin given; tty says whether
// to prompt, as at a terminal.
func connectMain(args []string, stdin io.Reader, tty bool, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	// Parse errors are reported below in one line; -h prints the usage.
	fs.SetOutput(io.Discard)
	proto := fs.String("proto", "tcp", "network: tcp, tcp6, udp, udp6, unix, unixpacket, unixgram")
	addr := fs.String("addr", "", "HOST:PORT, or a path for the unix networks (default 127.0.0.1:9999, or $TMPDIR/rawsock-echo-PROTO.sock)")
	var msg *string
	fs.Func("m", "send this one message, print the answer, exit", func(v string) error {
		if v == "" {
			return errors.New("empty message: a zero-length send carries nothing to answer")
		}
		msg = &v
		return nil
	})
	timeout := fs.Duration("timeout", 10*time.Second, "limit on the connect and on each answer (0: none)")
	trace := fs.Bool("trace", false, "print every syscall on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, connectUsage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "rawsock connect: %v (rawsock connect -h for help)\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rawsock connect: unexpected argument %q (the address goes in --addr)\n", fs.Arg(0))
		return 2
	}
	if *timeout < 0 {
		fmt.Fprintln(stderr, "rawsock connect: --timeout must not be negative")
		return 2
	}
	if *trace {
		rawsock.SetTrace(stderr)
		defer rawsock.SetTrace(nil)
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rawsock connect: %v\n", err)
		if errors.Is(err, echo.ErrConfig) {
			return 2
		}
		return 1
	}
	c, err := echo.Dial(*proto, *addr, *timeout)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	exchange := func(line string) error {
		answer, err := c.Exchange([]byte(line))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", answer)
		return err
	}
	if msg != nil {
		if err := exchange(*msg); err != nil {
			return fail(err)
		}
		return 0
	}
	in := bufio.NewReader(stdin)
	for {
		if tty {
			fmt.Fprint(stdout, ">>:")
		}
		line, err := in.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			if tty {
				fmt.Fprintln(stdout)
			}
			if err == io.EOF {
				return 0
			}
			return fail(err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if tty {
				return 0 // the tutorial's way out
			}
			continue
		}
		if err := exchange(line); err != nil {
			return fail(err)
		}
	}
}

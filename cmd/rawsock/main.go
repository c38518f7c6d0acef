// Command rawsock is the toolkit's one binary: a subcommand per tool.
//
//	rawsock tour                 what this kernel and process can do, traced
//	rawsock serve / connect      the timestamp echo server and client
//	rawsock ping HOST            ICMP echo, as iputils ping
//	rawsock send ...             one hand-built IPv4 packet (IP_HDRINCL)
//	rawsock traceroute HOST      the route, hop by hop
//	rawsock sniff [EXPR]         packets as tcpdump -n shows them; pcap files
//
// Each subcommand lives in its own file and registers itself; the files hold
// flags and output only, the work is in the rawsock packages.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand. run returns the exit status.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand's file calls it from init.
func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	commands[name] = command{summary: summary, run: run}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "rawsock: unknown command %q (run 'rawsock help' for the list)\n", args[0])
		return 2
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rawsock COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'rawsock COMMAND -h' for a command's flags. RAWSOCK_TRACE=1 traces every syscall.")
}

// Command mkconsts writes rawsock/zconsts_linux.go and rawsock/zconsts_others.go:
// the AF_*, SOCK_*, IPPROTO_*, SOL_*, SO_*, IP_*, ... constants re-exported
// from golang.org/x/sys/unix under their own names, the internal names the
// portable code switches on, and every value-to-name table names.go and the
// trace use. zconsts_others.go holds the portable subset, from the same
// lists, so that the two cannot drift apart.
//
// It reads the names (never the values) from x/sys/unix's generated zerrors and
// ztypes files, so the output follows whatever x/sys version go.mod pins:
//
//	go generate ./rawsock
//
// -o writes the files into another directory (the test that checks the
// committed files are what the generator writes uses it).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// exported lists the prefixes re-exported as constants.
var exported = []string{
	"AF_", "SOCK_", "IPPROTO_", "SOL_", "SO_", "SCM_", "IP_", "IPV6_", "MSG_",
	"SHUT_", "TCP_", "UDP_", "ETH_P_", "PACKET_", "ICMP_FILTER", "ICMPV6_FILTER",
	"EPOLL", "POLL", "SIOCG", "IFF_", "IFNAMSIZ", "INADDR_", "SOMAXCONN",
	"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_BOOTTIME",
}

// table describes one value-to-name table for the trace.
type table struct {
	name   string // Go identifier of the table
	prefix string
	skip   *regexp.Regexp // names that share the prefix but not the namespace
	only   []string       // when set, these names in this order (flag bits printed in it)
}

var tables = []table{
	{"afNames", "AF_", regexp.MustCompile(`^AF_(MAX|FILE|LOCAL|ROUTE)$`), nil},
	{"sockTypeNames", "SOCK_", regexp.MustCompile(`^SOCK_(CLOEXEC|NONBLOCK|BUF_LOCK.*|.*SIZE.*|TXREHASH.*|SNDBUF_LOCK|RCVBUF_LOCK|IOC_TYPE)$`), nil},
	{"ipprotoNames", "IPPROTO_", regexp.MustCompile(`^IPPROTO_(MAX|HOPOPTS)$`), nil},
	{"solNames", "SOL_", nil, nil},
	{"soNames", "SO_", regexp.MustCompile(`^SO_(EE_.*|VM_.*|.*_OLD|.*_NEW|TXREHASH_.*|RCVMARK_.*)$`), nil},
	{"ipNames", "IP_", regexp.MustCompile(`^IP_(PMTUDISC|PMTUDISC_.*|USER_FLOW|DEFAULT_.*|MAX_.*|MF|DF|OFFMASK|RF|MSS|MAXPACKET|XFRM_POLICY|IPSEC_POLICY|BIND_ADDRESS_NO_PORT_.*|UNICAST_IF_.*)$`), nil},
	{"ipv6Names", "IPV6_", regexp.MustCompile(`^IPV6_(FLOW|PMTUDISC_.*|PREFER_.*|.*_FLOWLABEL_.*|FLOWINFO_.*|FLOWLABEL_MGR|PRIORITY_.*|ADDR_PREFERENCES|RTHDR_.*|HDRINCL_.*|MIN_MTU)$`), nil},
	{"tcpNames", "TCP_", regexp.MustCompile(`^TCP_(V4_FLOW|V6_FLOW|ACCECN_.*|MSS_.*|MD5SIG_.*|MAX.*|MIN.*|REPAIR_(ON|OFF|OFF_NO_WP)|CM_INQ|COOKIE_.*|FASTOPEN_KEY_.*|ULP_.*|TX_DELAY|AO_.*|S_DATA_.*)$`), nil},
	{"udpNames", "UDP_", regexp.MustCompile(`^UDP_(ENCAP_.*)$`), nil},
	{"packetNames", "PACKET_", regexp.MustCompile(`^PACKET_(HOST|BROADCAST|MULTICAST|OTHERHOST|OUTGOING|LOOPBACK|USER|KERNEL|FASTROUTE|MR_.*|FANOUT_.*|.*_MASK)$`), nil},
	{"ethPNames", "ETH_P_", nil, nil},
	{"shutNames", "SHUT_", nil, nil},
	{"msgNames", "MSG_", regexp.MustCompile(`^MSG_(TRYHARD|BATCH|SENDPAGE_NOTLAST|SOCK_DEVMEM|SPLICE_PAGES)$`), nil},
	// SCM_TIMESTAMP* are the SO_ option's own numbers: OptName names them.
	{"scmNames", "SCM_", nil, []string{"SCM_RIGHTS", "SCM_CREDENTIALS"}},
	{"epollCtlNames", "EPOLL_CTL_", nil, nil},
	// The clocks timerfd_create(2) takes (CLOCK_ also prefixes HDLC's).
	{"clockNames", "CLOCK_", nil, []string{"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_BOOTTIME", "CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM"}},
	{"epollEventNames", "EPOLL", nil, []string{"EPOLLIN", "EPOLLOUT", "EPOLLRDHUP", "EPOLLPRI", "EPOLLERR", "EPOLLHUP", "EPOLLET", "EPOLLONESHOT"}},
}

// portable lists the constants zconsts_others.go re-exports: those that
// code written for Linux most often names and that every system x/sys/unix
// knows has. The tables there hold these names only.
var portable = []string{
	"AF_UNSPEC", "AF_INET", "AF_INET6", "AF_UNIX",
	"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET",
	"IPPROTO_IP", "IPPROTO_ICMP", "IPPROTO_TCP", "IPPROTO_UDP", "IPPROTO_IPV6", "IPPROTO_ICMPV6", "IPPROTO_RAW",
	"SOL_SOCKET", "SO_REUSEADDR", "SO_REUSEPORT", "SO_KEEPALIVE", "SO_BROADCAST", "SO_RCVBUF", "SO_SNDBUF",
	"SO_ERROR", "SO_TYPE", "SO_LINGER",
	"IP_TTL", "IP_TOS", "IP_HDRINCL", "IPV6_V6ONLY",
	"MSG_OOB", "MSG_PEEK", "MSG_WAITALL", "MSG_DONTWAIT", "MSG_TRUNC",
	"SHUT_RD", "SHUT_WR", "SHUT_RDWR", "TCP_NODELAY",
}

// linuxValue lists the constants zconsts_others.go defines with Linux's
// value, so that portable code passing them builds (the calls that take
// them are not implemented there).
var linuxValue = []string{"MSG_WAITFORONE"}

// portableOS is the system whose x/sys/unix files the portable names are
// checked against: the one CI vets (GOOS=darwin go vet ./rawsock).
var portableOS = "darwin"

// internal lists the package's own names for the values its portable code
// switches on: the Linux constant, and what stands for it elsewhere (the
// protocol number as the level, as BSD has it, or a value no call returns).
var internal = []struct{ name, linux, others string }{
	{"afInet", "AF_INET", "unix.AF_INET"},
	{"afInet6", "AF_INET6", "unix.AF_INET6"},
	{"afUnix", "AF_UNIX", "unix.AF_UNIX"},
	{"afPacket", "AF_PACKET", "-1"},
	{"sockStream", "SOCK_STREAM", "unix.SOCK_STREAM"},
	{"sockDgram", "SOCK_DGRAM", "unix.SOCK_DGRAM"},
	{"sockRaw", "SOCK_RAW", "unix.SOCK_RAW"},
	{"sockSeqpkt", "SOCK_SEQPACKET", "unix.SOCK_SEQPACKET"},
	{"sockCloexec", "SOCK_CLOEXEC", "0"},
	{"sockNonblock", "SOCK_NONBLOCK", "0"},
	{"solSocket", "SOL_SOCKET", "unix.SOL_SOCKET"},
	{"solIP", "SOL_IP", "unix.IPPROTO_IP"},
	{"solIPv6", "SOL_IPV6", "unix.IPPROTO_IPV6"},
	{"solTCP", "SOL_TCP", "unix.IPPROTO_TCP"},
	{"solUDP", "SOL_UDP", "unix.IPPROTO_UDP"},
	{"solPacket", "SOL_PACKET", "-1"},
}

// preferred names win a tie with an alias of the same value.
var preferred = map[string]bool{
	"AF_UNIX": true, "AF_NETLINK": true, "IPPROTO_IP": true, "SOL_IP": true,
	"SOL_TCP": true, "SOL_UDP": true, "SOL_IPV6": true, "SOL_ICMPV6": true, "SOL_RAW": true,
	"SO_TIMESTAMP": true, "SO_TIMESTAMPNS": true, "SO_RCVTIMEO": true, "SO_SNDTIMEO": true,
	"SO_TIMESTAMPING": true, "MSG_DONTWAIT": true, "IPV6_RECVPKTINFO": true,
	"IP_RECVRETOPTS": false, "TCP_INQ": true, "ETH_P_IP": true, "ETH_P_ALL": true,
	"SO_PASSCRED": true, "SO_ATTACH_FILTER": true, "SO_DETACH_FILTER": true,
	"IPV6_ADD_MEMBERSHIP": true, "IPV6_DROP_MEMBERSHIP": true, "IPV6_RXHOPOPTS": false,
	"IPV6_HOPOPTS": true, "IPV6_2292PKTOPTIONS": false,
	"IP_MTU_DISCOVER": true, "IP_RECVORIGDSTADDR": true, "IPV6_RECVORIGDSTADDR": true,
}

var constLine = regexp.MustCompile(`^\s+([A-Z][A-Z0-9_]*)\s+=\s+(\S+)`)

func main() {
	outDir := flag.String("o", ".", "directory to write the files into")
	flag.Parse()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		log.Fatalf("go list golang.org/x/sys: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "unix")

	common := map[string]string{}
	for _, f := range []string{"zerrors_linux.go", "ztypes_linux.go"} {
		readConsts(filepath.Join(dir, f), common)
	}
	// An arch-specific name is usable only if every Linux arch defines it.
	archFiles, _ := filepath.Glob(filepath.Join(dir, "zerrors_linux_*.go"))
	var perArch []map[string]string
	for _, f := range archFiles {
		perArch = append(perArch, readOS(dir, f))
	}
	amd64 := readOS(dir, filepath.Join(dir, "zerrors_linux_amd64.go"))
	values := map[string]string{}
	for n, v := range common {
		values[n] = v
	}
	for n, v := range amd64 {
		if inAll(n, perArch) {
			values[n] = v
		}
	}

	var names []string
	for n := range values {
		for _, p := range exported {
			if strings.HasPrefix(n, p) {
				names = append(names, n)
				break
			}
		}
	}
	sort.Strings(names)

	var b bytes.Buffer
	b.WriteString("// Code generated by rawsock/internal/mkconsts; DO NOT EDIT.\n\n")
	b.WriteString("package rawsock\n\nimport \"golang.org/x/sys/unix\"\n\n")
	b.WriteString("// Constants re-exported from golang.org/x/sys/unix under the names C and Python use.\nconst (\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%s = unix.%s\n", n, n)
	}
	b.WriteString(")\n\n")
	writeInternal(&b, func(i int) string { return "unix." + internal[i].linux })
	writeTables(&b, names, values, true)
	writeSource(filepath.Join(*outDir, "zconsts_linux.go"), b.Bytes())

	// The portable subset, checked against the system CI vets.
	osFiles, _ := filepath.Glob(filepath.Join(dir, "zerrors_"+portableOS+"_*.go"))
	if len(osFiles) == 0 {
		log.Fatalf("no zerrors_%s_*.go in %s", portableOS, dir)
	}
	var perOS []map[string]string
	for _, f := range osFiles {
		perOS = append(perOS, readOS(dir, f))
	}
	b.Reset()
	b.WriteString("// Code generated by rawsock/internal/mkconsts; DO NOT EDIT.\n\n//go:build !linux\n\n")
	b.WriteString("package rawsock\n\nimport \"golang.org/x/sys/unix\"\n\n")
	b.WriteString("// The portable subset of the constants; Linux has the full set in\n// zconsts_linux.go.\nconst (\n")
	for _, n := range portable {
		if !inAll(n, perOS) {
			log.Fatalf("%s: not defined by x/sys/unix on %s", n, portableOS)
		}
		if _, ok := values[n]; !ok {
			log.Fatalf("%s: not defined by x/sys/unix on linux", n)
		}
		fmt.Fprintf(&b, "\t%s = unix.%s\n", n, n)
	}
	for _, n := range linuxValue {
		v, ok := values[n]
		if !ok {
			log.Fatalf("%s: not defined by x/sys/unix on linux", n)
		}
		fmt.Fprintf(&b, "\t%s = %s // Linux's value: the calls that take it are Linux's\n", n, v)
	}
	b.WriteString(")\n\n")
	writeInternal(&b, func(i int) string { return internal[i].others })
	writeTables(&b, portable, values, false)
	writeSource(filepath.Join(*outDir, "zconsts_others.go"), b.Bytes())
}

// readOS reads one zerrors file and its ztypes twin.
func readOS(dir, zerrors string) map[string]string {
	m := map[string]string{}
	readConsts(zerrors, m)
	t, _ := filepath.Glob(filepath.Join(dir, strings.Replace(filepath.Base(zerrors), "zerrors", "ztypes", 1)))
	for _, tf := range t {
		readConsts(tf, m)
	}
	return m
}

func inAll(n string, maps []map[string]string) bool {
	for _, m := range maps {
		if _, ok := m[n]; !ok {
			return false
		}
	}
	return true
}

func writeInternal(b *bytes.Buffer, value func(int) string) {
	b.WriteString("// Internal names for the values the portable code switches on.\nconst (\n")
	for i, c := range internal {
		fmt.Fprintf(b, "\t%s = %s\n", c.name, value(i))
	}
	b.WriteString(")\n\n")
}

// writeTables writes every table from the names given (all of Linux's, or
// the portable subset). values are Linux's: a table holds only names with a
// numeric value, and its order (rank) is the same on every system.
func writeTables(b *bytes.Buffer, names []string, values map[string]string, report bool) {
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, t := range tables {
		var tn []string
		if t.only != nil {
			for _, n := range t.only {
				if have[n] {
					tn = append(tn, n)
				}
			}
		} else {
			for _, n := range names {
				if strings.HasPrefix(n, t.prefix) && (t.skip == nil || !t.skip.MatchString(n)) {
					if _, err := parseInt(values[n]); err == nil {
						tn = append(tn, n)
					}
				}
			}
			sort.SliceStable(tn, func(i, j int) bool { return rank(tn[i]) < rank(tn[j]) })
		}
		if report {
			reportCollisions(t.name, tn, values)
		}
		desc := t.prefix + " names, preferred alias first"
		if t.only != nil {
			desc = "the " + t.prefix + " names it prints, in the order it prints them"
		}
		if len(tn) == 0 {
			fmt.Fprintf(b, "// %s lists %s: none here.\nvar %s []constName\n\n", t.name, desc, t.name)
			continue
		}
		fmt.Fprintf(b, "// %s lists %s.\nvar %s = []constName{\n", t.name, desc, t.name)
		for _, n := range tn {
			fmt.Fprintf(b, "\t{unix.%s, %q},\n", n, n)
		}
		b.WriteString("}\n\n")
	}
}

func writeSource(path string, src []byte) {
	src, err := format.Source(src)
	if err != nil {
		log.Fatalf("gofmt %s: %v", path, err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// rank orders aliases: preferred first, then plain names before _OLD/_NEW
// variants, then the shorter name, then alphabetical.
func rank(n string) string {
	p := "1"
	if v, ok := preferred[n]; ok {
		if v {
			p = "0"
		} else {
			p = "2"
		}
	}
	if strings.HasSuffix(n, "_OLD") || strings.HasSuffix(n, "_NEW") {
		p = "3"
	}
	return fmt.Sprintf("%s%03d%s", p, len(n), n)
}

func reportCollisions(table string, names []string, values map[string]string) {
	seen := map[int64]string{}
	for _, n := range names {
		v, _ := parseInt(values[n])
		if w, ok := seen[v]; ok {
			fmt.Fprintf(os.Stderr, "%s: %s shadowed by %s (%d)\n", table, n, w, v)
			continue
		}
		seen[v] = n
	}
}

func parseInt(s string) (int64, error) { return strconv.ParseInt(s, 0, 64) }

func readConsts(path string, into map[string]string) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := constLine.FindStringSubmatch(sc.Text()); m != nil {
			into[m[1]] = m[2]
		}
	}
}

package tour

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// The files the kernel tells a process its privileges in.
const (
	procStatus      = "/proc/self/status"
	procPingGroups  = "/proc/sys/net/ipv4/ping_group_range"
	procEchoIgnored = "/proc/sys/net/ipv4/icmp_echo_ignore_all"
)

// The commands that change what the process may do, printed verbatim. The
// binary is built as rawsock-bin (which .gitignore lists) because ./rawsock
// is the library's directory, and inside the checkout because file
// capabilities do nothing on a nosuid mount, which /tmp often is.
const (
	setcapCommand = "go build -o rawsock-bin ./cmd/rawsock && sudo setcap cap_net_raw+ep ./rawsock-bin && ./rawsock-bin tour"
	sysctlCommand = `sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"`
)

// privileges is what decides which sockets this process may open.
type privileges struct {
	uid, euid, egid int
	groups          []int

	capEff    uint64 // CapEff of /proc/self/status
	capErr    error  // why capEff could not be read
	netRaw    bool   // CAP_NET_RAW is in capEff
	pingLo    int    // net.ipv4.ping_group_range
	pingHi    int
	pingErr   error
	pingGroup int // the first of egid and groups inside the range, or -1
}

func readPrivileges() privileges {
	p := privileges{uid: os.Getuid(), euid: os.Geteuid(), egid: os.Getegid(), pingGroup: -1}
	p.groups, _ = os.Getgroups()
	p.capEff, p.capErr = readCapEff(procStatus)
	p.netRaw = p.capErr == nil && p.capEff&(1<<unix.CAP_NET_RAW) != 0
	p.pingLo, p.pingHi, p.pingErr = readPingGroupRange(procPingGroups)
	if p.pingErr == nil {
		p.pingGroup = groupInRange(p.pingLo, p.pingHi, p.egid, p.groups)
	}
	return p
}

// readCapEff reads the effective capability set, a hex mask, from a
// /proc/PID/status file.
func readCapEff(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: CapEff %q: %w", path, strings.TrimSpace(v), err)
			}
			return mask, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no CapEff line", path)
}

// readPingGroupRange reads the two gids of net.ipv4.ping_group_range.
func readPingGroupRange(path string) (lo, hi int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("%s: want two gids, got %q", path, strings.TrimSpace(string(b)))
	}
	if lo, err = strconv.Atoi(f[0]); err == nil {
		hi, err = strconv.Atoi(f[1])
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return lo, hi, nil
}

// groupInRange returns the first group the kernel would accept for an
// unprivileged ICMP socket, or -1. ping_init_sock checks the effective gid,
// then each supplementary group; the default range "1 0" admits none.
func groupInRange(lo, hi, egid int, groups []int) int {
	for _, g := range append([]int{egid}, groups...) {
		if lo <= g && g <= hi {
			return g
		}
	}
	return -1
}

// rawReason is the one line a skipped raw step prints.
func (p privileges) rawReason() string {
	if p.capErr != nil {
		return "cannot tell whether this process has CAP_NET_RAW: " + p.capErr.Error()
	}
	return fmt.Sprintf("this process has no effective CAP_NET_RAW (CapEff %016x, bit %d clear; uid %d): run as root, or: %s",
		p.capEff, unix.CAP_NET_RAW, p.euid, setcapCommand)
}

var stepPrivileges = tourStep{
	title: "What this process may do, and why",
	about: `SOCK_RAW and AF_PACKET sockets need the capability CAP_NET_RAW (raw(7),
packet(7)). An unprivileged ICMP echo socket, socket(AF_INET, SOCK_DGRAM,
IPPROTO_ICMP), needs the process's group inside net.ipv4.ping_group_range
(icmp(7)). The kernel's answer to an actual socket(2) call is shown beside each.`,
	run: func(s *stepRun) error {
		p := s.priv
		fmt.Fprintf(s.w, "  process: uid %d, euid %d, egid %d, groups %v\n", p.uid, p.euid, p.egid, p.groups)

		if p.capErr != nil {
			fmt.Fprintf(s.w, "  CAP_NET_RAW: unknown (%v)\n", p.capErr)
		} else {
			state := "NOT effective"
			if p.netRaw {
				state = "effective"
			}
			fmt.Fprintf(s.w, "  CAP_NET_RAW: %s (CapEff %016x in %s; CAP_NET_RAW is bit %d)\n",
				state, p.capEff, procStatus, unix.CAP_NET_RAW)
		}
		fmt.Fprintf(s.w, "    kernel says: %s\n", probe(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP))
		fmt.Fprintf(s.w, "    to grant it without root: %s\n", setcapCommand)
		fmt.Fprintln(s.w, "    (setcap marks a built file: a binary from 'go run' is rebuilt each time, so build it first)")

		switch {
		case p.pingErr != nil:
			fmt.Fprintf(s.w, "  ping_group_range: unknown (%v)\n", p.pingErr)
		case p.pingGroup >= 0:
			fmt.Fprintf(s.w, "  ping_group_range: \"%d %d\" admits group %d: unprivileged ICMP sockets are allowed\n",
				p.pingLo, p.pingHi, p.pingGroup)
		case p.pingLo > p.pingHi:
			fmt.Fprintf(s.w, "  ping_group_range: \"%d %d\" admits no group at all (low > high, the kernel's default)\n",
				p.pingLo, p.pingHi)
		default:
			fmt.Fprintf(s.w, "  ping_group_range: \"%d %d\" admits neither egid %d nor groups %v\n",
				p.pingLo, p.pingHi, p.egid, p.groups)
		}
		fmt.Fprintf(s.w, "    kernel says: %s\n", probe(rawsock.AF_INET, rawsock.SOCK_DGRAM, rawsock.IPPROTO_ICMP))
		fmt.Fprintf(s.w, "    to admit every group: %s\n", sysctlCommand)
		return nil
	},
}

// probe opens and closes one socket and says how that went, untraced.
func probe(family, typ, proto int) string {
	call := fmt.Sprintf("socket(%s, %s, %s)", rawsock.FamilyName(family), rawsock.TypeName(typ), rawsock.ProtoName(family, proto))
	err := openErr(family, typ, proto)
	if err == nil {
		return call + " opens"
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return call + " = -1 " + unix.ErrnoName(errno) + " (" + errno.Error() + ")"
	}
	return call + ": " + err.Error()
}

// openErr tries socket(2) through rawsock and closes what opened: nil, or
// the refusal (an error matching the errno).
func openErr(family, typ, proto int) error {
	c, err := rawsock.Socket(family, typ, proto)
	if err == nil {
		c.Close()
	}
	return err
}

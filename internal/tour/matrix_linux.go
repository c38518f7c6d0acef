package tour

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// matrixFamily is one table of the matrix: a family, and the protocol
// arguments worth trying in it.
type matrixFamily struct {
	family int
	protos []int
}

var matrixTypes = []int{rawsock.SOCK_STREAM, rawsock.SOCK_DGRAM, rawsock.SOCK_SEQPACKET, rawsock.SOCK_RAW, rawsock.SOCK_RDM}

var matrixFamilies = []matrixFamily{
	{rawsock.AF_INET, []int{0, rawsock.IPPROTO_TCP, rawsock.IPPROTO_UDP, rawsock.IPPROTO_SCTP, rawsock.IPPROTO_ICMP, rawsock.IPPROTO_RAW}},
	{rawsock.AF_INET6, []int{0, rawsock.IPPROTO_TCP, rawsock.IPPROTO_UDP, rawsock.IPPROTO_SCTP, rawsock.IPPROTO_ICMPV6, rawsock.IPPROTO_RAW}},
	{rawsock.AF_UNIX, []int{0}},
	// AF_PACKET takes an ethertype in network byte order; 0 opens a
	// socket that receives nothing until bound to a protocol.
	{rawsock.AF_PACKET, []int{0, int(rawsock.Htons(rawsock.ETH_P_ALL))}},
}

// matrixCell is the kernel's answer to one socket(2) triple: err nil when
// it opened, and then the type the socket really has (SO_TYPE).
type matrixCell struct {
	family, typ, proto int
	err                error
	gotType            int
}

// probeMatrix calls socket(2) once for every triple, closing what opens.
func probeMatrix() []matrixCell {
	var cells []matrixCell
	for _, f := range matrixFamilies {
		for _, t := range matrixTypes {
			for _, p := range f.protos {
				cells = append(cells, probeCell(f.family, t, p))
			}
		}
	}
	return cells
}

func probeCell(family, typ, proto int) matrixCell {
	cell := matrixCell{family: family, typ: typ, proto: proto}
	c, err := rawsock.Socket(family, typ, proto)
	if err != nil {
		cell.err = err
		return cell
	}
	defer c.Close()
	// AF_UNIX takes SOCK_RAW and makes it SOCK_DGRAM: ask the kernel.
	cell.gotType, err = c.GetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_TYPE)
	if err != nil {
		cell.gotType = typ
	}
	return cell
}

// text is "ok", "ok*" when the kernel chose another type, or the errno's
// name.
func (c matrixCell) text() string {
	if c.err == nil {
		if c.gotType != c.typ {
			return "ok*"
		}
		return "ok"
	}
	var errno unix.Errno
	if errors.As(c.err, &errno) {
		return unix.ErrnoName(errno)
	}
	return "error"
}

// errnoMeaning says what a refusal means in this table.
var errnoMeaning = map[unix.Errno]string{
	unix.ESOCKTNOSUPPORT: "the family has no such socket type",
	unix.EPROTONOSUPPORT: "the family and type have no such protocol (or its module is not loaded)",
	unix.EPROTOTYPE:      "the protocol exists but not for this type",
	unix.EAFNOSUPPORT:    "this kernel has no such address family",
	unix.EPERM:           "needs CAP_NET_RAW (section 2)",
	unix.EACCES:          "the group is outside net.ipv4.ping_group_range (section 2)",
	unix.EINVAL:          "the kernel finds the arguments invalid",
}

func protoHeading(family, proto int) string {
	if proto == 0 {
		return "0"
	}
	return strings.TrimPrefix(rawsock.ProtoName(family, proto), "IPPROTO_")
}

func printMatrix(w io.Writer, cells []matrixCell) {
	seen := map[unix.Errno]bool{}
	var retyped []matrixCell
	i := 0
	for _, f := range matrixFamilies {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s", rawsock.FamilyName(f.family))
		for _, p := range f.protos {
			fmt.Fprintf(tw, "\t%s", protoHeading(f.family, p))
		}
		fmt.Fprintln(tw)
		for _, t := range matrixTypes {
			fmt.Fprintf(tw, "  %s", rawsock.TypeName(t))
			for range f.protos {
				c := cells[i]
				i++
				fmt.Fprintf(tw, "\t%s", c.text())
				var errno unix.Errno
				if errors.As(c.err, &errno) {
					seen[errno] = true
				}
				if c.err == nil && c.gotType != c.typ {
					retyped = append(retyped, c)
				}
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	errnos := make([]unix.Errno, 0, len(seen))
	for e := range seen {
		errnos = append(errnos, e)
	}
	sort.Slice(errnos, func(a, b int) bool { return unix.ErrnoName(errnos[a]) < unix.ErrnoName(errnos[b]) })
	for _, c := range retyped {
		fmt.Fprintf(w, "  ok*: socket(%s, %s, %d) opened, but getsockopt(SO_TYPE) says %s: the kernel chose the type\n",
			rawsock.FamilyName(c.family), rawsock.TypeName(c.typ), c.proto, rawsock.TypeName(c.gotType))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range errnos {
		meaning := errnoMeaning[e]
		if meaning == "" {
			meaning = "see socket(2)"
		}
		fmt.Fprintf(tw, "  %s\t%s:\t%s\n", unix.ErrnoName(e), e.Error(), meaning)
	}
	tw.Flush()
}

var stepMatrix = tourStep{
	title: "The socket matrix of this kernel",
	about: `socket(family, type, protocol) for each triple below, made once and closed:
"ok" means it opened, otherwise the errno the kernel refused it with.
The columns are the protocol argument (IPPROTO_ names, shortened).`,
	run: func(s *stepRun) error {
		printMatrix(s.w, probeMatrix())
		return nil
	},
}

package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// The classic pcap file format (pcap-savefile(5), the IETF draft
// draft-ietf-opsawg-pcap): a 24-byte file header, then records of a 16-byte
// header and the captured bytes. It is written here rather than taken from
// gopacket, whose pcapgo pulls in its 78k-line layers package and about 3 MB.

// LinkTypeEthernet is LINKTYPE_ETHERNET: every record starts with an
// Ethernet II header, as AF_PACKET SOCK_RAW delivers it.
const LinkTypeEthernet = 1

// File magics: the writer's byte order and timestamp resolution, read back
// in either byte order.
const (
	magicMicro = 0xa1b2c3d4 // timestamps in seconds and microseconds
	magicNano  = 0xa1b23c4d // seconds and nanoseconds
	magicNG    = 0x0a0d0d0a // pcapng's section header block, named in the error

	fileHeaderLen   = 24
	recordHeaderLen = 16
)

// Limits on a record's captured length. libpcap refuses records longer than
// 262144 bytes (its MAXIMUM_SNAPLEN) unless the file's snaplen is larger;
// MaxCaptureLength is the hard cap whatever the file header says, so a
// hostile header cannot make the reader allocate gigabytes.
const (
	DefaultSnaplen   = 262144 // tcpdump's default, and what Open and Compile take for 0
	MaxCaptureLength = 256 << 20
)

// Writer writes a classic pcap file with nanosecond timestamps, little-endian
// (this machine's order, as libpcap writes it on x86 and arm64).
type Writer struct {
	w       io.Writer
	snaplen int
	buf     []byte // record header and data, so each record is one Write
}

// NewWriter writes the file header to w: magic 0xa1b23c4d (nanosecond
// timestamps), version 2.4, snaplen and linktype. Each record then goes to w
// in one Write call; wrap a file in a bufio.Writer (and Flush it) to batch
// them.
func NewWriter(w io.Writer, snaplen int, linktype uint32) (*Writer, error) {
	if snaplen <= 0 || snaplen > MaxCaptureLength {
		return nil, fmt.Errorf("pcap: snaplen %d is outside 1..%d", snaplen, MaxCaptureLength)
	}
	var h [fileHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:4], magicNano)
	binary.LittleEndian.PutUint16(h[4:6], 2)
	binary.LittleEndian.PutUint16(h[6:8], 4)
	// thiszone and sigfigs (bytes 8-15) are 0, as every writer since 2008 has them.
	binary.LittleEndian.PutUint32(h[16:20], uint32(snaplen))
	binary.LittleEndian.PutUint32(h[20:24], linktype)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap: writing the file header: %w", err)
	}
	return &Writer{w: w, snaplen: snaplen}, nil
}

// WritePacket writes one record: ci.Timestamp, caplen len(data), and length
// ci.Length, or len(data) when ci.Length is smaller (a zero CaptureInfo
// describes a whole packet). It refuses data longer than the snaplen and a
// timestamp outside pcap's unsigned 32-bit seconds (1970 to 2106). It does
// not allocate once its buffer has grown to the largest record.
func (w *Writer) WritePacket(ci CaptureInfo, data []byte) error {
	if len(data) > w.snaplen {
		return fmt.Errorf("pcap: packet of %d bytes exceeds the snaplen %d", len(data), w.snaplen)
	}
	sec := ci.Timestamp.Unix()
	if sec < 0 || sec > 1<<32-1 {
		return fmt.Errorf("pcap: timestamp %s is outside pcap's 32-bit seconds", ci.Timestamp.UTC().Format(time.RFC3339))
	}
	length := max(ci.Length, len(data))
	if length > 1<<32-1 {
		return fmt.Errorf("pcap: length %d does not fit 32 bits", length)
	}
	n := recordHeaderLen + len(data)
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	b := w.buf[:n]
	binary.LittleEndian.PutUint32(b[0:4], uint32(sec))
	binary.LittleEndian.PutUint32(b[4:8], uint32(ci.Timestamp.Nanosecond()))
	binary.LittleEndian.PutUint32(b[8:12], uint32(len(data)))
	binary.LittleEndian.PutUint32(b[12:16], uint32(length))
	copy(b[recordHeaderLen:], data)
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("pcap: writing a record: %w", err)
	}
	return nil
}

// Reader reads a classic pcap file in any of the four classic forms
// (microsecond or nanosecond timestamps, either byte order). It takes
// untrusted input: every length is checked before it is used, and no
// allocation is sized by a header before the check.
type Reader struct {
	r        *bufio.Reader
	order    binary.ByteOrder
	nano     bool
	snaplen  int
	linktype uint32
	maxCap   int
	hdr      [recordHeaderLen]byte
	record   int   // records read so far
	off      int64 // byte offset of the next record
}

// NewReader reads and checks the file header from r. It reads through a
// bufio.Reader (r itself when it is one), so a Reader reads ahead of the
// record it returns.
func NewReader(r io.Reader) (*Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	var h [fileHeaderLen]byte
	if n, err := io.ReadFull(br, h[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("pcap: file header truncated (%d of %d bytes): %w", n, fileHeaderLen, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("pcap: reading the file header: %w", err)
	}
	rd := &Reader{r: br, off: fileHeaderLen}
	switch m := binary.LittleEndian.Uint32(h[0:4]); m {
	case magicMicro:
		rd.order = binary.LittleEndian
	case magicNano:
		rd.order, rd.nano = binary.LittleEndian, true
	default:
		switch binary.BigEndian.Uint32(h[0:4]) {
		case magicMicro:
			rd.order = binary.BigEndian
		case magicNano:
			rd.order, rd.nano = binary.BigEndian, true
		case magicNG:
			return nil, errors.New("pcap: this is a pcapng file; only classic pcap is read (convert it with editcap -F pcap)")
		default:
			return nil, fmt.Errorf("pcap: bad magic 0x%08x: not a classic pcap file", m)
		}
	}
	if major, minor := rd.order.Uint16(h[4:6]), rd.order.Uint16(h[6:8]); major != 2 {
		return nil, fmt.Errorf("pcap: version %d.%d, want 2.x", major, minor)
	}
	snap := rd.order.Uint32(h[16:20])
	rd.snaplen = int(snap)
	rd.linktype = rd.order.Uint32(h[20:24])
	rd.maxCap = int(min(max(uint64(snap), DefaultSnaplen), MaxCaptureLength))
	return rd, nil
}

// LinkType returns the file's link-layer header type (LinkTypeEthernet, ...)
// as the header holds it.
func (r *Reader) LinkType() uint32 { return r.linktype }

// Snaplen returns the file's snapshot length as the header holds it.
func (r *Reader) Snaplen() int { return r.snaplen }

// Nanosecond reports whether the file's timestamps are in nanoseconds (magic
// 0xa1b23c4d) rather than microseconds.
func (r *Reader) Nanosecond() bool { return r.nano }

// ReadPacket reads the next record into buf's capacity, growing it only when
// it is too small, and returns its metadata and bytes (aliasing buf, or the
// grown buffer: pass that back in to keep it). It returns io.EOF at a clean
// end of file. A record that is cut short, claims caplen > len, or claims
// more than max(snaplen, DefaultSnaplen) bytes (MaxCaptureLength at most) is
// an error naming the record and its byte offset; a cut-short one wraps
// io.ErrUnexpectedEOF.
func (r *Reader) ReadPacket(buf []byte) (CaptureInfo, []byte, error) {
	n, err := io.ReadFull(r.r, r.hdr[:])
	if err != nil {
		switch {
		case err == io.EOF:
			return CaptureInfo{}, buf[:0], io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			return CaptureInfo{}, buf[:0], r.errorf("truncated header (%d of %d bytes): %w", n, recordHeaderLen, io.ErrUnexpectedEOF)
		}
		return CaptureInfo{}, buf[:0], r.errorf("%w", err)
	}
	sec := r.order.Uint32(r.hdr[0:4])
	frac := r.order.Uint32(r.hdr[4:8])
	caplen := r.order.Uint32(r.hdr[8:12])
	length := r.order.Uint32(r.hdr[12:16])
	switch {
	case caplen > length:
		return CaptureInfo{}, buf[:0], r.errorf("caplen %d exceeds len %d", caplen, length)
	case uint64(caplen) > uint64(r.maxCap):
		return CaptureInfo{}, buf[:0], r.errorf("caplen %d exceeds the maximum %d", caplen, r.maxCap)
	}
	c := int(caplen)
	buf, n, err = r.readData(buf, c)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return CaptureInfo{}, buf[:0], r.errorf("truncated (caplen %d, %d bytes left): %w", c, n, io.ErrUnexpectedEOF)
		}
		return CaptureInfo{}, buf[:0], r.errorf("%w", err)
	}
	nsec := int64(frac)
	if !r.nano {
		nsec *= 1000
	}
	r.record++
	r.off += int64(recordHeaderLen + c)
	return CaptureInfo{
		Timestamp:     time.Unix(int64(sec), nsec),
		CaptureLength: c,
		Length:        int(length),
	}, buf, nil
}

// growStep bounds what one step of readData allocates ahead of the bytes
// that arrive, so a record header that claims 200 MiB in a 1 KiB file costs
// at most this much.
const growStep = 1 << 20

// readData reads c bytes into buf, reusing its capacity. When buf must grow
// past growStep it grows as the bytes arrive rather than by what the header
// claims. n is how many bytes were read.
func (r *Reader) readData(buf []byte, c int) (_ []byte, n int, err error) {
	if cap(buf) >= c || c <= growStep {
		if cap(buf) < c {
			buf = make([]byte, c)
		}
		buf = buf[:c]
		n, err = io.ReadFull(r.r, buf)
		return buf, n, err
	}
	buf = buf[:0]
	for len(buf) < c {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(c-len(buf), max(len(buf), growStep)))
		}
		m, err := io.ReadFull(r.r, buf[len(buf):min(cap(buf), c)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, len(buf), err
		}
	}
	return buf, c, nil
}

// errorf names the record being read (counted from 1) and its offset.
func (r *Reader) errorf(format string, args ...any) error {
	return fmt.Errorf("pcap: record %d at offset %d: "+format, append([]any{r.record + 1, r.off}, args...)...)
}

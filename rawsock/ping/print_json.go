package ping

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// JSONPrinter writes a run as rawsock ping --json does: one JSON object a
// line, a "start" line (Start), one per reply, timeout, ICMP error and
// failed send (Event: pass it to Pinger.Run), and a "summary" (Summary).
// Each line is one write. Status writes the SIGQUIT line on Err, as
// Printer.Status does.
type JSONPrinter struct {
	W    io.Writer // standard output
	Err  io.Writer // standard error: Status
	Host string    // the destination as the user gave it

	timed bool
}

// Start writes the "start" line for the Pinger p, opened for Host.
func (j *JSONPrinter) Start(p *Pinger) error {
	j.timed = p.Timed()
	return j.json(jsonStart{Type: "start", TS: jsonTime(time.Now()), Host: j.Host, Addr: p.Dst().String(), Size: p.Size(),
		Socket: p.SocketKind().String(), ID: int(p.ID()), MTU: p.MTU()})
}

// The --json lines (the README lists their fields). Times are numbers:
// "ts" in seconds since 1970 with microseconds, durations in milliseconds.
type jsonStart struct {
	Type   string   `json:"type"` // "start"
	TS     jsonTime `json:"ts"`
	Host   string   `json:"host"`
	Addr   string   `json:"addr"`
	Size   int      `json:"size"`
	Socket string   `json:"socket"`
	ID     int      `json:"id"`
	MTU    int      `json:"mtu,omitempty"` // the route's path MTU
}

type jsonEvent struct {
	Type        string   `json:"type"` // "reply", "timeout", "error", "send_error"
	TS          jsonTime `json:"ts"`
	Seq         int      `json:"seq"`
	From        string   `json:"from,omitempty"`
	Bytes       int      `json:"bytes,omitempty"`
	TTL         *int     `json:"ttl,omitempty"`
	TimeMS      *float64 `json:"time_ms,omitempty"`
	Dup         bool     `json:"dup,omitempty"`
	Late        bool     `json:"late,omitempty"`
	BadChecksum bool     `json:"bad_checksum,omitempty"`
	WrongByte   *int     `json:"wrong_byte,omitempty"`
	ICMP        *[2]int  `json:"icmp,omitempty"` // type, code
	MTU         int      `json:"mtu,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

type jsonSummary struct {
	Type        string   `json:"type"` // "summary"
	TS          jsonTime `json:"ts"`
	Host        string   `json:"host"`
	Transmitted int      `json:"transmitted"`
	Received    int      `json:"received"`
	Duplicates  int      `json:"duplicates"`
	Corrupted   int      `json:"corrupted"`
	Errors      int      `json:"errors"`
	Timeouts    int      `json:"timeouts"`
	Loss        float64  `json:"loss_percent"`
	TimeMS      int64    `json:"time_ms"`
	RTT         *jsonRTT `json:"rtt,omitempty"`
}

type jsonRTT struct {
	Min  float64 `json:"min_ms"`
	Avg  float64 `json:"avg_ms"`
	Max  float64 `json:"max_ms"`
	Mdev float64 `json:"mdev_ms"`
	EWMA float64 `json:"ewma_ms"`
}

// jsonTime marshals as seconds since 1970 with six decimals, exactly (a
// float64 would print 1796278657.7209158).
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return fmt.Appendf(nil, "%d.%06d", tt.Unix(), tt.Nanosecond()/1000), nil
}

func msFloat(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Event writes the line of a reply, timeout, ICMP error or failed send;
// other events print nothing.
func (j *JSONPrinter) Event(e *Event) {
	v := jsonEvent{Seq: int(e.Seq), TS: jsonTime(e.Time)}
	switch e.Kind {
	case EventReply:
		v.Type, v.From, v.Bytes, v.Dup, v.Late, v.BadChecksum = "reply", e.From.String(), e.Size, e.Dup, e.Late, e.BadChecksum
		if e.TTL >= 0 {
			ttl := e.TTL
			v.TTL = &ttl
		}
		if e.Timed {
			t := msFloat(e.RTT)
			v.TimeMS = &t
		}
		if e.Mismatch >= 0 {
			i := e.Mismatch
			v.WrongByte = &i
		}
	case EventTimeout:
		v.Type = "timeout"
	case EventError:
		v.Type, v.From, v.ICMP, v.Reason, v.MTU = "error", e.From.String(), &[2]int{int(e.Type), int(e.Code)}, e.Reason(), mtuOf(e)
	case EventSendError:
		v.Type, v.Reason, v.MTU = "send_error", ErrorText(e.Err), mtuOf(e)
	default:
		return
	}
	j.json(v)
}

// Summary writes the "summary" line.
func (j *JSONPrinter) Summary(st *Statistics) error {
	v := jsonSummary{Type: "summary", TS: jsonTime(time.Now()), Host: j.Host, Transmitted: st.Transmitted, Received: st.Received,
		Duplicates: st.Duplicates, Corrupted: st.Corrupted, Errors: st.Errors, Timeouts: st.Timeouts, Loss: st.Loss(),
		TimeMS: int64((st.Time + 500*time.Microsecond) / time.Millisecond)}
	if st.Received > 0 && st.Timed {
		v.RTT = &jsonRTT{msFloat(st.Min), msFloat(st.Avg), msFloat(st.Max), msFloat(st.Mdev), msFloat(st.EWMA)}
	}
	return j.json(v)
}

// Status writes iputils' status(), the SIGQUIT line, on Err: text, as
// with Printer.
func (j *JSONPrinter) Status(st *Statistics) {
	io.WriteString(j.Err, statusLine(st, j.timed))
}

func (j *JSONPrinter) json(v any) error {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	_, err := j.W.Write(append(b, '\n'))
	return err
}

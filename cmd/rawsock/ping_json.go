package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rawsock/rawsock/rawsock/ping"
)

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

// mtuOf is the MTU an error carries: the next-hop MTU of "fragmentation
// needed" or "packet too big", or the path MTU of a local EMSGSIZE.
func mtuOf(e *ping.Event) int {
	switch {
	case e.Kind == ping.EventError && !e.IPv6 && e.Type == 3 && e.Code == 4,
		e.Kind == ping.EventError && e.IPv6 && e.Type == 2:
		return int(e.Info)
	case e.Kind == ping.EventSendError:
		var m interface{ MTU() int }
		if errors.As(e.Err, &m) {
			return m.MTU()
		}
	}
	return 0
}

func (pr *pingPrinter) jsonEvent(e *ping.Event) {
	j := jsonEvent{Seq: int(e.Seq), TS: jsonTime(e.Time)}
	switch e.Kind {
	case ping.EventReply:
		j.Type, j.From, j.Bytes, j.Dup, j.Late, j.BadChecksum = "reply", e.From.String(), e.Size, e.Dup, e.Late, e.BadChecksum
		if e.TTL >= 0 {
			ttl := e.TTL
			j.TTL = &ttl
		}
		if e.Timed {
			t := msFloat(e.RTT)
			j.TimeMS = &t
		}
		if e.Mismatch >= 0 {
			i := e.Mismatch
			j.WrongByte = &i
		}
	case ping.EventTimeout:
		j.Type = "timeout"
	case ping.EventError:
		j.Type, j.From, j.ICMP, j.Reason, j.MTU = "error", e.From.String(), &[2]int{int(e.Type), int(e.Code)}, e.Reason(), mtuOf(e)
	case ping.EventSendError:
		j.Type, j.Reason, j.MTU = "send_error", cError(e.Err), mtuOf(e)
	default:
		return
	}
	pr.json(j)
}

func (pr *pingPrinter) jsonSummary(st *ping.Statistics) {
	j := jsonSummary{Type: "summary", TS: jsonTime(time.Now()), Host: pr.o.host, Transmitted: st.Transmitted, Received: st.Received,
		Duplicates: st.Duplicates, Corrupted: st.Corrupted, Errors: st.Errors, Timeouts: st.Timeouts, Loss: st.Loss(),
		TimeMS: int64((st.Time + 500*time.Microsecond) / time.Millisecond)}
	if st.Received > 0 && st.Timed {
		j.RTT = &jsonRTT{msFloat(st.Min), msFloat(st.Avg), msFloat(st.Max), msFloat(st.Mdev), msFloat(st.EWMA)}
	}
	pr.json(j)
}

func (pr *pingPrinter) json(v any) {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	pr.w.Write(b)
	pr.w.WriteByte('\n')
}

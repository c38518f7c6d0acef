package echobench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// loadHist is a log-linear latency histogram, HDR style: 64 buckets per
// power of two, so any value is read back within 1/64 (1.6%), in a fixed
// 18 KB per shard however long the run. Connections record into shards by
// id, with atomic adds, so that no lock is shared by all.
type loadHist struct {
	shards []loadHistShard
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histMaxExp  = 40 // values up to 2^40 ns (18 minutes); longer ones count there
	histBuckets = (histMaxExp - histSubBits + 1) * histSub
)

type loadHistShard struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
	_      [64]byte // keep shards off each other's cache lines
}

func newLoadHist(shards int) *loadHist {
	return &loadHist{shards: make([]loadHistShard, max(shards, 1))}
}

// histBucket maps v to its bucket: v itself below 64, else the top seven
// bits of v and its exponent.
func histBucket(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	if shift > histMaxExp-histSubBits-1 {
		return histBuckets - 1
	}
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// histValue is the middle of bucket i.
func histValue(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	m := uint64(i%histSub + histSub)
	return m<<shift + (uint64(1)<<shift)/2
}

func (h *loadHist) record(id int, d time.Duration) {
	s := &h.shards[id%len(h.shards)]
	s.counts[histBucket(uint64(max(d, 0)))].Add(1)
	for {
		m := s.max.Load()
		if int64(d) <= m || s.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (h *loadHist) merged() (c [histBuckets]uint64, total uint64) {
	for i := range h.shards {
		for j := range c {
			n := h.shards[i].counts[j].Load()
			c[j] += n
			total += n
		}
	}
	return c, total
}

func (h *loadHist) count() int64 {
	_, total := h.merged()
	return int64(total)
}

// quantile returns the value below which a fraction q of the samples lie.
func (h *loadHist) quantile(q float64) time.Duration {
	c, total := h.merged()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for i, n := range c {
		seen += n
		if seen >= rank {
			return time.Duration(histValue(i))
		}
	}
	return 0
}

func (h *loadHist) max() time.Duration {
	var m int64
	for i := range h.shards {
		m = max(m, h.shards[i].max.Load())
	}
	return time.Duration(m)
}

package stats

import (
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds, in seconds, of the request latency
// histogram's buckets (a last one, +Inf, holds the rest): from a nearby
// intake's few milliseconds to the default 30 s request timeout.
var LatencyBounds = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Latency is a histogram of request durations, safe for concurrent use;
// its zero value is empty.
type Latency struct {
	buckets [len(LatencyBounds) + 1]atomic.Uint64 // by the first bound at or above the value, not cumulative
	sum     atomic.Int64                          // nanoseconds
}

// Observe adds one request that took d.
func (l *Latency) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBounds) && s > LatencyBounds[i] {
		i++
	}
	l.buckets[i].Add(1)
	l.sum.Add(int64(d))
}

// LatencySnapshot is a Latency read once, as Prometheus shows it.
type LatencySnapshot struct {
	// Cumulative[i] counts the observations at or below LatencyBounds[i];
	// its last entry (+Inf) is Count.
	Cumulative [len(LatencyBounds) + 1]uint64
	Sum        float64 // seconds
	Count      uint64
}

// Snapshot reads the histogram. Buckets are read one by one, so an
// observation made meanwhile may be in the count and not yet in the sum;
// the buckets and the count always agree.
func (l *Latency) Snapshot() LatencySnapshot {
	var s LatencySnapshot
	var n uint64
	for i := range l.buckets {
		n += l.buckets[i].Load()
		s.Cumulative[i] = n
	}
	s.Count = n
	s.Sum = time.Duration(l.sum.Load()).Seconds()
	return s
}

// Package stats holds one instance's counters. They are plain atomics so the
// flush path can bump them from concurrent workers without locks; a
// Snapshot is what gets logged periodically and at exit, and Metrics is how
// they appear on Fluent Bit's metrics endpoints (a Mirror copies them there).
package stats

import (
	"fmt"
	"sync/atomic"
)

// Counters of one [OUTPUT] instance. All fields are safe for concurrent use.
type Counters struct {
	RecordsIn     atomic.Int64 // log records received, each once: a chunk Fluent Bit retries is not counted again
	RecordsOut    atomic.Int64 // records accepted by the intake
	Payloads      atomic.Int64 // payloads accepted by the intake
	BytesRaw      atomic.Int64 // uncompressed JSON bytes accepted
	BytesWire     atomic.Int64 // compressed bytes accepted
	Retries       atomic.Int64 // HTTP attempts that were retried
	DropMalformed atomic.Int64 // records skipped as undecodable
	DropOversize  atomic.Int64 // records whose reserved attributes alone exceed the per-log limit (shape.Fit cuts everything else)
	DropRejected  atomic.Int64 // records the intake refused with 400
	TooOld        atomic.Int64 // records sent although older than the intake indexes (a warning, not a drop)
	Truncated     atomic.Int64 // entries cut to the per-log limit (message or attributes) or by a mask rule's bound
	Resumed       atomic.Int64 // records of a retried chunk not resent: an earlier try delivered them
	Forgotten     atomic.Int64 // retried chunks whose progress was forgotten at the memory bound
	BadType       atomic.Int64 // records with a reserved attribute of a type the intake does not take (kept as _service, ...)
	PartialJoined atomic.Int64 // logs joined from the 16 KB parts of one container line
	Incomplete    atomic.Int64 // parts sent on their own: their line was not complete in the chunk
	MultiLine     atomic.Int64 // logs made of several lines (multi_line rule, auto_multiline)
	LinesJoined   atomic.Int64 // lines sent in such logs after their first line
	Excluded      atomic.Int64 // records a container's log_processing_rules exclude (never sent)
	Masked        atomic.Int64 // messages a mask_sequences rule rewrote
	FlushOK       atomic.Int64
	FlushRetry    atomic.Int64
	FlushError    atomic.Int64
	Panics        atomic.Int64

	// HTTP requests to the intake by answer (Answer.Outcome groups them:
	// accepted, refused, failed).
	Answers [NumAnswers]atomic.Int64
	// Unix nanoseconds of the last accepted and the last failed request (0: none yet).
	LastAccepted, LastFailed atomic.Int64
	Latency                  Latency // every request's duration
	Conns                    Conns
}

// Conns are the connections to the intake (or the proxy) of one instance.
type Conns struct {
	Open atomic.Int64 // open now
	Busy atomic.Int64 // carrying a request now
}

// Request counts one request by its answer (AnswerOf).
func (c *Counters) Request(a Answer) { c.Answers[a].Add(1) }

// requests sums the requests of an outcome.
func (c *Counters) requests(outcome string) int64 {
	var n int64
	for a := range NumAnswers {
		if a.Outcome() == outcome {
			n += c.Answers[a].Load()
		}
	}
	return n
}

// Snapshot is a point-in-time copy of Counters.
type Snapshot struct {
	RecordsIn, RecordsOut, Payloads, BytesRaw, BytesWire, Retries int64
	DropMalformed, DropOversize, DropRejected, TooOld, Truncated  int64
	Resumed, Forgotten, BadType, PartialJoined, Incomplete        int64
	MultiLine, LinesJoined                                        int64
	Excluded, Masked                                              int64
	FlushOK, FlushRetry, FlushError, Panics                       int64
	RequestsAccepted, RequestsRefused, RequestsFailed             int64
}

// Snapshot reads every counter.
func (c *Counters) Snapshot() Snapshot {
	return Snapshot{
		RecordsIn: c.RecordsIn.Load(), RecordsOut: c.RecordsOut.Load(), Payloads: c.Payloads.Load(),
		BytesRaw: c.BytesRaw.Load(), BytesWire: c.BytesWire.Load(), Retries: c.Retries.Load(),
		DropMalformed: c.DropMalformed.Load(), DropOversize: c.DropOversize.Load(), DropRejected: c.DropRejected.Load(),
		TooOld: c.TooOld.Load(), Truncated: c.Truncated.Load(),
		Resumed: c.Resumed.Load(), Forgotten: c.Forgotten.Load(), BadType: c.BadType.Load(),
		PartialJoined: c.PartialJoined.Load(), Incomplete: c.Incomplete.Load(),
		MultiLine: c.MultiLine.Load(), LinesJoined: c.LinesJoined.Load(),
		Excluded: c.Excluded.Load(), Masked: c.Masked.Load(),
		FlushOK: c.FlushOK.Load(), FlushRetry: c.FlushRetry.Load(), FlushError: c.FlushError.Load(),
		Panics:           c.Panics.Load(),
		RequestsAccepted: c.requests("accepted"), RequestsRefused: c.requests("refused"), RequestsFailed: c.requests("failed"),
	}
}

// Pending is the records received and neither delivered nor dropped by the
// plugin: in a flush right now, handed back to Fluent Bit and waiting for
// its retry, or dropped by Fluent Bit when its Retry_Limit ran out (Fluent
// Bit counts those: fluentbit_output_dropped_records_total).
func (s Snapshot) Pending() int64 {
	// A flush adds its records in at its end, after some were counted out.
	return max(0, s.RecordsIn-s.RecordsOut-s.DropRejected-s.DropMalformed-s.DropOversize-s.Excluded)
}

// String renders the snapshot as one key=value log line.
func (s Snapshot) String() string {
	ratio := 0.0
	if s.BytesWire > 0 {
		ratio = float64(s.BytesRaw) / float64(s.BytesWire)
	}
	return fmt.Sprintf("records_in=%d records_out=%d pending=%d payloads=%d bytes_raw=%d bytes_wire=%d ratio=%.2f "+
		"requests_accepted=%d requests_refused=%d requests_failed=%d retries=%d "+
		"drop_malformed=%d drop_oversize=%d drop_rejected=%d too_old=%d truncated=%d resumed=%d forgotten=%d bad_type=%d "+
		"partial_joined=%d partial_incomplete=%d multiline_logs=%d lines_joined=%d excluded=%d masked=%d flush_ok=%d flush_retry=%d flush_error=%d panics=%d",
		s.RecordsIn, s.RecordsOut, s.Pending(), s.Payloads, s.BytesRaw, s.BytesWire, ratio,
		s.RequestsAccepted, s.RequestsRefused, s.RequestsFailed, s.Retries,
		s.DropMalformed, s.DropOversize, s.DropRejected, s.TooOld, s.Truncated, s.Resumed, s.Forgotten, s.BadType,
		s.PartialJoined, s.Incomplete, s.MultiLine, s.LinesJoined, s.Excluded, s.Masked,
		s.FlushOK, s.FlushRetry, s.FlushError, s.Panics)
}

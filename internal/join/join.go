// Package join makes one log of the records of one container stream that
// are one: the parts of a line the container runtime split at 16 KB, and
// the lines of one multi-line log, such as a stack trace. Both combine
// consecutive records of one stream inside one chunk, so they are one stage
// of the data path, the Reader, which walks a chunk as event.Decoder does and
// yields one record per log.
//
// # Split lines
//
// Docker's and containerd's log copiers cut a stdout/stderr line longer than
// their 16 KB buffer into parts; the fluentd log driver FireLens uses sends
// each part as its own record carrying four string fields:
//
//	partial_message "true"
//	partial_id      the same random hex ID on every part of one line
//	partial_ordinal "1", "2", … in the order of the parts
//	partial_last    "false", …, "true" on the part that ends the line
//
// (moby daemon/logger/fluentd/fluentd.go and daemon/logger/copier.go;
// aws/shim-loggers-for-containerd logger/common.go, which Fargate runs, uses
// the same driver.) The parts of a complete sequence become one record (the
// first part's keys without the partial_* fields, the message holding the
// parts' messages concatenated in ordinal order). Parts whose sequence is not
// complete inside the chunk are yielded as they are with IncompleteKey added:
// an output cannot keep records for the next chunk, since Fluent Bit frees a
// chunk once the flush returns OK.
//
// # Multi-line logs
//
// A stream is one container's stdout or stderr: records with the same task
// ARN, container ID, container name and source; lines of two streams never
// join. A stream's lines group as its Grouping says (Streams): by a
// multi_line pattern (com.datadoghq.ad.logs), or by auto_multiline's rules
// (detect.go). A multi-line log is the first line's record with the lines'
// texts joined with "\n", in order, trailing white space trimmed: it keeps the
// first line's time and attributes. A log ends at the end of the chunk, at
// MaxLines lines, at Options.MaxBytes of message, and when a line comes more
// than MaxGap after the one before it (the Datadog Agent flushes a pending
// log after logs_config.aggregation_timeout, 1 s by default).
//
// # Cost and retries
//
// A chunk without the key partial_message, when no stream groups lines,
// costs one bytes.Contains (about 8 ns per FireLens record, BenchmarkRead):
// the Reader is then the plain decoder with a counter. Otherwise the chunk is
// read twice, once to decide, once to yield.
//
// A log's index is the index of its first record; the same chunk bytes and
// Groupings give the same logs at the same indexes. Members tells which
// records a delivered log was made of, so that a retry of the chunk, whose
// grouping may differ (a label read meanwhile), never groups a delivered
// record again: records done by an earlier try are never grouped.
package join

import (
	"bytes"
	"regexp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/progress"
)

// The bounds of a multi-line log besides Options.MaxBytes.
const (
	// MaxLines bounds the lines of one log: the per-log limit cuts a
	// typical trace well before (4,096 lines of 256 bytes make 1 MB), and
	// it bounds the work on a stream of tiny lines.
	MaxLines = 4096
	// MaxGap is the longest time between two lines of one log, by their
	// record times: the Datadog Agent's aggregation_timeout (1 s), after
	// which it sends the log it holds (pkg/logs/internal/decoder).
	MaxGap = 1000 // milliseconds
)

// Options configure the Readers of one output. Read only.
type Options struct {
	// MessageKey is the record key whose value is the message (the
	// shaper's dd_message_key); "" means "log", else "message".
	MessageKey string
	// MaxBytes bounds a multi-line log's message, JSON-escaped (the
	// shaper's limit); 0 means the intake's per-log limit.
	MaxBytes int
	// Streams says how each stream's lines group; nil: none does (split
	// lines are joined all the same).
	Streams Streams
}

// Streams tells the Reader how the lines of a stream group.
type Streams interface {
	// Any reports whether some stream may group lines; false lets a chunk
	// without split lines skip the stage.
	Any() bool
	// Grouping is how the lines of the container that f names group.
	Grouping(f *ecs.View) Grouping
}

// Grouping is how one stream's lines make logs.
type Grouping struct {
	// Pattern is the container's multi_line rule, anchored at the line's
	// start as the Agent compiles it: a matching line starts a log, the
	// others join the log before them. It wins over Auto, as in the Agent.
	Pattern *regexp.Regexp
	// Auto applies auto_multiline's rules (detect.go).
	Auto bool
}

func (g Grouping) on() bool { return g.Pattern != nil || g.Auto }

// marker is the key partial_message as a msgpack fixstr (0xa0 | 15): every
// msgpack encoder on the way writes a 15-byte string so (fluent-logger-golang
// in the log driver, msgpack-c in Fluent Bit's filters). Leading with the
// byte 0xaf, rare in log text, lets bytes.Index skip through a chunk with
// IndexByte: searching for the plain text, which starts with the common
// "p", cost about 50 ns per FireLens record, a third of decoding.
var marker = []byte("\xaf" + KeyMessage)

// Present reports whether chunk may hold a split part: false proves it
// holds none (as long as the key is written in its shortest form).
func Present(chunk []byte) bool { return bytes.Contains(chunk, marker) }

// Counts are what a Reader joined in its chunk.
type Counts struct {
	SplitJoined int // logs made of the parts of a split line
	Incomplete  int // parts yielded on their own, marked with IncompleteKey
	MultiLine   int // logs made of several lines
	LinesJoined int // lines joined to the line before them in such logs
}

// Reader yields the logs of one chunk. The zero value is not usable;
// create with NewReader.
type Reader struct {
	dec event.Decoder
	n   int     // events the decoder has yielded so far
	j   *joiner // nil when nothing in the chunk joins
}

// NewReader returns a Reader over chunk. done holds the indexes of the
// records an earlier try of the chunk delivered (nil: none): they are
// yielded alone, never grouped. NewReader reads the whole chunk once when
// something in it may join, to decide; it never copies chunk.
func NewReader(chunk []byte, o *Options, done *progress.Ranges) Reader {
	r := Reader{dec: event.NewDecoder(chunk)}
	lines := o.Streams != nil && o.Streams.Any()
	if lines || Present(chunk) {
		r.j = newJoiner(chunk, o, done, lines)
	}
	return r
}

// Next decodes the next log into ev and returns its index: the 0-based
// position in the chunk, among the events the decoder yields, of the event
// (for a joined log, of its first record). The same chunk bytes always give
// the same indexes and logs. Errors are event.Decoder's, in the same
// places: io.EOF at the end. ev.Record points into the chunk or into
// memory the Reader owns; both are valid until the flush returns and must
// not be kept past it.
func (r *Reader) Next(ev *event.Event) (int, error) {
	for {
		var e event.Event // ev stays as it was when nothing is yielded
		if err := r.dec.Next(&e); err != nil {
			return -1, err
		}
		idx := r.n
		r.n++
		if r.j == nil || r.j.rewrite(idx, &e) {
			*ev = e
			return idx, nil
		}
		// a record folded into another log: no entry of its own
	}
}

// Offset is the number of chunk bytes consumed so far.
func (r *Reader) Offset() int { return r.dec.Offset() }

// Counts is what the chunk's records joined into (the whole chunk's, known
// from the start).
func (r *Reader) Counts() Counts {
	if r.j == nil {
		return Counts{}
	}
	return r.j.counts
}

// Members tells which records the logs of this chunk were made of.
func (r *Reader) Members() *Members {
	if r.j == nil {
		return nil
	}
	return &Members{r.j}
}

// Members knows the records each joined log of a chunk was made of. Safe
// for concurrent use with the Reader's Next; a nil Members joins nothing.
type Members struct{ j *joiner }

// AddTo adds to r the records folded into the logs whose indexes are
// heads (the records of other indexes are their own logs).
func (m *Members) AddTo(r *progress.Ranges, heads []int32) {
	if m == nil {
		return
	}
	ents := m.j.ents
	for _, h := range heads {
		if h < 0 || int(h) >= len(ents) || ents[h].act != head {
			continue
		}
		for k := ents[h].next; k >= 0; k = ents[k].next {
			r.Add(k, k+1)
		}
	}
}

// maxBytes is the bound of a multi-line log's message.
func (o *Options) maxBytes() int {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return limits.MaxLogBytes
}

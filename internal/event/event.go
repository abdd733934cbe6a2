// Package event walks the msgpack chunk Fluent Bit hands an output plugin and
// yields one log event at a time, without copying: an Event's Record points
// into the chunk, which Fluent Bit owns and frees when the flush returns. So
// nothing an Event refers to may be kept past the FlushCtx call.
//
// It accepts every layout Fluent Bit uses for output chunks:
//
//	v1 (Fluent Bit < 2.1):  [timestamp, record]
//	v2 (Fluent Bit >= 2.1): [[timestamp, metadata], record]
//
// with the timestamp as EventTime (msgpack ext type 0, 8 bytes: big-endian
// uint32 seconds and nanoseconds), an integer, or a float of seconds. v2
// group start/end markers (negative seconds, Fluent Bit 4) carry group
// metadata, not logs, and are skipped.
//
// The byte-level reads use github.com/tinylib/msgp's zero-copy *Bytes
// functions; fluent-bit-go's own decoder copies the chunk and decodes through
// reflection into map[interface{}]interface{}, which the benchmarks show is
// several times slower and allocates per value.
package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/tinylib/msgp/msgp"
)

// Event is one log event of a chunk. Record is the raw msgpack map of the
// record, a sub-slice of the chunk (valid only during the flush).
type Event struct {
	Sec    int64
	Nsec   int64
	Record []byte
}

// UnixMilli is the event time in milliseconds since the Unix epoch.
func (e *Event) UnixMilli() int64 { return e.Sec*1000 + e.Nsec/1_000_000 }

// ErrMalformed reports a chunk that is not a valid msgpack event stream.
// Decoding cannot continue past it: msgpack has no framing to resync on.
var ErrMalformed = errors.New("malformed chunk")

// RecordError reports one event that is valid msgpack but not a log event
// ([time, map]); the decoder has already moved past it.
type RecordError struct {
	Offset int
	Reason string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("skipped event at byte %d: %s", e.Offset, e.Reason)
}

// Decoder iterates over the events of one chunk.
type Decoder struct {
	chunk []byte
	rest  []byte
}

// NewDecoder returns a Decoder over chunk. It does not copy chunk.
func NewDecoder(chunk []byte) Decoder { return Decoder{chunk: chunk, rest: chunk} }

// Offset is the number of bytes consumed so far.
func (d *Decoder) Offset() int { return len(d.chunk) - len(d.rest) }

// Next decodes the next log event into ev. It returns nil when ev holds a
// log event and io.EOF at the end of the chunk, as a Go reader does; of the
// other errors, a *RecordError says one event was skipped (call Next
// again) and one wrapping ErrMalformed that the stream is broken (stop).
func (d *Decoder) Next(ev *Event) error {
	for {
		start := d.Offset()
		if len(d.rest) == 0 {
			return io.EOF
		}
		n, rest, err := msgp.ReadArrayHeaderBytes(d.rest)
		if err != nil {
			return d.malformed(start, err)
		}
		if n != 2 {
			// Not an event; skip the whole value so decoding can go on.
			after, serr := msgp.Skip(d.rest)
			if serr != nil {
				return d.malformed(start, serr)
			}
			d.rest = after
			return &RecordError{Offset: start, Reason: fmt.Sprintf("event is an array of %d elements, want 2", n)}
		}
		sec, nsec, v2, rest, err := d.header(start, rest)
		if err != nil {
			return err
		}
		recStart := rest
		after, err := Skip(rest)
		if err != nil {
			return d.malformed(start, err)
		}
		d.rest = after
		if v2 && (sec == groupStart || sec == groupEnd) {
			continue // metadata only
		}
		if msgp.NextType(recStart) != msgp.MapType {
			return &RecordError{Offset: start, Reason: fmt.Sprintf("record is %s, want map", msgp.NextType(recStart))}
		}
		ev.Sec, ev.Nsec = sec, nsec
		ev.Record = recStart[:len(recStart)-len(after)]
		return nil
	}
}

// header reads the header of the event at start, v2 [[time, meta...],
// record] or v1 [time, record], from b (past the event's array header), and
// returns what follows it, the record. Its errors are Next's.
func (d *Decoder) header(start int, b []byte) (sec, nsec int64, v2 bool, rest []byte, err error) {
	if msgp.NextType(b) != msgp.ArrayType { // v1
		if sec, nsec, rest, err = readTime(b); err != nil {
			return 0, 0, false, nil, d.timeError(start, err)
		}
		return sec, nsec, false, rest, nil
	}
	hn, rest, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return 0, 0, true, nil, d.malformed(start, err)
	}
	if hn < 1 {
		return 0, 0, true, nil, d.skipEvent(start, "empty event header")
	}
	if sec, nsec, rest, err = readTime(rest); err != nil {
		return 0, 0, true, nil, d.timeError(start, err)
	}
	for i := uint32(1); i < hn; i++ { // metadata (and anything newer)
		if rest, err = msgp.Skip(rest); err != nil {
			return 0, 0, true, nil, d.malformed(start, err)
		}
	}
	return sec, nsec, true, rest, nil
}

// Fluent Bit 4's group start and end markers: v2 events whose header
// seconds are these. Any other negative time is a log's (pre-1970, or a
// post-2038 EventTime read as int32, as Fluent Bit reads it) and is
// delivered.
const (
	groupStart = -1
	groupEnd   = -2
)

// timeError stops at a timestamp that breaks the stream and skips the
// event of one that is only unusable.
func (d *Decoder) timeError(start int, err error) error {
	if errors.Is(err, ErrMalformed) {
		return d.malformed(start, err)
	}
	return d.skipEvent(start, err.Error())
}

func (d *Decoder) skipEvent(start int, reason string) error {
	after, err := msgp.Skip(d.chunk[start:])
	if err != nil {
		return d.malformed(start, err)
	}
	d.rest = after
	return &RecordError{Offset: start, Reason: reason}
}

func (d *Decoder) malformed(off int, err error) error {
	d.rest = nil
	return fmt.Errorf("%w at byte %d of %d: %v", ErrMalformed, off, len(d.chunk), err)
}

// readTime reads an event timestamp. EventTime seconds are read as int32, as
// Fluent Bit's own decoder does, so group markers (-1, -2) come out negative.
func readTime(b []byte) (sec, nsec int64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, 0, b, fmt.Errorf("%w: missing timestamp", ErrMalformed)
	}
	switch msgp.NextType(b) {
	case msgp.ExtensionType:
		var data []byte
		switch {
		case b[0] == 0xd7 && len(b) >= 10: // fixext8
			if int8(b[1]) != 0 {
				break
			}
			data, rest = b[2:10], b[10:]
		case b[0] == 0xc7 && len(b) >= 3 && b[1] == 8 && len(b) >= 11: // ext8 of 8 bytes
			if int8(b[2]) != 0 {
				break
			}
			data, rest = b[3:11], b[11:]
		}
		if data == nil {
			if _, serr := msgp.Skip(b); serr != nil {
				return 0, 0, nil, fmt.Errorf("%w: %v", ErrMalformed, serr)
			}
			return 0, 0, nil, errors.New("timestamp is an extension other than EventTime")
		}
		sec = int64(int32(binary.BigEndian.Uint32(data[0:4])))
		nsec = int64(binary.BigEndian.Uint32(data[4:8]))
		// A writer that put ≥ 1e9 in the nanoseconds meant the carry.
		sec, nsec = sec+nsec/1e9, nsec%1e9
		return sec, nsec, rest, nil
	case msgp.IntType:
		v, r, e := msgp.ReadInt64Bytes(b)
		if e != nil {
			return 0, 0, nil, fmt.Errorf("%w: %v", ErrMalformed, e)
		}
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 { // UnixMilli would overflow
			return 0, 0, r, errors.New("integer timestamp out of range")
		}
		return v, 0, r, nil
	case msgp.UintType:
		v, r, e := msgp.ReadUint64Bytes(b)
		if e != nil {
			return 0, 0, nil, fmt.Errorf("%w: %v", ErrMalformed, e)
		}
		if v > math.MaxInt64/1000 {
			return 0, 0, nil, errors.New("integer timestamp out of range")
		}
		return int64(v), 0, r, nil
	case msgp.Float64Type, msgp.Float32Type:
		var f float64
		var r []byte
		var e error
		if msgp.NextType(b) == msgp.Float32Type {
			var f32 float32
			f32, r, e = msgp.ReadFloat32Bytes(b)
			f = float64(f32)
		} else {
			f, r, e = msgp.ReadFloat64Bytes(b)
		}
		if e != nil {
			return 0, 0, nil, fmt.Errorf("%w: %v", ErrMalformed, e)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > float64(math.MaxInt64/1000) {
			return 0, 0, r, errors.New("float timestamp out of range")
		}
		s, frac := math.Modf(f)
		return int64(s), int64(math.Round(frac * 1e9)), r, nil
	case msgp.InvalidType:
		return 0, 0, nil, fmt.Errorf("%w: invalid msgpack type byte 0x%02x", ErrMalformed, b[0])
	}
	return 0, 0, nil, fmt.Errorf("timestamp is %s, want EventTime, int or float", msgp.NextType(b))
}

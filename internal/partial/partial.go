// Package partial joins the parts of container log lines that the runtime
// split at 16 KB back into one log, inside one chunk.
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
// the same driver.) The Datadog Agent joins such parts; Fluent Bit's built-in
// output does not, so a 40 KB JSON log would reach Datadog as three pieces
// none of which parses.
//
// A Reader walks a chunk as event.Decoder does and yields one log per line:
// the parts of a complete sequence become one record (the first part's keys
// without the partial_* fields, the message key holding the parts' messages
// concatenated in ordinal order). Parts whose sequence is not complete inside
// the chunk are yielded as they are with IncompleteKey added: an output
// cannot keep records for the next chunk, since Fluent Bit frees a chunk once
// the flush returns OK.
//
// A chunk without the key partial_message costs one bytes.Contains (about
// 8 ns per FireLens record, BenchmarkRead): the Reader is then the plain
// decoder with a counter. A chunk with parts is read twice, once to find
// the complete sequences, once to yield.
package partial

import (
	"bytes"
	"slices"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

// The record keys of a part, as the fluentd log driver writes them.
const (
	KeyMessage = "partial_message"
	KeyID      = "partial_id"
	KeyOrdinal = "partial_ordinal"
	KeyLast    = "partial_last"
)

// IncompleteKey is the attribute (value true) added to a part delivered on
// its own because its sequence is not complete inside the chunk.
const IncompleteKey = "ddgo_partial_incomplete"

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

// Reader yields the logs of one chunk with split lines joined. The zero
// value is not usable; create with NewReader.
type Reader struct {
	dec event.Decoder
	n   int     // events the decoder has yielded so far
	j   *joiner // nil when the chunk holds no part
}

// NewReader returns a Reader over chunk. messageKey is the record key whose
// value is the message (the shaper's dd_message_key); "" means "log", else
// "message". NewReader reads the whole chunk once when it holds parts, to
// find which sequences are complete; it never copies chunk.
func NewReader(chunk []byte, messageKey string) Reader {
	r := Reader{dec: event.NewDecoder(chunk)}
	if Present(chunk) {
		r.j = newJoiner(chunk, messageKey)
	}
	return r
}

// Next decodes the next log into ev and returns its index: the 0-based
// position in the chunk, among the events the decoder yields, of the event
// (for a joined log, of its first part). The same chunk bytes always give
// the same indexes and logs. Errors are event.Decoder's, in the same
// places: io.EOF at the end. ev.Record points into the chunk or into
// memory the Reader owns; both are valid until the flush returns and must
// not be kept past it.
func (r *Reader) Next(ev *event.Event) (int, error) {
	if r.j == nil {
		if err := r.dec.Next(ev); err != nil {
			return -1, err
		}
		r.n++
		return r.n - 1, nil
	}
	for {
		var e event.Event // ev stays as it was when nothing is yielded
		if err := r.dec.Next(&e); err != nil {
			return -1, err
		}
		idx := r.n
		r.n++
		if r.j.rewrite(idx, &e) {
			*ev = e
			return idx, nil
		}
		// a part folded into a joined log: no entry of its own
	}
}

// Offset is the number of chunk bytes consumed so far.
func (r *Reader) Offset() int { return r.dec.Offset() }

// Joined is the number of logs made of several parts yielded so far.
func (r *Reader) Joined() int {
	if r.j == nil {
		return 0
	}
	return r.j.joined
}

// Incomplete is the number of parts yielded on their own, marked with
// IncompleteKey, so far.
func (r *Reader) Incomplete() int {
	if r.j == nil {
		return 0
	}
	return r.j.incomplete
}

type action uint8

const (
	keep action = iota // not a part: yield as is
	join               // first part of a complete sequence: yield the joined log
	fold               // later part of a complete sequence: yield nothing
	mark               // part of an incomplete sequence: yield with IncompleteKey
)

// part is one record of the chunk that says it is a part.
type part struct {
	idx    int // event index in the chunk
	f      fields
	act    action
	gStart int // join: the sequence's parts are j.order[gStart:gEnd]
	gEnd   int
}

// joiner holds what the first pass found and the joined records.
type joiner struct {
	msgKey     string
	parts      []part // in chunk order
	order      []int  // positions in parts, sorted by (id, ordinal, index)
	cur        int    // next part to meet in the second pass
	buf        []byte // joined and marked records; earlier ones stay valid when it grows
	joined     int
	incomplete int
}

func newJoiner(chunk []byte, msgKey string) *joiner {
	j := &joiner{msgKey: msgKey}
	dec := event.NewDecoder(chunk)
	var ev event.Event
	for idx := 0; ; {
		err := dec.Next(&ev)
		if err != nil {
			if _, skipped := err.(*event.RecordError); skipped {
				continue
			}
			break // end, or damage: the sequences cut by it are incomplete
		}
		if f, err := scan(ev.Record, msgKey); err == nil && f.partial {
			j.parts = append(j.parts, part{idx: idx, f: f})
		}
		idx++
	}
	j.group()
	// Every joined or marked record is at most its parts' records plus the
	// marker, so one allocation holds them all.
	need := 0
	for i := range j.parts {
		need += len(j.parts[i].f.rec) + len(IncompleteKey) + 8
	}
	j.buf = make([]byte, 0, need)
	return j
}

// group decides the action of every part: sequences are the parts sharing
// an ID; one is complete when its ordinals are exactly 1..n, only the n-th
// is last, and every message is a string.
func (j *joiner) group() {
	j.order = make([]int, 0, len(j.parts))
	for i := range j.parts {
		if !j.parts[i].f.usable() {
			j.parts[i].act = mark
			continue
		}
		j.order = append(j.order, i)
	}
	slices.SortFunc(j.order, func(a, b int) int {
		pa, pb := &j.parts[a], &j.parts[b]
		if c := bytes.Compare(pa.f.id, pb.f.id); c != 0 {
			return c
		}
		if pa.f.ord != pb.f.ord {
			return cmpInt(pa.f.ord, pb.f.ord)
		}
		return cmpInt(pa.idx, pb.idx)
	})
	for s := 0; s < len(j.order); {
		e := s + 1
		for e < len(j.order) && bytes.Equal(j.parts[j.order[e]].f.id, j.parts[j.order[s]].f.id) {
			e++
		}
		complete := true
		for k := s; k < e; k++ {
			p := &j.parts[j.order[k]]
			if p.f.ord != k-s+1 || p.f.last != (k == e-1) {
				complete = false
				break
			}
		}
		for k := s; k < e; k++ {
			p := &j.parts[j.order[k]]
			switch {
			case !complete:
				p.act = mark
			case k == s:
				p.act, p.gStart, p.gEnd = join, s, e
			default:
				p.act = fold
			}
		}
		s = e
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rewrite applies the action found for event idx to ev; false means the
// event yields no log.
func (j *joiner) rewrite(idx int, ev *event.Event) bool {
	if j.cur >= len(j.parts) || j.parts[j.cur].idx != idx {
		return true
	}
	p := &j.parts[j.cur]
	j.cur++
	switch p.act {
	case fold:
		return false
	case join:
		ev.Record = j.joinedRecord(p)
		j.joined++
	case mark:
		ev.Record = j.markedRecord(ev.Record)
		j.incomplete++
	}
	return true
}

// joinedRecord writes the first part's map without the partial_* keys, its
// message value replaced by the sequence's messages concatenated.
func (j *joiner) joinedRecord(head *part) []byte {
	total := 0
	for _, pi := range j.order[head.gStart:head.gEnd] {
		total += len(j.parts[pi].f.msg)
	}
	start := len(j.buf)
	// map32 header, its count filled in below
	j.buf = append(j.buf, 0xdf, 0, 0, 0, 0)
	n, body, _ := msgp.ReadMapHeaderBytes(head.f.rec) // scan read it already
	kept := uint32(0)
	for i := uint32(0); i < n; i++ {
		k, val, _ := readKey(body)
		after, _ := event.Skip(val)
		key := body[:len(body)-len(val)]
		pair := body[:len(body)-len(after)]
		body = after
		switch {
		case isPartialKey(k):
			continue
		case k != nil && sameStart(val, head.f.msgVal):
			j.buf = append(j.buf, key...)
			j.buf = appendStrHeader(j.buf, total)
			for _, pi := range j.order[head.gStart:head.gEnd] {
				j.buf = append(j.buf, j.parts[pi].f.msg...)
			}
		default:
			j.buf = append(j.buf, pair...)
		}
		kept++
	}
	b := j.buf[start:]
	b[1], b[2], b[3], b[4] = byte(kept>>24), byte(kept>>16), byte(kept>>8), byte(kept)
	return j.buf[start:len(j.buf):len(j.buf)]
}

// markedRecord writes rec with IncompleteKey: true added.
func (j *joiner) markedRecord(rec []byte) []byte {
	n, body, err := msgp.ReadMapHeaderBytes(rec)
	if err != nil {
		return rec // scan read it: cannot happen
	}
	start := len(j.buf)
	j.buf = msgp.AppendMapHeader(j.buf, n+1)
	j.buf = append(j.buf, body...)
	j.buf = msgp.AppendString(j.buf, IncompleteKey)
	j.buf = msgp.AppendBool(j.buf, true)
	return j.buf[start:len(j.buf):len(j.buf)]
}

// sameStart reports whether a and b start at the same byte of memory.
func sameStart(a, b []byte) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

func isPartialKey(k []byte) bool {
	switch string(k) {
	case KeyMessage, KeyID, KeyOrdinal, KeyLast:
		return true
	}
	return false
}

// appendStrHeader appends a msgpack str header for n bytes.
func appendStrHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		return append(b, 0xa0|byte(n))
	case n < 1<<8:
		return append(b, 0xd9, byte(n))
	case n < 1<<16:
		return append(b, 0xda, byte(n>>8), byte(n))
	}
	return append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// readKey reads a str/bin key; other key types give a nil key.
func readKey(b []byte) (key, rest []byte, err error) {
	if t := msgp.NextType(b); t == msgp.StrType || t == msgp.BinType {
		return transcode.ReadKey(b)
	}
	rest, err = event.Skip(b)
	return nil, rest, err
}

package join

import (
	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/progress"
	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

type action uint8

const (
	keep action = iota // its own log, as it is
	fold               // part of another log: yields nothing
	mark               // part of an incomplete split line: yield with IncompleteKey
	head               // first record of a joined log: yield the log its chain makes
)

// ent is what the first pass learnt of one event of the chunk. Its
// record, message value and text are where they sit in the chunk, as
// offsets: a chunk of short lines has one ent a record.
type ent struct {
	rec    span  // the record
	msgVal int32 // offset of the message key's raw value in the chunk; -1 when absent
	msg    span  // its text when a string
	ms     int64 // event time, Unix milliseconds
	stream int32 // index in joiner.streams; -1: none (streams off, or not a map)
	next   int32 // next event of the same log, in order; -1: the last
	size   int32 // the JSON-escaped size of its line's text, once known (-1: not yet)
	act    action
	text   bool // the message is a string
	isPart bool // head of a split line (its chain starts with its parts)
	// newLine: it starts a line of a multi-line log ("\n" before it).
	newLine bool
}

// span is a part of the chunk: off, n bytes.
type span struct{ off, n int32 }

// joiner holds what the first pass decided and the records made.
type joiner struct {
	o       *Options
	chunk   []byte
	ents    []ent
	streams []stream
	keys    map[string]int32 // stream key → index in streams
	counts  Counts
	buf     []byte   // joined and marked records; earlier ones stay valid when it grows
	pieces  [][]byte // scratch: the texts of the log being written
	keyBuf  []byte
}

// newJoiner reads the chunk once: every event's message and stream, then
// the split lines' parts, then, when lines is set, the streams' multi-line
// logs. A damaged chunk is read up to the damage, as the decoder yields it.
func newJoiner(chunk []byte, o *Options, done *progress.Ranges, lines bool) *joiner {
	j := &joiner{o: o, chunk: chunk, ents: make([]ent, 0, len(chunk)/256)} // FireLens records take 150-500 bytes
	if lines {
		j.keys = map[string]int32{}
	}
	var parts []part
	dec := event.NewDecoder(chunk)
	var ev event.Event
	for {
		err := dec.Next(&ev)
		if err != nil {
			if _, skipped := err.(*event.RecordError); skipped {
				continue
			}
			break // end, or damage: the sequences cut by it are incomplete
		}
		e := ent{rec: j.span(ev.Record), msgVal: -1, ms: ev.UnixMilli(), stream: -1, next: -1, size: -1}
		if f, err := scan(ev.Record, o.MessageKey, lines); err == nil {
			if f.msgVal != nil {
				e.msgVal = j.span(f.msgVal).off
			}
			e.msg, e.text = j.span(f.msg), f.msgOK
			if f.partial {
				parts = append(parts, part{idx: int32(len(j.ents)), f: f})
			}
			if lines {
				e.stream = j.streamOf(&f)
			}
		}
		j.ents = append(j.ents, e)
	}
	if len(parts) > 0 {
		j.joinParts(parts)
	}
	if lines {
		j.group(done)
	}
	need := 0
	for i := range j.ents {
		switch e := &j.ents[i]; e.act {
		case head:
			need += int(e.rec.n) + 16
			for k := e.next; k >= 0; k = j.ents[k].next {
				need += int(j.ents[k].msg.n) + 1
			}
		case mark:
			need += int(e.rec.n) + len(IncompleteKey) + 8
		}
	}
	j.buf = make([]byte, 0, need)
	return j
}

// rewrite applies what the first pass decided for event idx to ev; false
// means the event yields no log.
func (j *joiner) rewrite(idx int, ev *event.Event) bool {
	if idx >= len(j.ents) {
		return true // cannot happen: the passes read the same bytes
	}
	switch j.ents[idx].act {
	case fold:
		return false
	case head:
		ev.Record = j.joinedRecord(int32(idx))
	case mark:
		ev.Record = j.markedRecord(ev.Record)
	}
	return true
}

// joinedRecord writes the record of the log headed by event h: its record
// (without the partial_* keys when it is a part), the message value
// replaced by the texts of its chain, lines joined with "\n"; a multi-line
// log loses its trailing white space.
func (j *joiner) joinedRecord(h int32) []byte {
	x := &j.ents[h]
	j.pieces = j.pieces[:0]
	multi := false
	for k := h; k >= 0; k = j.ents[k].next {
		if j.ents[k].newLine {
			j.pieces = append(j.pieces, newline)
			multi = true
		}
		j.pieces = append(j.pieces, j.bytes(j.ents[k].msg))
	}
	if multi {
		j.trimTrailingSpace()
	}
	total := 0
	for _, p := range j.pieces {
		total += len(p)
	}
	start := len(j.buf)
	j.buf = append(j.buf, 0xdf, 0, 0, 0, 0) // map32 header, its count filled in below
	n, body, _ := msgp.ReadMapHeaderBytes(j.bytes(x.rec))
	kept := uint32(0)
	for i := uint32(0); i < n; i++ {
		k, val, _ := readKey(body)
		after, _ := event.Skip(val)
		key := body[:len(body)-len(val)]
		pair := body[:len(body)-len(after)]
		body = after
		switch {
		case x.isPart && isPartialKey(k):
			continue
		case k != nil && len(val) > 0 && j.span(val).off == x.msgVal:
			j.buf = append(j.buf, key...)
			j.buf = appendStrHeader(j.buf, total)
			for _, p := range j.pieces {
				j.buf = append(j.buf, p...)
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

var newline = []byte{'\n'}

// trimTrailingSpace drops the white space that ends the pieces (blank
// lines a trace ended with), as the Agent trims the logs it aggregates.
func (j *joiner) trimTrailingSpace() {
	for len(j.pieces) > 1 {
		last := j.pieces[len(j.pieces)-1]
		n := len(last)
		for n > 0 && isSpace(last[n-1]) {
			n--
		}
		if n > 0 {
			j.pieces[len(j.pieces)-1] = last[:n]
			return
		}
		j.pieces = j.pieces[:len(j.pieces)-1]
	}
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

// lineSize is the JSON-escaped size of line x's text, its parts' when it
// heads a split line.
func (j *joiner) lineSize(x int32) int {
	e := &j.ents[x]
	if e.size < 0 {
		n := transcode.EscapedLen(j.bytes(e.msg))
		if e.isPart {
			for k := e.next; k >= 0 && !j.ents[k].newLine; k = j.ents[k].next {
				n += transcode.EscapedLen(j.bytes(j.ents[k].msg))
			}
		}
		e.size = int32(min(n, 1<<30))
	}
	return int(e.size)
}

// span is where b, a part of the chunk (or empty), sits in it.
func (j *joiner) span(b []byte) span {
	if len(b) == 0 {
		return span{}
	}
	return span{int32(cap(j.chunk) - cap(b)), int32(len(b))}
}

// bytes are the chunk's bytes at s.
func (j *joiner) bytes(s span) []byte { return j.chunk[s.off : s.off+s.n] }

func isPartialKey(k []byte) bool {
	switch string(k) {
	case KeyMessage, KeyID, KeyOrdinal, KeyLast:
		return true
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
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

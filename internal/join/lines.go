package join

import "github.com/out-datadog-go/out_datadog_go/internal/progress"

// stream is one container stream's state while the first pass groups its
// lines: the log open, if any.
type stream struct {
	g      Grouping
	open   int32 // the open log's first event; -1: none
	tail   int32 // the last event of its chain
	lines  int
	bytes  int   // its message's JSON-escaped size so far
	lastMs int64 // time of the stream's last line
	// What the open log is (auto_multiline):
	strong    bool // opened by a start: every line but a start or a JSON object joins it
	traceback bool // holds Python's "Traceback (most recent call last):"
	goCrash   bool // a Go dump: opened by "panic: ", "fatal error: " or "goroutine N ["
	goFrames  bool // holds a Go dump's function line (the rest of a dump a chunk boundary cut)
	caret     bool // its last line that is not blank is a caret line (Node's source excerpt)
	chained   bool // its last line that is not blank is Python's sentence between chained tracebacks
}

// streamOf returns the stream of the record f describes, adding it with
// its Grouping when new.
func (j *joiner) streamOf(f *fields) int32 {
	k := j.keyBuf[:0]
	for _, p := range [...][]byte{f.view.TaskARN, f.view.ContainerID, f.view.ContainerName, f.source} {
		k = append(k, p...)
		k = append(k, 0)
	}
	j.keyBuf = k
	if i, ok := j.keys[string(k)]; ok {
		return i
	}
	i := int32(len(j.streams))
	j.keys[string(k)] = i
	v := f.view // a copy: only a new stream's fields go to the interface (and the heap)
	j.streams = append(j.streams, stream{g: j.o.Streams.Grouping(&v), open: -1})
	return i
}

// group makes the multi-line logs of every stream, in chunk order. A record
// an earlier try delivered (done) is passed over as if absent; one that is
// not a line (no string message, an incomplete part) ends its stream's log.
func (j *joiner) group(done *progress.Ranges) {
	delivered := done.Cursor()
	for i := range j.ents {
		x := &j.ents[i]
		if x.act == fold || x.stream < 0 {
			continue
		}
		st := &j.streams[x.stream]
		if !st.g.on() || delivered.Contains(int32(i)) {
			continue
		}
		if !x.text || x.act == mark {
			j.close(st)
			continue
		}
		j.line(st, int32(i))
	}
	for i := range j.streams {
		j.close(&j.streams[i])
	}
}

// line places line x of stream st: in the open log, or as a log of its own.
func (j *joiner) line(st *stream, x int32) {
	e := &j.ents[x]
	text := j.bytes(e.msg)
	if st.open >= 0 && e.ms-st.lastMs > MaxGap {
		j.close(st)
	}
	st.lastMs = e.ms
	if st.g.Pattern != nil {
		// The Agent's multi_line rule (pkg/logs/internal/decoder/
		// multiline_handler.go): a match starts a log, anything else joins
		// the one before, or starts one when there is none.
		if st.open >= 0 && !st.g.Pattern.Match(text) {
			j.join(st, x)
			return
		}
		j.start(st, x, true)
		return
	}
	c := classify(text)
	open := st.open >= 0
	switch c {
	case jsonObject: // stands alone, takes nothing after it
		j.close(st)
	case blank: // joins an open log; never opens one
		if open {
			j.join(st, x)
		}
	case trace, chainSentence, goFrame: // a trace's continuation by its shape
		if open {
			j.join(st, x)
		} else {
			j.start(st, x, false)
		}
	case traceback: // Python's head joins a log with a header or a chained traceback, else starts one
		if open && st.strong && (!st.traceback || st.chained) {
			j.join(st, x)
		} else {
			j.start(st, x, true)
		}
		st.traceback = true
	case goroutine: // part of a Go dump, else the start of one (the Agent starts a log at each)
		if open && (st.goCrash || st.goFrames) {
			j.join(st, x)
		} else {
			j.start(st, x, true)
		}
		st.goCrash, st.strong = true, true // a dump: its other lines join it
	case errorHead: // Python's last traceback line, Node's error after its source excerpt
		if open && (st.traceback || st.caret) {
			j.join(st, x)
		} else {
			j.start(st, x, true)
		}
	case goPanic:
		j.start(st, x, true)
		st.goCrash = true
	case start:
		j.start(st, x, true)
	default: // plain: joins a log with a header, else stands alone
		if open && st.strong {
			j.join(st, x)
		} else {
			j.start(st, x, false)
		}
	}
	if st.open >= 0 && c != blank {
		st.caret, st.chained = isCaret(text), c == chainSentence
		st.goFrames = st.goFrames || c == goFrame
	}
}

// start closes st's open log and opens one with line x.
func (j *joiner) start(st *stream, x int32, strong bool) {
	j.close(st)
	st.open, st.tail, st.lines, st.bytes = x, chainEnd(j.ents, x), 1, -1
	st.strong = strong
}

// join adds line x to st's open log when the bounds allow; otherwise the
// open log ends there and x opens the next, which goes on as the one it
// continues (a trace cut by a bound arrives in two logs).
func (j *joiner) join(st *stream, x int32) {
	if st.bytes < 0 {
		st.bytes = j.lineSize(st.open)
	}
	size := j.lineSize(x)
	if st.lines >= MaxLines || st.bytes+2+size > j.o.maxBytes() {
		strong, tb, gc := st.strong, st.traceback, st.goCrash
		j.start(st, x, strong)
		st.traceback, st.goCrash = tb, gc
		return
	}
	h := &j.ents[st.open]
	h.act = head
	j.ents[st.tail].next = x
	e := &j.ents[x]
	e.act, e.newLine = fold, true
	st.tail = chainEnd(j.ents, x)
	st.lines++
	st.bytes += 2 + size
}

// close ends st's open log, counting it when it holds several lines.
func (j *joiner) close(st *stream) {
	if st.open >= 0 && st.lines > 1 {
		j.counts.MultiLine++
		j.counts.LinesJoined += st.lines - 1
	}
	st.open, st.lines = -1, 0
	st.strong, st.traceback, st.goCrash, st.goFrames, st.caret, st.chained = false, false, false, false, false, false
}

// chainEnd is the last event of x's chain (its last part when x heads a
// split line).
func chainEnd(ents []ent, x int32) int32 {
	for ents[x].next >= 0 {
		x = ents[x].next
	}
	return x
}

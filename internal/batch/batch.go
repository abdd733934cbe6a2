// Package batch cuts a stream of encoded JSON log entries into intake
// payloads that respect the Datadog logs intake limits (package limits): at
// most limits.MaxEntries entries and at most limits.MaxBytes bytes of
// uncompressed JSON array per request.
package batch

// Batch is one payload: a JSON array "[e0,e1,...]" kept as one contiguous
// buffer, plus where each entry starts so the payload can be split (400 or 413
// answers) without re-encoding. A Batch owns its memory; it never points into
// Fluent Bit's chunk.
type Batch struct {
	data   []byte  // "[" e0 "," e1 ... (no closing bracket until Bytes)
	starts []int   // offset of each entry in data
	ids    []int32 // the chunk record each entry came from
	closed bool
}

// Reset empties b, keeping its buffers for reuse.
func (b *Batch) Reset() {
	b.data = b.data[:0]
	b.starts = b.starts[:0]
	b.ids = b.ids[:0]
	b.closed = false
}

// Len is the number of entries.
func (b *Batch) Len() int { return len(b.starts) }

// Size is the byte length of the payload if it were closed now.
func (b *Batch) Size() int {
	if len(b.starts) == 0 {
		return 2
	}
	if b.closed {
		return len(b.data)
	}
	return len(b.data) + 1
}

// Begin opens a new entry for the chunk's record id and returns the buffer
// to append its JSON to. The caller appends the entry's bytes and hands the
// result to End.
func (b *Batch) Begin(id int32) []byte {
	if b.closed {
		b.data = b.data[:len(b.data)-1]
		b.closed = false
	}
	if len(b.starts) == 0 {
		b.data = append(b.data[:0], '[')
	} else {
		b.data = append(b.data, ',')
	}
	b.starts = append(b.starts, len(b.data))
	b.ids = append(b.ids, id)
	return b.data
}

// End records the entry appended since Begin (buf is Begin's result grown).
func (b *Batch) End(buf []byte) { b.data = buf }

// Abort drops the entry opened by the last Begin (for example when it turned
// out too large for this batch); buf is discarded.
func (b *Batch) Abort() {
	b.closed = false
	n := len(b.starts) - 1
	start := b.starts[n]
	b.starts = b.starts[:n]
	b.ids = b.ids[:n]
	b.data = b.data[:start-1] // drop the '[' or ','
}

// LastEntrySize is the size of the most recently ended entry.
func (b *Batch) LastEntrySize() int {
	n := len(b.starts)
	if n == 0 {
		return 0
	}
	return len(b.data) - b.starts[n-1]
}

// Entry returns entry i's JSON (valid until b changes).
func (b *Batch) Entry(i int) []byte {
	end := len(b.data)
	if b.closed {
		end--
	}
	if i+1 < len(b.starts) {
		end = b.starts[i+1] - 1
	}
	return b.data[b.starts[i]:end]
}

// Bytes closes the array and returns the whole payload (valid until b changes).
func (b *Batch) Bytes() []byte {
	if len(b.starts) == 0 {
		return []byte("[]")
	}
	if !b.closed {
		b.data = append(b.data, ']')
		b.closed = true
	}
	return b.data
}

// IDs are the chunk records of the entries, in order (valid until b changes).
func (b *Batch) IDs() []int32 { return b.ids }

// Append adds an already encoded entry of record id (used when splitting).
func (b *Batch) Append(id int32, entry []byte) {
	buf := b.Begin(id)
	b.End(append(buf, entry...))
}

// MoveLast moves b's last entry to the empty batch dst: the entry that made
// b too large starts the next payload.
func (b *Batch) MoveLast(dst *Batch) {
	n := b.Len() - 1
	dst.Append(b.ids[n], b.Entry(n))
	b.Abort()
}

// Slice returns a new Batch holding copies of entries [i, j).
func (b *Batch) Slice(i, j int) *Batch {
	out := &Batch{}
	for k := i; k < j; k++ {
		out.Append(b.ids[k], b.Entry(k))
	}
	return out
}

// Limits bound a payload: at most Entries entries and Bytes bytes
// (max_batch_entries, max_batch_bytes; config bounds both by the intake's).
type Limits struct{ Entries, Bytes int }

// Over is by how many bytes b's last entry is too large to be a payload
// on its own; <= 0 when it fits.
func (l Limits) Over(b *Batch) int { return b.LastEntrySize() + 2 - l.Bytes }

// Cut is called after each entry ended on b, which must fit alone (Over
// <= 0). It hands every payload that is complete to send and returns the
// batch the next entry goes to: an entry that made b too large moves to a
// fresh batch from next and starts the next payload; a payload holding
// l.Entries entries is complete.
func (l Limits) Cut(b *Batch, next func() *Batch, send func(*Batch)) *Batch {
	if b.Size() > l.Bytes {
		nb := next()
		b.MoveLast(nb)
		send(b)
		b = nb
	}
	if b.Len() >= l.Entries {
		send(b)
		b = next()
	}
	return b
}

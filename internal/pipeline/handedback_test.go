package pipeline

import (
	"bytes"
	"testing"
)

// A fingerprint tells apart what Fluent Bit's chunks differ in (tag,
// length, either end), and the set forgets its oldest past the bound.
func TestHandedBack(t *testing.T) {
	h := newHandedBack()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 2000) // 32 KB
	fp := h.fingerprint(chunk, []byte("app"))
	if fp != h.fingerprint(append([]byte{}, chunk...), []byte("app")) {
		t.Fatal("fingerprint not deterministic")
	}
	head, tail := bytes.Clone(chunk), bytes.Clone(chunk)
	head[10]++
	tail[len(tail)-10]++
	for name, other := range map[string]uint64{
		"tag":    h.fingerprint(chunk, []byte("app2")),
		"length": h.fingerprint(chunk[:len(chunk)-16], []byte("app")),
		"head":   h.fingerprint(head, []byte("app")),
		"tail":   h.fingerprint(tail, []byte("app")),
	} {
		if other == fp {
			t.Errorf("a chunk differing in its %s has the same fingerprint", name)
		}
	}
	if h.take(fp) {
		t.Fatal("taken before put")
	}
	h.put(fp)
	h.put(fp) // an identical chunk handed back too: two entries, each retry known
	if !h.take(fp) || !h.take(fp) || h.take(fp) {
		t.Fatal("put twice then take three times")
	}
	for i := uint64(0); i < handedBackMax+10; i++ {
		h.put(i)
		if i%3 == 0 {
			h.put(i) // a second entry of i
		}
	}
	// The bound forgets the oldest entries; the newest keep theirs, both of
	// handedBackMax+8 (a multiple of 3).
	const last = handedBackMax + 8
	if h.n != handedBackMax || h.take(5) || !h.take(last) || !h.take(last) || h.take(last) || !h.take(last+1) || len(h.fifo) > 2*h.n+16 {
		t.Errorf("after %d puts: %d held, fifo %d", handedBackMax+10, h.n, len(h.fifo))
	}
}

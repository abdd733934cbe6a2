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
	h.put(fp) // handed back again before its retry: still one entry
	if !h.take(fp) || h.take(fp) {
		t.Fatal("put then take twice")
	}
	for i := uint64(0); i < handedBackMax+10; i++ {
		h.put(i)
		if i%3 == 0 {
			h.put(i) // a re-put must not make the bound evict a newer one
		}
	}
	if len(h.set) != handedBackMax || h.take(5) || !h.take(10) || !h.take(handedBackMax+9) || len(h.fifo) > 2*len(h.set)+16 {
		t.Errorf("after %d puts: %d held, fifo %d", handedBackMax+10, len(h.set), len(h.fifo))
	}
}

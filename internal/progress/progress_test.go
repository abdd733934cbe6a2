package progress

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestRangesAgainstSet(t *testing.T) {
	// Random inserts checked against a plain set: membership, counts and the
	// invariant (sorted, disjoint, non-adjacent runs).
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var r Ranges
		want := map[int32]bool{}
		for n := 0; n < 30; n++ {
			lo := int32(rng.IntN(200))
			hi := lo + int32(rng.IntN(12))
			r.Add(lo, hi)
			for i := lo; i < hi; i++ {
				want[i] = true
			}
		}
		for k := 1; k < len(r.s); k++ {
			if r.s[k-1].hi >= r.s[k].lo || r.s[k].lo >= r.s[k].hi {
				t.Fatalf("runs not sorted/disjoint/non-adjacent: %v", r.s)
			}
		}
		if count(&r) != len(want) {
			t.Fatalf("count %d, want %d", count(&r), len(want))
		}
		c := r.Cursor()
		for i := int32(0); i < 220; i++ {
			if contains(&r, i) != want[i] || c.Contains(i) != want[i] {
				t.Fatalf("round %d: contains(%d) = %v/%v, want %v (%v)", round, i, contains(&r, i), c.Contains(i), want[i], r.s)
			}
		}
	}
}

func TestAddIDsMakesRuns(t *testing.T) {
	var r Ranges
	r.AddIDs([]int32{0, 1, 2, 3, 7, 8, 10})
	r.AddIDs([]int32{4, 5, 6})
	if r.Len() != 2 || count(&r) != 10 || contains(&r, 9) {
		t.Errorf("runs %v", r.s)
	}
	var nilCursor Cursor
	if nilCursor.Contains(0) {
		t.Error("nil cursor contains")
	}
}

func TestKeyIdentifiesChunkAndTag(t *testing.T) {
	m := New(4, 100)
	a := m.Key([]byte("chunk"), "tag")
	if a != m.Key([]byte("chunk"), "tag") {
		t.Fatal("key not deterministic")
	}
	if New(4, 100).Key([]byte("chunk"), "tag") == a {
		t.Error("two memories hash alike: the seed is not random")
	}
	for _, other := range []Key{
		m.Key([]byte("chunk"), "tag2"),
		m.Key([]byte("chunk2"), "tag"),
		m.Key([]byte("tagchunk"), ""), // the tag/chunk boundary counts
		m.Key([]byte("chunl"), "tag"),
	} {
		if other == a {
			t.Errorf("collision with %v", other)
		}
	}
}

func done(lo, hi int32) *Progress {
	p := &Progress{}
	p.Done.Add(lo, hi)
	return p
}

func TestTakePut(t *testing.T) {
	m := New(2, 100)
	if !m.Empty() {
		t.Fatal("new memory not empty")
	}
	k := m.Key([]byte("a"), "")
	if _, ok := m.Take(k); ok {
		t.Fatal("take from empty")
	}
	// A chunk handed back with nothing done is remembered: its retry is
	// known as one.
	if n := m.Put(k, nil); n != 0 || m.Len() != 1 {
		t.Fatal("a chunk handed back with nothing done is not remembered")
	}
	if p, ok := m.Take(k); !ok || p.Len() != 0 || !m.Empty() {
		t.Fatalf("take of an empty entry: %v %v", p, ok)
	}
	m.Put(k, done(0, 10))
	if m.Empty() || m.Len() != 1 {
		t.Fatal("put not held")
	}
	p, ok := m.Take(k)
	if !ok || count(&p.Done) != 10 || !m.Empty() {
		t.Fatalf("take: %v %v, len %d", p, ok, m.Len())
	}
	if _, ok := m.Take(k); ok {
		t.Fatal("taken twice: a delivered chunk must be forgotten")
	}
}

// At the chunk bound the oldest entry goes; a re-put entry counts as new.
// Only an entry holding runs counts as forgotten.
func TestBoundEvictsOldest(t *testing.T) {
	m := New(2, 100)
	k := func(i int) Key { return m.Key([]byte(fmt.Sprint(i)), "") }
	m.Put(k(0), done(0, 1))
	m.Put(k(1), done(0, 1))
	// k(0) comes back, is taken and put again: it is now the newest.
	p, _ := m.Take(k(0))
	m.Put(k(0), p)
	if n := m.Put(k(2), done(0, 1)); n != 1 {
		t.Fatalf("forgot %d, want 1", n)
	}
	if _, ok := m.Take(k(1)); ok {
		t.Error("oldest entry k(1) kept")
	}
	for _, i := range []int{0, 2} {
		if _, ok := m.Take(k(i)); !ok {
			t.Errorf("k(%d) forgotten", i)
		}
	}
	m.Put(k(3), nil)
	m.Put(k(4), nil)
	if n := m.Put(k(5), done(0, 1)); n != 0 || m.Len() != 2 {
		t.Errorf("evicting an entry with nothing done: %d forgotten, len %d", n, m.Len())
	}
}

func TestRunBound(t *testing.T) {
	m := New(100, 10)
	k := func(i int) Key { return m.Key([]byte(fmt.Sprint(i)), "") }
	many := &Progress{}
	for i := int32(0); i < 3; i++ {
		many.Done.Add(2*i, 2*i+1)
		many.Refused.Add(2*i+100, 2*i+101)
	}
	m.Put(k(0), many)                   // 6 runs
	if n := m.Put(k(1), many); n != 1 { // 12 > 10: k(0) goes
		t.Fatalf("forgot %d, want 1", n)
	}
	huge := &Progress{}
	for i := int32(0); i < 11; i++ {
		huge.Done.Add(2*i, 2*i+1)
	}
	if n := m.Put(k(2), huge); n != 1 || m.Len() != 2 || m.runs != 6 {
		t.Errorf("entry over the whole bound: forgot %d, len %d, runs %d", n, m.Len(), m.runs)
	}
	if p, ok := m.Take(k(2)); !ok || p.Len() != 0 {
		t.Errorf("entry over the whole bound: kept as %v %v, want known as a retry with nothing done", p, ok)
	}
	// Stale places do not grow without bound.
	for i := 0; i < 1000; i++ {
		m.Put(k(3), done(0, 1))
		m.Take(k(3))
	}
	if len(m.order) > 2*m.n+17 {
		t.Errorf("order holds %d places for %d entries", len(m.order), m.n)
	}
}

func TestConcurrent(t *testing.T) {
	m := New(64, 1000)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k := m.Key([]byte(fmt.Sprint(w, i%40)), "")
				if p, ok := m.Take(k); ok {
					p.Done.Add(int32(i), int32(i+1))
					m.Put(k, p)
				} else {
					m.Put(k, done(0, 1))
				}
				_ = m.Empty()
			}
		}(w)
	}
	wg.Wait()
	if m.Len() > 64 {
		t.Errorf("len %d over bound", m.Len())
	}
}

// Identical chunks (one key) keep one entry each, never overwritten: two
// tries of identical chunks handed back at once (workers 2) leave two
// entries, each taken once, oldest first, and evicted one at a time.
// (Before: the second Put replaced the first, whose delivered records a
// later retry sent again.)
func TestIdenticalKeyMultiset(t *testing.T) {
	m := New(3, 100)
	k := m.Key([]byte("same bytes"), "tag")
	m.Put(k, done(0, 10))
	m.Put(k, done(0, 20))
	if m.Len() != 2 {
		t.Fatalf("len %d, want 2 entries of one key", m.Len())
	}
	for _, want := range []int{10, 20} {
		p, ok := m.Take(k)
		if !ok || count(&p.Done) != want {
			t.Fatalf("take: %v %v, want %d records done", p, ok, want)
		}
	}
	if _, ok := m.Take(k); ok || !m.Empty() {
		t.Fatal("a third entry")
	}
	// The chunk bound evicts the oldest entry of the key, not the key.
	for i := int32(1); i <= 4; i++ {
		m.Put(k, done(0, i))
	}
	if m.Len() != 3 || m.runs != 3 {
		t.Fatalf("len %d runs %d", m.Len(), m.runs)
	}
	if p, _ := m.Take(k); count(&p.Done) != 2 {
		t.Errorf("oldest kept %d, want the entry of 2 (the entry of 1 forgotten)", count(&p.Done))
	}
}

// count is the number of indexes in r.
func count(r *Ranges) int {
	n := 0
	for _, x := range r.s {
		n += int(x.hi - x.lo)
	}
	return n
}

// contains reports whether i is in r, by a plain walk (the cursor is what
// the flush uses).
func contains(r *Ranges, i int32) bool {
	for _, x := range r.s {
		if x.lo <= i && i < x.hi {
			return true
		}
	}
	return false
}

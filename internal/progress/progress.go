// Package progress remembers how far a chunk got when a flush hands it back
// to Fluent Bit, so that when Fluent Bit retries the same chunk the records
// the intake already accepted are not sent again.
//
// Only a flush that returns FLB_RETRY after doing something with part of
// its chunk leaves an entry: the indexes of the records that are done
// (accepted, or deliberately dropped) and of those the intake refused alone
// once (sent alone again by the next try; see intake.Delivery). A chunk is
// identified by a 128-bit hash of its bytes and its tag, and only a chunk
// whose key has an entry is compared with anything.
//
// Fluent Bit gives an external output no chunk identity, so a retry of a
// chunk and a new chunk with the same bytes and tag (a `dummy` input, a
// source with whole-second times) cannot be told apart. Their records are
// the same records, so the memory keeps every outstanding entry of a key, a
// multiset, never overwriting one: each flush of such a chunk takes one
// entry (the oldest) and puts back at most one, so as long as Fluent Bit
// retries every chunk it handed back, each record of n identical chunks is
// delivered n times in all (exactly once in aggregate), whichever of them
// sends it, with one worker or several.
//
// Memory is bounded by the number of entries and the number of runs held;
// at the bound the oldest entry is forgotten and counted: if Fluent Bit
// retries that chunk later, its accepted records are sent again (at least
// once, never lost). Nothing survives a restart of Fluent Bit.
package progress

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Key identifies a chunk: two independently seeded 64-bit hashes over tag
// and bytes, and the chunk's length.
type Key struct {
	h   [2]uint64
	len int
}

// Progress is what the earlier tries of a chunk did with its records.
type Progress struct {
	// Done: accepted by the intake, or dropped; never sent again.
	Done Ranges
	// Refused: refused by the intake alone, once; sent alone again.
	Refused Ranges
}

// Len is the number of runs held (what an entry costs in memory).
func (p *Progress) Len() int {
	if p == nil {
		return 0
	}
	return p.Done.Len() + p.Refused.Len()
}

// DoneRanges is p's done records; nil when p is nil.
func (p *Progress) DoneRanges() *Ranges {
	if p == nil {
		return nil
	}
	return &p.Done
}

// Cursors walk p's done and refused records; a nil p holds none.
func (p *Progress) Cursors() (done, refused Cursor) {
	if p == nil {
		return Cursor{}, Cursor{}
	}
	return p.Done.Cursor(), p.Refused.Cursor()
}

// Memory holds the progress of chunks handed back for retry. Safe for
// concurrent use.
type Memory struct {
	seeds     [2]maphash.Seed
	maxChunks int
	maxRuns   int
	size      atomic.Int64 // entries held, for the lock-free Empty

	mu    sync.Mutex
	m     map[Key][]entry // every outstanding entry of a key, oldest first
	order []placed        // oldest first; a place whose entry was taken is stale
	seq   uint64
	n     int // entries held
	runs  int // runs held
}

type entry struct {
	p   *Progress
	seq uint64
}

type placed struct {
	k   Key
	seq uint64
}

// New returns a Memory holding at most maxChunks entries and maxRuns runs
// in all (each run costs 8 bytes).
func New(maxChunks, maxRuns int) *Memory {
	return &Memory{
		seeds:     [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		maxChunks: max(maxChunks, 1),
		maxRuns:   max(maxRuns, 1),
		m:         make(map[Key][]entry),
	}
}

// Key hashes a chunk and its tag. It reads them during the call only.
func (m *Memory) Key(chunk, tag []byte) Key {
	var k Key
	for i, seed := range m.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		_, _ = h.Write(tag)
		_ = h.WriteByte(0)
		_, _ = h.Write(chunk)
		k.h[i] = h.Sum64()
	}
	k.len = len(chunk)
	return k
}

// Empty reports, without locking, whether no chunk is remembered: the
// common case, in which a flush need not even hash its chunk.
func (m *Memory) Empty() bool { return m.size.Load() == 0 }

// Len is the number of entries held.
func (m *Memory) Len() int { return int(m.size.Load()) }

// Take removes and returns the oldest entry of k, if any.
func (m *Memory) Take(k Key) (*Progress, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.m[k]
	if len(es) == 0 {
		return nil, false
	}
	e := es[0]
	m.remove(k, 0)
	return e.p, true
}

// Put adds p as one more entry of k, next to any it already has, and
// returns how many older entries it forgot to stay within the bounds. An
// entry larger than the whole run bound is not kept at all and counts as
// forgotten.
func (m *Memory) Put(k Key, p *Progress) (forgotten int) {
	runs := p.Len()
	if runs == 0 {
		return 0
	}
	if runs > m.maxRuns {
		return 1
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.m[k] = append(m.m[k], entry{p: p, seq: m.seq})
	m.n++
	m.runs += runs
	m.order = append(m.order, placed{k, m.seq})
	// The entry just put is the newest place, and fits the run bound alone,
	// so eviction stops before reaching it.
	for m.n > m.maxChunks || m.runs > m.maxRuns {
		pl := m.order[0]
		m.order = m.order[1:]
		if i := m.find(pl); i >= 0 {
			m.remove(pl.k, i)
			forgotten++
		}
	}
	if len(m.order) > 2*m.n+16 { // shed stale places
		kept := make([]placed, 0, m.n)
		for _, pl := range m.order {
			if m.find(pl) >= 0 {
				kept = append(kept, pl)
			}
		}
		m.order = kept
	}
	m.size.Store(int64(m.n))
	return forgotten
}

// find is the index of pl's entry among its key's, or -1 once taken.
func (m *Memory) find(pl placed) int {
	for i, e := range m.m[pl.k] {
		if e.seq == pl.seq {
			return i
		}
	}
	return -1
}

// remove drops entry i of k.
func (m *Memory) remove(k Key, i int) {
	es := m.m[k]
	m.runs -= es[i].p.Len()
	m.n--
	if len(es) == 1 {
		delete(m.m, k)
	} else {
		m.m[k] = append(es[:i:i], es[i+1:]...)
	}
	m.size.Store(int64(m.n))
}

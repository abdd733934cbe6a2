// Package progress remembers how far a chunk got when a flush hands it back
// to Fluent Bit, so that when Fluent Bit retries the same chunk the records
// the intake already accepted are not sent again.
//
// Every flush that returns FLB_RETRY leaves an entry, so that Fluent Bit's
// retry of the chunk is known as a retry (its records are not counted in
// again): the indexes of the records that are done (accepted, or
// deliberately dropped) and of those the intake refused alone once (sent
// alone again by the next try; see intake.Ledger), often none. A chunk is
// identified by a 128-bit hash of its bytes, its length and its tag, taken
// when its flush starts; only a chunk whose key has an entry is compared
// with anything.
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
// at the bound the oldest entry is forgotten, and counted when it held
// runs: if Fluent Bit retries that chunk later, its accepted records are
// sent again (at least once, never lost), and its records are counted in
// again. Nothing survives a restart of Fluent Bit.
package progress

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/zeebo/xxh3"
)

// Key identifies a chunk: a seeded 128-bit hash of its bytes, its length
// and its tag. XXH3 because every flush hashes its chunk before it waits
// on anything: at about 40 GB/s, a 2 MB chunk costs some 50 µs, under 1%
// of its flush (maphash, twice for 128 bits, cost 6%).
type Key struct {
	h   xxh3.Uint128
	len int
	tag string
}

// Progress is what the earlier tries of a chunk did with its records.
type Progress struct {
	// Counted: a try read the chunk and counted its records in (a try
	// that handed it back unread did not).
	Counted bool
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
	seed      uint64
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
		seed:      rand.Uint64(),
		maxChunks: max(maxChunks, 1),
		maxRuns:   max(maxRuns, 1),
		m:         make(map[Key][]entry),
	}
}

// Key identifies chunk and tag. It reads chunk during the call only.
func (m *Memory) Key(chunk []byte, tag string) Key {
	return Key{h: xxh3.Hash128Seed(chunk, m.seed), len: len(chunk), tag: tag}
}

// Empty reports, without locking, whether no chunk is remembered: the
// common case.
func (m *Memory) Empty() bool { return m.size.Load() == 0 }

// Len is the number of entries held.
func (m *Memory) Len() int { return int(m.size.Load()) }

// Take removes and returns the oldest entry of k: ok when a flush handed
// the chunk back before (p may hold nothing).
func (m *Memory) Take(k Key) (p *Progress, ok bool) {
	if m.Empty() {
		return nil, false
	}
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

// Put adds p (nil: nothing done yet) as one more entry of k, next to any
// it already has, and returns how many older entries holding runs it
// forgot to stay within the bounds (those holding none are forgotten
// silently: only their count is lost). An entry larger than the whole run
// bound is kept without its runs, and counts as forgotten.
func (m *Memory) Put(k Key, p *Progress) (forgotten int) {
	if p == nil {
		p = &Progress{}
	}
	runs := p.Len()
	if runs > m.maxRuns {
		p, runs, forgotten = &Progress{}, 0, 1
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
			if m.m[pl.k][i].p.Len() > 0 {
				forgotten++
			}
			m.remove(pl.k, i)
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

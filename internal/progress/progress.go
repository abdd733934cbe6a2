// Package progress remembers how far a chunk got when a flush hands it back
// to Fluent Bit, so that when Fluent Bit retries the same chunk the records
// the intake already accepted are not sent again.
//
// Only a flush that returns FLB_RETRY after delivering part of its chunk
// leaves an entry: the indexes of the records that are done (accepted, or
// deliberately dropped). A chunk is identified by a 128-bit hash of its bytes
// and its tag: Fluent Bit's chunks carry nanosecond event times, so two
// genuinely different chunks do not collide in practice, and a new chunk is
// never compared with anything but the chunks being retried. When a retried
// chunk is delivered in full its entry is gone (Take removes it).
//
// Memory is bounded by the number of chunks and the number of runs held;
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

// Memory holds the progress of chunks handed back for retry. Safe for
// concurrent use.
type Memory struct {
	seeds     [2]maphash.Seed
	maxChunks int
	maxRuns   int
	size      atomic.Int64 // entries held, for the lock-free Empty

	mu    sync.Mutex
	m     map[Key]entry
	order []placed // oldest first; a place whose seq no longer matches is stale
	seq   uint64
	runs  int // runs held in m
}

type entry struct {
	r   *Ranges
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
		m:         make(map[Key]entry),
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

// Len is the number of chunks remembered.
func (m *Memory) Len() int { return int(m.size.Load()) }

// Take removes and returns the progress remembered for k, if any.
func (m *Memory) Take(k Key) (*Ranges, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[k]
	if !ok {
		return nil, false
	}
	m.drop(k, e)
	return e.r, true
}

// Put remembers r as the progress of k and returns how many older entries
// it forgot to stay within the bounds. An entry larger than the whole run
// bound is not kept at all and counts as forgotten.
func (m *Memory) Put(k Key, r *Ranges) (forgotten int) {
	if r == nil || r.Len() == 0 {
		return 0
	}
	if r.Len() > m.maxRuns {
		return 1
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[k]; ok {
		m.drop(k, old)
	}
	m.seq++
	m.m[k] = entry{r: r, seq: m.seq}
	m.runs += r.Len()
	m.order = append(m.order, placed{k, m.seq})
	// The entry just put is the newest place, and fits the run bound alone,
	// so eviction stops before reaching it.
	for len(m.m) > m.maxChunks || m.runs > m.maxRuns {
		p := m.order[0]
		m.order = m.order[1:]
		if e, ok := m.m[p.k]; ok && e.seq == p.seq {
			m.drop(p.k, e)
			forgotten++
		}
	}
	if len(m.order) > 2*len(m.m)+16 { // shed stale places
		kept := make([]placed, 0, len(m.m))
		for _, p := range m.order {
			if e, ok := m.m[p.k]; ok && e.seq == p.seq {
				kept = append(kept, p)
			}
		}
		m.order = kept
	}
	m.size.Store(int64(len(m.m)))
	return forgotten
}

func (m *Memory) drop(k Key, e entry) {
	delete(m.m, k)
	m.runs -= e.r.Len()
	m.size.Store(int64(len(m.m)))
}

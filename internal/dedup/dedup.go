// Package dedup remembers which payloads the intake already accepted, so
// that when Fluent Bit retries a whole chunk after a partial failure (one
// payload of the chunk failed, the others went through) the payloads that
// did go through are not sent twice.
//
// Payloads are identified by a 128-bit Key: two 64-bit hash/maphash sums of
// the uncompressed payload under two independent random seeds drawn per Set.
// 128 bits because a false "already sent" silently loses logs: with n keys
// remembered, the chance that a new payload collides with one of them is
// about n/2^128 (below 2^-115 for the few thousand keys a Set holds), where a
// single 64-bit sum would leave it near n/2^64, which a long-running log
// router could eventually hit. maphash rather than a cryptographic hash
// because it runs at memory speed on multi-megabyte payloads, and its
// per-process random seeds keep log content (which applications control)
// from being crafted into collisions.
package dedup

import (
	"hash/maphash"
	"sync"
	"time"
)

// Key identifies a payload (see Set.Hash).
type Key [2]uint64

// slot is one position of the eviction ring. A slot stays in the ring after
// its key was dropped (expired on lookup, or re-added further back) with
// live == false, so the ring never has to be compacted.
type slot struct {
	key  Key
	at   time.Time
	live bool
}

// Set is a bounded, expiring set of Keys. Every operation is O(1)
// (amortised), memory is bounded by maxEntries slots allocated at New, and
// the oldest key is evicted first when the Set is full. Expired keys are
// dropped lazily, when an operation finds them. Safe for concurrent use; a
// nil *Set is an empty set that remembers nothing.
type Set struct {
	seeds [2]maphash.Seed // read-only after New

	mu    sync.Mutex
	ttl   time.Duration
	now   func() time.Time
	index map[Key]int // key -> ring position of its live slot
	ring  []slot      // FIFO: ring[head] is the oldest slot
	head  int
	n     int // slots in use, live or not
}

// New returns a Set remembering at most maxEntries keys (at least 1), each
// for ttl after it was added; ttl <= 0 means keys expire only by eviction.
func New(maxEntries int, ttl time.Duration) *Set {
	return NewWithClock(maxEntries, ttl, time.Now)
}

// NewWithClock is New with the clock used for expiry injected, so tests can
// move time without sleeping. now must be safe for concurrent use.
func NewWithClock(maxEntries int, ttl time.Duration, now func() time.Time) *Set {
	if maxEntries < 1 {
		maxEntries = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Set{
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		ttl:   ttl,
		now:   now,
		index: make(map[Key]int, maxEntries),
		ring:  make([]slot, maxEntries),
	}
}

// Hash computes the Key of a payload. Keys are only comparable within the
// Set that made them (each Set has its own seeds). A nil Set returns the
// zero Key.
func (s *Set) Hash(payload []byte) Key {
	if s == nil {
		return Key{}
	}
	return Key{maphash.Bytes(s.seeds[0], payload), maphash.Bytes(s.seeds[1], payload)}
}

// Seen reports whether k was added and has neither expired nor been evicted.
func (s *Set) Seen(k Key) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.dropExpired(now)
	pos, ok := s.index[k]
	if !ok {
		return false
	}
	if s.expired(s.ring[pos].at, now) { // only when the clock went backwards
		s.ring[pos].live = false
		delete(s.index, k)
		return false
	}
	return true
}

// Add remembers k from now on, evicting the oldest key when the Set is full.
// Adding a key already present restarts its lifetime and makes it the
// newest.
func (s *Set) Add(k Key) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.dropExpired(now)
	if pos, ok := s.index[k]; ok {
		s.ring[pos].live = false
		delete(s.index, k)
	}
	if s.n == len(s.ring) {
		s.popOldest()
	}
	pos := (s.head + s.n) % len(s.ring)
	s.ring[pos] = slot{key: k, at: now, live: true}
	s.index[k] = pos
	s.n++
}

// Len is the number of keys remembered and not yet expired.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(s.now())
	return len(s.index)
}

// Reset forgets every key (for example between benchmark iterations that
// replay the same chunk on purpose).
func (s *Set) Reset() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.index)
	clear(s.ring)
	s.head, s.n = 0, 0
}

func (s *Set) expired(at, now time.Time) bool {
	return s.ttl > 0 && now.Sub(at) >= s.ttl
}

// dropExpired pops dead and expired slots off the old end of the ring.
// Slots are appended in clock order, so once the oldest live slot is still
// fresh every later one is too; each slot is popped once, hence amortised
// O(1). Caller holds mu.
func (s *Set) dropExpired(now time.Time) {
	for s.n > 0 {
		old := &s.ring[s.head]
		if old.live && !s.expired(old.at, now) {
			return
		}
		s.popOldest()
	}
}

// popOldest removes the slot at the old end of the ring. Caller holds mu.
func (s *Set) popOldest() {
	old := &s.ring[s.head]
	if old.live {
		delete(s.index, old.key)
	}
	*old = slot{}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
}

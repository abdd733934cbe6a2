// Package dedup remembers which payloads the intake already accepted, so
// that when Fluent Bit retries a whole chunk after a partial failure the
// payloads that did go through are not sent twice.
//
// Payloads are identified by a 128-bit hash of their bytes as sent
// (two independently seeded 64-bit maphash sums): with a few thousand
// entries remembered the chance of a false "already sent" is below 2^-100,
// where a single 64-bit hash would leave it near 2^-40 over a long run.
package dedup

import (
	"hash/maphash"
	"sync"
	"time"
)

// Key identifies a payload.
type Key [2]uint64

// Set is a bounded, expiring set of Keys. Safe for concurrent use.
type Set struct {
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	now     func() time.Time
	seeds   [2]maphash.Seed
	entries map[Key]time.Time
	order   []Key // insertion order, for eviction (ring)
	head    int
}

// New returns a Set remembering at most maxEntries keys for ttl each.
func New(maxEntries int, ttl time.Duration) *Set {
	if maxEntries < 1 {
		maxEntries = 1
	}
	return &Set{
		max: maxEntries, ttl: ttl, now: time.Now,
		seeds:   [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		entries: make(map[Key]time.Time, maxEntries),
		order:   make([]Key, 0, maxEntries),
	}
}

// Hash computes the Key of a payload.
func (s *Set) Hash(payload []byte) Key {
	return Key{maphash.Bytes(s.seeds[0], payload), maphash.Bytes(s.seeds[1], payload)}
}

// Seen reports whether k was added and has not expired.
func (s *Set) Seen(k Key) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.entries[k]
	if ok && s.now().Sub(t) > s.ttl {
		delete(s.entries, k)
		return false
	}
	return ok
}

// Add remembers k, evicting the oldest key when full.
func (s *Set) Add(k Key) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[k]; ok {
		s.entries[k] = s.now()
		return
	}
	if len(s.order) < s.max {
		s.order = append(s.order, k)
	} else {
		delete(s.entries, s.order[s.head])
		s.order[s.head] = k
		s.head = (s.head + 1) % s.max
	}
	s.entries[k] = s.now()
}

// Reset forgets every key.
func (s *Set) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.entries)
	s.order = s.order[:0]
	s.head = 0
}

// Len is the number of keys held (expired ones included until touched).
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

package tags

import (
	"sync"
	"sync/atomic"
)

// The per-container cache's bounds. A sidecar router sees a handful of
// containers; an aggregator receiving other tasks' logs over forward sees
// thousands, each entry about 2 KB (its key, tags and their JSON): 8,192
// entries hold every live container of a large aggregator in 16 MB at most.
// Past the bounds the least recently seen container is forgotten, and
// rebuilt (one build) if it comes back. The byte bound holds it against
// records whose FireLens fields are huge.
const (
	cacheEntries = 8192
	cacheBytes   = 16 << 20
)

// entryOverhead is what an entry costs besides its strings: the entry,
// the Result, the map slot and the tag list's headers, roughly.
const entryOverhead = 256

// cache maps a container's key to its Result, least recently used first
// out: a map and a doubly linked list threaded through its entries, so a
// hit, an insert and an eviction each cost O(1) whatever the number of
// containers. One mutex: it is held for a map lookup, a short while next
// to the shaping of each record, and not at all for a record of the same
// container as the one before (last), which is most records.
type cache struct {
	last       atomic.Pointer[entry] // the entry get returned last
	mu         sync.Mutex
	m          map[string]*entry
	ring       entry // sentinel: ring.next is the most recently used
	bytes      int
	maxEntries int
	maxBytes   int
	evictions  int64
}

// entry is one container's. key and r never change once it is stored
// (a new Result is a new entry), so last is read without the lock.
type entry struct {
	key        string
	r          *Result
	size       int
	prev, next *entry // guarded by cache.mu
}

func newCache(maxEntries, maxBytes int) *cache {
	c := &cache{m: make(map[string]*entry), maxEntries: max(maxEntries, 1), maxBytes: maxBytes}
	c.ring.prev, c.ring.next = &c.ring, &c.ring
	return c
}

// get returns key's Result, or nil, and marks it the most recently used.
// It does not allocate.
func (c *cache) get(key []byte) *Result {
	if e := c.last.Load(); e != nil && e.key == string(key) {
		return e.r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[string(key)]
	if e == nil {
		return nil
	}
	if c.ring.next != e {
		c.unlink(e)
		c.pushFront(e)
	}
	c.last.Store(e)
	return e.r
}

// put stores r under key (replacing what key had) and forgets the least
// recently used entries past the bounds: each put evicts at most as many
// entries as were put before it, so its cost is O(1) amortised. An entry
// larger than the byte bound alone is not kept. It reports how many
// entries it evicted.
func (c *cache) put(key []byte, r *Result) (evicted int) {
	size := len(key) + r.size() + entryOverhead
	if size > c.maxBytes {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &entry{key: string(key), r: r, size: size}
	if old := c.m[e.key]; old != nil {
		c.unlink(old)
		c.bytes -= old.size
	}
	c.m[e.key] = e
	c.bytes += size
	c.pushFront(e)
	c.last.Store(e)
	for len(c.m) > c.maxEntries || c.bytes > c.maxBytes {
		old := c.ring.prev
		c.unlink(old)
		delete(c.m, old.key)
		c.bytes -= old.size
		evicted++
	}
	c.evictions += int64(evicted)
	return evicted
}

func (c *cache) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *cache) pushFront(e *entry) {
	e.prev, e.next = &c.ring, c.ring.next
	c.ring.next.prev = e
	c.ring.next = e
}

// len is the number of entries held.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

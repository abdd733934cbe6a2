package tags

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
)

// ownTags checks that r carries c's container_id and task_arn and no other
// container's: a container's tags are never given to another.
func ownTags(t *testing.T, r *Result, c *Fields) {
	t.Helper()
	id, task := "container_id:"+string(c.ContainerID), "task_arn:"+string(c.TaskARN)
	n := 0
	for _, tag := range r.tagList {
		switch {
		case strings.HasPrefix(tag, "container_id:"):
			n++
			if tag != id {
				t.Fatalf("container %s got %s", c.ContainerID, tag)
			}
		case strings.HasPrefix(tag, "task_arn:"):
			n++
			if tag != task {
				t.Fatalf("container of task %s got %s", c.TaskARN, tag)
			}
		}
	}
	if n != 2 {
		t.Fatalf("container %s: tags %s lack its id or task", c.ContainerID, r.Tags)
	}
}

// More containers than the cache holds, in an order that makes it evict
// all the time: the cache never holds more than its bound, every lookup
// gets its own container's tags, and a container seen again while held is
// served from the cache.
func TestCacheBoundAndEviction(t *testing.T) {
	const bound = 64
	var log logtest.Buffer
	tg := NewTagger(Options{ECS: true, ConfigTags: "env:prod", Log: logging.New(&log, "t", logging.Info)})
	tg.cache = newCache(bound, 1<<30)
	cs := containers(10 * bound)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		c := &cs[rng.IntN(len(cs))]
		if i%3 == 0 { // runs of one container, as records come
			c = &cs[i%len(cs)]
		}
		r := tg.Lookup(c)
		ownTags(t, r, c)
		if again := tg.Lookup(c); again != r {
			t.Fatalf("lookup %d: a container just looked up was not served from the cache", i)
		}
		if n := tg.cache.len(); n > bound {
			t.Fatalf("cache holds %d entries, bound %d", n, bound)
		}
	}
	if tg.cache.evictions == 0 {
		t.Fatal("no eviction: the test did not exercise the bound")
	}
	if got := strings.Count(log.String(), "the tags cache is full (64 containers or 1024 MB)"); got != 1 {
		t.Errorf("the first eviction is logged once, got %d:\n%s", got, log.String())
	}
}

// The least recently used container is the one forgotten.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newCache(3, 1<<30)
	r := func(s string) *Result { return &Result{Tags: s} }
	c.put([]byte("a"), r("a"))
	c.put([]byte("b"), r("b"))
	c.put([]byte("c"), r("c"))
	c.get([]byte("a")) // a is now the most recent; b the least
	if n := c.put([]byte("d"), r("d")); n != 1 {
		t.Fatalf("evicted %d, want 1", n)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if got := c.get([]byte(k)) != nil; got != want {
			t.Errorf("%s held: %v, want %v", k, got, want)
		}
	}
	c.put([]byte("c"), r("c2")) // a replacement is not a new entry
	if c.len() != 3 || c.get([]byte("c")).Tags != "c2" {
		t.Errorf("replacement: %d entries, c=%s", c.len(), c.get([]byte("c")).Tags)
	}
}

// The byte bound holds against containers whose FireLens fields are huge:
// an entry larger than the whole bound is not kept (built each time), and
// the bytes held never pass the bound.
func TestCacheByteBound(t *testing.T) {
	tg := NewTagger(Options{ECS: true})
	tg.cache = newCache(1000, 64<<10)
	for i := 0; i < 200; i++ {
		f := &Fields{ContainerID: []byte(fmt.Sprintf("%d-%s", i, strings.Repeat("x", 5000))), TaskARN: []byte(fmt.Sprintf("t%d", i))}
		tg.Lookup(f)
		if tg.cache.bytes > 64<<10 {
			t.Fatalf("cache holds %d bytes, bound %d", tg.cache.bytes, 64<<10)
		}
	}
	n := tg.cache.len()
	huge := &Fields{ContainerID: []byte(strings.Repeat("y", 100<<10)), TaskARN: []byte("huge")}
	if r := tg.Lookup(huge); !strings.Contains(r.Tags, "container_id:yyy") {
		t.Fatalf("huge container: %.80s", r.Tags)
	}
	if tg.cache.len() != n || tg.cache.bytes > 64<<10 {
		t.Errorf("an entry over the byte bound was kept: %d entries, %d bytes", tg.cache.len(), tg.cache.bytes)
	}
}

// Fields that join to the same bytes (a NUL inside one) are still two
// containers.
func TestCacheKeyUnambiguous(t *testing.T) {
	tg := NewTagger(Options{ECS: true})
	a := &Fields{ContainerID: []byte("a\x00b"), ContainerName: []byte("c"), TaskARN: []byte("t1")}
	b := &Fields{ContainerID: []byte("a"), ContainerName: []byte("b\x00c"), TaskARN: []byte("t1")}
	ra, rb := tg.Lookup(a), tg.Lookup(b)
	if ra == rb || !strings.Contains(ra.Tags, "container_name:c,") || !strings.Contains(rb.Tags, "container_name:b_c,") {
		t.Errorf("two containers shared tags:\n%s\n%s", ra.Tags, rb.Tags)
	}
}

// Workers look up containers concurrently through a cache smaller than
// their number (run with -race): each gets its own container's tags.
func TestCacheConcurrentEviction(t *testing.T) {
	tg := NewTagger(Options{ECS: true})
	tg.cache = newCache(16, 1<<30)
	cs := containers(100)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed))
			for i := 0; i < 3000; i++ {
				c := &cs[rng.IntN(len(cs))]
				ownTags(t, tg.Lookup(c), c)
			}
		}(uint64(w))
	}
	wg.Wait()
	if n := tg.cache.len(); n > 16 {
		t.Errorf("cache holds %d entries, bound 16", n)
	}
}

// Past the bound a miss costs one build, not the cache's size: a miss
// with the cache full of 8,192 others allocates what one build does
// (the cache that copied its map allocated that map on every miss).
func TestMissCostFlat(t *testing.T) {
	tg := NewTagger(Options{ECS: true, ConfigTags: "env:prod"})
	cs := containers(cacheEntries + 2000)
	for i := range cs[:cacheEntries] {
		tg.Lookup(&cs[i])
	}
	next := cacheEntries
	full := testing.AllocsPerRun(500, func() {
		tg.Lookup(&cs[next%len(cs)])
		next++
	})
	tg2 := NewTagger(Options{ECS: true, ConfigTags: "env:prod"})
	k := 0
	empty := testing.AllocsPerRun(500, func() {
		tg2.Lookup(&cs[k])
		k++
	})
	if full > empty+1 {
		t.Errorf("a miss allocates %.0f times with %d containers cached, %.0f with none", full, cacheEntries, empty)
	}
}

// appendNormalized's byte path is normalizeRunes on every string.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Env:Prod", "__x", "a  b", "trail_ ", "région:Île", "123", " 9lives:yes", "weird tag!!:v@lue", strings.Repeat("ab_", 80), "k:" + strings.Repeat("v", 300) + "x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := normalizeRunes(s)
		if got := Normalize(s); got != want {
			t.Fatalf("Normalize(%q) = %q, want %q", s, got, want)
		}
		i := len(s) / 2
		if got := string(appendNormalized([]byte("x,"), s[:i], "", s[i:])); got != "x,"+want {
			t.Fatalf("appendNormalized(%q, %q) = %q, want %q", s[:i], s[i:], got, "x,"+want)
		}
	})
}

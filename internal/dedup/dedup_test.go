package dedup

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Unix(1_700_000_000, 0).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// op is one step of a scenario: add a key, move the clock, or check one.
type op struct {
	add     string
	advance time.Duration
	check   string
	want    bool
	wantLen int // checked after every step when >= 0
}

func TestSetScenarios(t *testing.T) {
	const ttl = time.Minute
	cases := []struct {
		name string
		max  int
		ttl  time.Duration
		ops  []op
	}{
		{"empty", 3, ttl, []op{
			{check: "a", want: false, wantLen: 0},
		}},
		{"add then seen", 3, ttl, []op{
			{add: "a", wantLen: 1},
			{check: "a", want: true, wantLen: 1},
			{check: "b", want: false, wantLen: 1},
		}},
		{"full set evicts the oldest", 3, ttl, []op{
			{add: "a", wantLen: 1}, {add: "b", wantLen: 2}, {add: "c", wantLen: 3},
			{add: "d", wantLen: 3},
			{check: "a", want: false, wantLen: 3},
			{check: "b", want: true, wantLen: 3},
			{check: "d", want: true, wantLen: 3},
		}},
		{"re-adding makes a key the newest", 3, ttl, []op{
			{add: "a", wantLen: 1}, {add: "b", wantLen: 2}, {add: "c", wantLen: 3},
			{add: "a", wantLen: 3},
			{add: "d", wantLen: 3},
			{check: "a", want: true, wantLen: 3},
			{check: "b", want: false, wantLen: 3},
		}},
		{"expiry", 3, ttl, []op{
			{add: "a", wantLen: 1},
			{advance: ttl - time.Second, wantLen: 1},
			{check: "a", want: true, wantLen: 1},
			{advance: time.Second, wantLen: 0},
			{check: "a", want: false, wantLen: 0},
		}},
		{"expired keys free their room", 2, ttl, []op{
			{add: "a", wantLen: 1},
			{advance: 30 * time.Second, wantLen: 1},
			{add: "b", wantLen: 2},
			{advance: 31 * time.Second, wantLen: 1}, // a expired, b has 29s left
			{add: "c", wantLen: 2},
			{check: "b", want: true, wantLen: 2},
			{check: "c", want: true, wantLen: 2},
		}},
		{"re-added after expiry is not evicted by its stale slot", 3, ttl, []op{
			{add: "a", wantLen: 1},
			{advance: 2 * ttl, wantLen: 0},
			{add: "a", wantLen: 1},
			{add: "b", wantLen: 2},
			{add: "c", wantLen: 3},
			{check: "a", want: true, wantLen: 3},
		}},
		{"re-adding restarts the lifetime", 3, ttl, []op{
			{add: "a", wantLen: 1},
			{advance: 50 * time.Second, wantLen: 1},
			{add: "a", wantLen: 1},
			{advance: 50 * time.Second, wantLen: 1},
			{check: "a", want: true, wantLen: 1},
		}},
		{"ttl 0 never expires", 2, 0, []op{
			{add: "a", wantLen: 1},
			{advance: 1000 * time.Hour, wantLen: 1},
			{check: "a", want: true, wantLen: 1},
		}},
		{"max below 1 keeps one", 0, ttl, []op{
			{add: "a", wantLen: 1}, {add: "b", wantLen: 1},
			{check: "a", want: false, wantLen: 1},
			{check: "b", want: true, wantLen: 1},
		}},
		{"many re-adds of one key do not evict others early", 3, ttl, []op{
			{add: "a", wantLen: 1}, {add: "b", wantLen: 2},
			{add: "b", wantLen: 2}, {add: "b", wantLen: 2}, {add: "b", wantLen: 2},
			{check: "a", want: false, wantLen: 1}, // the ring's 3 slots: a was oldest
			{check: "b", want: true, wantLen: 1},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			s := NewWithClock(tc.max, tc.ttl, clk.now)
			for i, o := range tc.ops {
				switch {
				case o.add != "":
					s.Add(s.Hash([]byte(o.add)))
				case o.advance != 0:
					clk.advance(o.advance)
				case o.check != "":
					if got := s.Seen(s.Hash([]byte(o.check))); got != o.want {
						t.Fatalf("step %d: Seen(%q) = %v, want %v", i, o.check, got, o.want)
					}
				}
				if o.wantLen >= 0 {
					if got := s.Len(); got != o.wantLen {
						t.Fatalf("step %d: Len = %d, want %d", i, got, o.wantLen)
					}
				}
			}
		})
	}
}

func TestHash(t *testing.T) {
	s, other := New(1, time.Minute), New(1, time.Minute)
	a := []byte(`[{"message":"a"}]`)
	if s.Hash(a) != s.Hash(append([]byte(nil), a...)) {
		t.Error("Hash depends on more than the bytes")
	}
	if s.Hash(a) == other.Hash(a) {
		t.Error("two Sets share seeds")
	}
	if k := s.Hash(a); k[0] == k[1] {
		t.Error("the two halves of a Key are not independent")
	}
	seen := map[Key]int{}
	for i := 0; i < 10000; i++ {
		k := s.Hash([]byte(fmt.Sprintf(`[{"message":"line %d"}]`, i)))
		if j, dup := seen[k]; dup {
			t.Fatalf("payloads %d and %d collide", j, i)
		}
		seen[k] = i
	}
	if s.Hash(nil) != s.Hash([]byte{}) || s.Hash(nil) == s.Hash([]byte{0}) {
		t.Error("empty payloads")
	}
}

func TestNilSetIsEmpty(t *testing.T) {
	var s *Set
	k := s.Hash([]byte("x"))
	s.Add(k)
	s.Reset()
	if s.Seen(k) || s.Len() != 0 || k != (Key{}) {
		t.Error("nil Set remembered something")
	}
}

func TestReset(t *testing.T) {
	s := New(4, time.Minute)
	for i := 0; i < 6; i++ {
		s.Add(s.Hash([]byte{byte(i)}))
	}
	s.Reset()
	if s.Len() != 0 || s.Seen(s.Hash([]byte{5})) {
		t.Fatal("Reset kept keys")
	}
	s.Add(s.Hash([]byte{9}))
	if s.Len() != 1 || !s.Seen(s.Hash([]byte{9})) {
		t.Error("Set unusable after Reset")
	}
}

func TestConcurrentUseStaysBounded(t *testing.T) {
	clk := newFakeClock()
	s := NewWithClock(100, time.Minute, clk.now)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := s.Hash([]byte(fmt.Sprint(g, "/", i)))
				s.Add(k)
				if !s.Seen(k) && i%50 != 0 {
					// Another goroutine may evict k between Add and Seen,
					// but only after 100 newer Adds: rare, never systematic.
					continue
				}
				if i%500 == 0 {
					clk.advance(time.Second)
				}
				if n := s.Len(); n > 100 {
					t.Errorf("Len %d over the bound", n)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if n := s.Len(); n != 100 {
		t.Errorf("Len %d after 8000 adds, want 100", n)
	}
	// The 100 most recent keys of at least one goroutine must be among those
	// remembered: the Set keeps the newest.
	clk.advance(2 * time.Minute)
	if n := s.Len(); n != 0 {
		t.Errorf("Len %d after everything expired", n)
	}
}

func BenchmarkAddSeen(b *testing.B) {
	s := New(4096, 30*time.Minute)
	p := make([]byte, 512<<10)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p[0], p[1] = byte(i), byte(i>>8)
		k := s.Hash(p)
		if !s.Seen(k) {
			s.Add(k)
		}
		i++
	}
}

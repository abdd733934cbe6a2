package dedup

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	s := New(3, time.Minute)
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	a, b := s.Hash([]byte("a")), s.Hash([]byte("b"))
	if a == b || s.Hash([]byte("a")) != a {
		t.Fatal("hash not deterministic or collides")
	}
	if s.Seen(a) {
		t.Fatal("seen before add")
	}
	s.Add(a)
	if !s.Seen(a) || s.Seen(b) {
		t.Fatal("membership wrong")
	}
	// Bounded: the oldest goes first.
	for i := 0; i < 3; i++ {
		s.Add(s.Hash([]byte(fmt.Sprint(i))))
	}
	if s.Seen(a) || s.Len() != 3 {
		t.Errorf("after overflow: seen(a)=%v len=%d", s.Seen(a), s.Len())
	}
	// Expiry.
	c := s.Hash([]byte("c"))
	s.Add(c)
	now = now.Add(2 * time.Minute)
	if s.Seen(c) {
		t.Error("expired key still seen")
	}
	var nilSet *Set
	if nilSet.Seen(a) {
		t.Error("nil set")
	}
	nilSet.Add(a)
}

func TestConcurrent(t *testing.T) {
	s := New(100, time.Minute)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				k := s.Hash([]byte(fmt.Sprint(g, i)))
				s.Add(k)
				s.Seen(k)
			}
		}(g)
	}
	wg.Wait()
	if s.Len() != 100 {
		t.Errorf("len %d", s.Len())
	}
}

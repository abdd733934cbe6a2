// Package healthtest is a health.Clock tests drive: time moves only when
// the test says so (Advance), or by exactly what is slept (Auto), so a
// backoff, a probe interval or a 10-minute hold is tested without waiting
// for it, and a test knows when code is waiting (Sleepers).
package healthtest

import (
	"context"
	"sync"
	"time"
)

// Clock is safe for concurrent use.
type Clock struct {
	mu       sync.Mutex
	now      time.Time
	auto     bool
	sleepers []*sleeper
	slept    []time.Duration
	changed  chan struct{} // closed and replaced whenever sleepers change
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

// New is a clock at start that moves only by Advance.
func New(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Auto is a clock at start that every Sleep moves on by what it sleeps, at
// once: backoffs and holds cost no real time, and later Now calls see
// them passed.
func Auto(start time.Time) *Clock {
	c := New(start)
	c.auto = true
	return c
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep waits until the clock has moved on by d (Advance), or returns
// at once having moved it (Auto); false when ctx ends first.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	if c.auto || d <= 0 {
		if d > 0 {
			c.now = c.now.Add(d)
		}
		c.mu.Unlock()
		return true
	}
	s := &sleeper{until: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.signal()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return true
	case <-ctx.Done():
		c.mu.Lock()
		c.remove(s)
		c.mu.Unlock()
		return false
	}
}

// Advance moves the clock on by d, waking the sleepers whose time came.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, s := range append([]*sleeper(nil), c.sleepers...) {
		if !s.until.After(c.now) {
			close(s.wake)
			c.remove(s)
		}
	}
}

// Slept is every duration slept so far, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// WaitSleepers blocks until n goroutines sleep on the clock (a test's
// hook: the code under test is now waiting), or ctx ends: false.
func (c *Clock) WaitSleepers(ctx context.Context, n int) bool {
	for {
		c.mu.Lock()
		ok, ch := len(c.sleepers) >= n, c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// remove drops s; c.mu is held.
func (c *Clock) remove(s *sleeper) {
	for i, x := range c.sleepers {
		if x == s {
			c.sleepers = append(c.sleepers[:i], c.sleepers[i+1:]...)
			c.signal()
			return
		}
	}
}

// signal wakes WaitSleepers; c.mu is held.
func (c *Clock) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

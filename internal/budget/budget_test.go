package budget

import (
	"testing"
	"time"
)

// The stop cut keeps 2 s of Grace for Fluent Bit and the plugin, at least
// 1 s; none when Fluent Bit waits for every flush (Grace -1) or when the
// plugin could not read Grace: it never cuts earlier than Fluent Bit would.
// The other bounds follow retry_budget.
func TestNew(t *testing.T) {
	for _, c := range []struct {
		grace Grace
		stop  time.Duration
	}{
		{KnownGrace(5 * time.Second), 3 * time.Second},
		{KnownGrace(30 * time.Second), 28 * time.Second},
		{KnownGrace(2 * time.Second), time.Second},
		{KnownGrace(0), time.Second},
		{KnownGrace(-time.Second), 0},
		{UnknownGrace, 0},
		{Grace{D: 5 * time.Second}, 0}, // a number beside an unknown flag is still unknown
	} {
		b := New(4*time.Second, c.grace)
		if b.Stop != c.stop {
			t.Errorf("grace %+v: stop %s, want %s", c.grace, b.Stop, c.stop)
		}
		if b.Flush != 4*time.Second || b.DownAfter != b.Flush || b.ProbeEvery != time.Second || b.Exit != 2*time.Second || b.Settle != 200*time.Millisecond {
			t.Errorf("grace %+v: %+v", c.grace, b)
		}
	}
	if s := New(4*time.Second, UnknownGrace).String(); s != "flush=4s stop=no cut exit=2s" {
		t.Errorf("String: %q", s)
	}
}

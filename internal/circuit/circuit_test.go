package circuit

import (
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
)

// clock is a settable now for the breaker.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newBreaker(c *clock, log *logging.Logger) *Breaker {
	b := New(4*time.Second, 4*time.Second, log)
	b.now = c.now
	return b
}

func TestClosedUntilFailingForABudget(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	b := newBreaker(c, nil)
	if b.Admit() != Full || b.Open() {
		t.Fatal("a new breaker is not closed")
	}
	b.Failed()
	c.add(3 * time.Second)
	b.Failed()
	if b.Admit() != Full || b.Open() {
		t.Fatal("open after 3 s of failures, budget 4 s")
	}
	c.add(time.Second)
	if !b.Open() {
		t.Fatal("still closed after 4 s of failures")
	}
}

// Once open: one probe at a time, the others skip; after a failed probe
// the next waits a probe interval; an answer closes the circuit.
func TestHalfOpen(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var buf logtest.Buffer
	b := newBreaker(c, logging.New(&buf, "t", logging.Info))
	b.Failed()
	c.add(5 * time.Second)
	probe := b.Admit()
	if probe != Probe {
		t.Fatalf("first flush of an open circuit: %v, want Probe", probe)
	}
	if m := b.Admit(); m != Skip {
		t.Fatalf("a flush while another probes: %v, want Skip", m)
	}
	b.Failed()
	b.Done(probe)
	if m := b.Admit(); m != Skip {
		t.Fatalf("a flush right after a failed probe: %v, want Skip", m)
	}
	c.add(4 * time.Second)
	second := b.Admit()
	if second != Probe {
		t.Fatalf("a flush a probe interval later: %v, want Probe", second)
	}
	b.Answered()
	b.Done(second)
	if m := b.Admit(); m != Full || b.Open() {
		t.Fatalf("after an answer: %v, want Full", m)
	}
	log := buf.String()
	if strings.Count(log, "failing for 5s, longer than retry_budget (4s): ") != 1 || strings.Count(log, "answers again after 9s") != 1 {
		t.Errorf("want one line at opening and one at closing:\n%s", log)
	}
	// A new outage starts its own clock.
	b.Failed()
	c.add(time.Second)
	if b.Open() {
		t.Error("open 1 s into a new outage")
	}
}

func TestNilBreakerNeverOpens(t *testing.T) {
	var b *Breaker
	b.Failed()
	b.Answered()
	b.Done(Probe)
	if b.Admit() != Full || b.Open() {
		t.Error("nil breaker opened")
	}
}

package health

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/health/healthtest"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
)

func newHealth(t *testing.T) (*Health, *healthtest.Clock, *logtest.Buffer) {
	t.Helper()
	c := healthtest.New(time.Unix(1000, 0))
	var buf logtest.Buffer
	h := New(Options{OpenAfter: 4 * time.Second, ProbeEvery: time.Second, Clock: c, Log: logging.New(&buf, "t", logging.Info)})
	return h, c, &buf
}

// turn takes a turn that must not wait.
func turn(t *testing.T, h *Health) *Turn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tu, err := h.Turn(ctx, false)
	if err != nil {
		t.Fatalf("turn: %v", err)
	}
	return tu
}

// waitFor returns once n requests wait on the probe's answer.
func waitFor(t *testing.T, h *Health, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		h.mu.Lock()
		w := h.waiting
		h.mu.Unlock()
		if w >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait on the probe, want %d", w, n)
		}
		runtime.Gosched()
	}
}

// fail makes the intake fail for d.
func fail(t *testing.T, h *Health, c *healthtest.Clock, d time.Duration) {
	t.Helper()
	turn(t, h).Failed()
	c.Advance(d)
}

func TestDownAfterFailingForABudget(t *testing.T) {
	h, c, _ := newHealth(t)
	if !h.Admit(false) || h.Down() {
		t.Fatal("a new intake is down")
	}
	fail(t, h, c, 3*time.Second)
	turn(t, h).Failed()
	if !h.Admit(false) || h.Down() {
		t.Fatal("down after 3 s of failures, budget 4 s")
	}
	c.Advance(time.Second)
	if !h.Down() {
		t.Fatal("not down after 4 s of failures")
	}
}

// While the intake is down: one probe request at a time; a request that
// finds a probe in flight waits for its answer and goes on when it is
// one; after a failed probe, requests and new flushes are refused for a
// probe interval, and the next one is a probe. One line when it goes down,
// one when it answers again.
func TestProbes(t *testing.T) {
	h, c, logs := newHealth(t)
	fail(t, h, c, 5*time.Second)

	probe := turn(t, h)
	if !probe.Probe() || !h.Admit(false) {
		t.Fatalf("first request while down: probe %v; a flush during the probe admitted %v", probe.Probe(), h.Admit(false))
	}
	waited := make(chan error, 1)
	go func() {
		tu, err := h.Turn(context.Background(), false)
		if err == nil {
			tu.Release()
		}
		waited <- err
	}()
	waitFor(t, h, 1)
	probe.Failed()
	if err := <-waited; !errors.Is(err, ErrDown) {
		t.Fatalf("a request waiting on a failed probe: %v, want ErrDown", err)
	}
	if _, err := h.Turn(context.Background(), false); !errors.Is(err, ErrDown) || h.Admit(false) {
		t.Fatalf("right after a failed probe: %v, admitted %v", err, h.Admit(false))
	}
	// A chunk Fluent Bit retries may be at its last try: it is admitted,
	// and its request is the next probe, whatever the interval.
	if !h.Admit(true) {
		t.Fatal("a retried chunk not admitted")
	}
	retry, err := h.Turn(context.Background(), true)
	if err != nil || !retry.Probe() {
		t.Fatalf("a retried chunk's request right after a failed probe: %v, probe %v", err, retry != nil && retry.Probe())
	}
	retry.Failed()
	c.Advance(999 * time.Millisecond)
	if h.Admit(false) {
		t.Fatal("admitted before a probe interval passed")
	}
	c.Advance(time.Millisecond)
	second := turn(t, h)
	if !second.Probe() {
		t.Fatal("a probe interval after a failed probe: not a probe")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		tu, err := h.Turn(ctx, false)
		if err == nil {
			if tu.Probe() {
				err = errors.New("a second probe")
			}
			tu.Accepted()
		}
		waited <- err
	}()
	waitFor(t, h, 1)
	second.Accepted()
	if err := <-waited; err != nil {
		t.Fatalf("a request waiting on an answered probe: %v", err)
	}
	cancel()
	if h.Down() || !h.Admit(false) {
		t.Fatal("still down after an answer")
	}
	if tu := turn(t, h); tu.Probe() {
		t.Fatal("a probe while healthy")
	}
	if s := logs.String(); strings.Count(s, "failing for 5s, longer than retry_budget (4s): ") != 1 || strings.Count(s, "one probe request at a time") != 1 ||
		strings.Count(s, "answers again after 6s") != 1 || strings.Count(s, "a chunk Fluent Bit retries always gets one") != 1 {
		t.Errorf("want one line going down, one answering again:\n%s", s)
	}
	// A new outage starts its own clock.
	fail(t, h, c, time.Second)
	if h.Down() {
		t.Error("down 1 s into a new outage")
	}
}

// A request waiting on a probe gives up when its flush's budget ends; a
// probe whose request was never made (or panicked) counts as failed, so
// nothing waits on it forever.
func TestProbeWaitBoundedAndReleased(t *testing.T) {
	h, c, _ := newHealth(t)
	fail(t, h, c, 5*time.Second)
	probe := turn(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Turn(ctx, false); !errors.Is(err, ErrDown) {
		t.Fatalf("waiting past the budget: %v", err)
	}
	probe.Release()
	probe.Release() // twice: harmless
	if _, err := h.Turn(context.Background(), false); !errors.Is(err, ErrDown) {
		t.Fatalf("after a released probe: %v, want ErrDown for a probe interval", err)
	}
	c.Advance(time.Second)
	if tu := turn(t, h); !tu.Probe() {
		t.Fatal("no probe a probe interval after a released one")
	}
}

// A refused record may be dropped only when the intake accepted a request
// since the flush started, and showed no random refusals in the last
// RandomHold; the hold is measured on the clock.
func TestMayDrop(t *testing.T) {
	h, c, _ := newHealth(t)
	start := c.Now()
	if h.MayDrop(start) {
		t.Fatal("may drop with nothing ever accepted")
	}
	c.Advance(time.Second)
	turn(t, h).Accepted()
	if !h.MayDrop(start) || h.MayDrop(c.Now().Add(time.Millisecond)) {
		t.Fatal("accepted during the flush: may drop; accepted before it: may not")
	}
	if !h.SawRandom() || h.SawRandom() || h.MayDrop(start) {
		t.Fatal("random refusals: the first is logged, the second not, and nothing is dropped")
	}
	c.Advance(RandomHold)
	if h.MayDrop(start) {
		t.Fatal("may drop exactly a hold after random refusals")
	}
	c.Advance(time.Millisecond)
	if !h.MayDrop(start) || !h.SawRandom() {
		t.Fatal("a hold later: may drop again, and a new sign is logged")
	}
}

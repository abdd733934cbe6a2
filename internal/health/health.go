// Package health is one output's view of the intake, shared by all of its
// flushes: every fact the plugin decides on about the intake lives here,
// with the clock they are measured by.
//
//   - Failing since: the first failed request since the last answer. Once
//     the intake has failed for longer than one flush's budget it is down:
//     failed requests are no longer retried within a flush, and requests
//     go out one at a time as probes (Turn). Fluent Bit runs the flushes
//     already handed to an output worker one after another before the
//     worker stops, so during an outage a flush that retried for its whole
//     budget would multiply the router's stop by the backlog.
//   - Probes: while the intake is down, one request at a time is sent (a
//     probe, no retry). A request that finds a probe in flight waits for
//     its answer within its flush's budget. A request of a chunk Fluent
//     Bit retries is always sent (after the probe in flight, if any): the
//     try may be the chunk's last (Retry_Limit, 1 by default), and Fluent
//     Bit paces its retries itself. A request of a new chunk is sent only
//     when the last probe failed ProbeEvery (a second) ago or more;
//     otherwise it is not (ErrDown), and a new chunk's flush that finds so
//     at its start hands the chunk back at once (Admit): Fluent Bit retries
//     it later. So a healthy intake never looks down: the first retried
//     chunk after it answers again is sent, and a new one within a
//     second.
//   - Last accepted: when the intake last accepted a request (the stats
//     only mirror it), and when it last refused a part with 400 and
//     accepted both its halves (random refusals): the evidence a refused
//     record is dropped on (MayDrop).
package health

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// Clock is the time health and the intake client measure by: the
// backoffs, a flush's start, the probes and the holds. System is the
// real one; tests drive their own (healthtest).
type Clock interface {
	Now() time.Time
	// Sleep waits d; false, at once, when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) bool
}

type system struct{}

// System is the wall clock.
func System() Clock { return system{} }

func (system) Now() time.Time { return time.Now() }

func (system) Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ErrDown is the error of a request not sent: the intake is down and the
// last probe failed less than a probe interval ago (or the flush's budget
// ended while it waited for a probe's answer).
var ErrDown = errors.New("the intake is down (its last probe failed): not sent, chunk handed back")

// RandomHold is how long no refused record is dropped after the intake
// refused a part with 400 and accepted both its halves.
const RandomHold = 10 * time.Minute

// Options configure a Health.
type Options struct {
	// OpenAfter: the intake is down once it has failed this long (a
	// flush's budget).
	OpenAfter time.Duration
	// ProbeEvery: while it is down, the next probe goes out at most this
	// long after the last failed one.
	ProbeEvery time.Duration
	Clock      Clock           // System when nil
	Log        *logging.Logger // one line when the intake goes down, one when it answers again; may be nil
}

// Health is safe for concurrent use. Create it with New.
type Health struct {
	o     Options
	clock Clock

	mu           sync.Mutex
	failingSince time.Time     // first failure since the last answer; zero while healthy
	announced    bool          // this outage's start was logged
	probe        chan struct{} // closed when the probe in flight ends; nil when none
	waiting      int           // requests waiting on the probe's answer
	lastProbe    time.Time     // when the last failed probe ended
	lastAccepted time.Time
	randomAt     time.Time // the last part refused with 400 and accepted in halves
}

// New returns the health of an intake that has not failed yet.
func New(o Options) *Health {
	if o.Clock == nil {
		o.Clock = System()
	}
	return &Health{o: o, clock: o.Clock}
}

// Clock is the clock h measures by.
func (h *Health) Clock() Clock { return h.clock }

// down reports whether the intake has failed for OpenAfter; h.mu is held.
func (h *Health) down(now time.Time) bool {
	return !h.failingSince.IsZero() && now.Sub(h.failingSince) >= h.o.OpenAfter
}

// Down reports whether the intake is down: a failed request is then not
// retried within its flush.
func (h *Health) Down() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down(h.clock.Now())
}

// Admit says whether a flush may go on: false for a new chunk (retried
// false) when the intake is down, no probe is in flight and the last
// failed less than a probe interval ago, so the flush hands its chunk back
// at once. A retried chunk is always admitted. It never waits.
func (h *Health) Admit(retried bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	if retried || !h.down(now) {
		return true
	}
	h.announce(now)
	return h.probe != nil || !h.paced(now)
}

// paced reports whether a new chunk's probe must wait: the last failed
// less than a probe interval ago; h.mu is held.
func (h *Health) paced(now time.Time) bool { return now.Before(h.lastProbe.Add(h.o.ProbeEvery)) }

// announce logs the start of an outage once; h.mu is held.
func (h *Health) announce(now time.Time) {
	if h.announced {
		return
	}
	h.announced = true
	// The time failing, then the budget it outlasted: the check runs at a
	// flush's start, so the first is the longer (issue 32: "for 5s
	// (retry_budget)" read as a 5 s budget).
	h.o.Log.Warnf("the intake has been failing for %s, longer than retry_budget (%s): one probe request at a time now, until the intake answers again; "+
		"a chunk Fluent Bit retries always gets one, a new chunk when the last probe failed %s ago or more, else it goes back to Fluent Bit at once; "+
		"a flush that finds a probe in flight waits for its answer",
		now.Sub(h.failingSince).Round(time.Second), h.o.OpenAfter, h.o.ProbeEvery)
}

// Turn is one request's permission to use the intake. End it with exactly
// one of Accepted, Answered or Failed, or Release when the request was not
// made.
type Turn struct {
	h     *Health
	probe chan struct{} // this request is the probe: closed when it ends
}

// Probe reports whether the request is a probe: one attempt, no retry.
func (t *Turn) Probe() bool { return t.probe != nil }

// Turn waits until a request may go to the intake: at once while it is
// healthy; while it is down, when this request is the probe, or the probe
// in flight got an answer. For a new chunk (retried false) it fails with
// ErrDown when the last probe failed less than a probe interval ago; for
// any, when ctx ends while it waits.
func (h *Health) Turn(ctx context.Context, retried bool) (*Turn, error) {
	for {
		h.mu.Lock()
		now := h.clock.Now()
		if !h.down(now) {
			h.mu.Unlock()
			return &Turn{h: h}, nil
		}
		h.announce(now)
		if h.probe == nil {
			if !retried && h.paced(now) {
				h.mu.Unlock()
				return nil, ErrDown
			}
			h.probe = make(chan struct{})
			t := &Turn{h: h, probe: h.probe}
			h.mu.Unlock()
			return t, nil
		}
		wait := h.probe
		h.waiting++
		h.mu.Unlock()
		var err error
		select {
		case <-wait: // answered: healthy again; failed: ErrDown
		case <-ctx.Done():
			err = ErrDown
		}
		h.mu.Lock()
		h.waiting--
		h.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// Accepted ends t with a 2xx: the intake answers, and accepted a request.
func (t *Turn) Accepted() time.Time {
	h := t.h
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	h.lastAccepted = now
	t.answered(now)
	return now
}

// Answered ends t with an answer the intake means (400, 413, 401, 403, a
// redirect): it is reachable.
func (t *Turn) Answered() {
	h := t.h
	h.mu.Lock()
	defer h.mu.Unlock()
	t.answered(h.clock.Now())
}

// answered closes the outage, if any, and ends the probe; h.mu is held.
func (t *Turn) answered(now time.Time) {
	h := t.h
	if !h.failingSince.IsZero() && h.announced {
		h.o.Log.Infof("the intake answers again after %s of failures: flushes retry as configured", now.Sub(h.failingSince).Round(time.Second))
	}
	h.failingSince, h.announced, h.lastProbe = time.Time{}, false, time.Time{}
	t.end()
}

// Failed ends t with a request that got no answer the intake means (a
// network error, a timeout, 408, 429, 5xx or an unexpected status).
func (t *Turn) Failed() {
	h := t.h
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	if h.failingSince.IsZero() {
		h.failingSince = now
	}
	if t.probe != nil {
		h.lastProbe = now
	}
	t.end()
}

// Release ends a turn whose request was not made (or whose end was not
// reported: a panic): a probe counts as failed. Safe after another end.
func (t *Turn) Release() {
	if t == nil || t.probe == nil {
		return
	}
	t.Failed()
}

// end lets the requests waiting on t's probe go on; h.mu is held.
func (t *Turn) end() {
	if t.probe == nil {
		return
	}
	if t.h.probe == t.probe {
		t.h.probe = nil
	}
	close(t.probe)
	t.probe = nil
}

// SawRandom records a part the intake refused with 400 and accepted in two
// halves: its 400s do not single out records. It reports whether this is
// the first such sign in RandomHold (to be logged).
func (h *Health) SawRandom() (first bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	first = h.randomAt.IsZero() || now.Sub(h.randomAt) > RandomHold
	h.randomAt = now
	return first
}

// MayDrop reports whether a record refused alone twice may be dropped: the
// intake accepted a request since since (the start of the flush), and
// showed no random refusals in the last RandomHold.
func (h *Health) MayDrop(since time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lastAccepted.Before(since) && !h.lastAccepted.IsZero() &&
		(h.randomAt.IsZero() || h.clock.Now().Sub(h.randomAt) > RandomHold)
}

// Package circuit is one output's view of the intake's health, shared by
// all of its flushes (a circuit breaker).
//
// Fluent Bit runs the flushes already handed to an output worker one after
// another before the worker stops, so during an outage a flush that retries
// for its whole budget multiplies the router's stop by the backlog. Once the
// intake has been failing for longer than one flush's budget, the circuit
// opens: a flush then makes one attempt without retries (a probe), and only
// when no other flush is probing and the last probe is at least a probe
// interval old; every other flush hands its chunk back to Fluent Bit at once,
// without a request. Fluent Bit's scheduler keeps the chunk and retries it
// later. The first answer from the intake closes the circuit.
package circuit

import (
	"sync"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// Mode is how a flush may use the intake.
type Mode int

const (
	// Full: the circuit is closed; retry as configured.
	Full Mode = iota
	// Probe: the circuit is open and this flush is its one probe: one
	// attempt per payload, no retries. End it with Done.
	Probe
	// Skip: the circuit is open and another flush probes (or probed less
	// than a probe interval ago): hand the chunk back without a request.
	Skip
)

// Breaker is safe for concurrent use. Create it with New. A nil *Breaker
// is a circuit that never opens.
type Breaker struct {
	openAfter  time.Duration
	probeEvery time.Duration
	log        *logging.Logger
	now        func() time.Time

	mu           sync.Mutex
	failingSince time.Time // first failure since the last answer; zero while healthy
	announced    bool      // the opening of this outage was logged
	probing      bool
	nextProbe    time.Time
}

// New returns a closed breaker that opens once the intake has failed for
// openAfter (a flush's budget) and then lets one probe through at a time,
// at most one every probeEvery. log (may be nil) gets one line when the
// circuit opens and one when it closes.
func New(openAfter, probeEvery time.Duration, log *logging.Logger) *Breaker {
	return &Breaker{openAfter: openAfter, probeEvery: probeEvery, log: log, now: time.Now}
}

// open reports whether the intake has failed for openAfter; b.mu is held.
func (b *Breaker) open(now time.Time) bool {
	return !b.failingSince.IsZero() && now.Sub(b.failingSince) >= b.openAfter
}

// Admit says how a new flush may use the intake. A flush admitted as Probe
// must call Done when it ends.
func (b *Breaker) Admit() Mode {
	if b == nil {
		return Full
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.open(now) {
		return Full
	}
	if !b.announced {
		b.announced = true
		// The time failing, then the budget it outlasted: the check runs
		// at a flush's start, so the first is the longer (issue 32: "for
		// 5s (retry_budget)" read as a 5 s budget).
		b.log.Warnf("the intake has been failing for %s, longer than retry_budget (%s): flushes now hand their chunks back to Fluent Bit at once, "+
			"one probe request at a time (at most one every %s), until the intake answers again", now.Sub(b.failingSince).Round(time.Second), b.openAfter, b.probeEvery)
	}
	if b.probing || now.Before(b.nextProbe) {
		return Skip
	}
	b.probing = true
	return Probe
}

// Done ends a flush admitted with mode; after a probe that did not reach
// the intake, the next probe waits a probe interval.
func (b *Breaker) Done(mode Mode) {
	if b == nil || mode != Probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if !b.failingSince.IsZero() {
		b.nextProbe = b.now().Add(b.probeEvery)
	}
}

// Open reports whether the circuit is open: a failed request is then not
// retried within its flush.
func (b *Breaker) Open() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open(b.now())
}

// Failed records a request that did not get an answer the intake means
// (a network error, a timeout, 408, 429, 5xx or an unexpected status).
func (b *Breaker) Failed() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failingSince.IsZero() {
		b.failingSince = b.now()
	}
}

// Answered records an answer the intake means (2xx, 400, 413, 401, 403,
// a redirect): the intake is reachable, the circuit closes.
func (b *Breaker) Answered() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failingSince.IsZero() {
		return
	}
	if b.announced {
		b.log.Infof("the intake answers again after %s of failures: flushes retry as configured", b.now().Sub(b.failingSince).Round(time.Second))
	}
	b.failingSince, b.announced, b.nextProbe = time.Time{}, false, time.Time{}
}

// Package budget derives, once, how long each wait of an output may last
// from the two numbers its user sets: Fluent Bit's [SERVICE] Grace and the
// output's retry_budget. Every other bound of a stop follows from them:
//
//	flush      retry_budget: one flush's requests, retries and waits
//	down       the intake is down after failing for one flush's budget
//	probe      while it is down, a probe at most a second after the last failed
//	stop       after SIGTERM, flushes go on for Grace - 2 s (at least 1 s), then are cut
//	exit       flushes still running at the plugin's exit get 2 s, then are cut
//	settle     the last log lines get 200 ms to reach Fluent Bit's log
//
// Fluent Bit stops its engine a Grace after it notices the signal (its
// main loop reads it once a second) and its 1.9 line crashes when a flush
// is still running then: the stop's 2 s of margin hold that second, the
// plugin's own watch period and the settle pause.
package budget

import (
	"fmt"
	"time"
)

// Grace is Fluent Bit's Grace as the plugin read it.
type Grace struct {
	// D is the Grace; negative means Fluent Bit waits for every flush
	// (Fluent Bit 4's -1).
	D time.Duration
	// Known is false when the plugin could not resolve the value (a
	// spelling it does not read): it then never cuts a flush earlier than
	// Fluent Bit would, and sets no stop cut.
	Known bool
}

// KnownGrace is a Grace the plugin read.
func KnownGrace(d time.Duration) Grace { return Grace{D: d, Known: true} }

// UnknownGrace is a Grace the plugin could not resolve.
var UnknownGrace = Grace{}

const (
	// ProbeEvery is the longest a down intake goes unprobed while flushes
	// arrive: a healthy intake never looks down for longer.
	ProbeEvery = time.Second
	// Exit is how long the plugin's exit waits for flushes still running
	// (Fluent Bit waits for them before it calls exit; another host may
	// not) before it cancels their requests.
	Exit = 2 * time.Second
	// Settle is how long Fluent Bit's log gets to write the plugin's last
	// lines: it loses lines written in the last moments of a shutdown or
	// of a failed start-up.
	Settle = 200 * time.Millisecond
	// stopMargin is what the stop keeps of Grace: a second for Fluent Bit
	// to notice the signal, the watch period, Settle.
	stopMargin = 2 * time.Second
	minStop    = time.Second
)

// Budget is every bound of one output's waits. Create it with New.
type Budget struct {
	Flush      time.Duration // one flush, from its start to its answer
	DownAfter  time.Duration // failing this long, the intake is down
	ProbeEvery time.Duration
	Exit       time.Duration
	Settle     time.Duration
	// Stop is how long flushes go on after Fluent Bit's stop signal; 0:
	// no cut (Grace negative or unknown), and the stop is bounded by the
	// flush budget and the probes alone.
	Stop time.Duration
}

// New derives an output's budget from its retry_budget (config.Parse
// bounds it) and Fluent Bit's Grace.
func New(retryBudget time.Duration, grace Grace) Budget {
	b := Budget{Flush: retryBudget, DownAfter: retryBudget, ProbeEvery: ProbeEvery, Exit: Exit, Settle: Settle}
	if grace.Known && grace.D >= 0 {
		b.Stop = max(grace.D-stopMargin, minStop)
	}
	return b
}

// String is the budget as the stop line tells it.
func (b Budget) String() string {
	stop := "no cut"
	if b.Stop > 0 {
		stop = b.Stop.String()
	}
	return fmt.Sprintf("flush=%s stop=%s exit=%s", b.Flush, stop, b.Exit)
}

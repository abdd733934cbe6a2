package pipeline

import (
	"fmt"
	"sync"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
)

// pace tells, in the log, when flushes cannot keep up with what Fluent Bit
// hands the output. A Go output's flush holds its worker thread for the
// whole flush, waiting on the intake included, so the output delivers at
// most workers × records per flush / flush time records a second: when
// the workers are busy nearly all the time, records arrive at least as
// fast as they leave and Fluent Bit's buffer grows, silently until it is
// full. Over each window, pace compares the time the flushes took with
// the time the workers had (the window × workers, the workers being the
// distinct threads seen flushing) and warns, at most once per every,
// naming the fix: more workers when the flushes mostly waited (a distant
// or slow intake: the process used far less CPU than the flushes took),
// more CPU when they did not.
//
// A window in which a chunk was handed back does not count: the intake
// failing (slow flushes for another reason, said by their own warnings),
// or Fluent Bit stopping (flushes cut short, chunks handed back).
type pace struct {
	log    *logging.Logger
	stats  *stats.Counters
	now    func() time.Time
	thread func() int           // the calling thread's id: a Fluent Bit worker
	cpu    func() time.Duration // the process's CPU time so far
	window time.Duration
	every  time.Duration // at most one warning per
	busyAt float64       // the share of the workers' time that is falling behind

	mu      sync.Mutex
	start   time.Time     // the window's
	cpu0    time.Duration // the process's CPU time at its start
	busy    time.Duration // flush time ended in the window
	flushes int
	retry0  int64 // stats.FlushRetry at the window's start
	recs0   int64 // stats.RecordsIn at the window's start
	threads map[int]struct{}
	warned  time.Time // the start of the window last warned about
}

const (
	paceWindow = 30 * time.Second
	paceEvery  = 10 * time.Minute
	paceBusy   = 0.9
	// maxThreads bounds the threads remembered (Fluent Bit's workers are
	// a handful).
	maxThreads = 256
)

func newPace(log *logging.Logger, st *stats.Counters, now func() time.Time) *pace {
	return &pace{log: log, stats: st, now: now, thread: threadID, cpu: processCPU,
		window: paceWindow, every: paceEvery, busyAt: paceBusy, threads: map[int]struct{}{}}
}

// begin marks the start of a flush.
func (p *pace) begin() time.Time { return p.now() }

// end counts the flush begun at start, on the calling thread, and judges
// the window when it is over: Flush calls `defer in.pace.end(in.pace.begin())`.
func (p *pace) end(start time.Time) {
	now := p.now()
	tid := p.thread()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.threads) < maxThreads {
		p.threads[tid] = struct{}{}
	}
	if p.start.IsZero() { // the first flush opens the first window
		p.reset(now)
		return
	}
	p.busy += now.Sub(start)
	p.flushes++
	if elapsed := now.Sub(p.start); elapsed >= p.window {
		p.judge(elapsed)
		p.reset(now)
	}
}

func (p *pace) reset(at time.Time) {
	p.start, p.busy, p.flushes, p.cpu0 = at, 0, 0, p.cpu()
	p.retry0, p.recs0 = p.stats.FlushRetry.Load(), p.stats.RecordsIn.Load()
}

// judge warns when the window's flushes kept the workers busy past busyAt.
func (p *pace) judge(elapsed time.Duration) {
	workers := len(p.threads)
	if p.flushes < 2*workers || p.stats.FlushRetry.Load() != p.retry0 {
		return
	}
	busy := p.busy.Seconds() / (elapsed.Seconds() * float64(workers))
	if busy < p.busyAt || (!p.warned.IsZero() && p.start.Sub(p.warned) < p.every) {
		return
	}
	p.warned = p.start
	mean := p.busy / time.Duration(p.flushes)
	records := float64(p.stats.RecordsIn.Load() - p.recs0)
	cpu := (p.cpu() - p.cpu0).Seconds() / elapsed.Seconds() // CPUs the process used
	// The whole process's CPU against the flushes' time: what it did not
	// spend computing, the flushes spent waiting.
	waited := 1 - min(cpu*elapsed.Seconds()/p.busy.Seconds(), 1)
	fix := fmt.Sprintf("The flushes mostly wait on the intake: set `workers %d` on the [OUTPUT], or more", 2*workers)
	if waited < 0.5 {
		fix = "The flushes mostly compute: give the router more CPU (the task's cpu) or a lower compression_level; more workers will not help"
	}
	p.log.Warnf("falling behind: %d worker(s) busy flushing %.0f%% of the last %s (%d flushes of %s, %.0f records each: "+
		"at most %.0f records/s at this pace; the process used %.2f CPU), so records arrive as fast as they leave and "+
		"Fluent Bit's buffer grows. %s (docs/operations.md, Falling behind)",
		workers, 100*busy, elapsed.Round(time.Second), p.flushes, mean.Round(time.Millisecond), records/float64(p.flushes),
		float64(workers)*records/p.busy.Seconds(), cpu, fix)
}

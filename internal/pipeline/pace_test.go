package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
)

// fakePace is a pace on a clock the test moves, with workers taking turns
// and a process CPU the test sets.
type fakePace struct {
	*pace
	clock   time.Time
	cpuUsed time.Duration
	tid     int
	logs    *logtest.Buffer
}

func newFakePace() *fakePace {
	f := &fakePace{clock: time.Unix(1000, 0), logs: &logtest.Buffer{}}
	f.pace = newPace(logging.New(f.logs, "test", logging.Info), &stats.Counters{}, func() time.Time { return f.clock })
	f.thread = func() int { return f.tid }
	f.cpu = func() time.Duration { return f.cpuUsed }
	return f
}

// run has workers flush back to back (busy: the share of each second
// they flush) for d, each flush taking took and handling records, the
// process computing cpuShare of the flushes' time.
func (f *fakePace) run(d time.Duration, workers int, took time.Duration, busy, cpuShare float64, records int64) {
	idle := time.Duration(float64(took) * (1 - busy) / busy)
	for end := f.clock.Add(d); f.clock.Before(end); {
		// Each worker runs one flush over the same stretch of time.
		start := f.clock
		f.clock = f.clock.Add(took)
		for w := 0; w < workers; w++ {
			f.tid = 100 + w
			f.stats.RecordsIn.Add(records)
			f.cpuUsed += time.Duration(cpuShare * float64(took))
			f.end(start)
		}
		f.clock = f.clock.Add(idle)
	}
}

func (f *fakePace) warnings() int { return strings.Count(f.logs.String(), "falling behind:") }

func TestPaceWarnsWhenWorkersSaturated(t *testing.T) {
	f := newFakePace()
	// Two workers, each flush 400 ms of which almost nothing computed:
	// a 200 ms intake, 1,000-record chunks, no pause between flushes.
	f.run(31*time.Second, 2, 400*time.Millisecond, 1, 0.05, 1000)
	if f.warnings() != 1 {
		t.Fatalf("want one warning, got:\n%s", f.logs)
	}
	for _, want := range []string{"2 worker(s) busy flushing 100% of the last 30s", "150 flushes of 400ms, 1000 records each",
		"at most 5000 records/s", "the process used 0.10 CPU", "mostly wait on the intake: set `workers 4` on the [OUTPUT]"} {
		if !strings.Contains(f.logs.String(), want) {
			t.Errorf("warning lacks %q:\n%s", want, f.logs)
		}
	}
}

// docs/operations.md shows the warning as the plugin writes it.
func TestDocsFallingBehind(t *testing.T) {
	f := newFakePace()
	f.run(31*time.Second, 2, 400*time.Millisecond, 1, 0.05, 1000)
	_, line, ok := strings.Cut(strings.TrimSpace(f.logs.String()), "[output:datadog_go:test] ")
	if !ok {
		t.Fatalf("no warning: %s", f.logs)
	}
	section := doctest.Section(t, "../../docs/operations.md", "Falling behind")
	if !strings.Contains(section, "[ warn] [output:datadog_go:datadog_go.0] "+line+"\n") {
		t.Errorf("docs/operations.md, Falling behind, does not show the warning as written:\n%s", line)
	}
}

// Saturated for an hour: one warning per ten minutes, not one per window.
func TestPaceWarningRateLimited(t *testing.T) {
	f := newFakePace()
	f.run(time.Hour, 2, 400*time.Millisecond, 1, 0.05, 1000)
	if n := f.warnings(); n < 5 || n > 7 {
		t.Fatalf("%d warnings in an hour, want one per 10 minutes:\n%s", n, f.logs)
	}
}

func TestPaceQuietWhenKeepingUp(t *testing.T) {
	f := newFakePace()
	f.run(5*time.Minute, 2, 400*time.Millisecond, 0.6, 0.05, 1000)
	if f.warnings() != 0 {
		t.Fatalf("workers busy 60%%: no warning, got:\n%s", f.logs)
	}
}

// The flushes compute rather than wait: more workers would not help.
func TestPaceNamesCPUWhenComputing(t *testing.T) {
	f := newFakePace()
	f.run(31*time.Second, 2, 400*time.Millisecond, 1, 0.9, 1000)
	if f.warnings() != 1 || !strings.Contains(f.logs.String(), "mostly compute: give the router more CPU") || strings.Contains(f.logs.String(), "set `workers") {
		t.Fatalf("want the CPU fix:\n%s", f.logs)
	}
}

// Slow flushes while the intake fails (a chunk handed back in the
// window) are not a capacity problem: no warning.
func TestPaceQuietWhileIntakeFails(t *testing.T) {
	f := newFakePace()
	f.run(time.Second, 2, 400*time.Millisecond, 1, 0.05, 1000) // opens the window
	f.stats.FlushRetry.Add(1)
	f.run(40*time.Second, 2, 400*time.Millisecond, 1, 0.05, 1000)
	if f.warnings() != 0 {
		t.Fatalf("warned about a window with a chunk handed back:\n%s", f.logs)
	}
}

// Through Flush: one worker flushing chunk after chunk to an intake that
// answers after 100 ms is busy all the time, and says so.
func TestFlushWarnsFallingBehind(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Delay: 100 * time.Millisecond} }})
	in, logs := newInstance(t, srv, nil)
	in.pace.window = time.Second
	in.pace.thread = func() int { return 1 } // the test's goroutine is not tied to a thread, a worker is
	chunks := chunkgen.New(1).Chunks(2000, 16<<10)
	for i := 0; i < len(chunks) && !strings.Contains(logs.String(), "falling behind"); i++ {
		if code := in.Flush(chunks[i], []byte("tag")); code != OK {
			t.Fatalf("chunk %d: %v", i, code)
		}
	}
	in.Close()
	if !strings.Contains(logs.String(), "falling behind: 1 worker(s) busy flushing") ||
		!strings.Contains(logs.String(), "set `workers 2`") {
		t.Fatalf("no falling-behind warning:\n%s", logs)
	}
}

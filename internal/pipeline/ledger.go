package pipeline

import (
	"slices"
	"sync"

	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/join"
	"github.com/out-datadog-go/out_datadog_go/internal/progress"
)

// ledger is one try of a chunk: which chunk it is (its key, a copy of its
// tag), what its earlier tries did, and what becomes of each of its
// records in this one. begin makes it when Flush starts, before anything
// waits; the intake reports every record's outcome to it (intake.Ledger);
// finish ends it, in one place. A record's path through the tries:
//
//	sent in a payload ─ accepted ──────────────────────────────── done
//	                  └ refused in a payload, isolated alone ─┐
//	prev refused alone once ─ sent alone again ───────────────┴ suspect
//	suspect ─ confirmed: accepted, or refused again and dropped ─ done
//	        └ not settled in this try ─────────────────────────── held
//
// done and held are what the next try gets (progress.Progress); the rest
// of a chunk handed back is sent again.
type ledger struct {
	key     progress.Key
	tag     string             // a copy: Fluent Bit's tag is not read once the flush waited
	members *join.Members      // the records each joined log is made of; set before the first request
	prev    *progress.Progress // what earlier tries did; read-only, nil for none
	retried bool               // an earlier flush handed the chunk back

	intake.SuspectList // refused alone once, until Confirm takes them

	mu       sync.Mutex
	done     progress.Ranges
	held     []int32
	failed   int   // payloads not delivered
	firstErr error // the first of their errors
}

func (l *ledger) Done(ids []int32) {
	l.mu.Lock()
	l.done.AddIDs(ids)
	l.members.AddTo(&l.done, ids) // a joined log's other records are done with it
	l.mu.Unlock()
}

func (l *ledger) Held(ids []int32) {
	l.mu.Lock()
	l.held = append(l.held, ids...)
	l.mu.Unlock()
}

// fail records a payload not delivered.
func (l *ledger) fail(err error) {
	l.mu.Lock()
	l.failed++
	if l.firstErr == nil {
		l.firstErr = err
	}
	l.mu.Unlock()
}

// counted reports whether an earlier try counted the chunk's records in.
func (l *ledger) counted() bool { return l.prev != nil && l.prev.Counted }

// next is what the chunk's next try must know: every record done by this
// try or an earlier one, those held, and whether its records are counted
// (counted: by this try).
func (l *ledger) next(counted bool) *progress.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := &progress.Progress{Done: l.done, Counted: counted || l.counted()}
	if l.prev != nil {
		p.Done.Union(&l.prev.Done)
	}
	slices.Sort(l.held)
	p.Refused.AddIDs(l.held)
	return p
}

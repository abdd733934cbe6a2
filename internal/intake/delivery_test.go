package intake

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/health"
	"github.com/out-datadog-go/out_datadog_go/internal/health/healthtest"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

// idSet is a Ledger: it collects the record ids a Delivery reports done
// and held, and keeps the suspects.
type idSet struct {
	SuspectList
	mu   sync.Mutex
	ids  map[int32]int
	held []int32
}

func (s *idSet) Held(ids []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = append(s.held, ids...)
}

func (s *idSet) Done(ids []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[int32]int{}
	}
	for _, id := range ids {
		s.ids[id]++
	}
}

func (s *idSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.ids {
		if n != 1 {
			return -1 // reported twice
		}
	}
	return len(s.ids)
}

// settle is what a flush does with one payload: Deliver, then Confirm. It
// returns the ids held for the next try.
func (r *rig) settle(b *batch.Batch, d *Delivery) (error, []int32) {
	if d == nil {
		d = r.c.NewDelivery(&idSet{}, false, 0)
	}
	err := r.c.Deliver(context.Background(), b, d)
	r.c.Confirm(context.Background(), d)
	l := d.ledger.(*idSet)
	l.mu.Lock()
	defer l.mu.Unlock()
	return err, l.held
}

// marked is a payload of n entries whose entries at bad carry the reject
// marker BAD.
func marked(n int, bad func(i int) bool) *batch.Batch {
	b := &batch.Batch{}
	for i := 0; i < n; i++ {
		word := "line"
		if bad(i) {
			word = "BAD"
		}
		b.Append(int32(i), []byte(fmt.Sprintf(`{"message":"%s seq=%d"}`, word, i)))
	}
	return b
}

func at(positions ...int) func(int) bool {
	return func(i int) bool { return slices.Contains(positions, i) }
}

// A relay answering 400 to everything is an intake fault, not 1,000 bad
// records: nothing is dropped, nothing is reported done or refused, the
// error sends the chunk back to Fluent Bit, and it costs the payload and
// the six entries picked across it, each sent alone: 7 requests.
// (Before: every entry dropped, FLB_OK.)
func TestRefuseEverythingIsAFault(t *testing.T) {
	r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 400} }}, nil)
	var done idSet
	err, held := r.settle(payload(1000), r.c.NewDelivery(&done, false, 0))
	if err == nil || !isRetryable(err) {
		t.Fatalf("err = %v, want a retryable fault", err)
	}
	if r.stats.DropRejected.Load() != 0 || done.count() != 0 || len(held) != 0 {
		t.Errorf("dropped %d, done %d, held %v", r.stats.DropRejected.Load(), done.count(), held)
	}
	if n := r.srv.Stats().Requests; n != 7 {
		t.Errorf("%d requests, want 7", n)
	}
	if c := strings.Count(r.logs.String(), "intake or relay fault"); c != 1 {
		t.Errorf("fault logged %d times:\n%s", c, r.logs)
	}
}

// A one-entry payload refused alone, and refused again a backoff later,
// is not dropped when the intake accepted nothing during the flush: an
// intake refusing everything looks the same. It is held (refused once).
func TestRefusedSingleEntryHeld(t *testing.T) {
	for _, status := range []int{400, 413} {
		r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: status} }}, nil)
		err, held := r.settle(payload(1), nil)
		if err != nil || !slices.Equal(held, []int32{0}) || r.srv.Stats().Requests != 2 {
			t.Errorf("HTTP %d: err %v, held %v after %d requests", status, err, held, r.srv.Stats().Requests)
		}
		if r.stats.DropRejected.Load() != 0 {
			t.Errorf("HTTP %d: drop counted", status)
		}
	}
}

// Bad entries anywhere, one in each quarter included (the layout the old
// "first two levels refused" rule took for a relay fault): each refused
// entry is dropped after its second refusal alone, every other entry is
// accepted once, in about 2k·log2(n/k) requests and one flush.
// (Before: 10, 260, 510, 760 of 1,000 lost all 1,000.)
func TestSpreadBadEntriesIsolated(t *testing.T) {
	for _, bad := range [][]int{{10, 260, 510, 760}, {3, 500, 977}, {0, 1, 2, 3}, {999}} {
		r := newRig(t, intaketest.Options{RejectMarker: `BAD`}, nil)
		var done idSet
		err, held := r.settle(marked(1000, at(bad...)), r.c.NewDelivery(&done, false, 0))
		k := len(bad)
		if accepted, rejected := r.stats.RecordsOut.Load(), r.stats.DropRejected.Load(); err != nil || len(held) != 0 ||
			accepted != int64(1000-k) || rejected != int64(k) || done.count() != 1000 {
			t.Fatalf("bad %v: accepted %d rejected %d err %v held %v done %d", bad, accepted, rejected, err, held, done.count())
		}
		seqs := r.srv.Seqs()
		for i := 0; i < 1000; i++ {
			if want := map[bool]int{true: 0, false: 1}[slices.Contains(bad, i)]; seqs[i] != want {
				t.Errorf("bad %v: seq %d delivered %d times", bad, i, seqs[i])
			}
		}
		// 1 + evidence + 2k·log2(n/k) + k confirmations, with slack.
		budget := 1 + evidenceProbes + 2*k*int(math.Ceil(math.Log2(1000/float64(k)))) + k + 8
		if n := r.srv.Stats().Requests; n > budget {
			t.Errorf("bad %v: %d requests, budget %d", bad, n, budget)
		}
		t.Logf("bad %v: %d requests", bad, r.srv.Stats().Requests)
	}
}

// Many bad records are not taken for a relay fault either: the entries
// picked as evidence are drawn at random each time, so with half the
// entries bad a try sees a fault 1 time in 64, and otherwise isolates.
func TestEvidenceNotFooledByBadRecords(t *testing.T) {
	faults := 0
	for try := 0; try < 24; try++ {
		r := newRig(t, intaketest.Options{RejectMarker: `BAD`}, nil)
		if err, _ := r.settle(marked(24, func(i int) bool { return i%2 == 0 }), nil); err != nil &&
			strings.Contains(err.Error(), "singles out no record") {
			faults++
		}
	}
	if faults > 4 {
		t.Errorf("%d of 24 tries took half the entries bad for a relay fault", faults)
	}
}

// A part refused with 400 whose two halves are both accepted proves the
// intake's 400s are not about records: while that was seen lately, no
// entry is dropped, even refused alone twice; it is held for the next try.
// The hold is ten minutes of the client's clock: past it, such an entry
// is dropped.
func TestRandomRefusalsDropNothing(t *testing.T) {
	var n atomic.Int32
	clk := healthtest.Auto(time.Unix(1000, 0))
	r := newRig(t, intaketest.Options{RejectMarker: `BAD`, Fault: func(int) intaketest.Fault {
		if n.Add(1) == 1 { // the first payload is refused for no reason
			return intaketest.Fault{Status: 400}
		}
		return intaketest.Fault{}
	}}, withClock(clk))
	if err, held := r.settle(payload(100), nil); err != nil || len(held) != 0 {
		t.Fatalf("err %v held %v", err, held)
	}
	if !strings.Contains(r.logs.String(), "do not single out records") {
		t.Errorf("random refusal not noticed:\n%s", r.logs)
	}
	err, held := r.settle(marked(100, at(42)), nil)
	if err != nil || !slices.Equal(held, []int32{42}) || r.stats.DropRejected.Load() != 0 {
		t.Errorf("after a random refusal: err %v held %v dropped %d", err, held, r.stats.DropRejected.Load())
	}
	clk.Sleep(context.Background(), health.RandomHold)
	err, held = r.settle(marked(100, at(42)), nil)
	if err != nil || len(held) != 0 || r.stats.DropRejected.Load() != 1 {
		t.Errorf("a hold later: err %v held %v dropped %d, want the refused entry dropped", err, held, r.stats.DropRejected.Load())
	}
}

// While the intake is down, a payload of a new chunk goes out as the one
// probe request, without retries; the next new chunk's payload, less than
// a probe interval later, is not sent at all; a chunk Fluent Bit retries
// gets one probe, and once the intake answers every payload is sent as
// configured.
func TestDownIntakeProbes(t *testing.T) {
	var up atomic.Bool
	clk := healthtest.Auto(time.Unix(1000, 0))
	r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault {
		if up.Load() {
			return intaketest.Fault{}
		}
		return intaketest.Fault{Status: 503}
	}}, func(o *Options) {
		o.MaxRetries = 3
		o.Health = health.New(health.Options{OpenAfter: 4 * time.Second, ProbeEvery: time.Second, Clock: clk, Log: o.Logger})
	})
	ctx := context.Background()
	// The outage starts: one failed request, then its budget passes.
	if err := r.c.Deliver(ctx, payload(1), r.c.NewDelivery(nil, false, 0)); err == nil {
		t.Fatal("delivered through a 503")
	}
	clk.Sleep(ctx, 5*time.Second)
	before := r.srv.Stats().Requests
	if err := r.c.Deliver(ctx, payload(1), nil); err == nil || r.srv.Stats().Requests != before+1 {
		t.Fatalf("probe: err %v, %d requests, want one", err, r.srv.Stats().Requests-before)
	}
	if err := r.c.Deliver(ctx, payload(1), nil); !errors.Is(err, health.ErrDown) || r.srv.Stats().Requests != before+1 {
		t.Fatalf("a new chunk right after a failed probe: err %v, %d requests, want none", err, r.srv.Stats().Requests-before)
	}
	// A retried chunk gets its probe between the paced ones; once that
	// failed, its other payloads go back with it.
	retried := r.c.NewDelivery(nil, true, 0)
	if err := r.c.Deliver(ctx, payload(1), retried); err == nil || r.srv.Stats().Requests != before+2 {
		t.Fatalf("a retried chunk's first payload: err %v, %d requests, want its own probe", err, r.srv.Stats().Requests-before)
	}
	if err := r.c.Deliver(ctx, payload(1), retried); !errors.Is(err, health.ErrDown) || r.srv.Stats().Requests != before+2 {
		t.Fatalf("the same chunk's next payload after its probe failed: err %v, %d requests, want none", err, r.srv.Stats().Requests-before)
	}
	up.Store(true)
	if err := r.c.Deliver(ctx, payload(3), r.c.NewDelivery(nil, true, 0)); err != nil || r.srv.Stats().Entries != 3 {
		t.Fatalf("a retried chunk: err %v, intake holds %d entries", err, r.srv.Stats().Entries)
	}
	if r.c.o.Health.Down() {
		t.Fatal("still down after an answer")
	}
	if !strings.Contains(r.logs.String(), "one probe request at a time") || !strings.Contains(r.logs.String(), "answers again") {
		t.Errorf("log:\n%s", r.logs)
	}
}

// The per-chunk cap on isolation requests stops a payload full of bad
// entries: what was accepted is reported done, the entries refused alone
// are confirmed (and dropped) or held, nothing else is dropped.
func TestProbeCap(t *testing.T) {
	r := newRig(t, intaketest.Options{RejectMarker: `BAD`}, nil)
	var done idSet
	d := r.c.NewDelivery(&done, false, 40)
	err, held := r.settle(marked(1000, func(i int) bool { return i < 300 && i%3 == 0 }), d)
	if err == nil || !strings.Contains(err.Error(), "cap") {
		t.Fatalf("err = %v, want the cap", err)
	}
	isolating := r.srv.Stats().Requests - int(r.stats.DropRejected.Load()) - len(held)
	if isolating != 41 {
		t.Errorf("%d requests to isolate, want 1 + the cap of 40", isolating)
	}
	if done.count() != len(r.srv.Seqs())+int(r.stats.DropRejected.Load()) {
		t.Errorf("done %d, intake holds %d, dropped %d", done.count(), len(r.srv.Seqs()), r.stats.DropRejected.Load())
	}
	for id := range done.ids {
		if id < 300 && id%3 != 0 && r.srv.Seqs()[int(id)] != 1 {
			t.Errorf("good entry %d reported done, not delivered", id)
		}
	}
}

// Redirects are never followed: no request reaches the target, the POST is
// not turned into a GET whose 200 would count as delivered, DD-API-KEY never
// travels to another host, and the error names the Location.
// (Before: 301/302 delivered nothing and reported success; 307 sent the key.)
func TestRedirectsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	defer target.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		loc := target.URL + "/api/v2/logs?token=" + fmt.Sprint(status)
		r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: status, Location: loc} }}, nil)
		err := r.c.Deliver(context.Background(), payload(3), nil)
		if err == nil || !strings.Contains(err.Error(), loc) {
			t.Errorf("HTTP %d: err = %v, want one naming %s", status, err, loc)
		}
		if !strings.Contains(r.logs.String(), "redirects are not followed") || r.srv.Stats().Requests != 1 {
			t.Errorf("HTTP %d: %d requests, log:\n%s", status, r.srv.Stats().Requests, r.logs)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the redirect target got %d requests", hits.Load())
	}
}

// Retry-After longer than the backoff cap is honoured in full when the
// flush's budget allows it (before: cut to the 10 s cap), and hands the
// payload back at once when it does not.
func TestRetryAfterWithinBudget(t *testing.T) {
	mk := func(after string) (*rig, *healthtest.Clock) {
		clk := healthtest.Auto(time.Unix(1000, 0))
		return newRig(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
			if n == 1 {
				return intaketest.Fault{Status: 503, RetryAfter: after}
			}
			return intaketest.Fault{}
		}}, func(o *Options) { o.BackoffMax = 100 * time.Millisecond; withClock(clk)(o) }), clk
	}
	r, clk := mk("1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.c.Deliver(ctx, payload(1), nil); err != nil {
		t.Fatal(err)
	}
	if slept := clk.Slept(); len(slept) != 1 || slept[0] != time.Second {
		t.Errorf("slept %v, Retry-After said 1s (backoff cap 100ms)", slept)
	}
	r, clk = mk("30")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if err := r.c.Deliver(ctx2, payload(1), nil); err == nil || len(clk.Slept()) != 0 || r.srv.Stats().Requests != 1 {
		t.Errorf("Retry-After past the budget: err %v, slept %v, %d requests", err, clk.Slept(), r.srv.Stats().Requests)
	}
}

// Secrets never reach the log: an intake (or relay) that echoes the request
// back, header values included, is quoted scrubbed.
func TestAnswersScrubbed(t *testing.T) {
	const token, pass = "relay-token-9f8e7d", "s3cr3t-pass"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprintf(w, "bad request from key=%s token=%s url=%s", r.Header.Get("DD-API-KEY"), r.Header.Get("X-Relay-Token"), pass)
	}))
	defer srv.Close()
	r := newRig(t, intaketest.Options{}, func(o *Options) {
		o.URL = strings.Replace(srv.URL, "http://", "http://user:"+pass+"@", 1) + "/api/v2/logs"
		o.Headers = http.Header{"X-Relay-Token": {token}}
		o.MaxRetries = 1
	})
	err := r.c.Deliver(context.Background(), payload(1), nil)
	if err == nil {
		t.Fatal("500 accepted")
	}
	out := r.logs.String() + err.Error()
	for _, secret := range []string{key, token, pass} {
		if strings.Contains(out, secret) {
			t.Errorf("%q printed:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "****") {
		t.Errorf("nothing masked:\n%s", out)
	}
}

// Answers that are not HTTP request-response (a 101 upgrade, a 1xx with no
// final answer, a connection taken over in silence, a body that never
// ends) each end within the request's timeout: the payload is retried and
// delivered once the intake answers again, and while it keeps answering
// so, the flush's budget ends the delivery. (Before: a 101 hung the flush
// forever, reading the upgraded connection.)
func TestHostileAnswersBounded(t *testing.T) {
	for name, f := range map[string]intaketest.Fault{
		"101": {Upgrade: true}, "102": {Info: 102}, "hijacked": {Hijack: true}, "endless body": {Endless: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var forever atomic.Bool
			r := newRig(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
				if n == 1 || forever.Load() {
					return f
				}
				return intaketest.Fault{}
			}}, func(o *Options) { o.Timeout = 300 * time.Millisecond })
			start := time.Now()
			if err := r.c.Deliver(context.Background(), payload(5), nil); err != nil || r.srv.Stats().Entries != 5 {
				t.Fatalf("err %v, intake holds %d entries", err, r.srv.Stats().Entries)
			}
			if d := time.Since(start); d > 5*time.Second { // a loaded machine's margin: it never ended before
				t.Errorf("delivered after %s with a 300ms timeout", d)
			}
			forever.Store(true)
			r.c.o.Timeout = time.Hour // only the flush's budget is left to end it
			r.c.hc.Timeout = time.Hour
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start = time.Now()
			if err := r.c.Deliver(ctx, payload(5), nil); err == nil {
				t.Error("delivered while the intake answered so")
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("the flush's budget of 500ms ended it after %s", d)
			}
		})
	}
}

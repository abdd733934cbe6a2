package intake

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intaketest"
)

// idSet collects the record ids a Delivery reports done.
type idSet struct {
	mu  sync.Mutex
	ids map[int32]int
}

func (s *idSet) add(ids []int32) {
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

// A relay answering 400 to everything is an intake fault, not 1,000 bad
// records: nothing is dropped, nothing is reported done, the error sends the
// chunk back to Fluent Bit, and it costs the first two bisection levels
// (1 + 2 + 4 requests), not ~2,000. (Before: every entry dropped, FLB_OK.)
func TestRefuseEverythingIsAFault(t *testing.T) {
	r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 400} }}, nil)
	var done idSet
	err := r.c.Deliver(context.Background(), payload(1000), NewDelivery(done.add, 0))
	if err == nil || !isRetryable(err) {
		t.Fatalf("err = %v, want a retryable fault", err)
	}
	if r.stats.DropRejected.Load() != 0 || done.count() != 0 {
		t.Errorf("dropped %d, done %d", r.stats.DropRejected.Load(), done.count())
	}
	if n := r.srv.Stats().Requests; n != 7 {
		t.Errorf("%d requests, want 7", n)
	}
	if c := strings.Count(r.logs.String(), "intake or relay fault"); c != 1 {
		t.Errorf("fault logged %d times:\n%s", c, r.logs)
	}
}

// A one-entry payload refused alone singles out nothing either.
func TestRefusedSingleEntryKept(t *testing.T) {
	for _, status := range []int{400, 413} {
		r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: status} }}, nil)
		if err := r.c.Deliver(context.Background(), payload(1), nil); err == nil {
			t.Errorf("HTTP %d: single refused entry dropped", status)
		}
		if r.stats.DropRejected.Load() != 0 {
			t.Errorf("HTTP %d: drop counted", status)
		}
	}
}

// k bad entries among n: each dropped alone, every other entry accepted
// once, O(k log n) requests.
func TestSeveralBadEntriesIsolated(t *testing.T) {
	r := newRig(t, intaketest.Options{RejectMarker: `BAD`}, nil)
	b := payload(0)
	bad := map[int]bool{3: true, 500: true, 977: true}
	for i := 0; i < 1000; i++ {
		msg := fmt.Sprintf(`{"message":"line seq=%d"}`, i)
		if bad[i] {
			msg = fmt.Sprintf(`{"message":"BAD seq=%d"}`, i)
		}
		b.Append(int32(i), []byte(msg))
	}
	var done idSet
	err := r.c.Deliver(context.Background(), b, NewDelivery(done.add, 0))
	if accepted, rejected := r.stats.RecordsOut.Load(), r.stats.DropRejected.Load(); err != nil || accepted != 997 || rejected != 3 || done.count() != 1000 {
		t.Fatalf("accepted %d rejected %d err %v done %d", accepted, rejected, err, done.count())
	}
	seqs := r.srv.Seqs()
	for i := 0; i < 1000; i++ {
		if want := map[bool]int{true: 0, false: 1}[bad[i]]; seqs[i] != want {
			t.Errorf("seq %d delivered %d times", i, seqs[i])
		}
	}
	// 2k·log2(n/k) + slack: about 2·3·9 = 54.
	if n := r.srv.Stats().Requests; n > 70 {
		t.Errorf("%d requests for 3 bad entries among 1000", n)
	}
}

// The per-chunk cap on bisection requests stops a payload full of bad
// entries; what was accepted is reported done, nothing is dropped past it.
func TestProbeCap(t *testing.T) {
	r := newRig(t, intaketest.Options{RejectMarker: `BAD`}, nil)
	b := payload(0)
	for i := 0; i < 1000; i++ {
		tag := "line"
		if i < 300 && i%3 == 0 { // 100 bad entries, all in the first half
			tag = "BAD"
		}
		b.Append(int32(i), []byte(fmt.Sprintf(`{"message":"%s seq=%d"}`, tag, i)))
	}
	var done idSet
	err := r.c.Deliver(context.Background(), b, NewDelivery(done.add, 40))
	if err == nil || !strings.Contains(err.Error(), "cap") {
		t.Fatalf("err = %v, want the cap", err)
	}
	if n := r.srv.Stats().Requests; n != 41 {
		t.Errorf("%d requests, want 1 + the cap of 40", n)
	}
	if done.count() != len(r.srv.Seqs()) || r.stats.DropRejected.Load() != 0 {
		t.Errorf("done %d, intake holds %d, dropped %d", done.count(), len(r.srv.Seqs()), r.stats.DropRejected.Load())
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
	mk := func(after string) *rig {
		return newRig(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
			if n == 1 {
				return intaketest.Fault{Status: 503, RetryAfter: after}
			}
			return intaketest.Fault{}
		}}, func(o *Options) { o.BackoffMax = 100 * time.Millisecond })
	}
	r := mk("1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := r.c.Deliver(ctx, payload(1), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, Retry-After said 1s (backoff cap 100ms)", d)
	}
	r = mk("30")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	start = time.Now()
	if err := r.c.Deliver(ctx2, payload(1), nil); err == nil || time.Since(start) > time.Second {
		t.Errorf("Retry-After past the budget: err %v after %s", err, time.Since(start))
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

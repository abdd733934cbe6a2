package intake

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/health"
	"github.com/out-datadog-go/out_datadog_go/internal/health/healthtest"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
)

const key = "fedcba9876543210fedcba9876543210"

func payload(n int) *batch.Batch {
	b := &batch.Batch{}
	for i := 0; i < n; i++ {
		b.Append(int32(i), []byte(fmt.Sprintf(`{"message":"line seq=%d"}`, i)))
	}
	return b
}

type rig struct {
	srv   *intaketest.Server
	c     *Client
	stats *stats.Counters
	logs  *bytes.Buffer
}

func newRig(t *testing.T, so intaketest.Options, tweak func(o *Options)) *rig {
	t.Helper()
	srv, err := intaketest.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	codec, _ := compress.New("gzip", 0)
	var logs bytes.Buffer
	st := &stats.Counters{}
	o := Options{
		URL: srv.URL + "/api/v2/logs", APIKey: key, Codec: codec, Timeout: 2 * time.Second,
		TLSVerify: true, MaxRetries: 3, BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond,
		UserAgent: "test", Logger: logging.New(&logs, "t", logging.Debug), Stats: st,
	}
	if tweak != nil {
		tweak(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &rig{srv: srv, c: c, stats: st, logs: &logs}
}

func (r *rig) noKeyLeak(t *testing.T) {
	t.Helper()
	if strings.Contains(r.logs.String(), key) {
		t.Error("API key in the log")
	}
}

func TestMatrix(t *testing.T) {
	seq := func(statuses ...int) func(int) intaketest.Fault {
		return func(n int) intaketest.Fault {
			if n <= len(statuses) {
				return intaketest.Fault{Status: statuses[n-1]}
			}
			return intaketest.Fault{}
		}
	}
	cases := []struct {
		name      string
		fault     func(int) intaketest.Fault
		wantErr   bool
		wantAuth  bool
		accepted  int
		retries   int64
		wantInLog string
		answer    stats.Answer // of the first request
	}{
		{name: "2xx", accepted: 10},
		{name: "503 then ok", fault: seq(503, 503), accepted: 10, retries: 2, answer: stats.Answer5xx},
		{name: "429 then ok", fault: seq(429), accepted: 10, retries: 1, answer: stats.Answer429},
		{name: "408 then ok", fault: seq(408), accepted: 10, retries: 1, answer: stats.Answer408},
		{name: "500 forever", fault: seq(500, 500, 500, 500, 500), wantErr: true, retries: 3, answer: stats.Answer5xx},
		{name: "401", fault: seq(401), wantErr: true, wantAuth: true, wantInLog: "API key is missing or invalid", answer: stats.Answer401403},
		{name: "403", fault: seq(403), wantErr: true, wantAuth: true, wantInLog: "another Datadog site", answer: stats.Answer401403},
		{name: "unknown 4xx kept", fault: seq(404, 404, 404, 404), wantErr: true, retries: 3, wantInLog: "unexpected HTTP 404", answer: stats.AnswerOther},
		{name: "reset then ok", fault: func(n int) intaketest.Fault { return intaketest.Fault{Reset: n == 1} }, accepted: 10, retries: 1, answer: stats.AnswerNetwork},
		{name: "truncated response", fault: func(n int) intaketest.Fault { return intaketest.Fault{Truncate: n == 1} }, accepted: 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, intaketest.Options{Fault: c.fault}, nil)
			err := r.c.Deliver(context.Background(), payload(10), nil)
			if (err != nil) != c.wantErr || isAuth(err) != c.wantAuth {
				t.Fatalf("err = %v (auth %v)", err, isAuth(err))
			}
			if err != nil && !isRetryable(err) {
				t.Errorf("error not retryable: %v", err)
			}
			if accepted := int(r.stats.RecordsOut.Load()); accepted != c.accepted || r.stats.Retries.Load() != c.retries {
				t.Errorf("accepted %d retries %d, want %d %d", accepted, r.stats.Retries.Load(), c.accepted, c.retries)
			}
			if len(r.srv.Seqs()) != c.accepted {
				t.Errorf("intake has %d records", len(r.srv.Seqs()))
			}
			// Every request is counted once by outcome and answer, with the
			// time of the last accepted and the last failed one, its
			// duration, and one debug line.
			snap := r.stats.Snapshot()
			ok, failed, requests := snap.RequestsAccepted, snap.RequestsFailed, int64(r.srv.Stats().Requests)
			if ok != int64(min(c.accepted, 1)) || ok+failed != requests || snap.RequestsRefused != 0 ||
				(r.stats.LastAccepted.Load() != 0) != (ok > 0) || (r.stats.LastFailed.Load() != 0) != (failed > 0) {
				t.Errorf("requests accepted %d failed %d refused %d of %d; last accepted %d, last failed %d", ok, failed,
					snap.RequestsRefused, requests, r.stats.LastAccepted.Load(), r.stats.LastFailed.Load())
			}
			want := requests - ok // the failures are all of the first request's class
			if c.answer == stats.Answer2xx {
				want = ok
			}
			if first := r.stats.Answers[c.answer].Load(); first < 1 || first != want {
				t.Errorf("answer %s counted %d times, want %d", c.answer, first, want)
			}
			if n := r.stats.Latency.Snapshot().Count; int64(n) != requests {
				t.Errorf("%d durations for %d requests", n, requests)
			}
			if n := strings.Count(r.logs.String(), "] request: "); int64(n) != requests ||
				!strings.Contains(r.logs.String(), " 10 entries, ") {
				t.Errorf("%d request lines for %d requests:\n%s", n, requests, r.logs)
			}
			if c.wantInLog != "" && !strings.Contains(r.logs.String(), c.wantInLog) {
				t.Errorf("log lacks %q:\n%s", c.wantInLog, r.logs)
			}
			r.noKeyLeak(t)
		})
	}
}

func TestBadEntryIsolated(t *testing.T) {
	r := newRig(t, intaketest.Options{RejectMarker: `seq=37"`}, nil)
	var done idSet
	err, held := r.settle(payload(100), r.c.NewDelivery(&done, false, 0))
	if accepted, rejected := r.stats.RecordsOut.Load(), r.stats.DropRejected.Load(); err != nil || len(held) != 0 || accepted != 99 || rejected != 1 {
		t.Fatalf("accepted %d rejected %d err %v held %v", accepted, rejected, err, held)
	}
	seqs := r.srv.Seqs()
	if len(seqs) != 99 || seqs[37] != 0 {
		t.Errorf("intake has %d records, seq 37 x%d", len(seqs), seqs[37])
	}
	for k, v := range seqs {
		if v != 1 {
			t.Errorf("seq %d x%d", k, v)
		}
	}
	if r.stats.DropRejected.Load() != 1 || !strings.Contains(r.logs.String(), "HTTP 400") {
		t.Errorf("drop not counted/logged: %d\n%s", r.stats.DropRejected.Load(), r.logs)
	}
	// Every entry is done (99 accepted, one dropped), so a retry of the
	// chunk would skip them all.
	if done.count() != 100 {
		t.Errorf("%d entries reported done, want 100", done.count())
	}
	// k bad entries among n cost O(k log n) requests: 1, the evidence, 2
	// per level, the confirmation.
	if st := r.srv.Stats(); st.Requests > 1+evidenceProbes+2*7+1 {
		t.Errorf("%d requests to isolate one entry among 100", st.Requests)
	}
	if st, snap := r.srv.Stats(), r.stats.Snapshot(); snap.RequestsRefused != int64(st.Rejected) || snap.RequestsAccepted != int64(st.Accepted) ||
		r.stats.Answers[stats.Answer400].Load() != int64(st.Rejected) {
		t.Errorf("requests refused %d accepted %d, intake %+v", snap.RequestsRefused, snap.RequestsAccepted, st)
	}
}

func TestTooLargeHalved(t *testing.T) {
	p := payload(64)
	r := newRig(t, intaketest.Options{MaxBytes: len(p.Bytes()) / 3}, nil)
	err := r.c.Deliver(context.Background(), p, nil)
	if accepted := r.stats.RecordsOut.Load(); err != nil || accepted != 64 {
		t.Fatalf("accepted %d err %v", accepted, err)
	}
	if st := r.srv.Stats(); st.Entries != 64 || st.Accepted < 4 {
		t.Errorf("intake %+v", st)
	}
}

// withClock gives the client a health measuring by clk: its backoffs
// are slept on it.
func withClock(clk health.Clock) func(o *Options) {
	return func(o *Options) {
		o.Health = health.New(health.Options{OpenAfter: defaultDownAfter, ProbeEvery: time.Second, Clock: clk})
	}
}

// Retry-After is honoured: the retry waits what it says, on the client's
// clock (here one that moves by what is slept: no real wait).
func TestRetryAfterHonoured(t *testing.T) {
	clk := healthtest.Auto(time.Unix(1000, 0))
	r := newRig(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n == 1 {
			return intaketest.Fault{Status: 429, RetryAfter: "3"}
		}
		return intaketest.Fault{}
	}}, func(o *Options) { o.BackoffMax = 5 * time.Second; withClock(clk)(o) })
	if err := r.c.Deliver(context.Background(), payload(1), nil); err != nil {
		t.Fatal(err)
	}
	if slept := clk.Slept(); len(slept) != 1 || slept[0] != 3*time.Second {
		t.Errorf("slept %v before the retry, Retry-After said 3s", slept)
	}
}

// A backoff ends when the flush's context does: the client is cancelled
// while it sleeps (the clock says when it does), and a deadline shorter
// than the next backoff returns at once, without sleeping.
func TestCancelDuringBackoff(t *testing.T) {
	clk := healthtest.New(time.Unix(1000, 0))
	r := newRig(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 503} }},
		func(o *Options) {
			o.BackoffBase, o.BackoffMax, o.MaxRetries = 10*time.Second, 10*time.Second, 5
			withClock(clk)(o)
		})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Deliver(ctx, payload(1), nil) }()
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if !clk.WaitSleepers(wait, 1) {
		t.Fatal("the client never slept after a 503")
	}
	cancel()
	if err := <-done; err == nil || r.srv.Stats().Requests != 1 {
		t.Errorf("err %v after %d requests", err, r.srv.Stats().Requests)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := r.c.Deliver(ctx2, payload(2), nil); err == nil || len(clk.Slept()) != 1 || r.srv.Stats().Requests != 2 {
		t.Errorf("err %v, slept %v, %d requests", err, clk.Slept(), r.srv.Stats().Requests)
	}
}

func TestStallTimesOut(t *testing.T) {
	r := newRig(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n == 1 {
			return intaketest.Fault{Delay: 2 * time.Second}
		}
		return intaketest.Fault{}
	}}, func(o *Options) { o.Timeout = 200 * time.Millisecond })
	err := r.c.Deliver(context.Background(), payload(3), nil)
	if accepted := r.stats.RecordsOut.Load(); err != nil || accepted != 3 || r.stats.Retries.Load() != 1 {
		t.Errorf("accepted %d err %v retries %d", accepted, err, r.stats.Retries.Load())
	}
}

func TestTLSWithCAFileAndHeaders(t *testing.T) {
	var got atomic.Value
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Clone())
		w.WriteHeader(202)
	}))
	defer ts.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := ts.Certificate()
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	codec, _ := compress.New("zstd", 0)
	mk := func(ca string) *Client {
		c, err := New(Options{URL: ts.URL + "/api/v2/logs", APIKey: key, Codec: codec, TLSVerify: true, TLSCAFile: ca,
			MaxRetries: 0, UserAgent: "ua/1", Headers: http.Header{"X-Team": {"web", "api"}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := mk("").Deliver(context.Background(), payload(1), nil); err == nil {
		t.Error("self-signed certificate accepted without tls_ca_file")
	}
	if err := mk(caFile).Deliver(context.Background(), payload(1), nil); err != nil {
		t.Fatalf("with tls_ca_file: %v", err)
	}
	h := got.Load().(http.Header)
	if h.Get("DD-API-KEY") != key || h.Get("Content-Encoding") != "zstd" || h.Get("Content-Type") != "application/json" ||
		h.Get("User-Agent") != "ua/1" || !slices.Equal(h.Values("X-Team"), []string{"web", "api"}) {
		t.Errorf("headers %v", h)
	}
}

func TestProxyUsed(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host == "intake.invalid" {
			proxied.Add(1)
		}
		w.WriteHeader(202)
	}))
	defer proxy.Close()
	codec, _ := compress.New("none", 0)
	c, err := New(Options{URL: "http://intake.invalid/api/v2/logs", APIKey: key, Codec: codec, Proxy: proxy.URL, UserAgent: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Deliver(context.Background(), payload(1), nil); err != nil || proxied.Load() != 1 {
		t.Errorf("err %v proxied %d", err, proxied.Load())
	}
}

// isRetryable: every delivery failure is an *Error, which leaves the payload
// to be retried (nothing is dropped on a failure the client does not
// understand).
func isRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// isAuth: the failure is an authentication one (401/403).
func isAuth(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Auth
}

// The client counts its connections for Fluent Bit's upstream gauges: two
// requests at once, one held by the intake, are two busy connections; once
// answered they stay open, idle, until Close.
func TestConnectionsCounted(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n <= 2 {
			<-release
		}
		return intaketest.Fault{}
	}}, func(o *Options) { o.Concurrency = 2 })
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- r.c.Deliver(context.Background(), payload(3), nil) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.stats.Conns.Busy.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if open, busy := r.stats.Conns.Open.Load(), r.stats.Conns.Busy.Load(); open != 2 || busy != 2 {
		t.Errorf("two requests in flight: %d open, %d busy", open, busy)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if open, busy := r.stats.Conns.Open.Load(), r.stats.Conns.Busy.Load(); open != 2 || busy != 0 {
		t.Errorf("answered: %d open, %d busy", open, busy)
	}
	r.c.Close()
	if open := r.stats.Conns.Open.Load(); open != 0 {
		t.Errorf("closed: %d open", open)
	}
}

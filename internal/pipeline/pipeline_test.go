package pipeline

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/budget"
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
)

func newInstance(t testing.TB, srv *intaketest.Server, props map[string]string) (*Instance, *logtest.Buffer) {
	t.Helper()
	return newInstanceURL(t, srv.URL, props)
}

func newInstanceURL(t testing.TB, url string, props map[string]string) (*Instance, *logtest.Buffer) {
	t.Helper()
	return newInstanceWith(t, url, props, overrides{})
}

// newInstanceWith builds an instance as New does (its health, client,
// budget), with a test's overrides.
func newInstanceWith(t testing.TB, url string, props map[string]string, ov overrides) (*Instance, *logtest.Buffer) {
	t.Helper()
	p := map[string]string{"endpoint": url, "apikey": "k", "dd_service": "svc", "dd_source": "src",
		"dd_tags": "env:test", "provider": "ecs", "stats_interval": "0",
		// Tests of what a flush does, not of its budget: the default (4 s)
		// is shorter than one payload's checks can take under -race on a
		// loaded 2-core machine. Budget tests set their own.
		"retry_budget": "20s"}
	for k, v := range props {
		p[k] = v
	}
	cfg, err := config.Parse(func(k string) string { return p[k] }, func(string) string { return "" }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	in, err := build(cfg, budget.New(cfg.RetryBudget, budget.UnknownGrace), "test", logging.New(logs, "test", logging.Info), ov)
	if err != nil {
		t.Fatal(err)
	}
	return in, logs
}

// Concurrent flushes of one instance (Fluent Bit workers) deliver every
// record exactly once and respect the batch limits.
func TestConcurrentFlushes(t *testing.T) {
	srv, err := intaketest.Start(intaketest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, _ := newInstance(t, srv, map[string]string{"max_batch_entries": "300", "max_batch_bytes": "200KB"})
	chunks := chunkgen.New(1).Chunks(8000, 300<<10)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(chunks); i += 4 {
				if code := in.Flush(chunks[i], []byte("tag")); code != OK {
					t.Errorf("chunk %d: %v", i, code)
				}
			}
		}(w)
	}
	wg.Wait()
	in.Close()
	st := srv.Stats()
	if st.Entries != 8000 || len(srv.Seqs()) != 8000 || st.MaxEntries > 300 || st.MaxRawBytes > 200_000 {
		t.Errorf("intake stats %+v, distinct %d", st, len(srv.Seqs()))
	}
	if s := in.Stats.Snapshot(); s.RecordsIn != 8000 || s.RecordsOut != 8000 || s.FlushOK != int64(len(chunks)) {
		t.Errorf("counters %+v", s)
	}
}

// Close returns promptly with requests in flight; those flushes report
// Retry, never OK, and flushes after Close are handed back.
func TestCloseWithInFlight(t *testing.T) {
	arrived := make(chan struct{})
	var once sync.Once
	srv, err := intaketest.Start(intaketest.Options{Fault: func(int) intaketest.Fault {
		once.Do(func() { close(arrived) }) // the flush's request is in flight
		return intaketest.Fault{Delay: time.Minute}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, logs := newInstance(t, srv, map[string]string{"timeout": "2m"})
	chunk := chunkgen.New(2).Chunks(100, 1<<20)[0]
	done := make(chan Code)
	go func() { done <- in.Flush(chunk, nil) }()
	<-arrived
	start := time.Now()
	in.Close()
	if d := time.Since(start); d > in.budget.Exit+2*time.Second {
		t.Errorf("Close took %s", d)
	}
	if code := <-done; code != Retry {
		t.Errorf("in-flight flush returned %v", code)
	}
	if code := in.Flush(chunk, nil); code != Retry {
		t.Errorf("flush after close returned %v", code)
	}
	if !strings.Contains(logs.String(), "exit: records_in=100") {
		t.Errorf("no exit stats line:\n%s", logs)
	}
}

// Records over 18 h old are counted and logged, and still sent.
func TestTooOldCounted(t *testing.T) {
	srv, err := intaketest.Start(intaketest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, logs := newInstance(t, srv, nil)
	g := chunkgen.New(3)
	g.Sec = uint32(time.Now().Add(-20 * time.Hour).Unix())
	if code := in.Flush(g.Chunks(10, 1<<20)[0], nil); code != OK {
		t.Fatal(code)
	}
	in.Close()
	if in.Stats.TooOld.Load() != 10 || !strings.Contains(logs.String(), "older than 18h") || srv.Stats().Entries != 10 {
		t.Errorf("too old: %d\n%s", in.Stats.TooOld.Load(), logs)
	}
}

func TestStatsLine(t *testing.T) {
	srv, err := intaketest.Start(intaketest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, logs := newInstance(t, srv, map[string]string{"stats_interval": "1s"})
	in.Flush(chunkgen.New(4).Chunks(5, 1<<20)[0], nil)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(logs.String(), "stats records_in=5") {
		time.Sleep(50 * time.Millisecond)
	}
	in.Close()
	if !strings.Contains(logs.String(), "stats records_in=5 records_out=5") {
		t.Errorf("no periodic stats line:\n%s", logs)
	}
}

// BenchmarkFlushFireLens measures the whole flush path on the real
// FireLens chunk: decode, shape, batch, gzip, HTTP. The intake only drains
// the body, so its cost stays out of the figure.
func BenchmarkFlushFireLens(b *testing.B) { benchFlush(b, nil) }

// BenchmarkFlushFireLensAutoMultiline is BenchmarkFlushFireLens with
// auto_multiline on: what grouping a stream's lines costs.
func BenchmarkFlushFireLensAutoMultiline(b *testing.B) {
	benchFlush(b, map[string]string{"auto_multiline": "on"})
}

func benchFlush(b *testing.B, props map[string]string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		b.Fatal(err)
	}
	in, _ := newInstanceURL(b, srv.URL, props)
	defer in.Close()
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		if code := in.Flush(chunk, []byte("tag")); code != OK {
			b.Fatal(code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/3000, "ns/record")
}

// Mirror sets every series at once (Fluent Bit creates them before its
// HTTP server starts), then copies the counters every second and a last
// time at Close, from one goroutine.
func TestMirror(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	in, _ := newInstance(t, srv, nil)
	var mu sync.Mutex
	got := map[int]float64{}
	in.Mirror(stats.SinkFunc(func(i int, v float64) { mu.Lock(); got[i] = v; mu.Unlock() }))
	delivered := -1 // index of records_delivered_total
	n := 0
	for _, m := range stats.Metrics {
		if m.Name == "records_delivered_total" {
			delivered = n
		}
		if m.Hist == nil { // a SinkFunc gets no histogram
			n += len(m.Series)
		}
	}
	read := func() (int, float64) { mu.Lock(); defer mu.Unlock(); return len(got), got[delivered] }
	if series, v := read(); series != n || v != 0 {
		t.Fatalf("after Mirror: %d of %d series set, delivered %v", series, n, v)
	}
	if code := in.Flush(chunkgen.New(3).Chunks(40, 1<<20)[0], []byte("tag")); code != OK {
		t.Fatal(code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, v := read(); v != 40 && time.Now().Before(deadline); _, v = read() {
		time.Sleep(50 * time.Millisecond)
	}
	if _, v := read(); v != 40 {
		t.Fatalf("delivered %v a few seconds after the flush, want 40", v)
	}
	in.Stats.RecordsOut.Add(1) // counted after the last tick: Close copies it
	in.Close()
	if _, v := read(); v != 41 {
		t.Errorf("delivered %v after Close, want 41", v)
	}
}

package pipeline

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/health/healthtest"
	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
)

// sameRecordChunk is n copies of one record at one time: what a `dummy`
// input or a chatty app writes.
func sameRecordChunk(n int, sec uint32) []byte {
	rec := msgp.AppendMapHeader(nil, 2)
	rec = msgp.AppendString(msgp.AppendString(rec, "log"), "heartbeat ok")
	rec = msgp.AppendString(msgp.AppendString(rec, "source"), "stdout")
	g := chunkgen.New(1)
	var chunk []byte
	for i := 0; i < n; i++ {
		chunk = g.AppendEvent(chunk, sec, 0, rec)
	}
	return chunk
}

// Identical logs in new chunks are delivered every time: only a chunk
// Fluent Bit retries is compared with anything. (Before: a chunk whose
// payload bytes equalled one accepted in the last 30 min returned FLB_OK
// and was never sent.)
func TestIdenticalChunksAllDelivered(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	in, _ := newInstance(t, srv, map[string]string{"json_date_key": "false"})
	chunk := sameRecordChunk(5, uint32(time.Now().Unix()))
	for i := 0; i < 4; i++ {
		if code := in.Flush(chunk, []byte("tag")); code != OK {
			t.Fatalf("flush %d: %v", i, code)
		}
	}
	in.Close()
	if got := srv.Stats().Entries; got != 20 {
		t.Errorf("intake got %d entries, want 20 (4 chunks of 5 identical records)", got)
	}
}

// A chunk handed back after a partial delivery is resumed where it
// stopped, whatever its payloads look like on the retry: here the tags
// change between the tries (as when task metadata arrives) and the batch
// size too. Every record arrives exactly once, and the memory entry is gone
// once the chunk is delivered. (Before: the retry's payload bytes differed,
// so the accepted half was sent again.)
func TestRetryResumesByRecord(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n >= 2 && fail.Load() { // the first payload goes through, the rest fail
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	in, logs := newInstance(t, srv, map[string]string{"max_batch_entries": "1000", "max_retries": "1", "max_concurrency": "1"})
	chunk := chunkgen.New(5).Chunks(2000, 8<<20)[0]
	if code := in.Flush(chunk, []byte("app-firelens-1")); code != Retry {
		t.Fatalf("first try: %v", code)
	}
	if got := len(srv.Seqs()); got != 1000 || in.progress.Len() != 1 {
		t.Fatalf("after the partial try the intake holds %d records, memory %d chunks", got, in.progress.Len())
	}
	// The retry shapes differently: other tags, smaller payloads.
	in.shaper = shape.New(shape.Options{MessageKey: "log", DateKey: "timestamp", ECS: true,
		Tagger: tags.NewTagger(tags.Options{ECS: true, ConfigTags: "env:test,late:metadata"})})
	in.cfg.MaxBatchEntries = 300
	fail.Store(false)
	if code := in.Flush(chunk, []byte("app-firelens-1")); code != OK {
		t.Fatalf("retry: %v", code)
	}
	in.Close()
	seqs := srv.Seqs()
	if len(seqs) != 2000 {
		t.Errorf("intake holds %d distinct records, want 2000", len(seqs))
	}
	for k, v := range seqs {
		if v != 1 {
			t.Errorf("seq %d delivered %d times", k, v)
		}
	}
	if !in.progress.Empty() || in.Stats.Resumed.Load() != 1000 {
		t.Errorf("memory %d chunks, resumed %d", in.progress.Len(), in.Stats.Resumed.Load())
	}
	if !strings.Contains(logs.String(), "1000 record(s) delivered by an earlier try not sent again") {
		t.Errorf("log:\n%s", logs)
	}
	// The same chunk once more is a new chunk: sent again in full.
	in2, _ := newInstance(t, srv, nil)
	if code := in2.Flush(chunk, []byte("app-firelens-1")); code != OK || srv.Stats().Entries != 4000 {
		t.Errorf("new flush of the same bytes: %v, intake entries %d", code, srv.Stats().Entries)
	}
	in2.Close()
}

// A relay answering 400 to everything loses nothing: the chunk goes back
// to Fluent Bit. (Before: every record dropped, FLB_OK.)
func TestRelay400KeepsChunk(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 400} }})
	in, _ := newInstance(t, srv, nil)
	chunk := chunkgen.New(6).Chunks(1000, 8<<20)[0]
	if code := in.Flush(chunk, nil); code != Retry {
		t.Errorf("flush: %v", code)
	}
	in.Close()
	if d := in.Stats.DropRejected.Load(); d != 0 || srv.Stats().Requests > 7 {
		t.Errorf("dropped %d, %d requests", d, srv.Stats().Requests)
	}
}

// A record larger than max_batch_bytes is cut to fit, marked and counted,
// never dropped. (Before: dropped as too large.)
func TestOversizeRecordCutToFit(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	in, _ := newInstance(t, srv, map[string]string{"max_batch_bytes": "100K"})
	trace := "java.lang.IllegalStateException: boom seq=1\n" + strings.Repeat("\tat com.example.Handler.process(Handler.java:42)\n", 3000)
	rec := msgp.AppendMapHeader(nil, 1)
	rec = msgp.AppendString(msgp.AppendString(rec, "log"), trace)
	small := msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "log"), "small seq=2")
	g := chunkgen.New(7)
	now := uint32(time.Now().Unix())
	chunk := g.AppendEvent(g.AppendEvent(nil, now, 0, small), now, 0, rec)
	if code := in.Flush(chunk, nil); code != OK {
		t.Fatalf("flush: %v", code)
	}
	in.Close()
	logs := srv.Logs()
	if len(logs) != 2 || in.Stats.Truncated.Load() != 1 || in.Stats.DropMalformed.Load() != 0 {
		t.Fatalf("intake holds %d logs, truncated %d, dropped %d", len(logs), in.Stats.Truncated.Load(), in.Stats.DropMalformed.Load())
	}
	var big map[string]any
	for _, l := range logs {
		if strings.Contains(l["message"].(string), "boom seq=1") {
			big = l
		}
	}
	if big == nil || big[shape.TruncatedKey] != float64(len(trace)) {
		t.Fatalf("cut record: %v", big)
	}
	enc, _ := json.Marshal(big)
	if st := srv.Stats(); st.MaxRawBytes > 100_000 || len(enc) < 90_000 {
		t.Errorf("payload %d bytes (limit 100000), cut entry %d bytes", st.MaxRawBytes, len(enc))
	}
}

// A record whose reserved attributes alone exceed the per-log limit (here
// max_batch_bytes) cannot be cut to fit: it is dropped, counted and
// logged, and the records around it are delivered.
func TestReservedTooLargeDropped(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	in, logs := newInstance(t, srv, map[string]string{"max_batch_bytes": "100K"})
	rec := func(pairs ...string) []byte {
		b := msgp.AppendMapHeader(nil, uint32(len(pairs)/2))
		for _, p := range pairs {
			b = msgp.AppendString(b, p)
		}
		return b
	}
	g := chunkgen.New(9)
	now := uint32(time.Now().Unix())
	chunk := g.AppendEvent(nil, now, 0, rec("log", "before seq=0"))
	chunk = g.AppendEvent(chunk, now, 1, rec("log", "huge host seq=1", "hostname", strings.Repeat("h", 150_000)))
	chunk = g.AppendEvent(chunk, now, 2, rec("log", "after seq=2"))
	if code := in.Flush(chunk, nil); code != OK {
		t.Fatalf("flush: %v", code)
	}
	in.Close()
	if seqs := srv.Seqs(); len(seqs) != 2 || seqs[1] != 0 || in.Stats.DropOversize.Load() != 1 {
		t.Errorf("intake holds %v, dropped %d", seqs, in.Stats.DropOversize.Load())
	}
	if !strings.Contains(logs.String(), "dropped 1 record(s) whose reserved attributes") {
		t.Errorf("log:\n%s", logs)
	}
}

// panicky is an encoder that panics, as a bug in compression would.
type panicky struct{}

func (panicky) Compress(dst, src []byte) ([]byte, error) { panic("encoder bug") }
func (panicky) ContentEncoding() string                  { return "gzip" }

// A panic on a goroutine the plugin started (here a payload sender, the
// chunk having several payloads) is recovered, logged with its stack and
// counted; the flush hands the chunk back. (Before: the process aborted.)
func TestPanicInSenderRecovered(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	in, logs := newInstanceWith(t, srv.URL, map[string]string{"max_batch_entries": "10"},
		overrides{client: func(o *intake.Options) { o.Codec = panicky{} }})
	chunk := chunkgen.New(8).Chunks(50, 8<<20)[0]
	if code := in.Flush(chunk, nil); code != Retry {
		t.Errorf("flush: %v", code)
	}
	in.Close()
	if p := in.Stats.Panics.Load(); p != 5 {
		t.Errorf("panics counted %d, want 5 (one per payload)", p)
	}
	if !strings.Contains(logs.String(), "panic in payload delivery: encoder bug") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log:\n%.2000s", logs)
	}
}

// A chunk Fluent Bit retries is counted once: its records in, and what
// they met (here a message cut to fit), however many tries it takes; the
// records it holds are pending while it is handed back. (Before: each try
// counted the chunk in again: 18 in, 17 out with nothing lost.)
func TestRetriedChunkCountedOnce(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault {
		if down.Load() {
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	in, _ := newInstance(t, srv, map[string]string{"max_retries": "0", "max_batch_bytes": "100K"})
	big := msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "log"), strings.Repeat("x", 150_000))
	g := chunkgen.New(9)
	chunk := g.AppendEvent(g.Chunks(300, 8<<20)[0], uint32(time.Now().Unix()), 0, big)
	for try := 0; try < 3; try++ {
		if code := in.Flush(chunk, []byte("tag")); code != Retry {
			t.Fatalf("try %d during the outage: %v", try, code)
		}
	}
	if s := in.Stats.Snapshot(); s.RecordsIn != 301 || s.Pending() != 301 || s.Truncated != 1 || s.RequestsFailed < 3 {
		t.Errorf("during the outage: %s", s)
	}
	down.Store(false)
	if code := in.Flush(chunk, []byte("tag")); code != OK {
		t.Fatalf("retry after the outage: %v", code)
	}
	in.Close()
	if s := in.Stats.Snapshot(); s.RecordsIn != 301 || s.RecordsOut != 301 || s.Pending() != 0 || s.Truncated != 1 || s.FlushRetry != 3 {
		t.Errorf("after delivery: %s", s)
	}
	if !in.progress.Empty() {
		t.Errorf("%d chunks still held as handed back after the retry was delivered", in.progress.Len())
	}
}

// While the intake is down, a new chunk flushed less than a second after
// a failed probe goes back to Fluent Bit at once, without a request, and
// is remembered: its retry is sent whatever the probes (it may be its last
// try under Retry_Limit 1), and its records are counted once. So the first
// retried chunk after the intake answers again is delivered.
func TestDownIntakeRetriedChunkSent(t *testing.T) {
	var up atomic.Bool
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault {
		if up.Load() {
			return intaketest.Fault{}
		}
		return intaketest.Fault{Status: 503}
	}})
	clk := healthtest.New(time.Unix(1000, 0))
	in, _ := newInstanceWith(t, srv.URL, map[string]string{"max_retries": "0", "retry_budget": "4s"}, overrides{clock: clk})
	g := chunkgen.New(29)
	a, b := g.Chunks(50, 8<<20)[0], g.Chunks(70, 8<<20)[0]
	if code := in.Flush(a, []byte("tag")); code != Retry {
		t.Fatalf("a, the outage's first flush: %v", code)
	}
	clk.Advance(5 * time.Second) // failing for longer than retry_budget: down
	if code := in.Flush(a, []byte("tag")); code != Retry || srv.Stats().Requests != 2 {
		t.Fatalf("a's retry, the probe: %v after %d requests", code, srv.Stats().Requests)
	}
	if code := in.Flush(b, []byte("tag")); code != Retry || srv.Stats().Requests != 2 {
		t.Fatalf("b, new, right after a failed probe: %v after %d requests, want none", code, srv.Stats().Requests)
	}
	if code := in.Flush(b, []byte("tag")); code != Retry || srv.Stats().Requests != 3 {
		t.Fatalf("b's retry while down: %v after %d requests, want its own probe", code, srv.Stats().Requests)
	}
	up.Store(true)
	if code := in.Flush(b, []byte("tag")); code != OK {
		t.Fatalf("b's retry once the intake answers: %v", code)
	}
	if code := in.Flush(a, []byte("tag")); code != OK {
		t.Fatalf("a's retry once the intake answers: %v", code)
	}
	in.Close()
	checkTimes(t, srv, 120, 1)
	if s := in.Stats.Snapshot(); s.RecordsIn != 120 || s.RecordsOut != 120 || s.Pending() != 0 {
		t.Errorf("counters: %s", s)
	}
}

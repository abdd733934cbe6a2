package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/labels"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
)

// Delivery at the edges (docs/delivery.md) through the C host.

// Refused records in every quarter of a chunk cost those records only, in
// one try (the host's retry limit 1 is Fluent Bit's default Retry_Limit).
// (Before: the chunk was retried, then given up: all 1,000 lost.)
func TestRefusedRecordsSpread(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{RejectMarker: chunkgen.RefuseMarker})
	bad := map[int]bool{10: true, 260: true, 510: true, 760: true}
	g := chunkgen.New(12)
	g.Refused = func(seq int) bool { return bad[seq] }
	paths := writeChunks(t, g.Chunks(1000, 64<<20))
	// A budget the subject does not test: 4 s can end a bisection under -race on a loaded machine.
	s, stderr := runHost(t, append([]string{"-conf", writeFile(t, "c.conf", seedConf(srv.URL, "retry_budget 20s"))}, paths...)...)
	if s.OK != 1 || s.Retry != 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	seqs := srv.Seqs()
	for i := 0; i < 1000; i++ {
		if want := map[bool]int{true: 0, false: 1}[bad[i]]; seqs[i] != want {
			t.Errorf("seq %d delivered %d times, want %d", i, seqs[i], want)
		}
	}
	if !strings.Contains(stderr, "dropped 4 record(s) the intake refused alone twice") || !strings.Contains(stderr, "drop_rejected=4 ") {
		t.Errorf("drops not logged or counted:\n%s", tail(stderr))
	}
}

// An intake answering 400 at random (p = 0.5) loses no valid record, and
// sends none twice.
func TestRandom400s(t *testing.T) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(5, 5))
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(2) == 0 {
			return intaketest.Fault{Status: 400}
		}
		return intaketest.Fault{}
	}})
	const n = 2000
	paths := writeChunks(t, chunkgen.New(13).Chunks(n, 256<<10))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "max_retries 2", "retry_budget 20s"))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-retry-limit", "-1", "-retry-wait-ms", "10"}, paths...)...)
	if s.OK != len(paths) || s.GaveUp+s.Error != 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	checkExactlyOnce(t, srv, n)
	if !strings.Contains(stderr, "drop_rejected=0 ") {
		t.Errorf("records dropped:\n%s", tail(stderr))
	}
}

// Eight identical chunks flushed by two workers through an intake failing
// every third request: each record arrives exactly eight times.
// (Before: a second worker's memory entry overwrote the first's.)
func TestIdenticalChunksTwoWorkers(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		f := intaketest.Fault{Delay: 5 * time.Millisecond} // the workers' flushes overlap
		if n%3 == 0 {
			f.Status = 503
		}
		return f
	}})
	const n, copies = 600, 8
	paths := writeChunks(t, chunkgen.New(14).Chunks(n, 64<<20))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "max_retries 0", "max_batch_entries 100", "retry_budget 20s"))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-workers", "2", "-repeat", "8", "-retry-limit", "-1", "-retry-wait-ms", "5"}, paths...)...)
	if s.OK != copies || s.Retry == 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	seqs := srv.Seqs()
	for i := 0; i < n; i++ {
		if seqs[i] != copies {
			t.Fatalf("seq %d delivered %d times, want %d", i, seqs[i], copies)
		}
	}
	if !strings.Contains(stderr, "forgotten=0 ") || strings.Contains(stderr, "resumed=0 ") {
		t.Errorf("memory not used, or forgotten:\n%s", tail(stderr))
	}
}

// Answers that are not HTTP request-response end within the timeout and
// are retried: every record arrives once. With the intake answering so for
// good, the host gives up after its retries within the budget. (The 2 s
// timeout leaves room for a loaded machine: a request the stand-in accepts
// after the client gave up is delivered twice, by any client.)
func TestHostileAnswers(t *testing.T) {
	for name, f := range map[string]intaketest.Fault{
		"101": {Upgrade: true}, "102": {Info: 102}, "hijacked": {Hijack: true}, "endless body": {Endless: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
				if n <= 2 {
					return f
				}
				return intaketest.Fault{}
			}})
			paths := writeChunks(t, chunkgen.New(15).Chunks(300, 64<<20))
			conf := writeFile(t, "c.conf", seedConf(srv.URL, "timeout 2s", "max_retries 1"))
			start := time.Now()
			s, stderr := runHost(t, append([]string{"-conf", conf, "-retry-limit", "-1", "-retry-wait-ms", "10"}, paths...)...)
			if s.OK != 1 || time.Since(start) > 20*time.Second {
				t.Fatalf("summary %+v after %s\n%s", s, time.Since(start), tail(stderr))
			}
			checkExactlyOnce(t, srv, 300)

			down := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return f }})
			conf = writeFile(t, "d.conf", seedConf(down.URL, "timeout 2s", "max_retries 1", "retry_budget 3s"))
			start = time.Now()
			s, stderr = runHost(t, append([]string{"-conf", conf, "-retry-limit", "1", "-retry-wait-ms", "10"}, paths...)...)
			if s.OK != 0 || s.GaveUp != 1 || time.Since(start) > 12*time.Second {
				t.Errorf("summary %+v after %s (two tries of a 3 s budget)\n%s", s, time.Since(start), tail(stderr))
			}
		})
	}
}

// appRecord is a FireLens record of the app container of
// internal/ecs/testdata/fargate-service-task.json with extra pairs.
func appRecord(pairs ...string) []byte {
	pairs = append(pairs, "container_id", "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890", "container_name", "app",
		"ecs_cluster", "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
		"ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8", "ecs_task_definition", "users:17")
	rec := msgp.AppendMapHeader(nil, uint32(len(pairs)/2))
	for _, s := range pairs {
		rec = msgp.AppendString(rec, s)
	}
	return rec
}

func chunkOf(records ...[]byte) []byte {
	g := chunkgen.New(16)
	var chunk []byte
	for i, r := range records {
		chunk = g.AppendEvent(chunk, g.Sec, uint32(i), r)
	}
	return chunk
}

// The 1 MB per-log limit holds for the whole entry: a 2 MB attribute is
// cut, a 1 MB key and the largest of 100,000 keys are left out, each
// marked, and the entries arrive with the records around them.
// (Before: entries of 2.1 MB and more went out.)
func TestWholeEntryPerLogLimit(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	many := []string{"log", "many keys seq=2"}
	for i := 0; i < 100_000; i++ {
		many = append(many, fmt.Sprintf("key_%06d", i), "value")
	}
	chunk := chunkOf(
		appRecord("log", "boom seq=0", "stack", strings.Repeat("\tat com.example.Handler.process(Handler.java:42)\n", 40_000)),
		appRecord("log", "huge key seq=1", strings.Repeat("k", 1_000_000), "v"),
		appRecord(many...),
		appRecord("log", "plain seq=3"),
	)
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "ecs_metadata_uri off", "retry_budget 20s"))
	s, stderr := runHost(t, "-conf", conf, writeChunks(t, [][]byte{chunk})[0])
	if s.OK != 1 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	checkContract(t, srv)
	checkExactlyOnce(t, srv, 4)
	if st := srv.Stats(); st.MaxEntryBytes > 1_000_000 {
		t.Errorf("an entry of %d bytes", st.MaxEntryBytes)
	}
	marks := map[string]string{"boom": shape.CutAttributesKey, "huge": shape.DroppedAttributesKey, "many": shape.DroppedAttributesKey}
	for _, l := range srv.Logs() {
		msg := l["message"].(string)
		if key, ok := marks[strings.Fields(msg)[0]]; ok && l[key] == nil {
			t.Errorf("%q arrived without %s", msg, key)
		}
	}
	if !strings.Contains(stderr, "truncated=3 ") {
		t.Errorf("cut entries not counted:\n%s", tail(stderr))
	}
}

// A container's rules from its labels are bounded: a z* mask with a 1 KB
// placeholder on a 100 KB message and 3,000 rules cost a bounded entry and
// a bounded time. (Before: 231 MB of heap for the one record.)
func TestHostileRulesBounded(t *testing.T) {
	rs := []map[string]string{{"type": "mask_sequences", "name": "z", "pattern": "z*", "replace_placeholder": strings.Repeat("#", 1024)}}
	for i := 0; i < 3000; i++ {
		rs = append(rs, map[string]string{"type": "mask_sequences", "name": fmt.Sprint("r", i), "pattern": fmt.Sprintf(`tok%d=\w+`, i), "replace_placeholder": "x"})
	}
	label, _ := json.Marshal([]map[string]any{{"log_processing_rules": rs}})
	doc := ecstest.WithLabel(t, ecstest.Doc(t, "fargate-service-task.json"), "app", labels.ADLogs, string(label))
	srv := intaketest.StartT(t, intaketest.Options{})
	records := [][]byte{appRecord("log", strings.Repeat("secret ", 100_000/7)+"seq=0")}
	for i := 1; i < 200; i++ {
		records = append(records, appRecord("log", fmt.Sprintf("GET /api/v1/items/%d tok7=abc seq=%d", i, i)))
	}
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "ecs_metadata_uri "+ecstest.URL(t, doc), "retry_budget 20s"))
	start := time.Now()
	s, stderr := runHost(t, "-conf", conf, writeChunks(t, [][]byte{chunkOf(records...)})[0])
	if s.OK != 1 || time.Since(start) > 20*time.Second {
		t.Fatalf("summary %+v after %s\n%s", s, time.Since(start), tail(stderr))
	}
	if st := srv.Stats(); st.Entries != 200 || st.MaxEntryBytes > 1_000_000 {
		t.Errorf("%d entries, the largest %d bytes", st.Entries, st.MaxEntryBytes)
	}
	for _, l := range srv.Logs() {
		if strings.Contains(l["message"].(string), "secret secret") || strings.Contains(l["message"].(string), "tok7=abc") {
			t.Errorf("unmasked text arrived: %.80q", l["message"])
		}
	}
	if !strings.Contains(stderr, "2969 rules past the first 32") || !strings.Contains(stderr, "truncated=1 ") {
		t.Errorf("bounds not reported:\n%s", tail(stderr))
	}
}

package e2e

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intaketest"
)

// Delivery at the edges (README, "Delivery") through the C host.

// Refused records in every quarter of a chunk cost those records only, in
// one try (the host's retry limit 1 is Fluent Bit's default Retry_Limit).
// (Before: the chunk was retried, then given up: all 1,000 lost.)
func TestRefusedRecordsSpread(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{RejectMarker: chunkgen.RefuseMarker})
	bad := map[int]bool{10: true, 260: true, 510: true, 760: true}
	g := chunkgen.New(12)
	g.Refused = func(seq int) bool { return bad[seq] }
	paths := writeChunks(t, g.Chunks(1000, 64<<20))
	s, stderr := runHost(t, append([]string{"-conf", writeFile(t, "c.conf", seedConf(srv.URL))}, paths...)...)
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
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "max_retries 2"))
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
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "max_retries 0", "max_batch_entries 100"))
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

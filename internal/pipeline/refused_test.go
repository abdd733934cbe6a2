package pipeline

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

// markedChunk is one chunk of n FireLens records, those at bad refused by
// the stand-in (RejectMarker chunkgen.RefuseMarker) with 400.
func markedChunk(n int, bad func(i int) bool) []byte {
	g := chunkgen.New(1)
	g.Shapes, g.Refused = []chunkgen.Shape{chunkgen.Access}, bad
	return g.Chunks(n, 64<<20)[0]
}

// retryUntilOK flushes chunk as Fluent Bit does with Retry_Limit
// no_limits: again until FLB_OK, at most max times; it returns the tries.
func retryUntilOK(t *testing.T, in *Instance, chunk []byte, max int) int {
	t.Helper()
	for try := 1; try <= max; try++ {
		switch code := in.Flush(chunk, []byte("tag")); code {
		case OK:
			return try
		case Error:
			t.Fatalf("try %d: %v", try, code)
		}
	}
	t.Fatalf("not delivered after %d tries", max)
	return max
}

// fastBackoff is an instance built as New does, whose client's backoffs
// are 1-20 ms (the default 250 ms-10 s would make these tests wait, not
// work).
func fastBackoff(t *testing.T, srv *intaketest.Server, props map[string]string) *Instance {
	t.Helper()
	in, _ := newInstanceWith(t, srv.URL, props, overrides{client: func(o *intake.Options) {
		o.BackoffBase, o.BackoffMax = time.Millisecond, 20*time.Millisecond
	}})
	return in
}

// Refused records anywhere in a chunk cost those records only: every other
// record arrives exactly once, each refused one is dropped after its second
// refusal alone, and the cap on requests per try only spreads the work
// over Fluent Bit's tries. (Before: bad records at 10, 260, 510, 760 of
// 1,000 lost the whole chunk; one every 10th delivered 0 of 900 in 12
// tries; 40 in the first half left 66 good records undelivered after 30
// tries; record 1,000 of 1,001 was retried forever.)
func TestRefusedRecordsAnywhere(t *testing.T) {
	every := func(k, below int) func(int) bool { return func(i int) bool { return i < below && i%k == 0 } }
	for _, c := range []struct {
		name     string
		n        int
		bad      func(int) bool
		maxTries int
	}{
		{"one in each quarter", 1000, func(i int) bool { return i == 10 || i == 260 || i == 510 || i == 760 }, 1},
		{"one every 10th", 1000, every(10, 1000), 8},
		{"40 in the first half", 1000, every(12, 480), 3},
		{"last of 1001, alone in its payload", 1001, func(i int) bool { return i == 1000 }, 1},
		{"500 of 1001", 1001, func(i int) bool { return i == 500 }, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := intaketest.StartT(t, intaketest.Options{RejectMarker: chunkgen.RefuseMarker})
			in := fastBackoff(t, srv, nil)
			tries := retryUntilOK(t, in, markedChunk(c.n, c.bad), 50)
			in.Close()
			seqs, bad := srv.Seqs(), 0
			for i := 0; i < c.n; i++ {
				want := 1
				if c.bad(i) {
					want, bad = 0, bad+1
				}
				if seqs[i] != want {
					t.Errorf("seq %d delivered %d times, want %d", i, seqs[i], want)
				}
			}
			if d := in.Stats.DropRejected.Load(); d != int64(bad) || tries > c.maxTries || !in.progress.Empty() {
				t.Errorf("%d dropped of %d bad, %d tries (at most %d), memory %d", d, bad, tries, c.maxTries, in.progress.Len())
			}
			t.Logf("%d bad of %d: %d tries, %d requests", bad, c.n, tries, srv.Stats().Requests)
		})
	}
}

// An intake answering 400 at random (a load-balanced relay with one bad
// backend) to 4,000 valid records with max_retries 2: once it refuses a
// part and accepts both halves, nothing is dropped; every record arrives
// exactly once after Fluent Bit's tries. (Before, with 10,000 records:
// p = 0.5 dropped 21 records, 0.7 231, with FLB_OK.)
func TestRandom400sDropNothing(t *testing.T) {
	const n = 4000
	for _, p := range []float64{0.5, 0.7} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			rng := rand.New(rand.NewPCG(uint64(p*10), 7))
			srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault {
				mu.Lock()
				defer mu.Unlock()
				if rng.Float64() < p {
					return intaketest.Fault{Status: 400}
				}
				return intaketest.Fault{}
			}})
			in := fastBackoff(t, srv, map[string]string{"max_retries": "2"})
			tries := 0
			for _, chunk := range chunkgen.New(11).Chunks(n, 512<<10) {
				tries += retryUntilOK(t, in, chunk, 400)
			}
			in.Close()
			seqs := srv.Seqs()
			for i := 0; i < n; i++ {
				if seqs[i] != 1 {
					t.Errorf("seq %d delivered %d times", i, seqs[i])
					break
				}
			}
			if d := in.Stats.DropRejected.Load(); d != 0 {
				t.Errorf("%d valid records dropped", d)
			}
			t.Logf("p=%.1f: %d tries, %d requests", p, tries, srv.Stats().Requests)
		})
	}
}

// flakyIntake fails every third request with 503 (max_retries 0 makes each
// a failed payload), so chunks of several payloads are handed back half
// delivered; each answer takes delay.
func flakyIntake(t *testing.T, delay time.Duration) *intaketest.Server {
	return intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n%3 == 0 {
			return intaketest.Fault{Status: 503, Delay: delay}
		}
		return intaketest.Fault{Delay: delay}
	}})
}

var flakyProps = map[string]string{"max_batch_entries": "100", "max_retries": "0", "max_concurrency": "1"}

// Identical chunks (same bytes, same tag) cannot be told from a retry:
// their records are delivered exactly once in aggregate, whichever order
// Fluent Bit flushes them in. Here three identical chunks arrive one after
// the other while the earlier ones wait for their retry (half delivered),
// then are retried in turn: a new chunk may complete a waiting one's
// records (the same records), and that one's retry then sends its own.
// (Before: the new chunk returned FLB_OK having sent 1,000 of its 2,000
// records, and the waiting chunk's memory was gone.)
func TestIdenticalChunksExactlyOnceInAggregate(t *testing.T) {
	srv := flakyIntake(t, 0)
	in, _ := newInstance(t, srv, flakyProps)
	x := chunkgen.New(21).Chunks(1000, 8<<20)[0]
	const copies = 3
	pending := 0
	for i := 0; i < copies; i++ { // each new chunk's first try
		if in.Flush(x, []byte("tag")) == Retry {
			pending++
		}
	}
	if pending == 0 || in.Stats.Resumed.Load() == 0 {
		t.Fatalf("%d chunks waiting, %d records resumed by a new chunk: the intake failed too little", pending, in.Stats.Resumed.Load())
	}
	for pending > 0 { // Fluent Bit's retries, in turn
		if in.Flush(x, []byte("tag")) == OK {
			pending--
		}
	}
	in.Close()
	checkTimes(t, srv, 1000, copies)
	if !in.progress.Empty() || in.Stats.Forgotten.Load() != 0 {
		t.Errorf("memory %d, forgotten %d", in.progress.Len(), in.Stats.Forgotten.Load())
	}
}

// With two workers flushing identical chunks at once, each handed back
// half delivered, every entry of their key is kept and each record arrives
// exactly as many times as chunks were flushed. (Before: a second entry
// for the key overwrote the first: +4,000 duplicates in 180,000.)
func TestIdenticalChunksTwoWorkers(t *testing.T) {
	srv := flakyIntake(t, 5*time.Millisecond) // the two workers' flushes overlap
	in, _ := newInstance(t, srv, flakyProps)
	x := chunkgen.New(22).Chunks(600, 8<<20)[0]
	const copies = 12
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < copies/2; i++ {
				retryUntilOK(t, in, x, 50)
			}
		}()
	}
	wg.Wait()
	in.Close()
	checkTimes(t, srv, 600, copies)
	if !in.progress.Empty() || in.Stats.Forgotten.Load() != 0 || in.Stats.Resumed.Load() == 0 {
		t.Errorf("memory %d, forgotten %d, resumed %d", in.progress.Len(), in.Stats.Forgotten.Load(), in.Stats.Resumed.Load())
	}
}

// checkTimes checks each seq of [0, n) arrived exactly times times.
func checkTimes(t *testing.T, srv *intaketest.Server, n, times int) {
	t.Helper()
	seqs := srv.Seqs()
	bad := 0
	for i := 0; i < n; i++ {
		if seqs[i] != times {
			if bad++; bad < 5 {
				t.Errorf("seq %d arrived %d times, want %d", i, seqs[i], times)
			}
		}
	}
	if len(seqs) != n {
		t.Errorf("%d distinct seqs, want %d", len(seqs), n)
	}
}

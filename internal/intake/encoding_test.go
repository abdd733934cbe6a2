package intake

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

// zstdWithFallback configures the rig as the pipeline does by default:
// zstd, and gzip should the path to the intake refuse it.
func zstdWithFallback(o *Options) {
	z, _ := compress.New(compress.Zstd, 0)
	o.Codec, o.Fallback = z, z.Fallback()
}

// A relay that does not speak zstd (415, or a 400 naming the encoding):
// the payload it refused is sent again in gzip, every later one goes in
// gzip at once, nothing is lost or sent twice, each record reaches its
// try's ledger once as done, and the switch is said once.
func TestZstdRefusedFallsBackToGzip(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
	}{{"415", http.StatusUnsupportedMediaType}, {"400 naming zstd", http.StatusBadRequest}} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, intaketest.Options{Unsupported: []string{"zstd"}, UnsupportedStatus: c.status}, func(o *Options) {
				zstdWithFallback(o)
				o.Concurrency = 4
			})
			// Four payloads at once, then four more: those in flight when the
			// first answer came may each be refused once; none after.
			var first intaketest.Stats
			for round := 0; round < 2; round++ {
				var wg sync.WaitGroup
				for i := 0; i < 4; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var l idSet
						if err := r.c.Deliver(context.Background(), payload(50), r.c.NewDelivery(&l, false, 0)); err != nil {
							t.Error(err)
						}
						if n := l.count(); n != 50 || len(l.held) != 0 {
							t.Errorf("the ledger has %d records done (-1: one twice) and %v held, want 50 and none", n, l.held)
						}
					}()
				}
				wg.Wait()
				if round == 0 {
					first = r.srv.Stats()
				}
			}
			st := r.srv.Stats()
			if first.Unsupported < 1 || st.Unsupported != first.Unsupported || st.ByEncoding["gzip"] != 8 || st.ByEncoding["zstd"] != 0 {
				t.Errorf("the intake got %+v, then %+v", first, st)
			}
			if st.Entries != 400 { // each payload accepted once: none lost, none twice
				t.Errorf("the intake accepted %d entries, want 400", st.Entries)
			}
			if n := strings.Count(r.logs.String(), "refused zstd payloads"); n != 1 {
				t.Errorf("the switch said %d times:\n%s", n, r.logs)
			}
			if got := r.stats.RecordsOut.Load(); got != 400 {
				t.Errorf("%d records accepted, want 400", got)
			}
			if r.stats.DropRejected.Load() != 0 {
				t.Errorf("records dropped: %d", r.stats.DropRejected.Load())
			}
		})
	}
}

// A 400 that does not name the encoding is about the records (isolate), and
// gzip refused has nowhere to fall back to: neither switches.
func TestNoFallbackWithoutCause(t *testing.T) {
	r := newRig(t, intaketest.Options{RejectMarker: `seq=7"`}, zstdWithFallback)
	if err, held := r.settle(payload(20), nil); err != nil || len(held) != 0 {
		t.Fatalf("err %v held %v", err, held)
	}
	if st := r.srv.Stats(); st.ByEncoding["gzip"] != 0 || r.c.fellBack.Load() || r.stats.DropRejected.Load() != 1 {
		t.Errorf("a record's 400 switched the encoding: %+v\n%s", st, r.logs)
	}

	g := newRig(t, intaketest.Options{Unsupported: []string{"gzip"}}, nil)
	err := g.c.Deliver(context.Background(), payload(5), nil)
	if err == nil || !isRetryable(err) || !strings.Contains(g.logs.String(), "unexpected HTTP 415") {
		t.Errorf("gzip refused: err %v\n%s", err, g.logs)
	}
}

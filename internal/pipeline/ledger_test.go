package pipeline

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

// A flush reads Fluent Bit's memory (the chunk, the tag) only before its
// first request: here both are overwritten as soon as the intake receives
// the first request of the chunk's first try, as Fluent Bit 1.9 frees a
// chunk at shutdown while a flush of it still runs. The outcome is the
// one of untouched memory: the chunk of 10 payloads is handed back with
// the failed one's records, every other record arrives once with the
// right tag, and Fluent Bit's retry (the same bytes again) is known by its
// key and sends only the rest. (Before: the rest of the chunk was decoded
// from the overwritten bytes while the first payloads were in flight, and
// the chunk's key was hashed from them after the flush's waits.)
func TestNoFluentBitMemoryReadAfterWait(t *testing.T) {
	orig := chunkgen.New(28).Chunks(1000, 8<<20)[0]
	chunk, tag := bytes.Clone(orig), []byte("app-firelens-0123")
	var first atomic.Bool
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if first.CompareAndSwap(false, true) {
			for i := range chunk {
				chunk[i] = 0xc1 // never used in MessagePack: any read of it is malformed
			}
			copy(tag, "XXXXXXXXXXXXXXXXX")
		}
		if n == 3 {
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	in, logs := newInstance(t, srv, map[string]string{"max_batch_entries": "100", "max_concurrency": "1", "max_retries": "0",
		"include_tag_key": "true", "tag_key": "fluentbit_tag"})
	if code := in.Flush(chunk, tag); code != Retry {
		t.Fatalf("first try: %v, want FLB_RETRY (one payload failed)", code)
	}
	if !first.Load() || !bytes.Equal(tag, []byte("XXXXXXXXXXXXXXXXX")) {
		t.Fatal("the memory was not overwritten during the flush")
	}
	if got := len(srv.Seqs()); got != 900 {
		t.Fatalf("first try delivered %d distinct records, want 900", got)
	}
	// Fluent Bit retries the chunk: its bytes and tag as they were.
	copy(chunk, orig)
	copy(tag, "app-firelens-0123")
	if code := in.Flush(chunk, tag); code != OK {
		t.Fatalf("retry: %v", code)
	}
	in.Close()
	checkTimes(t, srv, 1000, 1)
	for _, l := range srv.Logs() {
		if l["fluentbit_tag"] != "app-firelens-0123" {
			t.Fatalf("a log carries tag %v", l["fluentbit_tag"])
		}
	}
	if s := in.Stats.Snapshot(); s.Resumed != 900 || s.RecordsIn != 1000 || s.DropMalformed != 0 || s.FlushError != 0 {
		t.Errorf("counters: %s", s)
	}
	if !strings.Contains(logs.String(), "retried chunk tag=app-firelens-0123: 900 record(s) delivered by an earlier try not sent again") {
		t.Errorf("log:\n%s", logs)
	}
}

// confirmPanics is a codec that panics the second time it is given the
// BAD record alone: when Confirm sends it again, on the flush's own
// goroutine, after every other payload of the chunk was accepted.
type confirmPanics struct {
	intake.Compressor
	alone atomic.Int32
}

func (c *confirmPanics) Compress(dst, src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(chunkgen.RefuseMarker)) && !bytes.Contains(src, []byte("},{")) && c.alone.Add(1) == 2 {
		panic("encoder bug")
	}
	return c.Compressor.Compress(dst, src)
}

// A panic in a flush after the intake accepted part of its chunk is
// recovered by the flush itself: the chunk goes back to Fluent Bit with
// what was accepted remembered, so the retry does not send it again.
// (Before: the cgo boundary recovered it and the retry sent the whole
// chunk again.)
func TestPanicInFlushRemembersAccepted(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{RejectMarker: chunkgen.RefuseMarker})
	in, logs := newInstanceWith(t, srv.URL, map[string]string{"max_batch_entries": "100"}, overrides{client: func(o *intake.Options) {
		o.Codec = &confirmPanics{Compressor: o.Codec}
		o.BackoffBase, o.BackoffMax = time.Millisecond, 2*time.Millisecond
	}})
	chunk := markedChunk(1000, func(i int) bool { return i == 500 })
	if code := in.Flush(chunk, []byte("tag")); code != Retry {
		t.Fatalf("flush that panicked: %v, want FLB_RETRY", code)
	}
	if got := len(srv.Seqs()); got != 999 || in.Stats.Panics.Load() != 1 || !strings.Contains(logs.String(), "panic in flush: encoder bug") {
		t.Fatalf("intake holds %d records, panics %d\n%s", got, in.Stats.Panics.Load(), logs)
	}
	for try := 0; try < 3; try++ {
		in.Flush(chunk, []byte("tag"))
	}
	in.Close()
	seqs := srv.Seqs()
	for i := 0; i < 1000; i++ {
		if want := 1 - btoi(i == 500); seqs[i] != want {
			t.Fatalf("seq %d arrived %d times, want %d", i, seqs[i], want)
		}
	}
	if r := in.Stats.Resumed.Load(); r < 999 {
		t.Errorf("resumed %d records, want the 999 accepted before the panic skipped by the retry", r)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

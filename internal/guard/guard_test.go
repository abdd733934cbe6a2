package guard

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

func TestRecoverOnGoroutine(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "t", logging.Info)
	var panics atomic.Int64
	var got *PanicError
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer Recover(log, &panics, "sender", func(e *PanicError) { got = e })
		var m map[string]int
		m["boom"] = 1 // a real runtime panic
	}()
	wg.Wait()
	if panics.Load() != 1 || got == nil || got.Where != "sender" || !strings.Contains(got.Error(), "nil map") {
		t.Fatalf("panics %d, error %v", panics.Load(), got)
	}
	if !strings.Contains(buf.String(), "panic in sender") || !strings.Contains(buf.String(), "guard_test.go") {
		t.Errorf("log lacks the panic and its stack:\n%s", buf.String())
	}
	// No panic: nothing happens.
	func() {
		defer Recover(log, &panics, "x", func(*PanicError) { t.Error("onPanic without a panic") })
	}()
	if panics.Load() != 1 {
		t.Error("counted without a panic")
	}
}

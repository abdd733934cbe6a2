// Package guard keeps a panic in the plugin's Go code from taking Fluent
// Bit down: a panic on a goroutine nobody recovers ends the whole process,
// and the plugin runs inside Fluent Bit's. Every goroutine the plugin
// starts defers Recover (the cgo entry points have their own).
package guard

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// PanicError is a recovered panic, as an error.
type PanicError struct {
	Where string
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic in %s: %v", e.Where, e.Value) }

// Recover must be deferred directly (`defer guard.Recover(...)`): it stops a
// panic, logs it with the stack, adds one to panics (when not nil) and hands
// the panic to onPanic (when not nil), which decides what the failure means
// (a flush reports FLB_RETRY, a background loop goes on).
func Recover(log *logging.Logger, panics *atomic.Int64, where string, onPanic func(*PanicError)) {
	r := recover()
	if r == nil {
		return
	}
	if panics != nil {
		panics.Add(1)
	}
	e := &PanicError{Where: where, Value: r}
	log.Errorf("%v (recovered; Fluent Bit goes on)\n%s", e, debug.Stack())
	if onPanic != nil {
		onPanic(e)
	}
}

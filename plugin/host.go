package main

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <signal.h>

// Fluent Bit's main (src/fluent-bit.c, the same in 1.9.10, 4.2.8 and 5.1.1)
// keeps `volatile sig_atomic_t exit_signal`, which its SIGTERM, SIGINT and
// SIGQUIT handler sets; its CMake build exports the binary's symbols
// (ENABLE_EXPORTS), which is how Go plugins reach flb_log_print too. NULL
// when the process is not that binary (flb_engine_exit names it).
static volatile sig_atomic_t *flb_exit_signal(void) {
	if (dlsym(RTLD_DEFAULT, "flb_engine_exit") == NULL) {
		return NULL;
	}
	return (volatile sig_atomic_t *) dlsym(RTLD_DEFAULT, "exit_signal");
}

static int flb_read_signal(volatile sig_atomic_t *p) { return (int) *p; }
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/budget"
	"github.com/out-datadog-go/out_datadog_go/internal/flbconf"
	"github.com/out-datadog-go/out_datadog_go/internal/guard"
	"github.com/out-datadog-go/out_datadog_go/internal/pipeline"
)

// Fluent Bit never tells an output that it is stopping: it calls the exit
// callback only after it has waited for the output's flushes. The plugin
// watches Fluent Bit's exit_signal instead, and tells every live instance
// (pipeline.Instance.Stopping, which cuts its flushes at its budget's
// Stop) when it is set, so their flushes end inside Grace. Where the
// symbol is missing, retry_budget and the intake's health bound the stop
// alone.
var watchOnce sync.Once

// watchPeriod is how often exit_signal is read: Fluent Bit's own main loop
// reads it once a second.
const watchPeriod = 200 * time.Millisecond

// budgetOf is the output's budget from its retry_budget and the Grace the
// plugin read of Fluent Bit's files: unknown, or negative (4.x and 5.x's
// -1: wait for every flush), it sets no stop cut, the choice that loses
// nothing (retry_budget and the probes still bound the stop).
func budgetOf(retryBudget time.Duration, g flbconf.Grace) budget.Budget {
	return budget.New(retryBudget, budget.Grace{D: time.Duration(g.Seconds) * time.Second, Known: g.Known})
}

// watchStop starts the watcher of the stop signal, once, when an instance
// has a stop cut (budget.Budget's Stop; 0: no cut, nothing to watch for).
func watchStop(stop time.Duration) {
	if stop <= 0 {
		return
	}
	watchOnce.Do(func() {
		sig := C.flb_exit_signal()
		if sig == nil {
			bootLog.Infof("Fluent Bit's exit_signal is not visible in this process: a stop waits for the flushes in flight (each bounded by retry_budget)")
			return
		}
		go func() {
			defer guard.Recover(bootLog, nil, "stop watch", nil)
			t := time.NewTicker(watchPeriod)
			defer t.Stop()
			for range t.C {
				if C.flb_read_signal(sig) == 0 {
					continue
				}
				live.mu.Lock()
				for in := range live.m {
					in.Stopping()
				}
				live.mu.Unlock()
				return
			}
		}()
	})
}

// warnNoWorkers logs once per instance, at its first flush, when that
// flush runs on Fluent Bit's engine thread, which every line names
// "flb-pipeline" (src/flb_lib.c; output workers are
// "flb-out-<instance>-w<N>", src/flb_output_thread.c): the [OUTPUT] has no
// workers, so a flush waiting on the intake stalls every input. It must run
// on the thread that called FlushCtx.
func warnNoWorkers(inst *pipeline.Instance) {
	e := lookup(inst)
	if e == nil || e.checked.Swap(true) {
		return
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/comm", syscall.Gettid()))
	if err == nil && strings.TrimSpace(string(b)) == "flb-pipeline" {
		e.log.Warnf("this output flushes on Fluent Bit's engine thread (it has no workers): while a flush waits on the intake, " +
			"every input waits too, FireLens' forward socket included. Set `workers 4` on the [OUTPUT]")
	}
}

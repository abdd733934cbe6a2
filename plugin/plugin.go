// Command plugin is the cgo face of out_datadog_go: the four symbols Fluent
// Bit's Go proxy looks up in the shared library. It only translates between
// the C world and internal/pipeline; every entry point recovers from panics so
// a bug in Go can never take Fluent Bit down.
package main

/*
#include <stdlib.h>
#include <string.h>
#include "fluentbit.h"

// include/fluent-bit/flb_plugin_proxy.h and flb_io.h, the same in 1.9.10,
// 4.2.8 and 5.1.1 (4.x appends event_type and 5.x config_map, which Fluent
// Bit zeroes: flb_plugin_proxy_create callocs the struct).
struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
};
#define FLB_IO_OPT_TLS 4
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/out-datadog-go/out_datadog_go/internal/budget"
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/pipeline"
	"github.com/out-datadog-go/out_datadog_go/internal/version"
)

// PluginName is what `[OUTPUT] Name` matches. It must differ from the
// built-in C output's "datadog".
const PluginName = "datadog_go"

// instances numbers the [OUTPUT] sections for log lines in a host that
// does not say an instance's name (Fluent Bit does: its Alias or
// datadog_go.N).
var instances atomic.Int64

// settleLog gives Fluent Bit's log collector time to write the lines just
// sent to it, before Fluent Bit ends: it loses lines written in the last
// moments of a shutdown (its own "worker stopped" too) or of a failed
// start-up. Measured: the exit line missing from about 1 stop in 12 under
// 4.2.8 with workers and none of 20 with the pause; a configuration error
// missing from 1.9.10's log under a loaded make test.
func settleLog() {
	if C.ddgo_log_ready() != 0 {
		time.Sleep(budget.Settle)
	}
}

// bootLog prints what no instance can: stderr, then Fluent Bit's logger
// once an instance found it.
var bootLog = logging.New(os.Stderr, "init", logging.Info)

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) (ret int) {
	defer recoverExport("FLBPluginRegister", nil, &ret, output.FLB_ERROR)
	ret = output.FLBPluginRegister(def, PluginName, "Datadog logs intake (Go, "+version.Version+")")
	// Registered as taking optional TLS, as the built-in datadog output
	// is: Fluent Bit 4 then accepts the `TLS on` of a migrated section
	// (without it, start-up fails with "does not support TLS"); the plugin
	// always speaks HTTPS to a site itself (config.CheckSections).
	(*C.struct_flb_plugin_proxy_def)(def).flags = C.FLB_IO_OPT_TLS
	return ret
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) (ret int) {
	defer endInit(&ret)
	h := openFluentBit(plugin)
	name := h.name
	if name == "" {
		name = fmt.Sprintf("%s.%d", PluginName, instances.Add(1)-1)
	}
	log := logging.New(os.Stderr, name, logging.Info)
	if h.log {
		log = logging.NewSink(fluentBitLog{}, name, h.level)
		bootLog.SetSink(fluentBitLog{}, h.level)
	}
	get := func(key string) string { return output.FLBPluginConfigKey(plugin, key) }
	cfg, err := config.Parse(get, os.Getenv, os.ReadFile)
	if err != nil {
		log.Errorf("configuration error: %v", err)
		return output.FLB_ERROR
	}
	suppress, note, err := suppressInterval(plugin, get)
	if err != nil {
		log.Errorf("configuration error: %v", err)
		return output.FLB_ERROR
	}
	if note != "" && h.log {
		log.Infof("%s", note)
	}
	log.Suppress(suppress)
	grace, err := fromFiles(cfg, readFluentBitConfig(), get, log)
	if err != nil {
		log.Errorf("configuration error: %v", err)
		return output.FLB_ERROR
	}
	for _, w := range cfg.Warnings {
		log.Warnf("%s", w)
	}
	b := budgetOf(cfg.RetryBudget, grace)
	inst, err := pipeline.New(cfg, b, name, log)
	if err != nil {
		log.Errorf("init failed: %v", err)
		return output.FLB_ERROR
	}
	log.Infof("out_datadog_go %s ready: %s", version.Version, cfg)
	register(inst, &entry{log: log, metrics: mirrorMetrics(inst, h, name)})
	output.FLBPluginSetContext(plugin, inst)
	watchStop(b.Stop)
	profileStart()
	return output.FLB_OK
}

// FLBPluginFlush is the context-less flush of old Fluent Bit versions. Every
// version we support calls FLBPluginFlushCtx instead; with no context we
// cannot know which instance this is, so the chunk is handed back.
//
//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.int, tag *C.char) (ret int) {
	defer recoverExport("FLBPluginFlush", nil, &ret, output.FLB_RETRY)
	return output.FLB_RETRY
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) (ret int) {
	defer recoverExport("FLBPluginFlushCtx (chunk kept for retry)", ctx, &ret, output.FLB_RETRY)
	inst, _ := output.FLBPluginGetContext(ctx).(*pipeline.Instance)
	if inst == nil {
		bootLog.Errorf("flush for an unknown plugin context: chunk kept for retry")
		return output.FLB_RETRY
	}
	if data == nil || length <= 0 {
		return output.FLB_OK
	}
	warnNoWorkers(inst)
	// Zero-copy views of Fluent Bit's memory, valid only during this call:
	// Flush copies what it sends and keeps nothing.
	chunk := unsafe.Slice((*byte)(data), int(length))
	var tagBytes []byte
	if tag != nil {
		tagBytes = unsafe.Slice((*byte)(unsafe.Pointer(tag)), int(C.strlen(tag)))
	}
	return int(inst.Flush(chunk, tagBytes))
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (ret int) {
	defer recoverExport("FLBPluginExitCtx", ctx, &ret, output.FLB_ERROR)
	if inst, ok := output.FLBPluginGetContext(ctx).(*pipeline.Instance); ok {
		e, left := unregister(inst)
		inst.Close()
		inst.Logger().Flush() // the counts of lines suppressed lately
		settleLog()
		if e != nil && e.metrics != nil {
			e.metrics.free() // its mirror stopped with Close
		}
		profileStop()
		if left == 0 {
			// Fluent Bit's logging context ends with the engine: lines
			// from now on go to stderr.
			bootLog.SetSink(logging.WriterSink(os.Stderr), logging.Info)
			C.ddgo_log_close()
		}
	}
	return output.FLB_OK
}

// FLBPluginExit is called by Fluent Bit versions that do not look up
// FLBPluginExitCtx; instances are closed through ExitCtx where it exists.
//
//export FLBPluginExit
func FLBPluginExit() (ret int) {
	defer recoverExport("FLBPluginExit", nil, &ret, output.FLB_ERROR)
	return output.FLB_OK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	defer recoverExport("FLBPluginUnregister", nil, nil, 0)
	output.FLBPluginUnregister(def)
}

// endInit is FLBPluginInit's first statement, deferred: a panic is logged
// (in Fluent Bit's log once the init found it) and fails the init, and a
// failed init leaves its lines time to reach Fluent Bit's log, as Fluent
// Bit exits at once.
func endInit(ret *int) {
	if r := recover(); r != nil {
		bootLog.Errorf("panic in FLBPluginInit: %v\n%s", r, debug.Stack())
		*ret = output.FLB_ERROR
	}
	if *ret != output.FLB_OK {
		settleLog()
	}
}

// recoverExport is the first statement of every other export, deferred: a
// panic is logged with its stack (in the log of the instance of ctx, when
// there is one, and counted there), and the export returns onPanic (ret
// nil: it returns nothing).
func recoverExport(where string, ctx unsafe.Pointer, ret *int, onPanic int) {
	r := recover()
	if r == nil {
		return
	}
	log := bootLog
	if ctx != nil {
		if inst, ok := output.FLBPluginGetContext(ctx).(*pipeline.Instance); ok {
			log = inst.Logger()
			inst.Stats.Panics.Add(1)
		}
	}
	log.Errorf("panic in %s: %v\n%s", where, r, debug.Stack())
	if ret != nil {
		*ret = onPanic
	}
}

func main() {}

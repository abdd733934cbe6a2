package main

/*
#include <stdlib.h>

#include "proxy.h"

static void ddgo_register(struct flb_plugin_proxy_def *def, char *name, char *desc) {
    def->type = FLB_PROXY_OUTPUT_PLUGIN;
    def->proxy = FLB_PROXY_GOLANG;
    // Optional TLS, as the built-in datadog output takes it: Fluent Bit 4
    // then accepts the `TLS on` of a migrated section (without it, start-up
    // fails with "does not support TLS"); the plugin always speaks HTTPS
    // to a site itself (config.CheckSections).
    def->flags = FLB_IO_OPT_TLS;
    def->name = name;
    def->description = desc;
}

static void ddgo_unregister(struct flb_plugin_proxy_def *def) {
    free(def->name);
    free(def->description);
    def->name = NULL;
    def->description = NULL;
}

static char *ddgo_property(void *plugin, char *key) {
    struct flbgo_output_plugin *p = plugin;
    return p->api->output_get_property(key, p->o_ins);
}

static void ddgo_set_context(void *plugin, void *ctx) {
    ((struct flbgo_output_plugin *) plugin)->context->remote_context = ctx;
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

// The ABI of Fluent Bit's Go proxy, written here rather than taken from
// fluent-bit-go's output package (the guide's chosen library), because a
// benchmark shows it pays: that package also holds a record decoder built
// on ugorji/go/codec, which links net/rpc, encoding/gob and html/template
// into the .so (10.8 MB against 9.3). Measured with `make bench
// BENCHFLAGS="-only realfb -idleso ..."`, this plugin built both ways, idle
// routers side by side in the same runs (medians of 3, workers 2): with the
// package the router keeps 1.0-1.1 MB more resident on each line (5.1.1
// 24.1 against 23.0 MB, 4.2.8 20.2 against 19.2, 1.9.10 18.5 against 17.5;
// 0.2-0.3 MB of it anonymous, the rest the .so's pages) and its package
// initialisation at dlopen allocates 177 KB against 136. Threads (12, 12,
// 10) and the initialisation's time (2.1-2.6 ms either way) do not change.
// The five calls are small and the same in 1.9.10, 4.2.8 and 5.1.1
// (proxy.h); test/realfb runs them on each line.

// The codes a flush returns (fluent-bit-go's FLB_ERROR, FLB_OK, FLB_RETRY).
const (
	flbError = 0
	flbOK    = 1
	flbRetry = 2
)

// registerProxy fills Fluent Bit's definition of the plugin. The strings
// are C memory, freed by unregisterProxy.
func registerProxy(def unsafe.Pointer, name, desc string) {
	C.ddgo_register((*C.struct_flb_plugin_proxy_def)(def), C.CString(name), C.CString(desc))
}

func unregisterProxy(def unsafe.Pointer) {
	C.ddgo_unregister((*C.struct_flb_plugin_proxy_def)(def))
}

// configKey is the value of key in the instance's [OUTPUT] section, "" when
// absent (Fluent Bit matches keys without regard to case).
func configKey(plugin unsafe.Pointer, key string) string {
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	return C.GoString(C.ddgo_property(plugin, k))
}

// contexts maps the opaque pointer Fluent Bit hands back to FlushCtx and
// ExitCtx to its instance's Go value. The pointer is one byte of C memory
// per instance, unique for the process's life: Go pointers cannot be kept
// in C memory.
var contexts sync.Map // uintptr -> any

func setContext(plugin unsafe.Pointer, v any) {
	p := C.malloc(1)
	contexts.Store(uintptr(p), v)
	C.ddgo_set_context(plugin, p)
}

func getContext(ctx unsafe.Pointer) any {
	v, _ := contexts.Load(uintptr(ctx))
	return v
}

// Command null is an output plugin that accepts every chunk at once: the Go
// runtime and nothing else. Through the C host `make bench` subtracts its
// cost from the other runs; inside Fluent Bit it is the floor of any Go
// plugin's idle footprint (benchmarks/README.md). It takes the proxy ABI
// from plugin/proxy.h, as plugin/abi.go does, so that no library's package
// initialisation is counted in the floor.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../plugin
#include <stdlib.h>
#include <string.h>
#include "proxy.h"

static void null_register(struct flb_plugin_proxy_def *def) {
    def->type = FLB_PROXY_OUTPUT_PLUGIN;
    def->proxy = FLB_PROXY_GOLANG;
    def->flags = 0;
    def->name = strdup("null_go");
    def->description = strdup("discards everything");
}

static char null_context;

static void null_set_context(void *plugin) {
    ((struct flbgo_output_plugin *) plugin)->context->remote_context = &null_context;
}
*/
import "C"

import "unsafe"

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	C.null_register((*C.struct_flb_plugin_proxy_def)(def))
	return 0
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) int {
	C.null_set_context(plugin)
	return 1 // FLB_OK
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int { return 1 }

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int { return 1 }

func main() {}

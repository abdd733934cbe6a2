// Command null is an output plugin that accepts every chunk at once: the Go
// runtime and nothing else. Through the C host `make bench` subtracts its
// cost from the other runs; inside Fluent Bit it is the floor of any Go
// plugin's idle footprint (benchmarks/README.md). It declares the proxy ABI
// itself, as plugin/abi.go does, so that no library's package
// initialisation is counted in the floor.
package main

/*
#include <stdlib.h>
#include <string.h>

struct flb_plugin_proxy_def { int type; int proxy; int flags; char *name; char *description; };
struct flb_plugin_proxy_context { void *remote_context; };
struct flbgo_output_plugin { void *_; void *api; void *o_ins; struct flb_plugin_proxy_context *context; };

static void null_register(struct flb_plugin_proxy_def *def) {
    def->type = 2;   // FLB_PROXY_OUTPUT_PLUGIN
    def->proxy = 11; // FLB_PROXY_GOLANG
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

// Command null is an output plugin that accepts every chunk at once: run
// through the same C host it measures the host's and the Go runtime's own
// cost, which `make bench` subtracts from the other runs.
package main

import "C"

import (
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return output.FLBPluginRegister(def, "null_go", "discards everything")
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) int {
	output.FLBPluginSetContext(plugin, struct{}{})
	return output.FLB_OK
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int { return output.FLB_OK }

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int { return output.FLB_OK }

func main() {}

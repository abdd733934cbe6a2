package main

import (
	"sync"
	"sync/atomic"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/pipeline"
)

// live is what the plugin keeps for each instance between its init and its
// exit: the cgo boundary's one registry, read by the stop watch (host.go),
// the first flush's check (host.go) and the exit.
var live = struct {
	mu sync.Mutex
	m  map[*pipeline.Instance]*entry
}{m: map[*pipeline.Instance]*entry{}}

type entry struct {
	log     *logging.Logger
	metrics *metrics    // its series in Fluent Bit's metrics context; nil when none
	checked atomic.Bool // its first flush was checked for running on the engine thread
}

func register(inst *pipeline.Instance, e *entry) {
	live.mu.Lock()
	live.m[inst] = e
	live.mu.Unlock()
}

// lookup is inst's entry, nil once it exited.
func lookup(inst *pipeline.Instance) *entry {
	live.mu.Lock()
	defer live.mu.Unlock()
	return live.m[inst]
}

// unregister removes inst and says how many instances are left.
func unregister(inst *pipeline.Instance) (e *entry, left int) {
	live.mu.Lock()
	defer live.mu.Unlock()
	e = live.m[inst]
	delete(live.m, inst)
	return e, len(live.m)
}

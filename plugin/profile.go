package main

import "github.com/out-datadog-go/out_datadog_go/internal/profiling"

// measure is cgo-registry state: the one profiling session of the process,
// shared by every [OUTPUT] instance of the .so (see internal/profiling).
var measure profiling.Session

func profileStart() {
	if err := measure.Begin(); err != nil {
		bootLog.Errorf("%v", err)
	}
}

func profileStop() {
	if err := measure.End(); err != nil {
		bootLog.Errorf("%v", err)
	}
}

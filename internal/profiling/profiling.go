// Package profiling measures a plugin inside the process that loads it (a
// real Fluent Bit, or the C host of `make bench`), where `go test
// -cpuprofile` cannot reach. Two environment variables switch it on:
//
//	DATADOG_GO_CPUPROFILE=FILE  a Go CPU profile, first Begin to last End
//	DATADOG_GO_MEMSTATS=FILE    the Go runtime's memory counters (JSON), at the last End
//
// Unset, Begin and End cost one environment lookup.
package profiling

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
)

// Environment variables read by Begin and End.
const (
	CPUProfileEnv = "DATADOG_GO_CPUPROFILE"
	MemStatsEnv   = "DATADOG_GO_MEMSTATS"
)

// Session spans the plugin instances of one process: the profile starts
// with the first instance and is written with the last.
type Session struct {
	mu   sync.Mutex
	live int
	file *os.File
}

// Begin counts an instance in; the first one starts the CPU profile.
func (s *Session) Begin() error {
	cpu := os.Getenv(CPUProfileEnv)
	if cpu == "" && os.Getenv(MemStatsEnv) == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live++
	if cpu == "" || s.file != nil {
		return nil
	}
	f, err := os.Create(cpu)
	if err != nil {
		return fmt.Errorf("%s: %w", CPUProfileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", CPUProfileEnv, err)
	}
	s.file = f
	return nil
}

// End counts an instance out; the last one writes the profile and the
// memory counters.
func (s *Session) End() error {
	mem := os.Getenv(MemStatsEnv)
	if os.Getenv(CPUProfileEnv) == "" && mem == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live--; s.live > 0 {
		return nil
	}
	var err error
	if s.file != nil {
		pprof.StopCPUProfile()
		err = s.file.Close()
		s.file = nil
	}
	if mem != "" {
		if werr := os.WriteFile(mem, memStats(), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// MemStats is what DATADOG_GO_MEMSTATS holds.
type MemStats struct {
	Mallocs    uint64 `json:"mallocs"`     // heap objects allocated, ever
	TotalAlloc uint64 `json:"total_alloc"` // heap bytes allocated, ever
	HeapSys    uint64 `json:"heap_sys"`    // heap memory obtained from the OS: its high-water mark
	Sys        uint64 `json:"sys"`         // all memory the Go runtime obtained
	NumGC      uint32 `json:"num_gc"`
}

func memStats() []byte {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	data, _ := json.Marshal(MemStats{Mallocs: m.Mallocs, TotalAlloc: m.TotalAlloc, HeapSys: m.HeapSys, Sys: m.Sys, NumGC: m.NumGC})
	return data
}

package profiling

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestSessionWritesAtLastEnd(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.json")
	t.Setenv(CPUProfileEnv, cpu)
	t.Setenv(MemStatsEnv, mem)
	var s Session
	for i := 0; i < 2; i++ { // two instances
		if err := s.Begin(); err != nil {
			t.Fatal(err)
		}
	}
	sink := make([][]byte, 0, 100)
	for i := 0; i < 100; i++ {
		sink = append(sink, make([]byte, 1024))
	}
	_ = sink
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mem); err == nil {
		t.Fatal("memory counters written before the last instance ended")
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	var m MemStats
	data, err := os.ReadFile(mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Mallocs < 100 || m.TotalAlloc < 100*1024 || m.HeapSys == 0 {
		t.Errorf("implausible counters %+v", m)
	}
	if st, err := os.Stat(cpu); err != nil || st.Size() == 0 {
		t.Errorf("no CPU profile written: %v", err)
	}
}

func TestSessionOffCostsNothing(t *testing.T) {
	t.Setenv(CPUProfileEnv, "")
	t.Setenv(MemStatsEnv, "")
	var s Session
	if s.Begin() != nil || s.End() != nil || s.live != 0 {
		t.Error("an unset session did something")
	}
}

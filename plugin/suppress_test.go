package main

import "testing"

// log_suppress_interval is read as Fluent Bit reads it (seconds, or with a
// unit), and a value it would not take is refused.
func TestFlbSeconds(t *testing.T) {
	for v, want := range map[string]int{"0": 0, "10": 10, "30s": 30, "5m": 300, "1h": 3600, "1D": 86400} {
		if got, err := flbSeconds(v); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"x", "-1", "10ms", "5 m", "999d"} {
		if _, err := flbSeconds(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

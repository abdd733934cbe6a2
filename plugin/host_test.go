package main

import (
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/flbconf"
)

// Flushes go on for Grace less 2 s after the stop signal, at least 1 s;
// not cut at all when Grace is unknown (the choice that loses nothing) or
// negative (4.x's -1: Fluent Bit waits for every flush). The other bounds
// follow retry_budget (package budget).
func TestBudgetOfGrace(t *testing.T) {
	for _, tc := range []struct {
		grace flbconf.Grace
		want  time.Duration
	}{
		{flbconf.Grace{Seconds: 5, Known: true}, 3 * time.Second},
		{flbconf.Grace{Seconds: 30, Known: true}, 28 * time.Second},
		{flbconf.Grace{Seconds: 2, Known: true}, time.Second},
		{flbconf.Grace{Seconds: 0, Known: true}, time.Second},
		{flbconf.Grace{Seconds: -1, Known: true}, 0},
		{flbconf.Grace{Seconds: 30}, 0},
		{flbconf.Grace{}, 0},
	} {
		if got := budgetOf(4*time.Second, tc.grace).Stop; got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.grace, got, tc.want)
		}
	}
}

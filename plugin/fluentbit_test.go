package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fluentbit.c reads a Fluent Bit 1.9 instance's log level and metrics
// context only when its checks hold, and never faults on a wrong layout:
// testdata/v19_layout.c drives it against fake instances (1.9.10's layout,
// an Alias, another layout, garbage pointers).
func TestV19LayoutChecks(t *testing.T) { layoutCheck(t, "v19_layout") }

// So does its reading of a 4.x or 5.x instance's log_suppress_interval and
// of Fluent Bit's own gauges in a metrics context (testdata/v4_layout.c).
func TestV4LayoutChecks(t *testing.T) { layoutCheck(t, "v4_layout") }

func layoutCheck(t *testing.T, name string) {
	bin := filepath.Join(t.TempDir(), name)
	cc := exec.Command("gcc", "-Wall", "-Wextra", "-Werror", "-std=c11", "-rdynamic", "-o", bin, "testdata/"+name+".c", "-ldl", "-lpthread")
	if out, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("%s: %v\n%s", name, err, out)
	}
}

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
func TestV19LayoutChecks(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "v19_layout")
	cc := exec.Command("gcc", "-Wall", "-Wextra", "-Werror", "-std=c11", "-rdynamic", "-o", bin, "testdata/v19_layout.c", "-ldl", "-lpthread")
	if out, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("v19_layout: %v\n%s", err, out)
	}
}

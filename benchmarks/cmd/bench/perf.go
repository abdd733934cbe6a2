package main

// `-perf DIR`: where a router's CPU goes outside Go frames (Fluent Bit's
// engine, its Go proxy, thread wake-ups, locks, the kernel), which a Go
// profile cannot see. On a line whose unstripped binary is at hand
// (symbols/fluent-bit-<version> beside the stripped ones), each output's
// router runs once more under `perf record -g`; DIR gets each run's
// perf.data and two reports: time by shared object, and by symbol. The
// plugin profiled is built again with its symbols (make build strips them).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// perfAttach starts `perf record -g` on pid, writing to data; stop ends it
// and waits for the file.
func perfAttach(pid int, data string) (stop func(), err error) {
	cmd := exec.Command("perf", "record", "-g", "-F", "4999", "-o", data, "-p", fmt.Sprint(pid))
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // attached before the first record
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}, nil
}

// symbolsBinary is version's unstripped Fluent Bit beside bin, "" when absent.
func symbolsBinary(bin, version string) string {
	p := filepath.Join(filepath.Dir(bin), "symbols", "fluent-bit-"+version)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// perfProfiles profiles each output's router on version into perfDir.
func perfProfiles(bin, so, version string, recs [][]byte) error {
	sym := symbolsBinary(bin, version)
	if sym == "" {
		fmt.Fprintf(os.Stderr, "  -perf: no unstripped Fluent Bit %s beside %s: not profiled\n", version, bin)
		return nil
	}
	if err := os.MkdirAll(perfDir, 0o755); err != nil {
		return err
	}
	so = filepath.Join(perfDir, "out_datadog_go.so")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", so, "./plugin")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the plugin with symbols: %v\n%s", err, out)
	}
	for _, o := range []string{fbNull, fbBuiltin, fbGo} {
		name := filepath.Join(perfDir, fmt.Sprintf("%s_%s", version, map[string]string{fbNull: "null", fbBuiltin: "builtin", fbGo: "datadog_go"}[o]))
		if _, err := routerRunPerf(sym, so, version, o, recs, "", name+".perf.data"); err != nil {
			return fmt.Errorf("perf %s: %w", o, err)
		}
		for sort, suffix := range map[string]string{"dso": ".dso.txt", "dso,sym": ".sym.txt"} {
			out, err := exec.Command("perf", "report", "-i", name+".perf.data", "--stdio", "--no-children", "--sort", sort, "--percent-limit", "0.3").Output()
			if err != nil {
				return fmt.Errorf("perf report: %w", err)
			}
			if err := os.WriteFile(name+suffix, out, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "  perf: %s.{perf.data,dso.txt,sym.txt}\n", name)
	}
	return nil
}

package main

// The router's targets on every Fluent Bit line, from the CPU runs
// (realfb.go) and the footprint (footprint.go): what README's table quotes
// and the chart draws.

import (
	"fmt"
	"strings"
)

// fbLine is one Fluent Bit line's router figures.
type fbLine struct {
	version            string
	null, builtin, gor *fbResult
	mem                map[string]*footprint // by output name
}

// target is one of the router's targets, measured on a line.
type target struct {
	name   string
	figure func(l *fbLine) (shown string, met bool)
}

var targets = []target{
	{"output CPU beyond null, datadog_go / built-in ≤ 0.10", func(l *fbLine) (string, bool) {
		r := (l.gor.cpu - l.null.cpu) / (l.builtin.cpu - l.null.cpu)
		return fmt.Sprintf("%.2f", r), r <= 0.10
	}},
	{"router CPU over its null floor ≤ 1.15x", func(l *fbLine) (string, bool) {
		r := l.gor.cpu / l.null.cpu
		return fmt.Sprintf("%.2fx", r), r <= 1.15
	}},
	{"wire, datadog_go / built-in ≤ 0.9x", func(l *fbLine) (string, bool) {
		r := float64(l.gor.last.wire) / float64(l.builtin.last.wire)
		return fmt.Sprintf("%.2fx", r), r <= 0.9
	}},
	{"idle RSS ≤ built-in + 5 MB", func(l *fbLine) (string, bool) {
		d := l.mem[fbGo].idleRSS - l.mem[fbBuiltin].idleRSS
		return fmt.Sprintf("%+.1f MB", d), d <= 5
	}},
	{"idle threads ≤ built-in + 6", func(l *fbLine) (string, bool) {
		d := l.mem[fbGo].idleThreads - l.mem[fbBuiltin].idleThreads
		return fmt.Sprintf("%+d", d), d <= 6
	}},
	{"peak RSS, paced sender ≤ 1.0x built-in", func(l *fbLine) (string, bool) {
		r := l.mem[fbGo].peakRSS / l.mem[fbBuiltin].peakRSS
		return fmt.Sprintf("%.2fx", r), r <= 1.0
	}},
}

// renderFootprint is a line's memory and threads table.
func renderFootprint(l *fbLine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nMemory and threads, `workers 2` on every output. Idle: %s after start, no traffic, not pinned, the plugin's .so loaded from outside the page cache as at a task's start. Paced peak: VmHWM of %d records from a saturating sender paced to the router (at most %d records sent and not yet at the intake), pinned to one CPU; null has no intake to pace on. Medians of the runs.\n\n",
		idleAfter, peakRecords, peakWindow)
	b.WriteString("| output | idle RSS MB | anonymous MB | file MB | idle threads | Go init at dlopen | paced peak RSS MB | threads after the load |\n|---|---|---|---|---|---|---|---|\n")
	for _, o := range idleOutputs() {
		f := l.mem[o]
		peak, threads, init := "—", "—", "—"
		if f.peakRSS > 0 {
			peak, threads = fmt.Sprintf("%.1f", f.peakRSS), fmt.Sprint(f.peakThreads)
		}
		if f.initMS > 0 {
			init = fmt.Sprintf("%.2f ms, %.0f KB", f.initMS, f.initKB)
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %d | %s | %s | %s |\n", o, f.idleRSS, f.idleAnon, f.idleFile, f.idleThreads, init, peak, threads)
	}
	return b.String()
}

// renderTargets is the targets table: one column per measured line.
func renderTargets(lines []*fbLine) string {
	if len(lines) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Targets\n\nThe default configuration against the built-in output (and the null router, its floor), in the runs above.\n\n| target |")
	for _, l := range lines {
		fmt.Fprintf(&b, " %s |", l.version)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(lines)) + "\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "| %s |", t.name)
		for _, l := range lines {
			shown, met := t.figure(l)
			verdict := "missed"
			if met {
				verdict = "met"
			}
			fmt.Fprintf(&b, " %s %s |", shown, verdict)
		}
		b.WriteString("\n")
	}
	return b.String()
}

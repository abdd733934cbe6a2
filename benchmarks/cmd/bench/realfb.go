package main

// The real-Fluent-Bit section of make bench: the FireLens router as ECS
// writes it (test/realfb/fbtest.FireLens), fed over its forward socket by this
// process, with three outputs in turn: Fluent Bit's built-in datadog output
// (compress gzip, the seed task definition's options), datadog_go with the
// seed task definition's options (its defaults otherwise), and null. Only
// the router process is measured (its rusage after exit): not the sender,
// not the intake stand-in, which both live in this process.

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/profiling"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

const (
	fbBuiltin = "built-in datadog (compress gzip)"
	fbGo      = "datadog_go (default config)"
	fbNull    = "null"
)

// fbRun is one router run.
type fbRun struct {
	cpu       float64 // router user+sys, seconds
	elapsed   float64 // first record sent to last one accepted, seconds
	maxRSSKB  int64
	threads   int64
	entries   int
	wire, raw int64
	refGzip   int64
	requests  int
	violation []string
}

// fbResult is the medians of one output's runs (wire, entries: last run).
type fbResult struct {
	name          string
	cpu, rate     float64
	maxRSSMB      float64
	threads       int64
	last          fbRun
	cpus, elapsed []float64
}

// realFluentBit measures the router with each output on version, runs
// times, and renders the section; the line's figures are returned for the
// targets and the chart. A missing binary gives one line and no figures.
func realFluentBit(so, version string, records, runs int, cpuProfile string) (string, *fbLine, error) {
	bin, err := fbtest.Find(version)
	if err != nil {
		return fmt.Sprintf("\n## Real Fluent Bit %s\n\nNot measured: %v.\n", version, err), nil, nil
	}
	if only == "idle" {
		fmt.Fprintf(os.Stderr, "real Fluent Bit %s, FireLens router, idle:\n", version)
		line := &fbLine{version: version}
		if line.mem, err = measureFootprint(bin, so, version, runs); err != nil {
			return "", nil, fmt.Errorf("real Fluent Bit %s: %w", version, err)
		}
		return fmt.Sprintf("\n## Real Fluent Bit %s, idle\n", version) + renderFootprint(line), nil, nil
	}
	fmt.Fprintf(os.Stderr, "real Fluent Bit %s, FireLens router, %d records:\n", version, records)
	recs := fbtest.Records(records, 11, fbtest.DefaultContainer)
	outputs := []string{fbNull, fbBuiltin, fbGo}
	res := map[string]*fbResult{}
	for _, o := range outputs {
		res[o] = &fbResult{name: o}
	}
	// Interleave the outputs run by run, so a slow spell of the shared
	// machine hits all three alike.
	for i := 0; i < runs; i++ {
		for _, o := range outputs {
			prof := ""
			if o == fbGo && i == runs-1 {
				prof = cpuProfile
			}
			r, err := routerRun(bin, so, version, o, recs, prof)
			if err != nil {
				return "", nil, fmt.Errorf("real Fluent Bit %s, %s: %w", version, o, err)
			}
			res[o].cpus = append(res[o].cpus, r.cpu)
			res[o].elapsed = append(res[o].elapsed, r.elapsed)
			res[o].last = r
			res[o].maxRSSMB = max(res[o].maxRSSMB, float64(r.maxRSSKB)/1024) // the highest of the runs
			res[o].threads = max(res[o].threads, r.threads)
			fmt.Fprintf(os.Stderr, "  %-34s run %d: CPU %.2f s, %.2f s to deliver, peak RSS %.0f MB, %d threads\n",
				o, i+1, r.cpu, r.elapsed, float64(r.maxRSSKB)/1024, r.threads)
		}
	}
	if perfDir != "" {
		if err := perfProfiles(bin, so, version, recs); err != nil {
			return "", nil, err
		}
	}
	for _, r := range res {
		r.cpu = median(append([]float64(nil), r.cpus...))
		r.rate = float64(records) / median(append([]float64(nil), r.elapsed...))
	}
	line := &fbLine{version: version, null: res[fbNull], builtin: res[fbBuiltin], gor: res[fbGo]}
	if line.mem, err = measureFootprint(bin, so, version, runs); err != nil {
		return "", nil, fmt.Errorf("real Fluent Bit %s: %w", version, err)
	}
	return renderFB(version, records, runs, res[fbNull], res[fbBuiltin], res[fbGo]) + renderFootprint(line), line, nil
}

// routerRun runs one router, pinned to CPU 0, until the intake has every
// record (or, with null, until the router has been idle for a second).
func routerRun(bin, so, version, output string, recs [][]byte, cpuProfile string) (fbRun, error) {
	return routerRunPerf(bin, so, version, output, recs, cpuProfile, "")
}

// routerRunPerf is routerRun with, when perfData is set, `perf record -g`
// attached to the router from its start to the last record at the intake.
func routerRunPerf(bin, so, version, output string, recs [][]byte, cpuProfile, perfData string) (fbRun, error) {
	var r fbRun
	srv, err := intaketest.Start(intaketest.Options{Discard: true, RefGzip: true, Lenient: true})
	if err != nil {
		return r, err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "bench-fb")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)

	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	plugins := []string{}
	env := []string{}
	switch output {
	case fbNull:
		fl.Options = []string{"Name null"}
	case fbBuiltin:
		u, _ := url.Parse(srv.URL)
		fl.Options = builtinForVersion(builtinOptions(u), version)
	case fbGo:
		plugins = []string{so}
		fl.Options = fbtest.SeedOptions(srv.URL, "bench")
		env = append(env, strings.Fields(pluginEnv)...)
		if cpuProfile != "" {
			env = append(env, profiling.CPUProfileEnv+"="+cpuProfile)
		}
	}
	p, err := fbtest.Launch(fbtest.Options{Binary: bin, Config: fl.Config(), Plugins: plugins, Env: env, CPUs: "0", Dir: dir})
	if err != nil {
		return r, err
	}
	defer p.Stop(30 * time.Second)
	if perfData != "" {
		stop, err := perfAttach(p.Pid(), perfData)
		if err != nil {
			return r, err
		}
		defer stop()
	}

	f, err := fbtest.DialForward("unix", fl.Socket)
	if err != nil {
		return r, err
	}
	f.Ack = true
	start := time.Now()
	err = fbtest.SendRecords(f, fl.Tag(), recs, 500)
	f.Close()
	if err != nil {
		return r, err
	}
	n := len(recs)
	if output == fbNull {
		waitIdle(p.Pid(), time.Second, 60*time.Second)
	} else if !fbtest.WaitFor(120*time.Second, func() bool { return srv.Stats().Entries >= n }) {
		return r, fmt.Errorf("%d of %d records arrived:\n%s", srv.Stats().Entries, n, fbtest.Tail(p.Log(), 3000))
	}
	r.elapsed = time.Since(start).Seconds()
	if perfData != "" {
		return r, nil // the profile is what this run is for
	}
	// VmHWM before the stop, not the rusage after: a child forked from
	// this (large) process starts its maxrss at ours.
	if st, err := p.Status("Threads", "VmHWM"); err == nil {
		r.threads, r.maxRSSKB = st["Threads"], st["VmHWM"]
	}
	if !p.Stop(30 * time.Second) {
		return r, fmt.Errorf("router did not exit on SIGTERM")
	}
	u := p.Usage()
	r.cpu = u.CPU().Seconds()
	st := srv.Stats()
	r.entries, r.wire, r.raw, r.refGzip, r.requests = st.Entries, st.WireBytes, st.RawBytes, st.RefGzipBytes, st.Accepted
	r.violation = srv.Violations()
	if output != fbNull && r.entries != n {
		return r, fmt.Errorf("intake got %d entries, want %d (duplicates?)", r.entries, n)
	}
	return r, nil
}

// builtinOptions are the seed task definition's options before the switch
// (docs/deploy.md, "The task definition"), Host/Port/TLS pointing at the
// stand-in at u.
func builtinOptions(u *url.URL) []string {
	return []string{"Name datadog", "dd_message_key log", "apikey bench", "dd_service singsong",
		"dd_source httpd", "dd_tags env:prod", "provider ecs", "Host " + u.Hostname(), "Port " + u.Port(),
		"TLS off", "compress gzip"}
}

// builtinForVersion drops what version's built-in cannot take: 1.9.10's
// with provider ecs fails every chunk ("Cannot allocate memory") and then
// aborts on a corrupted heap; without it, it delivers (no ECS tags, so less
// JSON than ours).
func builtinForVersion(opts []string, version string) []string {
	if version != fbtest.V19 {
		return opts
	}
	return slices.DeleteFunc(opts, func(o string) bool { return o == "provider ecs" })
}

// waitIdle waits until the process has used no CPU for quiet.
func waitIdle(pid int, quiet, timeout time.Duration) {
	last, since := cpuTicks(pid), time.Now()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if t := cpuTicks(pid); t != last {
			last, since = t, time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
	}
}

// cpuTicks is utime+stime of /proc/pid/stat, in clock ticks.
func cpuTicks(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return ""
	}
	return f[11] + "+" + f[12]
}

func renderFB(version string, records, runs int, null, builtin, gor *fbResult) string {
	var b strings.Builder
	R := (gor.cpu - null.cpu) / (builtin.cpu - null.cpu)
	fmt.Fprintf(&b, "\n## Real Fluent Bit %s: the FireLens router\n\n", version)
	fmt.Fprintf(&b, "The router ECS writes for an app container logging with `awsfirelens` (forward input on a unix socket, the `record_modifier` filter adding the ECS fields, the output on `Match app-firelens*`), fed %d FireLens records by a forward-protocol client (messages of 500, each acknowledged) and pinned to one CPU with `taskset -c 0`. CPU is the router process's user+sys time from start to exit (not the sender's, not the intake stand-in's); median of %d runs, the three outputs interleaved. ", records, runs)
	b.WriteString("Built-in: the seed task definition's options (`Host`/`Port` at the stand-in, `TLS off`, `compress gzip`); datadog_go: the same task definition after the switch (`workers 4`, defaults otherwise).")
	if version == fbtest.V19 {
		b.WriteString(" On 1.9.10 the built-in runs without `provider ecs`: with it, every flush fails (\"Cannot allocate memory\" in its ECS remapping) and the process soon aborts (`free(): corrupted unsorted chunks`), so it writes less JSON per record than ours (no ECS tags).")
	}
	b.WriteString("\n\n")
	b.WriteString("| output | router CPU s (runs) | CPU beyond null µs/record | records per router CPU-second | records/s delivered, one core | peak RSS MB | threads | requests | raw JSON MB | wire MB | wire vs built-in | wire vs gzip -6 of its payloads |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range []*fbResult{null, builtin, gor} {
		raw, wire, vs, ref, req, rate := "—", "—", "—", "—", "—", "—"
		if r != null {
			raw = fmt.Sprintf("%.1f", float64(r.last.raw)/1e6)
			wire = fmt.Sprintf("%.2f", float64(r.last.wire)/1e6)
			vs = fmt.Sprintf("%.2fx", float64(r.last.wire)/float64(builtin.last.wire))
			ref = fmt.Sprintf("%.2fx", float64(r.last.wire)/float64(max(r.last.refGzip, 1)))
			req = fmt.Sprint(r.last.requests)
			rate = fmt.Sprintf("%.0f", r.rate)
		}
		fmt.Fprintf(&b, "| %s | %.2f (%s) | %.2f | %.0f | %s | %.0f | %d | %s | %s | %s | %s | %s |\n", r.name, r.cpu, spread(r.cpus),
			(r.cpu-null.cpu)*1e6/float64(records), float64(records)/r.cpu, rate, r.maxRSSMB, r.threads, req, raw, wire, vs, ref)
	}
	fmt.Fprintf(&b, "\n- plugin ratio R = (CPU(go) − CPU(null)) / (CPU(built-in) − CPU(null)) = **%.2f** (target ≤ 0.10)\n", R)
	fmt.Fprintf(&b, "- router ratio CPU(go) / CPU(built-in) = **%.2f**\n", gor.cpu/builtin.cpu)
	fmt.Fprintf(&b, "- router over its null floor CPU(go) / CPU(null) = **%.2f** (target ≤ 1.15)\n", gor.cpu/null.cpu)
	fmt.Fprintf(&b, "- wire bytes, go / built-in = **%.2fx** (target ≤ 0.9x)\n", float64(gor.last.wire)/float64(builtin.last.wire))
	fmt.Fprintf(&b, "- peak RSS with this unpaced sender (VmHWM, the highest of the runs), go / built-in router = **%.2fx** (%.0f / %.0f MB): the backlog's; the paced peak is below\n", gor.maxRSSMB/builtin.maxRSSMB, gor.maxRSSMB, builtin.maxRSSMB)
	fmt.Fprintf(&b, "- records one router handles per second of one core (records over router CPU): built-in %.0f, datadog_go %.0f; delivered per second with the router pinned to one core and a saturating sender (first record sent to last accepted, Fluent Bit's 1 s flush and the shared machine included): built-in %.0f, datadog_go %.0f\n",
		float64(records)/builtin.cpu, float64(records)/gor.cpu, builtin.rate, gor.rate)
	if v := builtin.last.violation; len(v) > 0 {
		fmt.Fprintf(&b, "- the stand-in flagged %d contract violations in the built-in's last run (accepted and counted anyway), e.g. %q\n", len(v), v[0])
	}
	if v := gor.last.violation; len(v) > 0 {
		fmt.Fprintf(&b, "- the stand-in flagged %d contract violations in datadog_go's last run, e.g. %q\n", len(v), v[0])
	}
	return b.String()
}

// spread is the runs' minimum–maximum.
func spread(v []float64) string {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf("%.2f–%.2f", s[0], s[len(s)-1])
}

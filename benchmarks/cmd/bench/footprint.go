package main

// The router's memory and threads, beside its CPU (realfb.go): the same
// FireLens router with null, the built-in datadog output and datadog_go,
// each at `workers 2`.
//
//   - Idle: started, no traffic, read 10 s after start: resident memory
//     (anonymous and file pages apart) and threads. The outputs run at once
//     (idle, they do not compete), not pinned. A fourth, benchmarks/null (a
//     Go plugin that does nothing), shows the floor of any Go plugin.
//   - Peak under load: VmHWM with a saturating sender paced to the router:
//     it keeps at most peakWindow records sent and not yet at the intake,
//     as a log driver blocks on a router that does not keep up, so the
//     backlog Fluent Bit holds is the same bound for both outputs. Pinned
//     to one CPU as the CPU runs are. Null has no intake to pace on and is
//     left out.
//
// -idleso adds other builds of datadog_go to the idle runs, with the same
// configuration: what a dependency or a runtime setting costs at load,
// measured beside the build it differs from. Every Go plugin's idle router
// runs with GODEBUG=inittrace=1, and the table shows the time and memory
// its packages' initialisation took at dlopen.
//
// Before each run the plugin's file leaves the page cache (evict), so
// Fluent Bit maps it as a task's start finds it. Measured: a .so just
// written by the Go linker leaves about 1.5 MB more of its pages resident
// in the router than the same bytes copied, or read back from disk.

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// fbGoNull is the Go plugin that does nothing, in the idle runs only.
const fbGoNull = "Go plugin that does nothing (benchmarks/null)"

const (
	idleAfter   = 10 * time.Second
	peakRecords = 60000
	peakWindow  = 10000 // records sent and not yet accepted by the intake
	workersBoth = "workers 2"
)

// footprint is one output's figures on one line (medians of the runs).
type footprint struct {
	idleRSS, idleAnon, idleFile float64 // MB
	idleThreads                 int64
	initMS, initKB              float64 // Go package initialisation at dlopen (inittrace); 0 for C outputs
	peakRSS                     float64 // MB, VmHWM of the paced run; 0 for null
	peakThreads                 int64
}

// measureFootprint measures each output's footprint on version, runs times.
func measureFootprint(bin, so, version string, runs int) (map[string]*footprint, error) {
	outputs := []string{fbNull, fbBuiltin, fbGo}
	nullSO, err := buildNullPlugin()
	if err != nil {
		return nil, err
	}
	idle := map[string][]map[string]int64{}
	for i := 0; i < runs; i++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for _, o := range idleOutputs() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				plugin := so
				if o == fbGoNull {
					plugin = nullSO
				} else if v, ok := idleVariants[o]; ok {
					plugin = v
				}
				st, err := idleRun(bin, plugin, version, o)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("idle %s: %w", o, err)
				}
				idle[o] = append(idle[o], st)
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return nil, firstErr
		}
	}
	recs := fbtest.Records(peakRecords, 13, fbtest.DefaultContainer)
	peak := map[string][]map[string]int64{}
	for i := 0; i < runs && only != "idle"; i++ {
		for _, o := range outputs[1:] {
			st, err := peakRun(bin, so, version, o, recs)
			if err != nil {
				return nil, fmt.Errorf("peak %s: %w", o, err)
			}
			peak[o] = append(peak[o], st)
		}
	}
	res := map[string]*footprint{}
	for _, o := range idleOutputs() {
		f := &footprint{
			idleRSS: medianKB(idle[o], "VmRSS"), idleAnon: medianKB(idle[o], "RssAnon"), idleFile: medianKB(idle[o], "RssFile"),
			idleThreads: int64(medianOf(idle[o], "Threads")),
			initMS:      medianOf(idle[o], "initUS") / 1000, initKB: medianKB(idle[o], "initB"),
		}
		if len(peak[o]) > 0 {
			f.peakRSS, f.peakThreads = medianKB(peak[o], "VmHWM"), int64(medianOf(peak[o], "Threads"))
		}
		res[o] = f
		fmt.Fprintf(os.Stderr, "  %-34s idle %.1f MB (anon %.1f, file %.1f), %d threads, init %.2f ms %.0f KB; paced peak %.1f MB, %d threads\n",
			o, f.idleRSS, f.idleAnon, f.idleFile, f.idleThreads, f.initMS, f.initKB, f.peakRSS, f.peakThreads)
	}
	return res, nil
}

func medianOf(runs []map[string]int64, field string) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = float64(r[field])
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func medianKB(runs []map[string]int64, field string) float64 { return medianOf(runs, field) / 1024 }

// footprintRouter is the router of the CPU runs with output o at `workers
// 2`, its intake at srv.
func footprintRouter(dir, so, output string, srv *intaketest.Server) (fbtest.FireLens, []string) {
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	switch output {
	case fbNull:
		fl.Options = []string{"Name null", workersBoth}
		return fl, []string{}
	case fbBuiltin:
		u, _ := url.Parse(srv.URL)
		fl.Options = append(builtinOptions(u), workersBoth)
		return fl, []string{}
	case fbGoNull:
		fl.Options = []string{"Name null_go", workersBoth}
		return fl, []string{so}
	}
	// The seed task definition's options at the others' workers: threads
	// and memory are compared at the same workers (the seed runs 4).
	fl.Options = nil
	for _, opt := range fbtest.SeedOptions(srv.URL, "bench") {
		if !strings.HasPrefix(strings.ToLower(opt), "workers ") {
			fl.Options = append(fl.Options, opt)
		}
	}
	fl.Options = append(fl.Options, workersBoth)
	return fl, []string{so}
}

var nullPlugin struct {
	once sync.Once
	path string
	err  error
}

// buildNullPlugin builds benchmarks/null once per run of the command.
func buildNullPlugin() (string, error) {
	nullPlugin.once.Do(func() {
		dir, err := os.MkdirTemp("", "bench-null")
		if err != nil {
			nullPlugin.err = err
			return
		}
		nullPlugin.path = filepath.Join(dir, "null.so")
		root, err := fbtest.RepoRoot()
		if err != nil {
			nullPlugin.err = err
			return
		}
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags", "-s -w", "-o", nullPlugin.path, "./benchmarks/null")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			nullPlugin.err = fmt.Errorf("build benchmarks/null: %v\n%s", err, out)
		}
	})
	return nullPlugin.path, nullPlugin.err
}

// idleVariants are -idleso's builds of datadog_go, by label.
var idleVariants = map[string]string{}

// parseIdleSO reads -idleso: "label=path label=path".
func parseIdleSO(v string) error {
	for _, kv := range strings.Fields(v) {
		label, path, ok := strings.Cut(kv, "=")
		if !ok || label == "" || path == "" {
			return fmt.Errorf("-idleso %q: want label=path", kv)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("-idleso: %w", err)
		}
		idleVariants[label] = path
	}
	return nil
}

// idleOutputs are the outputs of the idle runs: the Go plugin that does
// nothing, null, the built-in, datadog_go and -idleso's builds.
func idleOutputs() []string {
	outs := []string{fbGoNull, fbNull, fbBuiltin, fbGo}
	for label := range idleVariants {
		outs = append(outs, label)
	}
	sort.Strings(outs[4:])
	return outs
}

// routerEnv is the environment added to output's router: -pluginenv for
// datadog_go and its -idleso builds.
func routerEnv(output string) []string {
	if _, ok := idleVariants[output]; ok || output == fbGo {
		return strings.Fields(pluginEnv)
	}
	return nil
}

// initLine is one package's line of GODEBUG=inittrace=1.
var initLine = regexp.MustCompile(`(?m)^init \S+ @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes`)

// initCost sums the package initialisations of a Go plugin's log: µs and
// bytes allocated.
func initCost(log string) (us, bytes int64) {
	for _, m := range initLine.FindAllStringSubmatch(log, -1) {
		ms, _ := strconv.ParseFloat(m[1], 64)
		b, _ := strconv.ParseInt(m[2], 10, 64)
		us += int64(ms * 1000)
		bytes += b
	}
	return us, bytes
}

// evict drops path from the page cache (written back first).
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	const fadvDontNeed = 4
	if _, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); errno != 0 {
		return fmt.Errorf("fadvise %s: %w", path, errno)
	}
	return nil
}

// launchEvicted launches o with its plugins out of the page cache.
func launchEvicted(o fbtest.Options) (*fbtest.Process, error) {
	for _, so := range o.Plugins {
		if err := evict(so); err != nil {
			return nil, err
		}
	}
	return fbtest.Launch(o)
}

// footprintRig is one footprint run's intake and output's router.
type footprintRig struct {
	srv     *intaketest.Server
	fl      fbtest.FireLens
	plugins []string
	dir     string
}

// newFootprintRig starts an intake with opts and writes output's router
// for version in a new folder; close removes both.
func newFootprintRig(so, version, output string, opts intaketest.Options) (*footprintRig, error) {
	srv, err := intaketest.Start(opts)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-footprint")
	if err != nil {
		srv.Close()
		return nil, err
	}
	r := &footprintRig{srv: srv, dir: dir}
	r.fl, r.plugins = footprintRouter(dir, so, output, srv)
	if output == fbBuiltin {
		r.fl.Options = builtinForVersion(r.fl.Options, version)
	}
	return r, nil
}

// launch starts the router with env added, on cpus ("": any).
func (r *footprintRig) launch(bin string, env []string, cpus string) (*fbtest.Process, error) {
	return launchEvicted(fbtest.Options{Binary: bin, Config: r.fl.Config(), Plugins: r.plugins, Env: env, CPUs: cpus, Dir: r.dir})
}

func (r *footprintRig) close() {
	r.srv.Close()
	os.RemoveAll(r.dir)
}

// idleRun starts the router, waits idleAfter and reads its status.
func idleRun(bin, so, version, output string) (map[string]int64, error) {
	r, err := newFootprintRig(so, version, output, intaketest.Options{Discard: true})
	if err != nil {
		return nil, err
	}
	defer r.close()
	env := routerEnv(output)
	if len(r.plugins) > 0 {
		env = append(env, "GODEBUG=inittrace=1")
	}
	start := time.Now()
	p, err := r.launch(bin, env, "")
	if err != nil {
		return nil, err
	}
	defer p.Stop(30 * time.Second)
	time.Sleep(time.Until(start.Add(idleAfter)))
	st, err := p.Status("VmRSS", "RssAnon", "RssFile", "Threads")
	if err == nil {
		st["initUS"], st["initB"] = initCost(p.Log())
	}
	return st, err
}

// peakRun sends recs paced to the router and reads VmHWM once the intake
// has them all.
func peakRun(bin, so, version, output string, recs [][]byte) (map[string]int64, error) {
	r, err := newFootprintRig(so, version, output, intaketest.Options{Discard: true, Lenient: true})
	if err != nil {
		return nil, err
	}
	defer r.close()
	srv, fl := r.srv, r.fl
	p, err := r.launch(bin, routerEnv(output), "0")
	if err != nil {
		return nil, err
	}
	defer p.Stop(30 * time.Second)
	f, err := fbtest.DialForward("unix", fl.Socket)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	f.Ack = true
	const batch = 500
	for i := 0; i < len(recs); i += batch {
		deadline := time.Now().Add(60 * time.Second)
		for i-srv.Stats().Entries > peakWindow {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%d records sent, %d at the intake after 60 s:\n%s", i, srv.Stats().Entries, fbtest.Tail(p.Log(), 3000))
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := fbtest.SendRecords(f, fl.Tag(), recs[i:min(i+batch, len(recs))], batch); err != nil {
			return nil, err
		}
	}
	if !fbtest.WaitFor(120*time.Second, func() bool { return srv.Stats().Entries >= len(recs) }) {
		return nil, fmt.Errorf("%d of %d records arrived:\n%s", srv.Stats().Entries, len(recs), fbtest.Tail(p.Log(), 3000))
	}
	return p.Status("VmHWM", "Threads")
}

// Command bench is `make bench`: it drives the real out_datadog_go.so
// through test/flbhost (the C host that loads it as Fluent Bit does) with a
// generated FireLens corpus in Fluent Bit-sized chunks, into the intake
// stand-in, and reports CPU per record, throughput, payloads, wire bytes
// and memory for each compression setting, against an in-run baseline (a
// straightforward Go plugin: fluent-bit-go's decoder, encoding/json,
// compress/gzip) and a null plugin whose cost (the host's own) is
// subtracted. Figures are medians of several runs; compare ratios within
// one run, the machines are shared and noisy.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/profiling"
)

var (
	profileDir string // -profile
	only       string // -only
)

// defaultConfig is the row of the shipped defaults.
const defaultConfig = "datadog_go gzip (default level 6)"

type summary struct {
	OK       int     `json:"ok"`
	Retry    int     `json:"retry"`
	Error    int     `json:"error"`
	FlushMS  float64 `json:"flush_ms"`
	CPUUser  float64 `json:"cpu_user_s"`
	CPUSys   float64 `json:"cpu_sys_s"`
	MaxRSSKB int64   `json:"max_rss_kb"`
	// LoadedRSSKB is the host's resident memory once the chunks are read,
	// before the plugin is loaded: the peak beyond it is the plugin's.
	LoadedRSSKB int64 `json:"loaded_rss_kb"`
}

// pluginRSSMB is the peak resident memory the plugin added to the host.
func (s summary) pluginRSSMB() float64 { return float64(s.MaxRSSKB-s.LoadedRSSKB) / 1024 }

type result struct {
	name          string
	workers       int
	cpuPerRecord  float64 // µs, null run subtracted
	recordsPerSec float64
	mbPerSec      float64
	payloads      int
	raw, wire     int64
	refGzip       int64
	rssMB         float64
	allocs        float64 // Go heap allocations per record (whole run)
	heapMB        float64 // Go heap obtained from the OS: its high-water mark
}

func main() {
	so := flag.String("so", "build/out_datadog_go.so", "plugin")
	host := flag.String("host", "build/flbhost", "C host")
	records := flag.Int("records", 200000, "records in the generated corpus")
	runs := flag.Int("runs", 3, "runs per configuration (median taken)")
	out := flag.String("out", "", "also write the report (Markdown) to this file")
	flag.StringVar(&profileDir, "profile", "", "write a Go CPU profile of each datadog_go configuration's last run to this folder")
	flag.StringVar(&only, "only", "", "run only the configurations whose name contains this")
	flag.Parse()
	if err := run(*so, *host, *records, *runs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(so, host string, records, runs int, outPath string) error {
	start := time.Now()
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	baseline, null := filepath.Join(filepath.Dir(so), "baseline.so"), filepath.Join(filepath.Dir(so), "null.so")
	for target, pkg := range map[string]string{baseline: "./benchmarks/baseline", null: "./benchmarks/null"} {
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", target, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", pkg, err)
		}
	}

	g := chunkgen.New(1)
	chunks := g.Chunks(records, 512<<10)
	var paths []string
	var inBytes int
	for i, c := range chunks {
		p := filepath.Join(dir, fmt.Sprintf("c%05d.msgpack", i))
		if err := os.WriteFile(p, c, 0o600); err != nil {
			return err
		}
		paths = append(paths, p)
		inBytes += len(c)
	}
	fmt.Printf("corpus: %d FireLens records (access, JSON, stack traces, non-UTF-8) in %d chunks, %.1f MB msgpack\n\n",
		records, len(chunks), float64(inBytes)/1e6)

	common := "dd_service web\ndd_source httpd\ndd_tags env:prod,team:web\ndd_message_key log\nprovider ecs\nstats_interval 0\napikey bench\n"
	type cfg struct {
		name, so, extra string
		workers         int
	}
	cfgs := []cfg{
		{"baseline: fluent-bit-go decoder + encoding/json + compress/gzip", baseline, "", 1},
		{defaultConfig, so, "compress gzip\n", 1},
		{"datadog_go gzip level 1", so, "compress gzip\ncompression_level 1\n", 1},
		{"datadog_go zstd", so, "compress zstd\n", 1},
		{"datadog_go deflate", so, "compress deflate\n", 1},
		{"datadog_go none", so, "compress none\n", 1},
		{"datadog_go gzip, 2 workers", so, "compress gzip\n", 2},
		{"datadog_go gzip, 4 workers", so, "compress gzip\n", 4},
	}
	// The host's own cost per worker count.
	nullCPU := map[int]float64{}
	nullRSS := map[int]float64{}
	for _, w := range []int{1, 2, 4} {
		var cpus, rss []float64
		for i := 0; i < runs; i++ {
			s, _, _, err := runHost(host, null, "", w, paths, dir, "")
			if err != nil {
				return err
			}
			cpus = append(cpus, s.CPUUser+s.CPUSys)
			rss = append(rss, s.pluginRSSMB())
		}
		nullCPU[w], nullRSS[w] = median(cpus), median(rss)
	}

	var results []result
	for i, c := range cfgs {
		if i > 0 && !strings.Contains(c.name, only) {
			continue
		}
		var cpus, rates []float64
		var last result
		for i := 0; i < runs; i++ {
			prof := ""
			if profileDir != "" && c.so == so {
				prof = filepath.Join(profileDir, strings.NewReplacer(" ", "_", ",", "", "(", "", ")", "").Replace(c.name)+".pprof")
			}
			s, st, mem, err := runHost(host, c.so, common+c.extra, c.workers, paths, dir, prof)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if s.OK != len(paths) || st.Entries != records {
				return fmt.Errorf("%s: %d/%d chunks ok, intake got %d of %d records", c.name, s.OK, len(paths), st.Entries, records)
			}
			cpus = append(cpus, (s.CPUUser+s.CPUSys-nullCPU[c.workers])*1e6/float64(records))
			rates = append(rates, float64(records)/(s.FlushMS/1000))
			last = result{name: c.name, workers: c.workers, payloads: st.Accepted, raw: st.RawBytes, wire: st.WireBytes,
				refGzip: st.RefGzipBytes, rssMB: s.pluginRSSMB() - nullRSS[c.workers],
				allocs: float64(mem.Mallocs) / float64(records), heapMB: float64(mem.HeapSys) / 1e6}
		}
		last.cpuPerRecord, last.recordsPerSec = median(cpus), median(rates)
		last.mbPerSec = last.recordsPerSec * float64(inBytes) / float64(records) / 1e6
		results = append(results, last)
		fmt.Fprintf(os.Stderr, "  %-62s %6.2f µs/record\n", c.name, last.cpuPerRecord)
	}
	var defaultConf string
	for _, c := range cfgs {
		if c.name == defaultConfig {
			defaultConf = common + c.extra
		}
	}
	growth, err := memoryGrowth(host, so, null, defaultConf, records, paths, dir, results)
	if err != nil {
		return err
	}
	report := render(results, records, len(chunks), inBytes, runs, start) + growth
	fmt.Print(report)
	if outPath != "" {
		return os.WriteFile(outPath, []byte(report), 0o644)
	}
	return nil
}

// runHost runs the host once over paths. It returns the host's summary, what
// the intake received and the plugin's Go memory counters (zero for a
// plugin without internal/profiling).
func runHost(host, so, conf string, workers int, paths []string, dir, profile string) (summary, intaketest.Stats, profiling.MemStats, error) {
	var mem profiling.MemStats
	srv, err := intaketest.Start(intaketest.Options{Discard: true, RefGzip: true})
	if err != nil {
		return summary{}, intaketest.Stats{}, mem, err
	}
	defer srv.Close()
	confPath := filepath.Join(dir, "out.conf")
	if err := os.WriteFile(confPath, []byte("endpoint "+srv.URL+"\n"+conf), 0o600); err != nil {
		return summary{}, intaketest.Stats{}, mem, err
	}
	memPath := filepath.Join(dir, "memstats.json")
	os.Remove(memPath)
	args := append([]string{"-so", so, "-conf", confPath, "-workers", fmt.Sprint(workers), "-cpu"}, paths...)
	cmd := exec.Command(host, args...)
	cmd.Env = append(os.Environ(), profiling.MemStatsEnv+"="+memPath)
	if profile != "" {
		cmd.Env = append(cmd.Env, profiling.CPUProfileEnv+"="+profile)
	}
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	if err := cmd.Run(); err != nil {
		return summary{}, intaketest.Stats{}, mem, fmt.Errorf("host: %v", err)
	}
	var s summary
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &s); err != nil {
		return s, intaketest.Stats{}, mem, err
	}
	if data, err := os.ReadFile(memPath); err == nil {
		if err := json.Unmarshal(data, &mem); err != nil {
			return s, intaketest.Stats{}, mem, fmt.Errorf("%s: %w", memPath, err)
		}
	}
	return s, srv.Stats(), mem, nil
}

// memoryGrowth runs the default configuration once more over twice the
// chunks (the corpus plus a second one from another seed): the plugin's
// peak memory must not grow with the number of chunks it has flushed.
func memoryGrowth(host, so, null, conf string, records int, paths []string, dir string, results []result) (string, error) {
	var base *result
	for i := range results {
		if results[i].name == defaultConfig {
			base = &results[i]
		}
	}
	if base == nil {
		return "", nil
	}
	more := append([]string(nil), paths...)
	for i, c := range chunkgen.New(2).Chunks(records, 512<<10) {
		p := filepath.Join(dir, fmt.Sprintf("d%05d.msgpack", i))
		if err := os.WriteFile(p, c, 0o600); err != nil {
			return "", err
		}
		more = append(more, p)
	}
	ns, _, _, err := runHost(host, null, "", 1, more, dir, "")
	if err != nil {
		return "", err
	}
	s, st, mem, err := runHost(host, so, conf, 1, more, dir, "")
	if err != nil {
		return "", err
	}
	if st.Entries != 2*records {
		return "", fmt.Errorf("memory run: intake got %d of %d records", st.Entries, 2*records)
	}
	rss := s.pluginRSSMB() - ns.pluginRSSMB()
	return fmt.Sprintf("\nMemory does not grow with the chunks flushed (%s): peak RSS over null %.0f MB and Go heap %.1f MB after %d chunks; %.0f MB and %.1f MB after %d.\n",
		defaultConfig, base.rssMB, base.heapMB, len(paths), rss, float64(mem.HeapSys)/1e6, len(more)), nil
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func render(rs []result, records, chunks, inBytes, runs int, start time.Time) string {
	var b strings.Builder
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	fmt.Fprintf(&b, "# make bench results\n\n%s, %d cores, %s, %s; %d records in %d chunks (%.1f MB msgpack); median of %d runs; total %s.\n\n",
		cpu, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"), records, chunks, float64(inBytes)/1e6, runs, time.Since(start).Round(time.Second))
	b.WriteString("CPU is the host process's user+sys time minus a null plugin's on the same chunks: the output side only.\n\n")
	b.WriteString("| configuration | workers | CPU µs/record | vs baseline | records/s | MB/s in | payloads | raw MB | wire MB | raw/wire | wire vs gzip -6 | allocs/record | Go heap MB | peak RSS over null MB |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	base := rs[0].cpuPerRecord
	for _, r := range rs {
		ref := "n/a"
		if r.refGzip > 0 {
			ref = fmt.Sprintf("%.3fx", float64(r.wire)/float64(r.refGzip))
		}
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2fx | %.0f | %.1f | %d | %.1f | %.2f | %.1f | %s | %.2f | %.1f | %.0f |\n",
			r.name, r.workers, r.cpuPerRecord, r.cpuPerRecord/base, r.recordsPerSec, r.mbPerSec, r.payloads,
			float64(r.raw)/1e6, float64(r.wire)/1e6, float64(r.raw)/float64(max(r.wire, 1)), ref, r.allocs, r.heapMB, r.rssMB)
	}
	b.WriteString("\n`wire vs gzip -6`: bytes on the wire over what Go's compress/gzip at its default level makes of the same payloads.\n")
	b.WriteString("The baseline's JSON has no ECS tags (it does not derive them), so its raw bytes are smaller.\n")
	b.WriteString("`allocs/record`: Go heap allocations of the whole run (start-up, HTTP, everything) over the records; `Go heap MB`: heap memory the Go runtime obtained from the OS, its high-water mark.\n")
	return b.String()
}

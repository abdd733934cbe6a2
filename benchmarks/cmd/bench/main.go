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
)

type summary struct {
	OK       int     `json:"ok"`
	Retry    int     `json:"retry"`
	Error    int     `json:"error"`
	FlushMS  float64 `json:"flush_ms"`
	CPUUser  float64 `json:"cpu_user_s"`
	CPUSys   float64 `json:"cpu_sys_s"`
	MaxRSSKB int64   `json:"max_rss_kb"`
}

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
}

func main() {
	so := flag.String("so", "build/out_datadog_go.so", "plugin")
	host := flag.String("host", "build/flbhost", "C host")
	records := flag.Int("records", 200000, "records in the generated corpus")
	runs := flag.Int("runs", 3, "runs per configuration (median taken)")
	out := flag.String("out", "", "also write the report (Markdown) to this file")
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
		{"datadog_go gzip (default level 6)", so, "compress gzip\n", 1},
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
			s, _, err := runHost(host, null, "", w, paths, dir)
			if err != nil {
				return err
			}
			cpus = append(cpus, s.CPUUser+s.CPUSys)
			rss = append(rss, float64(s.MaxRSSKB)/1024)
		}
		nullCPU[w], nullRSS[w] = median(cpus), median(rss)
	}

	var results []result
	for _, c := range cfgs {
		var cpus, rates []float64
		var last result
		for i := 0; i < runs; i++ {
			s, st, err := runHost(host, c.so, common+c.extra, c.workers, paths, dir)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if s.OK != len(paths) || st.Entries != records {
				return fmt.Errorf("%s: %d/%d chunks ok, intake got %d of %d records", c.name, s.OK, len(paths), st.Entries, records)
			}
			cpus = append(cpus, (s.CPUUser+s.CPUSys-nullCPU[c.workers])*1e6/float64(records))
			rates = append(rates, float64(records)/(s.FlushMS/1000))
			last = result{name: c.name, workers: c.workers, payloads: st.Accepted, raw: st.RawBytes, wire: st.WireBytes,
				refGzip: st.RefGzipBytes, rssMB: float64(s.MaxRSSKB)/1024 - nullRSS[c.workers]}
		}
		last.cpuPerRecord, last.recordsPerSec = median(cpus), median(rates)
		last.mbPerSec = last.recordsPerSec * float64(inBytes) / float64(records) / 1e6
		results = append(results, last)
		fmt.Fprintf(os.Stderr, "  %-62s %6.2f µs/record\n", c.name, last.cpuPerRecord)
	}
	report := render(results, records, len(chunks), inBytes, runs, start)
	fmt.Print(report)
	if outPath != "" {
		return os.WriteFile(outPath, []byte(report), 0o644)
	}
	return nil
}

func runHost(host, so, conf string, workers int, paths []string, dir string) (summary, intaketest.Stats, error) {
	srv, err := intaketest.Start(intaketest.Options{Discard: true, RefGzip: true})
	if err != nil {
		return summary{}, intaketest.Stats{}, err
	}
	defer srv.Close()
	confPath := filepath.Join(dir, "out.conf")
	if err := os.WriteFile(confPath, []byte("endpoint "+srv.URL+"\n"+conf), 0o600); err != nil {
		return summary{}, intaketest.Stats{}, err
	}
	args := append([]string{"-so", so, "-conf", confPath, "-workers", fmt.Sprint(workers), "-cpu"}, paths...)
	cmd := exec.Command(host, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	if err := cmd.Run(); err != nil {
		return summary{}, intaketest.Stats{}, fmt.Errorf("host: %v", err)
	}
	var s summary
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &s); err != nil {
		return s, intaketest.Stats{}, err
	}
	return s, srv.Stats(), nil
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
	b.WriteString("| configuration | workers | CPU µs/record | vs baseline | records/s | MB/s in | payloads | raw MB | wire MB | raw/wire | wire vs gzip -6 | peak RSS over null MB |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	base := rs[0].cpuPerRecord
	for _, r := range rs {
		ref := "n/a"
		if r.refGzip > 0 {
			ref = fmt.Sprintf("%.3fx", float64(r.wire)/float64(r.refGzip))
		}
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2fx | %.0f | %.1f | %d | %.1f | %.2f | %.1f | %s | %.0f |\n",
			r.name, r.workers, r.cpuPerRecord, r.cpuPerRecord/base, r.recordsPerSec, r.mbPerSec, r.payloads,
			float64(r.raw)/1e6, float64(r.wire)/1e6, float64(r.raw)/float64(max(r.wire, 1)), ref, r.rssMB)
	}
	b.WriteString("\n`wire vs gzip -6`: bytes on the wire over what Go's compress/gzip at its default level makes of the same payloads.\n")
	b.WriteString("The baseline's JSON has no ECS tags (it does not derive them), so its raw bytes are smaller.\n")
	return b.String()
}

// Command bench is `make bench`: it drives the real out_datadog_go.so
// through test/flbhost (the C host that loads it as Fluent Bit does) with
// generated FireLens corpora in Fluent Bit-sized chunks, into the intake
// stand-in. The reference corpus has records the size of the issue's
// reference measurement (chunkgen.FireLensMix); the stress corpus has a
// multi-KB stack trace every 7 records. It reports CPU per record, throughput, payloads, wire bytes
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
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/profiling"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

var (
	profileDir string // -profile
	only       string // -only
	realFB     string // -realfb
	pluginEnv  string // -pluginenv
	perfDir    string // -perf
	scaleFB    string // -scalefb
)

// defaultConfig is the row of the shipped defaults.
const defaultConfig = "datadog_go zstd (default)"

const baselineConfig = "baseline: fluent-bit-go decoder + encoding/json + compress/gzip"

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
	flag.StringVar(&only, "only", "", "run only the configurations whose name contains this (\"realfb\": only the real-Fluent-Bit section; \"idle\": only its idle footprint; \"scale\": only the many-containers and distant-intake sections)")
	flag.StringVar(&perfDir, "perf", "", "profile each output's router with perf record -g on the lines with an unstripped Fluent Bit (symbols/), into this folder")
	flag.StringVar(&pluginEnv, "pluginenv", "", "environment of datadog_go's real-Fluent-Bit routers, \"K=V K=V\" (GOGC=50, GOMAXPROCS=1...)")
	idleSO := flag.String("idleso", "", "other builds of datadog_go measured in the idle runs beside it, \"label=path label=path\"")
	flag.StringVar(&realFB, "realfb", strings.Join(fbtest.Lines, ","), "real Fluent Bit versions to measure the FireLens router on (empty: none)")
	flag.StringVar(&scaleFB, "scalefb", fbtest.V4, "real Fluent Bit version of the many-containers and distant-intake sections (empty: none)")
	flag.Parse()
	if err := parseIdleSO(*idleSO); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(*so, *host, *records, *runs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(so, host string, records, runs int, outPath string) error {
	start := time.Now()
	if only == "realfb" || only == "idle" {
		report, _, err := realFBSections(so, records, runs, start)
		if err != nil {
			return err
		}
		fmt.Print(report)
		return nil
	}
	if only == "scale" {
		report, err := scaleSections(so, scaleFB, runs)
		if err != nil {
			return err
		}
		fmt.Printf("# make bench results: many containers and a distant intake only\n\n%s.\n%s", machine(runs), report)
		return nil
	}
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

	ref, err := writeCorpus(dir, "ref", 1, chunkgen.FireLensMix, records)
	if err != nil {
		return err
	}
	fmt.Printf("reference corpus: %d FireLens records (access, JSON, stack traces, non-UTF-8) in %d chunks, %.1f MB msgpack\n",
		records, len(ref.paths), float64(ref.inBytes)/1e6)
	stress, err := writeCorpus(dir, "stress", 3, nil, records)
	if err != nil {
		return err
	}
	fmt.Printf("stress corpus: %d records, one in 7 a multi-KB stack trace, in %d chunks, %.1f MB msgpack\n\n",
		records, len(stress.paths), float64(stress.inBytes)/1e6)

	common := "dd_service web\ndd_source httpd\ndd_tags env:prod,team:web\ndd_message_key log\nprovider ecs\nstats_interval 0\napikey bench\n"
	meta := startTaskMetadata()
	defer meta.Close()
	cfgs := []cfg{
		{baselineConfig, baseline, "", 1, intakeMode{}},
		{defaultConfig, so, "", 1, intakeMode{}},
		{"datadog_go gzip (level 6, its default)", so, "compress gzip\n", 1, intakeMode{}},
		{"datadog_go gzip level 1", so, "compress gzip\ncompression_level 1\n", 1, intakeMode{}},
		{"datadog_go zstd level 3", so, "compression_level 3\n", 1, intakeMode{}},
		{"datadog_go deflate", so, "compress deflate\n", 1, intakeMode{}},
		{"datadog_go none", so, "compress none\n", 1, intakeMode{}},
		{"datadog_go zstd, 2 workers", so, "", 2, intakeMode{}},
		{"datadog_go zstd, 4 workers", so, "", 4, intakeMode{}},
		{metadataConfig + ", no rules", so, "ecs_metadata_uri " + meta.URL + "/v4/norules\n", 1, intakeMode{}},
		{metadataConfig + ", 2 log_processing_rules", so, "ecs_metadata_uri " + meta.URL + "/v4/rules\n", 1, intakeMode{}},
	}
	var picked []cfg
	for i, c := range cfgs {
		if i == 0 || strings.Contains(c.name, only) {
			picked = append(picked, c)
		}
	}
	// The intake-latency rows run on the reference corpus too, in the same
	// measure call, so they share its null-plugin runs.
	var latencyCfgs []cfg
	withDefault := strings.Contains(defaultConfig, only)
	if withDefault {
		latencyCfgs = []cfg{
			{"plain intake, answer at once", so, "", 1, intakeMode{plain: true}},
			{"plain intake, answer after 20 ms", so, "", 1, intakeMode{plain: true, delay: 20 * time.Millisecond}},
		}
	}
	fmt.Fprintln(os.Stderr, "reference corpus:")
	all, err := measure(host, null, so, common, append(picked, latencyCfgs...), ref, runs, dir)
	if err != nil {
		return err
	}
	results, latency := all[:len(picked)], all[len(picked):]
	var stressResults []result
	if withDefault {
		fmt.Fprintln(os.Stderr, "stress corpus:")
		if stressResults, err = measure(host, null, so, common, cfgs[:3], stress, runs, dir); err != nil {
			return err
		}
	}
	var defaultConf string
	for _, c := range cfgs {
		if c.name == defaultConfig {
			defaultConf = common + c.extra
		}
	}
	growth, err := memoryGrowth(host, so, null, defaultConf, ref, dir, results)
	if err != nil {
		return err
	}
	fb, lines, err := realFBSections(so, records, runs, time.Time{})
	if err != nil {
		return err
	}
	scale, err := scaleSections(so, scaleFB, runs)
	if err != nil {
		return err
	}
	report := render(results, stressResults, latency, ref, stress, runs, start) + growth + fb + scale
	fmt.Print(report)
	if outPath != "" {
		if err := writeChart(filepath.Join(filepath.Dir(outPath), "chart.svg"), lines); err != nil {
			return err
		}
		return os.WriteFile(outPath, []byte(report+keptNotes(outPath)), 0o644)
	}
	return nil
}

// notesMarker starts the hand-written part of RESULTS.md (why a target is
// missed, read from profiles): a new run rewrites the figures above it and
// keeps everything from it on, for the writer to bring up to date.
const notesMarker = "<!-- notes: kept by make bench -->"

func keptNotes(path string) string {
	old, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(old), notesMarker); i >= 0 {
		return "\n" + string(old[i:])
	}
	return ""
}

// metadataConfig names the rows whose container is described by a task
// metadata endpoint (image, zone, labels: more tags than FireLens fields
// give), with and without com.datadoghq.ad.logs processing rules: the rows
// show what the rules cost per record, and that a container without rules
// pays nothing for them.
const metadataConfig = "datadog_go zstd, task metadata"

// startTaskMetadata serves a Fargate task document for chunkgen's container
// at /v4/norules/task (Datadog env/service/version labels) and at
// /v4/rules/task (the same plus com.datadoghq.ad.logs with two rules: an
// exclusion that matches no record of the corpora, so every record is still
// sent, and a mask of IPv4 addresses, which rewrites every access line).
func startTaskMetadata() *httptest.Server {
	e := chunkgen.DefaultECS
	doc := func(labels map[string]string) []byte {
		b, err := json.Marshal(map[string]any{
			"Cluster": e.Cluster, "TaskARN": e.TaskARN, "Family": "web", "Revision": "42",
			"LaunchType": "FARGATE", "AvailabilityZone": "us-east-1a", "ServiceName": "web",
			"Containers": []map[string]any{{
				"DockerId": e.ContainerID, "Name": "app", "DockerName": strings.TrimPrefix(e.ContainerName, "/"),
				"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2", "ImageID": "sha256:0d5b3f8c2e1a",
				"Labels": labels,
			}},
		})
		if err != nil {
			panic(err)
		}
		return b
	}
	std := map[string]string{"com.datadoghq.tags.env": "prod", "com.datadoghq.tags.service": "web", "com.datadoghq.tags.version": "1.4.2"}
	withRules := map[string]string{"com.datadoghq.ad.logs": `[{"source":"nginx","service":"web","log_processing_rules":[` +
		`{"type":"exclude_at_match","name":"no_health","pattern":"GET /health"},` +
		`{"type":"mask_sequences","name":"ip","pattern":"\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b","replace_placeholder":"[ip]"}]}]`}
	for k, v := range std {
		withRules[k] = v
	}
	docs := map[string][]byte{"/v4/norules/task": doc(std), "/v4/rules/task": doc(withRules)}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
}

type cfg struct {
	name, so, extra string
	workers         int
	intake          intakeMode
}

// intakeMode picks the intake a run talks to: the stand-in (zero value),
// which checks every payload against the contract, counts its entries and
// gzips it for the reference size before it answers (a few ms), or a plain
// one that answers 202 once it has read the body, after delay.
type intakeMode struct {
	plain bool
	delay time.Duration
}

// plainIntake is the plain intake: no work of its own, so the plugin's CPU
// can be seen against how long it waits for the answer.
type plainIntake struct {
	srv            *httptest.Server
	requests, wire atomic.Int64
}

func startPlain(delay time.Duration) *plainIntake {
	p := &plainIntake{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		p.requests.Add(1)
		p.wire.Add(n)
		time.Sleep(delay)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "{}")
	}))
	return p
}

// corpus is a set of chunk files on disk.
type corpus struct {
	name    string // prefix of profile file names
	paths   []string
	records int
	inBytes int
}

// writeCorpus generates records FireLens records (shapes cycled; nil = the
// generator's default mix) from seed into dir as chunk files of ~512 KB.
func writeCorpus(dir, prefix string, seed uint64, shapes []chunkgen.Shape, records int) (corpus, error) {
	g := chunkgen.New(seed)
	g.Shapes = shapes
	c := corpus{name: prefix, records: records}
	for i, chunk := range g.Chunks(records, 512<<10) {
		p := filepath.Join(dir, fmt.Sprintf("%s%05d.msgpack", prefix, i))
		if err := os.WriteFile(p, chunk, 0o600); err != nil {
			return c, err
		}
		c.paths = append(c.paths, p)
		c.inBytes += len(chunk)
	}
	return c, nil
}

// measure runs each configuration runs times over the corpus, after the
// null plugin for each worker count used, whose CPU and RSS it subtracts.
func measure(host, null, so, common string, cfgs []cfg, c corpus, runs int, dir string) ([]result, error) {
	nullCPU := map[int]float64{}
	nullRSS := map[int]float64{}
	for _, k := range cfgs {
		if _, done := nullCPU[k.workers]; done {
			continue
		}
		var cpus, rss []float64
		for i := 0; i < runs; i++ {
			s, _, _, err := runHost(host, null, "", k.workers, c.paths, dir, "", intakeMode{})
			if err != nil {
				return nil, err
			}
			cpus = append(cpus, s.CPUUser+s.CPUSys)
			rss = append(rss, s.pluginRSSMB())
		}
		nullCPU[k.workers], nullRSS[k.workers] = median(cpus), median(rss)
	}
	var results []result
	for _, k := range cfgs {
		var cpus, rates []float64
		var last result
		for i := 0; i < runs; i++ {
			prof := ""
			if profileDir != "" && k.so == so {
				prof = filepath.Join(profileDir, c.name+"_"+strings.NewReplacer(" ", "_", ",", "", "(", "", ")", "").Replace(k.name)+".pprof")
			}
			s, st, mem, err := runHost(host, k.so, common+k.extra, k.workers, c.paths, dir, prof, k.intake)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k.name, err)
			}
			if s.OK != len(c.paths) || (!k.intake.plain && st.Entries != c.records) {
				return nil, fmt.Errorf("%s: %d/%d chunks ok, intake got %d of %d records", k.name, s.OK, len(c.paths), st.Entries, c.records)
			}
			cpus = append(cpus, (s.CPUUser+s.CPUSys-nullCPU[k.workers])*1e6/float64(c.records))
			rates = append(rates, float64(c.records)/(s.FlushMS/1000))
			last = result{name: k.name, workers: k.workers, payloads: st.Accepted, raw: st.RawBytes, wire: st.WireBytes,
				refGzip: st.RefGzipBytes, rssMB: s.pluginRSSMB() - nullRSS[k.workers],
				allocs: float64(mem.Mallocs) / float64(c.records), heapMB: float64(mem.HeapSys) / 1e6}
		}
		last.cpuPerRecord, last.recordsPerSec = median(cpus), median(rates)
		last.mbPerSec = last.recordsPerSec * float64(c.inBytes) / float64(c.records) / 1e6
		results = append(results, last)
		fmt.Fprintf(os.Stderr, "  %-62s %6.2f µs/record\n", k.name, last.cpuPerRecord)
	}
	return results, nil
}

// runHost runs the host once over paths. It returns the host's summary, what
// the intake received and the plugin's Go memory counters (zero for a
// plugin without internal/profiling).
func runHost(host, so, conf string, workers int, paths []string, dir, profile string, im intakeMode) (summary, intaketest.Stats, profiling.MemStats, error) {
	var mem profiling.MemStats
	var url string
	var stats func() intaketest.Stats
	if im.plain {
		p := startPlain(im.delay)
		defer p.srv.Close()
		url = p.srv.URL
		stats = func() intaketest.Stats {
			return intaketest.Stats{Accepted: int(p.requests.Load()), WireBytes: p.wire.Load()}
		}
	} else {
		srv, err := intaketest.Start(intaketest.Options{Discard: true, RefGzip: true})
		if err != nil {
			return summary{}, intaketest.Stats{}, mem, err
		}
		defer srv.Close()
		url, stats = srv.URL, srv.Stats
	}
	confPath := filepath.Join(dir, "out.conf")
	if err := os.WriteFile(confPath, []byte("endpoint "+url+"\n"+conf), 0o600); err != nil {
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
	return s, stats(), mem, nil
}

// memoryGrowth runs the default configuration once more over twice the
// chunks (the corpus plus a second one from another seed): the plugin's
// peak memory must not grow with the number of chunks it has flushed.
func memoryGrowth(host, so, null, conf string, ref corpus, dir string, results []result) (string, error) {
	var base *result
	for i := range results {
		if results[i].name == defaultConfig {
			base = &results[i]
		}
	}
	if base == nil {
		return "", nil
	}
	second, err := writeCorpus(dir, "ref2-", 2, chunkgen.FireLensMix, ref.records)
	if err != nil {
		return "", err
	}
	more := append(append([]string(nil), ref.paths...), second.paths...)
	records := ref.records
	ns, _, _, err := runHost(host, null, "", 1, more, dir, "", intakeMode{})
	if err != nil {
		return "", err
	}
	s, st, mem, err := runHost(host, so, conf, 1, more, dir, "", intakeMode{})
	if err != nil {
		return "", err
	}
	if st.Entries != 2*records {
		return "", fmt.Errorf("memory run: intake got %d of %d records", st.Entries, 2*records)
	}
	rss, heap := s.pluginRSSMB()-ns.pluginRSSMB(), float64(mem.HeapSys)/1e6
	// Twice the chunks must not mean twice the memory; the Go heap's
	// high-water mark moves by a few MB from run to run with how payloads
	// overlap, so only growth of half or more counts.
	verdict := "does not grow with the chunks flushed"
	if rss > 1.5*max(base.rssMB, 1) || heap > 1.5*base.heapMB {
		verdict = "GREW with the chunks flushed"
	}
	return fmt.Sprintf("\nMemory %s (%s): peak RSS over null %.0f MB and Go heap %.1f MB after %d chunks; %.0f MB and %.1f MB after %d.\n",
		verdict, defaultConfig, base.rssMB, base.heapMB, len(ref.paths), rss, heap, len(more)), nil
}

// realFBSections measures the FireLens router on each -realfb version, and
// renders the targets of the lines measured. With a start time it stands
// alone and carries the machine line.
func realFBSections(so string, records, runs int, start time.Time) (string, []*fbLine, error) {
	var b strings.Builder
	var lines []*fbLine
	if !start.IsZero() {
		fmt.Fprintf(&b, "# make bench results: real Fluent Bit only\n\n%s.\n", machine(runs))
	}
	for _, v := range strings.Split(realFB, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		prof := ""
		if profileDir != "" {
			prof = filepath.Join(profileDir, "realfb_"+v+".pprof")
		}
		sec, line, err := realFluentBit(so, v, records, runs, prof)
		if err != nil {
			return "", nil, err
		}
		b.WriteString(sec)
		if line != nil {
			lines = append(lines, line)
		}
	}
	b.WriteString(renderTargets(lines))
	if !start.IsZero() {
		fmt.Fprintf(&b, "\nTotal %s.\n", time.Since(start).Round(time.Second))
	}
	return b.String(), lines, nil
}

// machine names the card the figures ran on.
func machine(runs int) string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s, %s; median of %d runs", cpu, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"), runs)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func render(rs, stress, latency []result, ref, st corpus, runs int, start time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# make bench results\n\n%s; total %s.\n\n", machine(runs), time.Since(start).Round(time.Second))
	b.WriteString("CPU is the host process's user+sys time minus a null plugin's on the same chunks: the output side only.\n\n")
	fmt.Fprintf(&b, "## Reference corpus\n\n%d FireLens records in %d chunks (%.1f MB msgpack, %.0f B per record), sized like the records of the issue's reference measurement and of testdata's captured FireLens chunk (447 B per record): per 100 records, 82 access lines, 15 JSON app logs, 2 non-UTF-8 lines and 1 multi-KB stack trace.\n\n",
		ref.records, len(ref.paths), float64(ref.inBytes)/1e6, float64(ref.inBytes)/float64(ref.records))
	table(&b, rs, ref.records)
	if len(stress) > 0 {
		fmt.Fprintf(&b, "\n## Stress corpus\n\n%d records in %d chunks (%.1f MB msgpack, %.0f B per record): one record in 7 is a multi-KB stack trace, so records are %.1fx the reference's size.\n\n",
			st.records, len(st.paths), float64(st.inBytes)/1e6, float64(st.inBytes)/float64(st.records), float64(st.inBytes)/float64(ref.inBytes))
		table(&b, stress, st.records)
	}
	if len(latency) > 0 && len(rs) > 1 && rs[1].name == defaultConfig {
		b.WriteString("\n## Intake latency\n\nThe same work costs more CPU the longer each flush waits for the intake's answer: the default configuration on the reference corpus, against the stand-in of the tables above (it checks, counts and gzips every payload before answering) and against a plain intake that answers once it has read the body.\n\n")
		b.WriteString("| intake | CPU µs/record | records/s |\n|---|---|---|\n")
		fmt.Fprintf(&b, "| stand-in (tables above) | %.2f | %.0f |\n", rs[1].cpuPerRecord, rs[1].recordsPerSec)
		for _, r := range latency {
			fmt.Fprintf(&b, "| %s | %.2f | %.0f |\n", r.name, r.cpuPerRecord, r.recordsPerSec)
		}
	}
	b.WriteString("\n`wire vs gzip -6`: bytes on the wire over what Go's compress/gzip at its default level makes of the same payloads.\n")
	b.WriteString("The baseline's JSON has no ECS tags (it does not derive them), so its raw bytes are smaller.\n")
	b.WriteString("`allocs/record`: Go heap allocations of the whole run (start-up, HTTP, everything) over the records; `Go heap MB`: heap memory the Go runtime obtained from the OS, its high-water mark.\n")
	return b.String()
}

func table(b *strings.Builder, rs []result, records int) {
	b.WriteString("| configuration | workers | CPU µs/record | vs baseline | records/s | MB/s in | payloads | raw MB | JSON B/record | wire MB | raw/wire | wire vs gzip -6 | allocs/record | Go heap MB | peak RSS over null MB |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	base := rs[0].cpuPerRecord
	for _, r := range rs {
		ref := "n/a"
		if r.refGzip > 0 {
			ref = fmt.Sprintf("%.3fx", float64(r.wire)/float64(r.refGzip))
		}
		fmt.Fprintf(b, "| %s | %d | %.2f | %.2fx | %.0f | %.1f | %d | %.1f | %.0f | %.2f | %.1f | %s | %.2f | %.1f | %.0f |\n",
			r.name, r.workers, r.cpuPerRecord, r.cpuPerRecord/base, r.recordsPerSec, r.mbPerSec, r.payloads,
			float64(r.raw)/1e6, float64(r.raw)/float64(records), float64(r.wire)/1e6, float64(r.raw)/float64(max(r.wire, 1)), ref, r.allocs, r.heapMB, r.rssMB)
	}
}

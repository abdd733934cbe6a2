package main

// Two shapes of production traffic, through real Fluent Bit (fbtest), each
// measured against its baseline in the same run:
//
//   - an aggregator router serving many containers: a forward input
//     receiving records that already carry their task's FireLens fields
//     (each container its own task), router CPU against the same number
//     of records from one container;
//   - a router far from its intake: the FireLens router of the realfb
//     section, the intake stand-in answering every request after 200 ms,
//     records delivered per second by the built-in datadog output at
//     `workers 2` against datadog_go's configurations, the example task
//     definition's among them.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// scaleRecords is the records each run of both sections sends.
const scaleRecords = 200000

// routerSpec is one router run: its config, plugins, the records and the
// intake's latency.
type routerSpec struct {
	bin     string
	config  string // holds SOCKET and ENDPOINT, replaced at launch
	plugins []string
	tag     string
	recs    [][]byte
	latency time.Duration
	cpus    string // taskset's CPU list ("": unpinned)
	null    bool   // the null output: run until the router is idle
}

// routerResult is what one run measured of the router process.
type routerResult struct {
	cpu      float64 // user+sys, seconds, start to exit
	elapsed  float64 // first record sent to last accepted, seconds
	maxRSSMB float64 // VmHWM
	requests int
}

// runRouter starts the router (on s.cpus), sends the records over its
// forward socket (messages of 500, each acknowledged), waits until the
// intake has them all (with null, until the router has been idle for a
// second), stops it and reads its usage.
func runRouter(s routerSpec) (routerResult, error) {
	var r routerResult
	o := intaketest.Options{Discard: true, Lenient: true}
	if s.latency > 0 {
		o.Fault = func(int) intaketest.Fault { return intaketest.Fault{Delay: s.latency} }
	}
	srv, err := intaketest.Start(o)
	if err != nil {
		return r, err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "bench-scale")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "fluent.sock")
	u, _ := url.Parse(srv.URL)
	conf := strings.NewReplacer("SOCKET", socket, "ENDPOINT", srv.URL, "HOST", u.Hostname(), "PORT", u.Port()).Replace(s.config)
	p, err := fbtest.Launch(fbtest.Options{Binary: s.bin, Config: conf, Plugins: s.plugins, CPUs: s.cpus, Dir: dir})
	if err != nil {
		return r, err
	}
	defer p.Stop(30 * time.Second)
	f, err := fbtest.DialForward("unix", socket)
	if err != nil {
		return r, err
	}
	f.Ack = true
	start := time.Now()
	err = fbtest.SendRecords(f, s.tag, s.recs, 500)
	f.Close()
	if err != nil {
		return r, err
	}
	n := len(s.recs)
	if s.null {
		waitIdle(p.Pid(), time.Second, 60*time.Second)
	} else if !fbtest.WaitFor(300*time.Second, func() bool { return srv.Stats().Entries >= n }) {
		return r, fmt.Errorf("%d of %d records arrived:\n%s", srv.Stats().Entries, n, fbtest.Tail(p.Log(), 3000))
	}
	r.elapsed = time.Since(start).Seconds()
	if st, err := p.Status("VmHWM"); err == nil {
		r.maxRSSMB = float64(st["VmHWM"]) / 1024
	}
	if !p.Stop(30 * time.Second) {
		return r, fmt.Errorf("router did not exit on SIGTERM")
	}
	r.cpu = p.Usage().CPU().Seconds()
	st := srv.Stats()
	r.requests = st.Accepted
	if !s.null && st.Entries != n {
		return r, fmt.Errorf("intake got %d entries, want %d (duplicates?)", st.Entries, n)
	}
	return r, nil
}

// aggregatorRecords are records from containers distinct containers, each
// of its own task, perContainer records each (total records). They come
// in blocks of live containers: within a block each container's records
// are spread over the block (round r of every container, then round r+1),
// as an aggregator receives many tasks' logs interleaved; a block of
// containers are the ones live at once.
func aggregatorRecords(containers, perContainer, live int) [][]byte {
	g := chunkgen.New(7)
	shapes := chunkgen.FireLensMix
	out := make([][]byte, 0, containers*perContainer)
	for first := 0; first < containers; first += live {
		last := min(first+live, containers)
		for round := 0; round < perContainer; round++ {
			for c := first; c < last; c++ {
				i := len(out)
				out = append(out, aggregatorRecord(c, g.Line(shapes[i%len(shapes)], i)))
			}
		}
	}
	return out
}

// aggregatorRecord is container c's record as its task's router forwards
// it: the log driver's fields, then FireLens' ECS fields.
func aggregatorRecord(c int, line string) []byte {
	task := fmt.Sprintf("%032x", c+1)
	b := msgp.AppendMapHeader(nil, 7)
	for _, kv := range [...][2]string{
		{"container_id", task + "-1234567890"},
		{"container_name", "app"},
		{"source", "stdout"},
		{"log", line},
		{"ecs_cluster", "arn:aws:ecs:us-east-1:123456789012:cluster/prod"},
		{"ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/prod/" + task},
		{"ecs_task_definition", "web:42"},
	} {
		b = msgp.AppendString(msgp.AppendString(b, kv[0]), kv[1])
	}
	return b
}

// aggregatorConfig is a plain Fluent Bit aggregator: a forward input and
// the output on every record.
func aggregatorConfig(output []string) string {
	return "[SERVICE]\n    Flush 1\n    Grace 5\n\n[INPUT]\n    Name forward\n    unix_path SOCKET\n\n[OUTPUT]\n    Match *\n    " +
		strings.Join(output, "\n    ") + "\n"
}

// scaleSections measures both sections on version and renders them.
func scaleSections(so, version string, runs int) (string, error) {
	if version == "" {
		return "", nil
	}
	bin, err := fbtest.Find(version)
	if err != nil {
		return fmt.Sprintf("\n## Many containers, distant intake (real Fluent Bit %s)\n\nNot measured: %v.\n", version, err), nil
	}
	var b strings.Builder
	if err := manyContainers(&b, bin, so, version, runs); err != nil {
		return "", err
	}
	if err := distantIntake(&b, bin, so, version, runs); err != nil {
		return "", err
	}
	return b.String(), nil
}

// manyContainers is the aggregator section.
func manyContainers(b *strings.Builder, bin, so, version string, n int) error {
	fmt.Fprintf(os.Stderr, "real Fluent Bit %s, aggregator, %d records from many containers:\n", version, scaleRecords)
	options, err := taskDefinitionOptions()
	if err != nil {
		return err
	}
	spec := routerSpec{bin: bin, config: aggregatorConfig(options), plugins: []string{so}, tag: "fwd", cpus: "0"}
	null := routerSpec{bin: bin, config: aggregatorConfig([]string{"Name null"}), plugins: []string{}, tag: "fwd", cpus: "0", null: true}
	cases := []struct {
		name                  string
		containers, per, live int
		recs                  [][]byte
		cpus, nulls           []float64
		rssMB                 float64
	}{
		{name: "1 container", containers: 1, per: scaleRecords, live: 1},
		{name: "20,000, 10 records each, 1,000 live at a time", containers: 20000, per: 10, live: 1000},
		{name: "100,000, 2 records each, all live at once", containers: 100000, per: 2, live: 100000},
	}
	for i := range cases {
		c := &cases[i]
		c.recs = aggregatorRecords(c.containers, c.per, c.live)
	}
	// Interleaved run by run, so a slow spell of the shared machine hits
	// every case alike; the null runs measure Fluent Bit's own cost.
	for run := 0; run < n; run++ {
		for i := range cases {
			c := &cases[i]
			null.recs, spec.recs = c.recs, c.recs
			nr, err := runRouter(null)
			if err != nil {
				return fmt.Errorf("aggregator null, %s containers: %w", c.name, err)
			}
			r, err := runRouter(spec)
			if err != nil {
				return fmt.Errorf("aggregator, %s containers: %w", c.name, err)
			}
			fmt.Fprintf(os.Stderr, "  %-48s run %d: CPU %.2f s (null %.2f s), peak RSS %.0f MB\n", c.name, run+1, r.cpu, nr.cpu, r.maxRSSMB)
			c.nulls = append(c.nulls, nr.cpu)
			c.cpus = append(c.cpus, r.cpu)
			c.rssMB = max(c.rssMB, r.maxRSSMB)
		}
	}
	cpu := func(i int) float64 { return median(append([]float64(nil), cases[i].cpus...)) }
	fmt.Fprintf(b, "\n## Many containers: an aggregator router (real Fluent Bit %s)\n\n", version)
	fmt.Fprintf(b, "A plain Fluent Bit aggregator (a forward input on a unix socket, `Flush 1`, datadog_go with the example task definition's options) receives %d records, each with its task's FireLens fields (`container_id`, `container_name`, `ecs_cluster`, `ecs_task_arn`, `ecs_task_definition`), every container of its own task. The router is pinned to one CPU; its CPU is its user+sys time from start to exit, median of %d runs, the cases interleaved; null: the same router with the `null` output on the same records. Records come in blocks of live containers: within a block each container's records are spread over the block, as many tasks' logs arrive interleaved. The tags cache holds 8,192 containers, so in the 100,000-container case every record misses it and costs one build of its container's tags.\n\n", scaleRecords, n)
	b.WriteString("| containers | router CPU s (runs) | µs per record | vs 1 container | beyond null µs/record | peak RSS MB |\n|---|---|---|---|---|---|\n")
	for i, c := range cases {
		fmt.Fprintf(b, "| %s | %.2f (%s) | %.2f | %.2fx | %.2f | %.0f |\n", c.name, cpu(i), spread(c.cpus),
			cpu(i)*1e6/scaleRecords, cpu(i)/cpu(0), (cpu(i)-median(c.nulls))*1e6/scaleRecords, c.rssMB)
	}
	fmt.Fprintf(b, "\n- router CPU, 20,000 containers / 1 container = **%.2fx** (target ≤ 1.2x); peak RSS %.0f MB against %.0f MB\n",
		cpu(1)/cpu(0), cases[1].rssMB, cases[0].rssMB)
	fmt.Fprintf(b, "- 100,000 containers, every record a miss: **%.2fx** the one-container router; peak RSS %.0f MB\n", cpu(2)/cpu(0), cases[2].rssMB)
	return nil
}

// distantConfig is one output of the distant-intake section.
type distantConfig struct {
	name    string
	options []string
	plugins []string // nil: datadog_go's .so
}

// distantConfigs are the outputs of the distant-intake section: the
// built-in at `workers 2` (the baseline), datadog_go as it was measured
// before it was sized for latency (`workers 2`, 4 payloads of a chunk in
// flight), at `workers 2` with its defaults, and as the example task
// definition (docker/ecs/task-definition.json) configures it.
func distantConfigs() ([]distantConfig, error) {
	recommended, err := taskDefinitionOptions()
	if err != nil {
		return nil, err
	}
	builtin := []string{"Name datadog", "dd_message_key log", "apikey bench", "dd_service singsong",
		"dd_source httpd", "dd_tags env:prod", "provider ecs", "Host HOST", "Port PORT", "TLS off", "compress gzip", "workers 2"}
	return []distantConfig{
		{"built-in datadog, `workers 2`", builtin, []string{}},
		{"datadog_go, `workers 2`, `max_concurrency 4`", setOption(setOption(recommended, "workers", "2"), "max_concurrency", "4"), nil},
		{"datadog_go, `workers 2`, defaults otherwise", setOption(recommended, "workers", "2"), nil},
		{"datadog_go, the example task definition's options", recommended, nil},
	}, nil
}

// taskDefinitionOptions are the app container's logConfiguration options
// of docker/ecs/task-definition.json as output lines, the intake at
// ENDPOINT instead of site and the key FireLens takes from Secrets Manager
// given inline: what the section measures is what the docs recommend.
func taskDefinitionOptions() ([]string, error) {
	root, err := fbtest.RepoRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "docker", "ecs", "task-definition.json"))
	if err != nil {
		return nil, err
	}
	var td struct {
		Containers []struct {
			LogConfiguration struct {
				LogDriver string            `json:"logDriver"`
				Options   map[string]string `json:"options"`
			} `json:"logConfiguration"`
		} `json:"containerDefinitions"`
	}
	if err := json.Unmarshal(b, &td); err != nil {
		return nil, fmt.Errorf("task-definition.json: %w", err)
	}
	for _, c := range td.Containers {
		if c.LogConfiguration.LogDriver != "awsfirelens" {
			continue
		}
		opts := c.LogConfiguration.Options
		out := []string{"Name " + opts["Name"], "endpoint ENDPOINT", "apikey bench"}
		keys := make([]string, 0, len(opts))
		for k := range opts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k != "Name" && k != "site" {
				out = append(out, k+" "+opts[k])
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("task-definition.json: no awsfirelens container")
}

// setOption sets key's line in options to value.
func setOption(options []string, key, value string) []string {
	out := make([]string, 0, len(options)+1)
	for _, o := range options {
		if k, _, _ := strings.Cut(o, " "); !strings.EqualFold(k, key) {
			out = append(out, o)
		}
	}
	return append(out, key+" "+value)
}

// distantIntake is the distant-intake section: each configuration with the
// router on one CPU, as a 1-vCPU task, and on both of this machine's.
func distantIntake(b *strings.Builder, bin, so, version string, n int) error {
	const latency = 200 * time.Millisecond
	fmt.Fprintf(os.Stderr, "real Fluent Bit %s, FireLens router, intake answering after %s:\n", version, latency)
	cfgs, err := distantConfigs()
	if err != nil {
		return err
	}
	recs := fbtest.Records(scaleRecords, 11, fbtest.DefaultContainer)
	cpuSets := []string{"0", ""}
	type cell struct {
		rates, cpus []float64
		rssMB       float64
		requests    int
	}
	res := make([][]cell, len(cfgs))
	for i := range res {
		res[i] = make([]cell, len(cpuSets))
	}
	for run := 0; run < n; run++ {
		for j, cpus := range cpuSets {
			for i, c := range cfgs {
				plugins := c.plugins
				if plugins == nil {
					plugins = []string{so}
				}
				fl := fbtest.SeedTask("SOCKET")
				fl.Options = c.options
				r, err := runRouter(routerSpec{bin: bin, config: fl.Config(), plugins: plugins, tag: fl.Tag(), recs: recs, latency: latency, cpus: cpus})
				if err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				rate := float64(len(recs)) / r.elapsed
				where := "one CPU"
				if cpus == "" {
					where = "two CPUs"
				}
				fmt.Fprintf(os.Stderr, "  %-52s %-8s run %d: %.0f records/s, CPU %.2f s, peak RSS %.0f MB, %d requests\n",
					c.name, where, run+1, rate, r.cpu, r.maxRSSMB, r.requests)
				x := &res[i][j]
				x.rates = append(x.rates, rate)
				x.cpus = append(x.cpus, r.cpu)
				x.rssMB = max(x.rssMB, r.maxRSSMB)
				x.requests = r.requests
			}
		}
	}
	rate := func(i, j int) float64 { return median(append([]float64(nil), res[i][j].rates...)) }
	fmt.Fprintf(b, "\n## A distant intake: records per second through a %s intake (real Fluent Bit %s)\n\n", latency, version)
	fmt.Fprintf(b, "The FireLens router of the real-Fluent-Bit section fed %d records by a saturating forward client (messages of 500, each acknowledged); the intake stand-in answers every request %s after reading it, as an intake in another region does (ap-southeast-2 to US1). Records per second from the first record sent to the last accepted, median of %d runs, the configurations interleaved; the router pinned to one CPU (`taskset -c 0`: a 1-vCPU task), then on both of this machine's (the sender and the stand-in share them). The built-in sends each chunk in one request; datadog_go in payloads of at most 1,000 entries, as the intake requires.\n\n", scaleRecords, latency, n)
	b.WriteString("| output | output options that size it | records/s, one CPU (runs) | vs built-in | router CPU s | records/s, two CPUs (runs) | vs built-in | peak RSS MB | requests |\n|---|---|---|---|---|---|---|---|---|\n")
	for i, c := range cfgs {
		fmt.Fprintf(b, "| %s | `%s` | %.0f (%s) | %.2fx | %.2f | %.0f (%s) | %.2fx | %.0f | %d |\n", c.name, strings.Join(sizing(c.options), "`, `"),
			rate(i, 0), spreadInt(res[i][0].rates), rate(i, 0)/rate(0, 0), median(append([]float64(nil), res[i][0].cpus...)),
			rate(i, 1), spreadInt(res[i][1].rates), rate(i, 1)/rate(0, 1), max(res[i][0].rssMB, res[i][1].rssMB), res[i][0].requests)
	}
	last := len(cfgs) - 1
	fmt.Fprintf(b, "\n- records/s at the example task definition's options / built-in at `workers 2` = **%.2fx** on one CPU, **%.2fx** on two (target ≥ 1.0x)\n",
		rate(last, 0)/rate(0, 0), rate(last, 1)/rate(0, 1))
	return nil
}

// sizing are the options that size an output's throughput.
func sizing(options []string) []string {
	var out []string
	for _, o := range options {
		switch k, _, _ := strings.Cut(o, " "); strings.ToLower(k) {
		case "workers", "max_concurrency", "max_batch_entries", "max_batch_bytes", "compress":
			out = append(out, o)
		}
	}
	return out
}

// spreadInt is the runs' minimum–maximum, rounded.
func spreadInt(v []float64) string {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf("%.0f–%.0f", lo, hi)
}

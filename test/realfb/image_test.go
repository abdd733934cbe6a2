package realfb

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The router image on ECS, without a container engine: docker/Dockerfile's
// file layout (its last stage's COPY lines: the .so, the included
// out_datadog_go.conf and the plugins file it names) under a temporary
// root, and the configuration FireLens generates for the example task
// definition (docker/ecs/task-definition.json: the app's logConfiguration
// options, the router's config-file-value), started as aws-for-fluent-bit
// starts Fluent Bit: AWS's own plugins aside, nothing is loaded by -e. The
// only edits are the image's absolute paths (under the root), the HTTP
// port (a free one), and the intake (endpoint and the key FireLens would
// take from Secrets Manager, added to the options).

// taskDefinition is the part of docker/ecs/task-definition.json read here.
type taskDefinition struct {
	Family     string `json:"family"`
	Containers []struct {
		Name             string `json:"name"`
		LogConfiguration struct {
			LogDriver string            `json:"logDriver"`
			Options   map[string]string `json:"options"`
		} `json:"logConfiguration"`
		FirelensConfiguration *struct {
			Options map[string]string `json:"options"`
		} `json:"firelensConfiguration"`
		HealthCheck struct {
			Command []string `json:"command"`
		} `json:"healthCheck"`
		DockerLabels      map[string]string `json:"dockerLabels"`
		MemoryReservation int               `json:"memoryReservation"`
	} `json:"containerDefinitions"`
}

// router is one router laid out as the image, not started yet.
type router struct {
	im      fbtest.Image
	srv     *intaketest.Server
	fl      fbtest.FireLens
	include string // config-file-value, as the image sees it
	port    string // Fluent Bit's HTTP server
	health  string // the health check's URL, on port
	checks  string // the Agent's Autodiscovery template for the router
	memMiB  int    // the router's memoryReservation
}

// layRouter lays out the image under a new root, sending to srv (a new
// intake when nil).
func layRouter(t *testing.T, srv *intaketest.Server) *router {
	t.Helper()
	repo, err := fbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	im, err := fbtest.LayImage(repo, filepath.Join(repo, "docker", "Dockerfile"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(repo, "docker", "ecs", "task-definition.json"))
	if err != nil {
		t.Fatal(err)
	}
	var td taskDefinition
	if err := json.Unmarshal(b, &td); err != nil {
		t.Fatal(err)
	}
	if srv == nil {
		srv = intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
	}
	r := &router{im: im, srv: srv, port: strconv.Itoa(freePort(t))}
	var app map[string]string
	for _, c := range td.Containers {
		switch {
		case c.LogConfiguration.LogDriver == "awsfirelens":
			app = c.LogConfiguration.Options
			r.fl.Container = c.Name
		case c.FirelensConfiguration != nil:
			r.include = c.FirelensConfiguration.Options["config-file-value"]
			if n := len(c.HealthCheck.Command); n > 0 {
				r.health = c.HealthCheck.Command[n-1]
			}
			r.checks = c.DockerLabels["com.datadoghq.ad.checks"]
			r.memMiB = c.MemoryReservation
		}
	}
	if app == nil || r.include == "" || !strings.HasPrefix(r.health, "http://127.0.0.1:2020/") || r.checks == "" {
		t.Fatalf("task-definition.json: app options %v, config-file-value %q, health check %q, checks label %q",
			app, r.include, r.health, r.checks)
	}
	r.health = strings.Replace(r.health, ":2020/", ":"+r.port+"/", 1)

	// The include's HTTP port, the one fixed port of the image.
	inc := im.Path(r.include)
	conf, err := os.ReadFile(inc)
	if err != nil {
		t.Fatalf("config-file-value %s is not in the image: %v", r.include, err)
	}
	edited := replaceOnce(t, string(conf), `(?m)^(\s*HTTP_Port\s+)2020$`, "${1}"+r.port)
	if err := os.WriteFile(inc, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	task := fbtest.SeedTask(filepath.Join(t.TempDir(), "fluent.sock"))
	r.fl.Socket, r.fl.Cluster, r.fl.TaskARN, r.fl.TaskDefinition = task.Socket, task.Cluster, task.TaskARN, task.TaskDefinition
	r.fl.Options = []string{"Name " + app["Name"]}
	keys := make([]string, 0, len(app))
	for k := range app {
		if k != "Name" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		r.fl.Options = append(r.fl.Options, k+" "+app[k])
	}
	r.fl.Options = append(r.fl.Options, "endpoint "+r.srv.URL, "apikey "+apiKey)
	return r
}

// firelensConfig is FireLens' generated configuration, with or without the
// include, as the image sees it.
func (r *router) firelensConfig(include bool) string {
	fl := r.fl
	if include {
		fl.Include = r.include
	}
	return r.im.Rewrite(fl.Config())
}

// start runs Fluent Bit v with conf written to dir (an image directory).
func (r *router) start(t *testing.T, v, dir, conf string) *fbtest.Process {
	t.Helper()
	return fbtest.Start(t, fbtest.Options{Version: v, Config: conf, Dir: r.im.Path(dir), Plugins: []string{}})
}

// writeFireLens writes FireLens' configuration where ECS writes it.
func (r *router) writeFireLens(t *testing.T, include bool) {
	t.Helper()
	if err := os.WriteFile(r.im.Path("/fluent-bit/etc/fluent-bit.conf"), []byte(r.firelensConfig(include)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The standard image: `fluent-bit -e (AWS's plugins) -c
// /fluent-bit/etc/fluent-bit.conf`, FireLens' config including
// config-file-value. The plugin loads and delivers; the task definition's
// health check answers 200; the Agent's openmetrics template selects the
// output's metrics; from 4.x on FireLens' input buffers on the filesystem.
func TestRouterImageStandard(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			fbtest.Require(t, v)
			t.Parallel()
			r := layRouter(t, nil)
			p := r.start(t, v, "/fluent-bit/etc", r.firelensConfig(true))
			const n = 1000
			send(t, r.fl.Socket, r.fl.Tag(), fbtest.Records(n, 1, fbtest.DefaultContainer))
			checkDelivered(t, r.srv, p, n)

			resp, err := http.Get(r.health)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("health check %s: %d", r.health, resp.StatusCode)
			}

			// Fluent Bit 1.9 serves Prometheus metrics at the v1 path only
			// (docs/deploy.md: 1.9 serves its own metrics at the v1 path).
			checks := r.checks
			if v == fbtest.V19 {
				checks = strings.Replace(checks, "/api/v2/metrics/prometheus", "/api/v1/metrics/prometheus", 1)
			}
			selected := func() map[string]float64 { return scrape(t, checks, r.port) }
			key := `fluentbit_output_proc_records_total{name="datadog_go.0"}`
			if !fbtest.WaitFor(15*time.Second, func() bool { return selected()[key] >= n }) {
				t.Errorf("the Agent's openmetrics template selects %s = %v, want %d", key, selected()[key], n)
			}

			if v != fbtest.V19 && !strings.Contains(p.Log(), "[input:forward:forward.0] storage_strategy='filesystem'") {
				t.Errorf("FireLens' forward input did not inherit filesystem storage:\n%s", fbtest.Tail(p.Log(), 3000))
			}
			if !p.Stop(20*time.Second) || p.ExitCode() != 0 {
				t.Errorf("exit status %d", p.ExitCode())
			}
		})
	}
}

// scrape reads Fluent Bit's metrics as the Agent's openmetrics check
// configured by the router's Autodiscovery template (checks) does:
// the endpoint is the task's loopback, raw_metric_prefix is cut, and only families that
// one of `metrics` selects are kept: a string entry is a regular expression
// matching the whole name, a mapping's keys are names (a counter's without
// its _total, as the check reads them). Every fluentbit_datadog_go_ family
// served must be kept.
func scrape(t *testing.T, checks, port string) map[string]float64 {
	t.Helper()
	var tmpl struct {
		OpenMetrics struct {
			Instances []struct {
				Endpoint  string            `json:"openmetrics_endpoint"`
				Prefix    string            `json:"raw_metric_prefix"`
				Namespace string            `json:"namespace"`
				Metrics   []json.RawMessage `json:"metrics"`
			} `json:"instances"`
		} `json:"openmetrics"`
	}
	if err := json.Unmarshal([]byte(checks), &tmpl); err != nil || len(tmpl.OpenMetrics.Instances) != 1 {
		t.Fatalf("com.datadoghq.ad.checks %q: %v", checks, err)
	}
	in := tmpl.OpenMetrics.Instances[0]
	url := strings.Replace(in.Endpoint, "127.0.0.1:2020", "127.0.0.1:"+port, 1)
	if url == in.Endpoint || in.Namespace == "" {
		t.Fatalf("openmetrics instance %+v: want http://127.0.0.1:2020/... and a namespace", in)
	}
	var res []*regexp.Regexp
	names := map[string]bool{}
	for _, raw := range in.Metrics {
		var re string
		var mapping map[string]string
		switch {
		case json.Unmarshal(raw, &re) == nil:
			res = append(res, regexp.MustCompile("^(?:"+re+")$"))
		case json.Unmarshal(raw, &mapping) == nil:
			for k := range mapping {
				names[k] = true
			}
		default:
			t.Fatalf("openmetrics metrics entry %s: neither a string nor a mapping", raw)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	histograms := map[string]bool{} // families of TYPE histogram: their samples end in _bucket, _sum, _count
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && f[3] == "histogram" {
			histograms[f[2]] = true
		}
		if line == "" || line[0] == '#' {
			continue
		}
		series, rest, _ := strings.Cut(line, " ")
		family, _, _ := strings.Cut(series, "{")
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(family, suffix); ok && histograms[base] {
				family = base
			}
		}
		name, ok := strings.CutPrefix(family, in.Prefix)
		keep := ok && (names[name] || names[strings.TrimSuffix(name, "_total")] ||
			slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(name) }))
		if !keep {
			if strings.HasPrefix(family, "fluentbit_datadog_go_") {
				t.Errorf("the openmetrics template leaves out the plugin's %s", family)
			}
			continue
		}
		val, _, _ := strings.Cut(rest, " ")
		f, _ := strconv.ParseFloat(val, 64)
		out[strings.TrimPrefix(series, in.Prefix)] = f
	}
	return out
}

// The init image: its init process writes /init/fluent-bit-init.conf,
// which @INCLUDEs FireLens' configuration and then each file named by an
// aws_fluent_bit_init_file_* variable (aws/aws-for-fluent-bit,
// init/fluent_bit_init_process.go), and runs `fluent-bit -e (AWS's
// plugins) -c /init/fluent-bit-init.conf`. The include works through
// config-file-value or through such a variable; through both, Fluent Bit
// refuses the file read twice and does not start (docs/deploy.md says: one or the
// other).
func TestRouterImageInit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name            string
		firelensInclude bool // config-file-value set
		initFile        bool // aws_fluent_bit_init_file_1 names the include
	}{
		{"config-file-value", true, false},
		{"init-file-variable", false, true},
		{"both", true, true},
	}
	for _, v := range fbtest.Lines {
		for _, c := range cases {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				fbtest.Require(t, v)
				t.Parallel()
				r := layRouter(t, nil)
				r.writeFireLens(t, c.firelensInclude)
				initConf := "@INCLUDE /fluent-bit/etc/fluent-bit.conf\n"
				if c.initFile {
					initConf += "@INCLUDE " + r.include + "\n"
				}
				if err := os.MkdirAll(r.im.Path("/init"), 0o755); err != nil {
					t.Fatal(err)
				}
				if c.firelensInclude && c.initFile {
					bin := fbtest.Require(t, v)
					p, err := fbtest.Launch(fbtest.Options{Binary: bin, Config: r.im.Rewrite(initConf), Dir: r.im.Path("/init"), Plugins: []string{}})
					if err == nil {
						p.Stop(10 * time.Second)
						t.Fatal("Fluent Bit started with the include read twice")
					}
					if p == nil || p.ExitCode() == 0 || !strings.Contains(p.Log(), r.include) {
						t.Errorf("start-up refused without naming the file twice read: %v", err)
					}
					return
				}
				p := r.start(t, v, "/init", r.im.Rewrite(initConf))
				const n = 200
				send(t, r.fl.Socket, r.fl.Tag(), fbtest.Records(n, 2, fbtest.DefaultContainer))
				checkDelivered(t, r.srv, p, n)
			})
		}
	}
}

// The bounded buffer of the image's include on Fluent Bit 4.x and 5.x: during an
// intake outage FireLens' forward input (which sets no storage.type)
// buffers on the filesystem and keeps at most storage.max_chunks_up chunks
// in memory, the rest down on disk, as Fluent Bit's storage metrics show;
// the router's peak memory stays under the task definition's
// memoryReservation.
// 250,000 records (about 68 MB as msgpack) fill more chunks than that.
// Fluent Bit 1.9 has no storage.inherit: docs/delivery.md says so.
func TestRouterImageBoundedBuffer(t *testing.T) { eachLine(t, linesPast19, boundedBuffer) }

func boundedBuffer(t *testing.T, v string) {
	r := layRouter(t, intaketest.StartT(t, intaketest.Options{APIKey: apiKey,
		Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: http.StatusServiceUnavailable} }}))
	inc, err := os.ReadFile(r.im.Path(r.include))
	if err != nil {
		t.Fatal(err)
	}
	maxUp, err := strconv.Atoi(submatch(t, inc, `(?m)^\s*storage\.max_chunks_up\s+(\d+)$`))
	if err != nil {
		t.Fatal(err)
	}
	p := r.start(t, v, "/fluent-bit/etc", r.firelensConfig(true))
	// The flushes in flight wait on the outage for their retry budget:
	// nothing to wait for at the end.
	t.Cleanup(func() { _ = p.Cmd.Process.Kill() })
	send(t, r.fl.Socket, r.fl.Tag(), fbtest.Records(250_000, 4, fbtest.DefaultContainer))

	type chunks struct{ Total, Up, Down int }
	var c chunks
	// Fluent Bit refreshes its storage metrics every few seconds (an empty
	// answer until the first refresh).
	fbtest.WaitFor(15*time.Second, func() bool {
		var st struct {
			Inputs map[string]struct {
				Chunks chunks `json:"chunks"`
			} `json:"input_chunks"`
		}
		resp, err := http.Get("http://127.0.0.1:" + r.port + "/api/v1/storage")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		c = st.Inputs["forward.0"].Chunks
		return c.Total > maxUp
	})
	mem, _ := p.Status("VmHWM")
	t.Logf("forward.0: %d chunks, %d up, %d down; VmHWM %d kB", c.Total, c.Up, c.Down, mem["VmHWM"])
	if c.Up > maxUp || c.Down == 0 || c.Total != c.Up+c.Down {
		t.Errorf("forward.0 chunks %+v: want at most %d up (storage.max_chunks_up), the rest down", c, maxUp)
	}
	if mem["VmHWM"] == 0 || mem["VmHWM"] > int64(r.memMiB)*1024 {
		t.Errorf("VmHWM %d kB, over the router's memoryReservation of %d MiB", mem["VmHWM"], r.memMiB)
	}
}

// Without config-file-value (a task definition not updated for the image),
// nothing registers datadog_go: Fluent Bit refuses to start and names it.
func TestRouterImageWithoutInclude(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			bin := fbtest.Require(t, v)
			t.Parallel()
			r := layRouter(t, nil)
			p, err := fbtest.Launch(fbtest.Options{Binary: bin, Config: r.firelensConfig(false),
				Dir: r.im.Path("/fluent-bit/etc"), Plugins: []string{}})
			if err == nil {
				p.Stop(10 * time.Second)
				t.Fatal("Fluent Bit started without the include")
			}
			if p == nil || p.ExitCode() == 0 ||
				!strings.Contains(p.Log(), "section 'datadog_go' tried to instance a plugin name that") {
				t.Errorf("start-up not refused naming datadog_go: %v", err)
			}
		})
	}
}

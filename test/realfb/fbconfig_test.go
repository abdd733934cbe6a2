package realfb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The user's Fluent Bit configuration, read by the plugin as Fluent Bit
// reads it (issue 27): Grace however it is spelt, variables from @SET and
// YAML env, includes found where Fluent Bit finds them, an include the plugin
// cannot read, leftovers of the built-in output that agree, several header
// lines; and the configuration messages of issue 32. Each runs on every line
// of fbtest.Lines unless the format does not exist there (YAML's schema is
// 4.x's and 5.x's: 1.9's experimental YAML reads another).
//
// Fluent Bit's reader, cited: src/config_format/flb_cf_fluentbit.c (classic:
// read_config, read_glob, @SET as a meta), flb_cf_yaml.c (env, includes),
// src/flb_config.c (flb_config_set_property: Grace is FLB_CONF_TYPE_INT,
// atoi of the value flb_env_var_translate expanded; @SET and env applied
// before any section), src/flb_env.c (flb_env_var_translate), at v1.9.10,
// v4.2.8 and v5.1.1.

// onLines runs f as the subtest <line>/name on every line of fbtest.Lines,
// with its binary (skipped with one line when absent); a YAML case only on
// linesPast19. The subtests run at once, past go test's -parallel (the
// machine's cores), as each mostly waits on its Fluent Bit; wg waits for
// them.
func onLines(t *testing.T, wg *sync.WaitGroup, name string, yaml bool, f func(t *testing.T, bin string)) {
	for _, v := range fbtest.Lines {
		if yaml && !slices.Contains(linesPast19, v) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(strings.TrimSuffix(v+"/"+name, "/"), func(t *testing.T) { f(t, fbtest.Require(t, v)) })
		}()
	}
}

// graceRe is Fluent Bit's own word on its Grace at a stop
// (src/flb_engine.c, flb_engine_start, the same in the three lines).
var graceRe = regexp.MustCompile(`service will shutdown in max (\d+) seconds`)

// allowanceRe is the plugin's line when the stop signal is seen.
var allowanceRe = regexp.MustCompile(`Fluent Bit is stopping: flushes end within (\S+);`)

// TestGraceAsFluentBitReadsIt: Grace spelt as a variable, with a unit, as
// a fraction, through @SET, through YAML env, with a default (${G:-12},
// which 1.9.10 does not know: it reads "" and so Grace 0), and through a
// variable set from a file (@SET G=file://..., which 1.9.10 takes as text:
// Grace 0 again). Whatever the spelling, the plugin's stop allowance is
// Fluent Bit's own Grace less 2 s (at least 1 s), Grace as Fluent Bit
// prints it at the stop. Where that Grace leaves time, a request of 4 s in
// flight at SIGTERM (retry_budget 10s lets it run) is delivered. (Before:
// the plugin read 5 for every spelling but a plain number, cut the flush
// 3 s after SIGTERM, and the records were lost.)
func TestGraceAsFluentBitReadsIt(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	defer wg.Wait()
	cases := []struct {
		name  string
		grace string   // the value of Grace
		pre   string   // lines before the [SERVICE] section ({dir}: the config's directory)
		env   []string // Fluent Bit's environment
		yaml  bool
		file  string // {dir}/grace.txt's content
	}{
		{name: "variable", grace: "${FLB_GRACE}", env: []string{"FLB_GRACE=12"}},
		{name: "unit", grace: "12s"},
		{name: "fraction", grace: "12.5"},
		{name: "@SET", grace: "${G}", pre: "@SET G=12\n"},
		{name: "default", grace: "${UNSET_GRACE:-12}"},
		{name: "file", grace: "${G}", pre: "@SET G=file://{dir}/grace.txt\n", file: "12\n"},
		{name: "yaml env", grace: "${G}", yaml: true},
	}
	for _, tc := range cases {
		onLines(t, &wg, tc.name, tc.yaml, func(t *testing.T, bin string) {
			srv := slowIntake(t)
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			o := fbtest.Options{Binary: bin, Dir: dir, Env: tc.env}
			if tc.yaml {
				o.ConfigName, o.Config = "fluent-bit.yaml", yamlRouter(fl.Socket, "env:\n  G: 12\n", "  flush: 1\n  grace: "+tc.grace+"\n",
					"endpoint: "+srv.URL, "apikey: "+apiKey, "workers: 2", "retry_limit: no_limits", "retry_budget: 10s")
			} else {
				fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "retry_budget 10s")
				fl.Service = []string{"Flush 1", "Grace " + tc.grace}
				o.Config = strings.ReplaceAll(tc.pre, "{dir}", dir) + fl.Config()
			}
			if tc.file != "" {
				writeFile(t, filepath.Join(dir, "grace.txt"), tc.file)
			}
			log := stopInFlight(t, o, fl, srv)
			fb, ours := graceRe.FindStringSubmatch(log), allowanceRe.FindStringSubmatch(log)
			if fb == nil || ours == nil {
				t.Fatalf("no stop line from Fluent Bit or the plugin:\n%s", fbtest.Tail(log, 3000))
			}
			grace, _ := strconv.Atoi(fb[1])
			want := max(time.Duration(grace-2)*time.Second, time.Second)
			if ours[1] != want.String() {
				t.Errorf("Fluent Bit's Grace is %d s, the plugin's allowance %s: want %s\n%s", grace, ours[1], want, fbtest.Tail(log, 3000))
			}
			t.Logf("Grace %s: Fluent Bit %d s, plugin allowance %s, %d of 10 delivered", tc.grace, grace, ours[1], srv.Stats().Entries)
			if grace >= 8 && srv.Stats().Entries != 10 {
				t.Errorf("%d of 10 records delivered with Grace %d\n%s", srv.Stats().Entries, grace, fbtest.Tail(log, 3000))
			}
		})
	}
}

// slowIntake answers every request after 4 s: one in flight at SIGTERM
// is delivered only if the flush is not cut before.
func slowIntake(t *testing.T) *intaketest.Server {
	return intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: func(int) intaketest.Fault {
		return intaketest.Fault{Delay: 4 * time.Second}
	}})
}

// stopInFlight starts Fluent Bit (o) with the router fl, sends it 10
// records, sends SIGTERM once their request has reached srv, and returns
// the log once Fluent Bit has exited.
func stopInFlight(t *testing.T, o fbtest.Options, fl fbtest.FireLens, srv *intaketest.Server) string {
	t.Helper()
	p, err := fbtest.Launch(o)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	send(t, fl.Socket, fl.Tag(), fbtest.Records(10, 1, fbtest.DefaultContainer))
	if !fbtest.WaitFor(20*time.Second, func() bool { return srv.Stats().Requests > 0 }) {
		t.Fatalf("no request in 20 s\n%s", fbtest.Tail(p.Log(), 3000))
	}
	if !p.Stop(40 * time.Second) {
		t.Fatalf("no exit 40 s after SIGTERM\n%s", fbtest.Tail(p.Log(), 3000))
	}
	return p.Log()
}

// yamlRouter is a YAML config: top (env: ...), the service's lines, a
// forward input on socket and one datadog_go output matching everything
// with the "key: value" lines given.
func yamlRouter(socket, top, service string, output ...string) string {
	var b strings.Builder
	b.WriteString(top)
	b.WriteString("service:\n" + service)
	fmt.Fprintf(&b, "pipeline:\n  inputs:\n    - name: forward\n      unix_path: %s\n  outputs:\n    - name: datadog_go\n      match: '*'\n", socket)
	for _, l := range output {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

const euURL = "url=https://http-intake.logs.datadoghq.eu/api/v2/logs"

// TestHostAsFluentBitReadsIt: the built-in output's Host of the EU intake,
// spelt through @SET, YAML env, or in a file @INCLUDE names relative to the
// working directory (Fluent Bit looks there first, then beside the main
// file: read_config's stat, then root_path), sends to the EU site. (Before:
// to datadoghq.com, without a word.)
func TestHostAsFluentBitReadsIt(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	defer wg.Wait()
	out := func(host string) []string {
		return []string{"Name datadog_go", "Match *", "apikey " + apiKey, "Host " + host, "TLS on", "workers 2"}
	}
	cases := []struct {
		name string
		yaml bool
		lay  func(t *testing.T, dir string, fl fbtest.FireLens) fbtest.Options
	}{
		{name: "@SET", lay: func(t *testing.T, dir string, fl fbtest.FireLens) fbtest.Options {
			fl.Options = out("${DDHOST}")
			return fbtest.Options{Config: "@SET DDHOST=http-intake.logs.datadoghq.eu\n" + fl.Config()}
		}},
		{name: "yaml env", yaml: true, lay: func(t *testing.T, dir string, fl fbtest.FireLens) fbtest.Options {
			return fbtest.Options{ConfigName: "fluent-bit.yaml", Config: yamlRouter(fl.Socket, "env:\n  DDHOST: http-intake.logs.datadoghq.eu\n",
				"  flush: 1\n", "apikey: "+apiKey, "host: ${DDHOST}", "tls: on", "workers: 2")}
		}},
		{name: "include from the working directory", lay: func(t *testing.T, dir string, fl fbtest.FireLens) fbtest.Options {
			// The main file in conf/, the include in the working directory:
			// not beside the main file.
			writeFile(t, filepath.Join(dir, "outputs.conf"), "[OUTPUT]\n    "+strings.Join(out("http-intake.logs.datadoghq.eu"), "\n    ")+"\n")
			if err := os.Mkdir(filepath.Join(dir, "conf"), 0o755); err != nil {
				t.Fatal(err)
			}
			fl.Options, fl.Include = nil, "outputs.conf"
			cfg := fl.Config()
			return fbtest.Options{ConfigName: "conf/fluent-bit.conf", Config: cfg[:strings.LastIndex(cfg, "[OUTPUT]")]}
		}},
	}
	for _, tc := range cases {
		onLines(t, &wg, tc.name, tc.yaml, func(t *testing.T, bin string) {
			dir := t.TempDir()
			o := tc.lay(t, dir, fbtest.SeedTask(filepath.Join(dir, "fluent.sock")))
			o.Binary, o.Dir = bin, dir
			p, err := fbtest.Launch(o)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop(5 * time.Second)
			ready := logLine(p.Log(), "ready: url=")
			if !strings.Contains(ready, euURL) {
				t.Errorf("start-up line: %s\n%s", ready, fbtest.Tail(p.Log(), 3000))
			}
			t.Logf("%s", logLine(p.Log(), "left from the built-in output"))
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableInclude: an @INCLUDE'd file Fluent Bit reads but the plugin
// cannot read again, a named pipe (Fluent Bit reads it once, to its end),
// holding Grace 12. The plugin does not block on it, says once that it
// cannot read it, and takes the choice that loses nothing: Grace unknown, no
// cut at the stop, so a request of 4 s in flight at SIGTERM (retry_budget
// 10s lets it run) is delivered.
// (Before: the plugin's init waited on the pipe forever, and Fluent Bit with
// it.)
func TestUnreadableInclude(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	defer wg.Wait()
	onLines(t, &wg, "", false, func(t *testing.T, bin string) {
		srv := slowIntake(t)
		dir := t.TempDir()
		fifo := filepath.Join(dir, "grace.conf")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		go feedFIFO(fifo, "[SERVICE]\n    Grace 12\n", 20*time.Second)
		fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
		fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "retry_budget 10s")
		fl.Service = []string{"Flush 1"}
		fl.Include = "grace.conf"
		log := stopInFlight(t, fbtest.Options{Binary: bin, Dir: dir, Config: fl.Config()}, fl, srv)
		said := logLine(log, "cannot read")
		if strings.Count(log, fifo) != 1 || !strings.Contains(said, fifo) || !strings.Contains(log, "Grace unknown") {
			t.Errorf("want one line saying %s cannot be read, and Grace unknown:\n%s", fifo, fbtest.Tail(log, 3000))
		}
		if m := allowanceRe.FindString(log); m != "" || srv.Stats().Entries != 10 {
			t.Errorf("%d of 10 delivered; stop line %q (want none: no cut)\n%s", srv.Stats().Entries, m, fbtest.Tail(log, 3000))
		}
		t.Logf("%s", said)
	})
}

// feedFIFO writes content into the named pipe once a reader opens it
// (polling, so the writer never blocks past timeout), then closes it.
func feedFIFO(path, content string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if errors.Is(err, syscall.ENXIO) { // no reader yet
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err == nil {
			_, _ = f.WriteString(content)
			f.Close()
		}
		return
	}
}

// TestLeftoverThatAgrees: the built-in output's Port left in a section
// whose endpoint has that very port starts and delivers; a Port that says
// another port than endpoint's still stops start-up, naming the fix.
// (Before: both stopped start-up.)
func TestLeftoverThatAgrees(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	defer wg.Wait()
	onLines(t, &wg, "", false, func(t *testing.T, bin string) {
		srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
		_, port := hostPort(t, srv.URL)
		dir := t.TempDir()
		fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
		fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "Port "+strconv.Itoa(port))
		fl.Service = []string{"Flush 1"}
		p, err := fbtest.Launch(fbtest.Options{Binary: bin, Dir: dir, Config: fl.Config()})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop(5 * time.Second)
		send(t, fl.Socket, fl.Tag(), fbtest.Records(10, 1, fbtest.DefaultContainer))
		checkDelivered(t, srv, p, 10)

		dir = t.TempDir()
		fl = fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
		fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "Port "+strconv.Itoa(port+1))
		q, err := fbtest.Launch(fbtest.Options{Binary: bin, Dir: dir, Config: fl.Config()})
		want := fmt.Sprintf("configuration error: Port: %d, but endpoint sends to port %d", port+1, port)
		if err == nil || !strings.Contains(logLine(q.Log(), "configuration error"), want) {
			if err == nil {
				q.Stop(5 * time.Second)
			}
			t.Errorf("want start-up to fail with %q:\n%s", want, fbtest.Tail(q.Log(), 2000))
		}
	})
}

// TestSeveralHeaders: several header lines (two of one name), in the
// classic format and as a YAML list: every one is sent, as the built-in
// output sends them (out_datadog's header is FLB_CONFIG_MAP_MULT), and the
// start-up line names each. (Before: only the first was sent, without a
// word.)
func TestSeveralHeaders(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	defer wg.Wait()
	lines := []string{"X-Team web", "X-Env prod", "X-Team api"}
	for _, yaml := range []bool{false, true} {
		name := map[bool]string{false: "classic", true: "yaml"}[yaml]
		onLines(t, &wg, name, yaml, func(t *testing.T, bin string) {
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			o := fbtest.Options{Binary: bin, Dir: dir}
			if yaml {
				o.ConfigName, o.Config = "fluent-bit.yaml", yamlRouter(fl.Socket, "", "  flush: 1\n", "endpoint: "+srv.URL, "apikey: "+apiKey,
					"workers: 2", "header: ['"+strings.Join(lines, "', '")+"']")
			} else {
				fl.Options = fbtest.SeedOptions(srv.URL, apiKey)
				for _, l := range lines {
					fl.Options = append(fl.Options, "header "+l)
				}
				fl.Service = []string{"Flush 1"}
				o.Config = fl.Config()
			}
			p, err := fbtest.Launch(o)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop(5 * time.Second)
			send(t, fl.Socket, fl.Tag(), fbtest.Records(10, 1, fbtest.DefaultContainer))
			checkDelivered(t, srv, p, 10)
			h := srv.LastHeader()
			if got := h.Values("X-Team"); len(got) != 2 || got[0] != "web" || got[1] != "api" || h.Get("X-Env") != "prod" {
				t.Errorf("headers received: %v", h)
			}
			ready := logLine(p.Log(), "ready: url=")
			if !strings.Contains(ready, "header=X-Team:**** header=X-Env:**** header=X-Team:****") {
				t.Errorf("start-up line: %s", ready)
			}
			t.Logf("%v", map[string][]string{"X-Team": h.Values("X-Team"), "X-Env": h.Values("X-Env")})
		})
	}
}

// TestConfigMessages (issue 32): space-separated dd_tags start with a
// warning showing the comma form; a misspelt Fluent Bit key (Retry_Limt)
// and an endpoint without a scheme stop start-up with the key they meant.
// (Before: the tags went as one, silently; Retry_Limt got no suggestion;
// the endpoint was "not a URL".)
func TestConfigMessages(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	defer wg.Wait()
	onLines(t, &wg, "", false, func(t *testing.T, bin string) {
		srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
		launch := func(extra ...string) (*fbtest.Process, error) {
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = replaceOptions(fbtest.SeedOptions(srv.URL, apiKey), extra...)
			return fbtest.Launch(fbtest.Options{Binary: bin, Dir: dir, Config: fl.Config()})
		}
		p, err := launch("dd_tags env:prod team:web")
		if err != nil {
			t.Fatal(err)
		}
		p.Stop(5 * time.Second)
		if w := logLine(p.Log(), "dd_tags"); !strings.Contains(w, "[ warn]") || !strings.Contains(w, "dd_tags env:prod,team:web") {
			t.Errorf("dd_tags with spaces: %q\n%s", w, fbtest.Tail(p.Log(), 2000))
		}
		for _, c := range []struct{ line, want string }{
			{"Retry_Limt no_limits", "configuration error: Retry_Limt: unknown key ("},
			{"endpoint 127.0.0.1:18096", "configuration error: endpoint: \"127.0.0.1:18096\" is not a URL"},
		} {
			p, err := launch(c.line)
			if err == nil {
				p.Stop(5 * time.Second)
				t.Errorf("%s: Fluent Bit started", c.line)
				continue
			}
			line := logLine(p.Log(), "configuration error")
			suggestion := map[string]string{"Retry_Limt no_limits": "did you mean Retry_Limit?", "endpoint 127.0.0.1:18096": "did you mean http://127.0.0.1:18096?"}[c.line]
			if !strings.Contains(line, c.want) || !strings.Contains(line, suggestion) {
				t.Errorf("%s: want %q ... %q, got %q", c.line, c.want, suggestion, line)
			}
			t.Logf("%s", line)
		}
	})
}

// replaceOptions is options with each line of extra in place of the line
// with its key, or appended.
func replaceOptions(options []string, extra ...string) []string {
	out := append([]string(nil), options...)
	for _, e := range extra {
		k, _, _ := strings.Cut(e, " ")
		i := slices.IndexFunc(out, func(o string) bool { ok, _, _ := strings.Cut(o, " "); return strings.EqualFold(ok, k) })
		if i < 0 {
			out = append(out, e)
		} else {
			out[i] = e
		}
	}
	return out
}

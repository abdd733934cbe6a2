package realfb

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// outage is one shape of a failing intake: start returns where an output
// sends to reach it (host and port; ours takes them as an endpoint URL).
type outage struct {
	name  string
	start func(t *testing.T) (host string, port int)
}

// outages are the shapes the stop bound must hold for (docs/delivery.md,
// "Stopping").
var outages = []outage{
	{"refused", func(t *testing.T) (string, int) { return "127.0.0.1", freePort(t) }},
	{"503", faulty(intaketest.Fault{Status: 503})},
	{"unresolvable", func(t *testing.T) (string, int) { return "intake.invalid", 443 }},
	{"silent", faulty(intaketest.Fault{Hijack: true})}, // accepts, never answers
	{"101", faulty(intaketest.Fault{Upgrade: true})},   // switches protocols, goes quiet
}

// faulty is an intake that answers every request with f.
func faulty(f intaketest.Fault) func(t *testing.T) (string, int) {
	return func(t *testing.T) (string, int) {
		srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return f }})
		return hostPort(t, srv.URL)
	}
}

func hostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(strings.TrimPrefix(rawURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// stopRun is one stop: the router takes backlog of a log stream (100
// records a second, as an app writes) while the intake fails, then gets
// SIGTERM.
type stopRun struct {
	version string
	builtin bool // Fluent Bit's built-in datadog output instead of ours
	outage  outage
	backlog time.Duration
	service []string
}

type stopResult struct {
	took   time.Duration
	exited bool // on its own, within the wait
	code   int
	log    string
}

func (r stopRun) run(t *testing.T) (stopResult, error) {
	host, port := r.outage.start(t)
	dir := t.TempDir()
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	fl.Options = fbtest.SeedOptions(fmt.Sprintf("http://%s:%d", host, port), apiKey)
	var plugins []string
	if r.builtin {
		plugins = []string{} // no .so
		fl.Options = []string{"Name datadog", "dd_message_key log", "dd_service singsong", "dd_source httpd", "dd_tags env:prod",
			"provider ecs", "apikey " + apiKey, "Host " + host, "Port " + strconv.Itoa(port), "TLS off", "workers 2", "Retry_Limit no_limits"}
		if r.version == fbtest.V19 {
			// 1.9.10's built-in corrupts its heap remapping ECS fields
			// (benchmarks/cmd/bench/realfb.go).
			fl.Options = slices.DeleteFunc(fl.Options, func(o string) bool { return o == "provider ecs" })
		}
	}
	fl.Service = append([]string{"Flush 1"}, r.service...)
	p, err := fbtest.Launch(fbtest.Options{Version: r.version, Config: fl.Config(), Dir: dir, Plugins: plugins})
	if err != nil {
		return stopResult{}, err
	}
	defer func() {
		if !p.Exited() {
			p.Stop(time.Second)
		}
	}()
	f, err := fbtest.DialForward("unix", fl.Socket)
	if err != nil {
		return stopResult{}, err
	}
	defer f.Close()
	f.Ack = true
	recs := fbtest.Records(int(r.backlog/(100*time.Millisecond))*10, 3, fbtest.DefaultContainer)
	for i := 0; i < len(recs); i += 10 {
		if err := fbtest.SendRecords(f, fl.Tag(), recs[i:i+10], 10); err != nil {
			return stopResult{}, fmt.Errorf("%v\n%s", err, fbtest.Tail(p.Log(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t0 := time.Now()
	exited := p.Stop(60 * time.Second)
	return stopResult{took: time.Since(t0), exited: exited, code: p.ExitCode(), log: p.Log()}, nil
}

// defaultGrace is Fluent Bit's Grace when [SERVICE] does not set it; the
// stop bound is Grace + 5 s.
const defaultGrace = 5 * time.Second

// TestStopWithinGrace: for every shape of outage, on every line, with the
// seed's options (retry_budget and timeout by default, workers 4,
// Retry_Limit no_limits), Fluent Bit's default Grace and a backlog built
// while the intake fails, Fluent Bit exits within Grace + 5 s of SIGTERM,
// with status 0, no crash, and nothing reported delivered. Before the
// intake's health and the stop watch, 4.2.8 ran the flushes queued on its workers
// one after another, each for its whole budget (60 s and more), and 1.9.10
// crashed when a flush outlived Grace.
//
// On 1.9.10 Fluent Bit's scheduler is told to retry chunks after 30 s at
// the earliest: 1.9.10 can crash at exit (SIGSEGV) when a retry it
// scheduled before the stop fires in the instant its engine shuts down,
// whatever the output (the built-in does it too: docs/delivery.md, "Stopping").
// Keeping retries out of the grace period leaves the plugin's part alone
// under test. The shapes of one version run at once.
func TestStopWithinGrace(t *testing.T) {
	backlog := 6 * time.Second // enough for the intake to be down (4 s)
	if v := os.Getenv("STOP_BACKLOG"); v != "" {
		backlog, _ = time.ParseDuration(v)
	}
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			var service []string
			if v == fbtest.V19 {
				service = []string{"scheduler.base 30", "scheduler.cap 60"}
			}
			var wg sync.WaitGroup
			for _, o := range outages {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := stopRun{version: v, outage: o, backlog: backlog, service: service}.run(t)
					if err != nil {
						t.Errorf("%s: %v", o.name, err)
						return
					}
					t.Logf("%s: exit %.1f s after SIGTERM, status %d", o.name, r.took.Seconds(), r.code)
					switch {
					case !r.exited || r.took > defaultGrace+5*time.Second:
						t.Errorf("%s: exit %.1f s after SIGTERM (exited: %t), want within Grace + 5 s\n%s", o.name, r.took.Seconds(), r.exited, fbtest.Tail(r.log, 4000))
					case r.code != 0 || strings.Contains(r.log, "SIGSEGV"):
						t.Errorf("%s: status %d\n%s", o.name, r.code, fbtest.Tail(r.log, 4000))
					case !regexp.MustCompile(`exit: records_in=\d+ records_out=0 .* flush_ok=0 flush_retry=[1-9]`).MatchString(r.log):
						t.Errorf("%s: exit counters: want nothing delivered, chunks handed back\n%s", o.name, fbtest.Tail(r.log, 3000))
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestStopMeasure measures the stop of ours and of the built-in output in
// every shape, by hand: STOP_MEASURE=N runs each N times (all at once) with
// STOP_BACKLOG (default 25s) of backlog and Fluent Bit's defaults (its
// scheduler included), and logs the times and the crashes. STOP_ONLY
// keeps the runs whose "version/output/shape" starts with it
// ("1.9.10/datadog/503").
func TestStopMeasure(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STOP_MEASURE"))
	if n <= 0 {
		t.Skip("a measurement, run by hand: STOP_MEASURE=N [STOP_BACKLOG=25s]")
	}
	backlog := 25 * time.Second
	if v := os.Getenv("STOP_BACKLOG"); v != "" {
		backlog, _ = time.ParseDuration(v)
	}
	var mu sync.Mutex
	lines := []string{}
	var wg sync.WaitGroup
	for _, v := range fbtest.Lines {
		for _, builtin := range []bool{false, true} {
			for _, o := range outages {
				out := "datadog_go"
				if builtin {
					out = "datadog"
				}
				if only := os.Getenv("STOP_ONLY"); !strings.HasPrefix(v+"/"+out+"/"+o.name, only) {
					continue
				}
				for i := 0; i < n; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := stopRun{version: v, builtin: builtin, outage: o, backlog: backlog}.run(t)
						line := fmt.Sprintf("%s %-10s %-12s exit %5.1f s exited=%t status=%d sigsegv=%t err=%v", v, out, o.name,
							r.took.Seconds(), r.exited, r.code, strings.Contains(r.log, "SIGSEGV"), err)
						mu.Lock()
						lines = append(lines, line)
						mu.Unlock()
					}()
				}
			}
		}
	}
	wg.Wait()
	slices.Sort(lines)
	t.Logf("\n%s", strings.Join(lines, "\n"))
}

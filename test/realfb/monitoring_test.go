package realfb

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The operator's view of the plugin (docs/operations.md), through real
// Fluent Bit, on every line. (Before: the plugin's lines bypassed
// Log_File and Log_Level, and its retries and drops were only in its own
// log line.)

// badRecord is the text of the one record the intake refuses.
const badRecord = "BAD-RECORD-FOR-THE-INTAKE"

// An intake answering 503 to every other request and 400 to the payload
// holding one bad record: the metrics endpoint shows the in-flush retries,
// the failed requests and the refused record under the instance's Alias,
// next to Fluent Bit's own series of the instance; the plugin's lines are
// in Log_File with Fluent Bit's prefix, none on stderr; the stats line
// counts every record once.
//
// 4.x and 5.x serve the metrics on /api/v2/metrics/prometheus (HTTP_Server).
// 1.9.10 has no such endpoint: a fluentbit_metrics input and a
// prometheus_exporter output serve them (its HTTP_Server is left off here:
// with a fluentbit_metrics input it crashes at exit, built-in outputs alone
// included; docs/operations.md says so).
func TestMetricsAndLogFile(t *testing.T) {
	eachLine(t, fbtest.Lines, func(t *testing.T, v string) {
		srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, RejectMarker: badRecord, Fault: func(n int) intaketest.Fault {
			if n%2 == 1 {
				return intaketest.Fault{Status: 503}
			}
			return intaketest.Fault{}
		}})
		dir := t.TempDir()
		logFile := filepath.Join(dir, "fluent-bit.log")
		port := freePort(t)
		fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
		fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "Alias router_dd", "stats_interval 1s")
		fl.Service = append(append([]string{}, fastRetry...), "Log_File "+logFile, "Log_Level info")
		url := fmt.Sprintf("http://127.0.0.1:%d/api/v2/metrics/prometheus", port)
		if v != fbtest.V19 {
			fl.Service = append(fl.Service, "HTTP_Server On", "HTTP_Listen 127.0.0.1", fmt.Sprintf("HTTP_Port %d", port))
		} else {
			url = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
			fl.Extra = fmt.Sprintf("[INPUT]\n    Name fluentbit_metrics\n    Tag internal_metrics\n    scrape_interval 1\n\n"+
				"[OUTPUT]\n    Name prometheus_exporter\n    Match internal_metrics\n    Host 127.0.0.1\n    Port %d\n", port)
		}
		p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir, LogFile: logFile})

		const n = 400
		records := fbtest.Records(n, 21, fbtest.DefaultContainer)
		bad := msgp.AppendMapHeader(nil, 2)
		bad = msgp.AppendString(msgp.AppendString(bad, "log"), badRecord)
		bad = msgp.AppendString(msgp.AppendString(bad, "source"), "stdout")
		records = append(records[:150:150], append([][]byte{bad}, records[150:]...)...)
		send(t, fl.Socket, fl.Tag(), records)
		checkDelivered(t, srv, p, n)

		series := func(name, label string) string {
			return `fluentbit_datadog_go_` + name + `{name="router_dd"` + label + `}`
		}
		want := map[string]func(float64) bool{
			series("records_received_total", ""):                                func(x float64) bool { return x == n+1 },
			series("records_delivered_total", ""):                               func(x float64) bool { return x == n },
			series("records_dropped_total", `,reason="refused"`):                func(x float64) bool { return x == 1 },
			series("records_dropped_total", `,reason="malformed"`):              func(x float64) bool { return x == 0 },
			series("retries_total", ""):                                         func(x float64) bool { return x > 0 },
			series("requests_total", `,outcome="failed",answer="5xx"`):          func(x float64) bool { return x > 0 },
			series("last_accepted_timestamp_seconds", ""):                       func(x float64) bool { return x > float64(time.Now().Add(-time.Minute).Unix()) },
			`fluentbit_output_proc_records_total{name="router_dd"}`:             func(x float64) bool { return x >= 0 }, // Fluent Bit's own
			`# TYPE fluentbit_datadog_go_records_dropped_total counter`:         nil,
			`# TYPE fluentbit_datadog_go_last_accepted_timestamp_seconds gauge`: nil,
		}
		var text string
		ok := fbtest.WaitFor(20*time.Second, func() bool {
			text = httpGet(url)
			return len(mismatches(text, want)) == 0
		})
		if !ok {
			t.Errorf("%s: %q\n%s", url, mismatches(text, want), text)
		}

		p.Stop(20 * time.Second)
		file := readFile(t, logFile)
		for _, line := range []string{
			"] [ info] [output:datadog_go:router_dd] out_datadog_go ",
			"] [ warn] [output:datadog_go:router_dd] dropped 1 record(s) the intake refused alone twice",
			"] [ info] [output:datadog_go:router_dd] stats records_in=",                               // from the stats goroutine
			"] [ info] [output:datadog_go:router_dd] exit: records_in=401 records_out=400 pending=0 ", // counted once
		} {
			if !strings.Contains(file, line) {
				t.Errorf("Log_File lacks %q:\n%s", line, fbtest.Tail(file, 4000))
			}
		}
		if strings.Contains(p.Log(), "[output:datadog_go:") || strings.Contains(file, apiKey) {
			t.Errorf("plugin lines outside Log_File, or the key in it:\n%s", fbtest.Tail(p.Log(), 3000))
		}
	})
}

// Log_Level error (the service's, or the output's log_level) hides the
// plugin's info and warn lines and keeps its error about a 401. With a
// Retry_Limit, /api/v1/health (Health_Check On,
// Fluent Bit's default thresholds, as docs/operations.md sets them)
// answers ok until chunks run out of retries, then error within a minute:
// the 401 shows there. With Retry_Limit no_limits no chunk ever runs out,
// and health stays ok through the same 401.
func TestLogLevelAndHealth(t *testing.T) {
	t.Parallel()
	type run struct {
		version, retryLimit string
		healthy             bool
		serviceLevel        string // the output's log_level is error when this is not
	}
	for _, r := range []run{
		{fbtest.V5, "1", false, "error"}, {fbtest.V4, "1", false, "error"}, {fbtest.V19, "1", false, "info"},
		{fbtest.V5, "no_limits", true, "info"}, {fbtest.V4, "no_limits", true, "info"}, {fbtest.V19, "no_limits", true, "info"},
	} {
		t.Run(r.version+"/Retry_Limit_"+r.retryLimit+"/Log_Level_"+r.serviceLevel, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, r.version)
			srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 401} }})
			dir := t.TempDir()
			logFile := filepath.Join(dir, "fluent-bit.log")
			port := freePort(t)
			outputLevel := ""
			if r.serviceLevel != "error" {
				outputLevel = "    log_level error\n"
			}
			conf := fmt.Sprintf(`[SERVICE]
    Flush 1
    Grace 2
    Log_Level %s
    Log_File %s
    HTTP_Server On
    HTTP_Listen 127.0.0.1
    HTTP_Port %d
    Health_Check On
    HC_Errors_Count 5
    HC_Retry_Failure_Count 5
    HC_Period 60
    scheduler.base 1
    scheduler.cap 2
[INPUT]
    Name dummy
    Tag app
    Rate 2
[OUTPUT]
    Name datadog_go
    Match app
    endpoint %s
    apikey %s
    stats_interval 1s
    Retry_Limit %s
%s`, r.serviceLevel, logFile, port, srv.URL, apiKey, r.retryLimit, outputLevel)
			health := fmt.Sprintf("http://127.0.0.1:%d/api/v1/health", port)
			p := fbtest.Start(t, fbtest.Options{Version: r.version, Config: conf, Dir: dir, LogFile: logFile, ReadyURL: health})
			if got := httpGet(health); got != "ok\n" {
				t.Errorf("health at start: %q", got)
			}
			if r.healthy {
				time.Sleep(15 * time.Second) // past the time the other runs turn
				if got := httpGet(health); got != "ok\n" {
					t.Errorf("health with Retry_Limit no_limits: %q", got)
				}
			} else if !fbtest.WaitFor(40*time.Second, func() bool { return httpGet(health) == "error\n" }) {
				t.Errorf("health still %q after 40 s of 401s", httpGet(health))
			}
			p.Stop(20 * time.Second)
			file := readFile(t, logFile)
			if !regexp.MustCompile(`\] \[error\] \[output:datadog_go:datadog_go\.0\] intake 127\.0\.0\.1:\d+ answered HTTP 401`).MatchString(file) {
				t.Errorf("Log_File lacks the 401:\n%s", fbtest.Tail(file, 3000))
			}
			if m := regexp.MustCompile(`\[ ?(info|warn|debug)\] \[output:datadog_go:.*`).FindString(file); m != "" {
				t.Errorf("Log_Level error let through %q", m)
			}
		})
	}
}

// mismatches are the lines of want that text lacks or whose value want's
// check refuses (a nil check only needs the line).
func mismatches(text string, want map[string]func(float64) bool) []string {
	var bad []string
	for series, check := range want {
		found := false
		for _, line := range strings.Split(text, "\n") {
			if check == nil && line == series {
				found = true
			}
			if rest, ok := strings.CutPrefix(line, series+" "); ok && check != nil {
				x, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
				found = err == nil && check(x)
			}
		}
		if !found {
			bad = append(bad, series)
		}
	}
	return bad
}

// httpGet is the body at url, or the error's text.
func httpGet(url string) string {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

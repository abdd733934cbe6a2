package realfb

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// A wrong API key as an SRE meets it (docs/operations.md, issue 32),
// through real Fluent Bit on every line: three outputs get the same steady
// stream and the intake's 403 for each request.
//
//   - The metrics endpoint tells the bad key from an outage
//     (requests_total answer="401/403", nothing under 5xx or network),
//     shows the backlog (records_pending), each request's duration
//     (request_duration_seconds: a histogram where Fluent Bit shows them,
//     its three counters on 1.9) and, on 4.x and 5.x, the connection in
//     Fluent Bit's own fluentbit_output_upstream_total_connections (1.9 has
//     no such series).
//   - log_suppress_interval is honoured as Fluent Bit passes it (on 1.9 as
//     a key the plugin gets, from 2.0.9 kept in the instance): 0 prints the
//     error of every request; 5s prints it once per 5 s with a count line;
//     unset, the default (1m) prints it once, and the count comes at exit
//     (4.x and 5.x: 1.9.10 may crash at a stop with several datadog_go
//     outputs and retries firing, docs/delivery.md).
//   - An output's log_level debug gets one line per request: the answer,
//     entries, bytes and milliseconds.
func TestWrongKeyStorm(t *testing.T) {
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
			dir := t.TempDir()
			logFile := filepath.Join(dir, "fluent-bit.log")
			port := freePort(t)
			var conf strings.Builder
			fmt.Fprintf(&conf, "[SERVICE]\n    Flush 1\n    Grace 2\n    scheduler.base 1\n    scheduler.cap 2\n    Log_Level info\n    Log_File %s\n", logFile)
			url := fmt.Sprintf("http://127.0.0.1:%d/api/v2/metrics/prometheus", port)
			metricsIO := ""
			if v == fbtest.V19 {
				url = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
				metricsIO = fmt.Sprintf("[INPUT]\n    Name fluentbit_metrics\n    Tag internal_metrics\n    scrape_interval 1\n"+
					"[OUTPUT]\n    Name prometheus_exporter\n    Match internal_metrics\n    Host 127.0.0.1\n    Port %d\n", port)
			} else {
				fmt.Fprintf(&conf, "    HTTP_Server On\n    HTTP_Listen 127.0.0.1\n    HTTP_Port %d\n", port)
			}
			conf.WriteString("[INPUT]\n    Name dummy\n    Tag app\n    Rate 20\n" + metricsIO)
			for _, o := range []string{"Alias every\n    log_suppress_interval 0", "Alias five\n    log_suppress_interval 5s\n    log_level debug", "Alias default"} {
				fmt.Fprintf(&conf, "[OUTPUT]\n    Name datadog_go\n    Match app\n    endpoint %s\n    apikey wrong-%s\n    workers 1\n    Retry_Limit no_limits\n    stats_interval 0\n    %s\n",
					srv.URL, apiKey[6:], o)
			}
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: conf.String(), Dir: dir, LogFile: logFile})

			series := func(name, labels string) string {
				return `fluentbit_datadog_go_` + name + `{name="every"` + labels + `}`
			}
			positive := func(x float64) bool { return x > 0 }
			want := map[string]func(float64) bool{
				series("requests_total", `,outcome="failed",answer="401/403"`): func(x float64) bool { return x >= 5 },
				series("requests_total", `,outcome="failed",answer="5xx"`):     func(x float64) bool { return x == 0 },
				series("requests_total", `,outcome="failed",answer="network"`): func(x float64) bool { return x == 0 },
				series("requests_total", `,outcome="accepted",answer="2xx"`):   func(x float64) bool { return x == 0 },
				series("records_pending", ""):                                  positive,
				series("request_duration_seconds_count", ""):                   func(x float64) bool { return x >= 5 },
				series("request_duration_seconds_sum", ""):                     positive,
			}
			if v != fbtest.V19 {
				want[`fluentbit_output_upstream_total_connections{name="every"}`] = positive
				want[`# TYPE fluentbit_datadog_go_request_duration_seconds histogram`] = nil
			} else {
				want[`# TYPE fluentbit_datadog_go_request_duration_seconds_bucket counter`] = nil
			}
			var text string
			if !fbtest.WaitFor(30*time.Second, func() bool { text = httpGet(url); return len(mismatches(text, want)) == 0 }) {
				t.Errorf("%s: %q\n%s", url, mismatches(text, want), text)
			}
			if v == fbtest.V19 && strings.Contains(text, "upstream_total_connections") {
				t.Errorf("1.9 shows upstream connections (docs/operations.md says it has none):\n%s", text)
			}
			time.Sleep(8 * time.Second) // 12 s or more of 403s: past two intervals of 5 s

			file := readFile(t, logFile)
			errorsOf := func(alias string) int {
				return len(regexp.MustCompile(`\[error\] \[output:datadog_go:`+alias+`\] intake 127\.0\.0\.1:\d+ answered HTTP 403`).FindAllString(file, -1))
			}
			if n := errorsOf("every"); n < 10 {
				t.Errorf("log_suppress_interval 0: %d errors for the 403s, want one a request", n)
			}
			if n := errorsOf("five"); n < 1 || n > 4 || !strings.Contains(file, "] [error] [output:datadog_go:five] ") ||
				!regexp.MustCompile(`\[error\] \[output:datadog_go:five\] \d+ more line\(s\) like this in the last 5s \(log_suppress_interval\): intake 127\.0\.0\.1:\d+ answered HTTP 403`).MatchString(file) {
				t.Errorf("log_suppress_interval 5s: %d errors, or no count line:\n%s", n, fbtest.Tail(file, 4000))
			}
			if n := errorsOf("default"); n != 1 {
				t.Errorf("default interval: %d errors in 12 s, want 1", n)
			}
			if !regexp.MustCompile(`\[debug\] \[output:datadog_go:five\] request: HTTP 403 \(401/403\), \d+ entries, \d+ bytes, \d+ ms`).MatchString(file) ||
				strings.Contains(file, "[output:datadog_go:every] request:") {
				t.Errorf("no debug line per request where log_level debug, or one elsewhere:\n%s", fbtest.Tail(file, 3000))
			}

			p.Stop(20 * time.Second)
			if v != fbtest.V19 {
				file = readFile(t, logFile)
				if !regexp.MustCompile(`\[error\] \[output:datadog_go:default\] \d+ more line\(s\) like this in the last 1m0s \(log_suppress_interval\): intake`).MatchString(file) {
					t.Errorf("no count line at exit for the default interval:\n%s", fbtest.Tail(file, 3000))
				}
			}
			if strings.Contains(file, apiKey[6:]) {
				t.Error("the key in the log")
			}
		})
	}
}

package e2e

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

// The stop bound without Fluent Bit (test/realfb runs it under Fluent Bit):
// the stop watch and the intake's health, each on its own.

// SIGTERM (flbhost sets exit_signal as Fluent Bit's handler does) while
// flushes wait on an intake that never answers, with a budget far longer
// than the stop: the flushes in flight go on for the allowance (Grace - 2 s,
// at least 1 s; Grace from the [SERVICE] of the file named with -c, else
// Fluent Bit's default 5 s) and are then cut, the queued ones hand their
// chunks back at once; nothing is reported delivered. (Without a file to
// read, Grace is unknown and nothing is cut: plugin's TestStopAllowance.)
func TestStopSignalEndsFlushes(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Delay: 5 * time.Minute} }})
	paths := writeChunks(t, chunkgen.New(4).Chunks(2000, 64<<10))
	if len(paths) < 6 {
		t.Fatalf("only %d chunks: the queued ones are not exercised", len(paths))
	}
	lines := strings.Replace(seedConf(srv.URL, "retry_budget 60s", "timeout 60s"), "Host ignored.example\nTLS on\n", "", 1)
	for _, tc := range []struct {
		name, conf string
		allowed    time.Duration
	}{
		{"default Grace", writeFile(t, "c.conf", lines), 3 * time.Second},
		{"Grace 3", writeFile(t, "fluent-bit.conf", "[SERVICE]\n    Grace 3\n[OUTPUT]\n"+lines), time.Second},
	} {
		s, stderr := runHost(t, append([]string{"-c", tc.conf, "-workers", "2", "-retry-limit", "0", "-term-after-ms", "1000"}, paths...)...)
		if s.OK != 0 || s.Retry != len(paths) || s.Error != 0 || s.InitFailed != 0 {
			t.Fatalf("%s: summary %+v\n%s", tc.name, s, tail(stderr))
		}
		// The signal at 1 s, seen within 0.2 s, then the allowance.
		want := 1000 + 200 + float64(tc.allowed.Milliseconds())
		if s.FlushMS < want-300 || s.FlushMS > want+2500 {
			t.Errorf("%s: flushes ended %.0f ms after they started, want about %.0f", tc.name, s.FlushMS, want)
		}
		if !strings.Contains(stderr, "Fluent Bit is stopping: flushes end within "+tc.allowed.String()) {
			t.Errorf("%s: no stop line:\n%s", tc.name, tail(stderr))
		}
	}
}

// An intake that always answers 503, many chunks queued on two workers
// (as Fluent Bit queues them at exit): once the intake has failed for a
// flush's budget it is down, and the queued flushes cost at most one probe
// request each instead of a budget each.
func TestDownIntakeBoundsQueuedFlushes(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 503} }})
	paths := writeChunks(t, chunkgen.New(5).Chunks(3000, 64<<10))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "retry_budget 2s", "max_retries 20"))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-workers", "2", "-retry-limit", "0", "-repeat", "3"}, paths...)...)
	flushes := 3 * len(paths)
	if s.OK != 0 || s.Retry != flushes {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	// Without the health's probes: flushes × 2 s / 2 workers.
	if s.FlushMS > 8000 {
		t.Errorf("%d flushes took %.0f ms, want the first two budgets and little more", flushes, s.FlushMS)
	}
	if !strings.Contains(stderr, "one probe request at a time now") {
		t.Errorf("no line when the intake went down:\n%s", tail(stderr))
	}
	if n := srv.Stats().Requests; n >= 2*flushes {
		t.Errorf("%d requests for %d flushes", n, flushes)
	}
	t.Logf("%d flushes in %.0f ms, %d requests", flushes, s.FlushMS, srv.Stats().Requests)
}

// The intake fails for 3 s, then answers: it is up again at the first
// answer and every record arrives exactly once.
func TestDownIntakeRecovers(t *testing.T) {
	var up atomic.Bool
	time.AfterFunc(3*time.Second, func() { up.Store(true) })
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault {
		if up.Load() {
			return intaketest.Fault{}
		}
		return intaketest.Fault{Status: 503}
	}})
	const n = 3000
	paths := writeChunks(t, chunkgen.New(6).Chunks(n, 64<<10))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "retry_budget 1s"))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-workers", "2", "-retry-limit", "-1", "-retry-wait-ms", "200"}, paths...)...)
	if s.OK != len(paths) || s.GaveUp+s.Error != 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	checkExactlyOnce(t, srv, n)
	if !strings.Contains(stderr, "one probe request at a time now") || !strings.Contains(stderr, "the intake answers again after") {
		t.Errorf("want a line when the intake went down and one when it answered again:\n%s", tail(stderr))
	}
}

// The built-in output's Host, left in a migrated section: an intake's host
// names the site (a warning says to prefer site), anything else stops init
// with the endpoint to set; a typo stops init with the nearest key. Each
// quoted as the plugin says it.
func TestConfigLeftovers(t *testing.T) {
	for _, tc := range []struct {
		name, lines string
		failed      int
		want        string
	}{
		{"EU intake", "Host http-intake.logs.datadoghq.eu\nPort 443\nTLS on\n", 0,
			"url=https://http-intake.logs.datadoghq.eu/api/v2/logs"},
		{"relay", "Host relay.internal\nPort 8443\nTLS on\n", 1,
			"configuration error: Host: relay.internal is not a Datadog site's logs intake, and datadog_go does not read Host (Fluent Bit keeps it): " +
				"set endpoint https://relay.internal:8443/api/v2/logs and remove Host (or site, for a Datadog site)"},
		{"typo", "dd_sevice web\n", 1, "configuration error: dd_sevice: unknown key ("},
	} {
		conf := writeFile(t, "c.conf", "[OUTPUT]\n    Name datadog_go\n    Match *\n    apikey "+apiKey+"\n    "+strings.ReplaceAll(tc.lines, "\n", "\n    "))
		s, stderr := runHost(t, "-c", conf)
		if s.InitFailed != tc.failed || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: init failed %d, want %d, and %q in:\n%s", tc.name, s.InitFailed, tc.failed, tc.want, tail(stderr))
		}
		t.Logf("%s: %s", tc.name, lineWith(stderr, "datadog_go"))
	}
}

// lineWith is the last warning or error line of s holding sub.
func lineWith(s, sub string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], sub) && (strings.Contains(lines[i], "[error]") || strings.Contains(lines[i], "[ warn]")) {
			return lines[i]
		}
	}
	return ""
}

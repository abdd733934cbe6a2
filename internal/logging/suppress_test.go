package logging

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/redact"
)

// fakeClock drives a suppressor: now is set by the test, and the interval
// timers run when the test advances past them.
type fakeClock struct {
	t      time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) after(d time.Duration, f func()) func() bool {
	tm := &fakeTimer{at: c.t.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool { was := !tm.stopped; tm.stopped = true; return was }
}

// advance moves the clock by d, running the timers due on the way.
func (c *fakeClock) advance(d time.Duration) {
	c.t = c.t.Add(d)
	for _, tm := range c.timers {
		if !tm.stopped && !tm.at.After(c.t) {
			tm.stopped = true
			tm.f()
		}
	}
}

func suppressed(t *testing.T, interval time.Duration) (*Logger, *bytes.Buffer, *fakeClock) {
	t.Helper()
	var buf bytes.Buffer
	l := New(&buf, "dd", Debug)
	l.Suppress(interval)
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := l.sup.Load()
	s.now, s.after = c.now, c.after
	return l, &buf, c
}

// A storm of one kind (a wrong API key: one error per request) costs its
// first line, then one count line per interval with the last of them;
// another kind, debug and info lines pass; a quiet interval lets the next
// line through at once.
func TestSuppressStorm(t *testing.T) {
	l, buf, c := suppressed(t, time.Minute)
	for i := range 570 {
		l.Errorf("intake %s answered HTTP %d (%s): the API key is missing", "host", 403, "Forbidden")
		l.Warnf("%d payload(s) of a chunk of %d records not delivered", 1, i)
		l.Debugf("request: HTTP %d, %d entries", 403, i)
		c.advance(85 * time.Second / 570)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	errors, warns, debugs := 0, 0, 0
	for _, line := range lines {
		switch {
		case strings.Contains(line, "[error]"):
			errors++
		case strings.Contains(line, "[ warn]"):
			warns++
		case strings.Contains(line, "[debug]"):
			debugs++
		}
	}
	// 85 s: the first line, and a count line at 60 s.
	if errors != 2 || warns != 2 || debugs != 570 {
		t.Errorf("%d errors, %d warnings, %d debug lines:\n%s", errors, warns, debugs, out)
	}
	if !regexp.MustCompile(`\[error\] \[output:datadog_go:dd\] 40\d more line\(s\) like this in the last 1m0s \(log_suppress_interval\): intake host answered HTTP 403 \(Forbidden\)`).MatchString(out) {
		t.Errorf("no count line for the errors:\n%s", out)
	}
	// The lines of the second interval are counted too; Flush says how many.
	before := strings.Count(buf.String(), "\n")
	l.Flush()
	flushed := strings.Split(strings.TrimSpace(buf.String()), "\n")[before:]
	if len(flushed) != 2 || !strings.Contains(flushed[0]+flushed[1], "of a chunk of 569 records") {
		t.Errorf("flush printed %q", flushed)
	}
	// Quiet for an interval: the next line is printed as it comes.
	c.advance(2 * time.Minute)
	l.Errorf("intake %s answered HTTP %d (%s): the API key is missing", "host", 401, "Unauthorized")
	if !strings.HasSuffix(buf.String(), "answered HTTP 401 (Unauthorized): the API key is missing\n") {
		t.Errorf("after a quiet interval:\n%s", buf.String())
	}
}

// Lines of a format without text of their own are kinds by message (the
// configuration warnings at start), and secrets are masked in the count
// line as in the line.
func TestSuppressKinds(t *testing.T) {
	l, buf, c := suppressed(t, 10*time.Second)
	l.Redact(redact.New("tok-123456"))
	l.Warnf("%s", "dd_tags: one warning")
	l.Warnf("%s", "Host: another warning")
	l.Warnf("%s", "dd_tags: one warning")
	l.Warnf("key %s refused", "tok-123456")
	l.Warnf("key %s refused", "tok-123456")
	c.advance(10 * time.Second)
	out := buf.String()
	for _, want := range []string{"dd_tags: one warning\n", "Host: another warning\n", "key **** refused\n",
		"1 more line(s) like this in the last 10s (log_suppress_interval): dd_tags: one warning\n",
		"1 more line(s) like this in the last 10s (log_suppress_interval): key **** refused\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tok-123456") {
		t.Errorf("secret in the log:\n%s", out)
	}
}

// Suppress(0), log_suppress_interval 0, prints every line; the logger's
// level still filters count lines.
func TestSuppressOff(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "dd", Error)
	l.Suppress(time.Minute)
	l.Suppress(0)
	for range 3 {
		l.Errorf("intake %s failed", "x")
	}
	if n := strings.Count(buf.String(), "intake x failed"); n != 3 {
		t.Errorf("%d of 3 lines with suppression off", n)
	}
	l2, buf2, c := suppressed(t, time.Second)
	l2.SetSink(WriterSink(buf2), Error)
	l2.Warnf("w %d", 1)
	l2.Warnf("w %d", 2)
	c.advance(time.Second)
	if buf2.String() != "" {
		t.Errorf("warnings past an error-level logger:\n%s", buf2)
	}
}

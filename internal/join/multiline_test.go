package join

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/join/jointest"
	"github.com/out-datadog-go/out_datadog_go/internal/progress"
)

// fixed groups every stream the same way, or as byContainer says.
type fixed struct {
	g           Grouping
	byContainer map[string]Grouping
}

func (f fixed) Any() bool { return f.g.on() || len(f.byContainer) > 0 }
func (f fixed) Grouping(v *ecs.View) Grouping {
	if g, ok := f.byContainer[string(v.ContainerName)]; ok {
		return g
	}
	return f.g
}

var auto = &Options{Streams: fixed{g: Grouping{Auto: true}}}

// line is one record of a stream: FireLens' fields as the log driver and
// record_modifier write them, its time in milliseconds.
type line struct {
	container, source, text string
	ms                      int64
}

func lineChunk(lines ...line) []byte {
	var b []byte
	for _, l := range lines {
		b = msgp.AppendArrayHeader(b, 2)
		sec, ns := uint32(1795000000+l.ms/1000), uint32(l.ms%1000)*1_000_000
		b = append(b, 0xd7, 0x00, byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec), byte(ns>>24), byte(ns>>16), byte(ns>>8), byte(ns))
		b = msgp.AppendMapHeader(b, 5)
		for _, kv := range [][2]string{{"container_id", "id-" + l.container}, {"container_name", l.container}, {"source", l.source},
			{"log", l.text}, {"ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/c/1"}} {
			b = msgp.AppendString(msgp.AppendString(b, kv[0]), kv[1])
		}
	}
	return b
}

// yielded is a log the Reader yields: its index, container and message.
type yielded struct {
	idx             int
	container, text string
	source          string
	sec, nsec       int64
}

func readLogs(t testing.TB, chunk []byte, o *Options, done *progress.Ranges) ([]yielded, Reader) {
	t.Helper()
	r := NewReader(chunk, o, done)
	var out []yielded
	for {
		var ev event.Event
		idx, err := r.Next(&ev)
		if err != nil {
			break
		}
		m := map[string]string{}
		n, body, err := msgp.ReadMapHeaderBytes(ev.Record)
		if err != nil {
			t.Fatal(err)
		}
		for i := uint32(0); i < n; i++ {
			var k, v string
			k, body, _ = msgp.ReadStringBytes(body)
			v, body, _ = msgp.ReadStringBytes(body)
			m[k] = v
		}
		out = append(out, yielded{idx: idx, container: m["container_name"], text: m["log"], source: m["source"], sec: ev.Sec, nsec: ev.Nsec})
	}
	return out, r
}

func texts(ys []yielded) []string {
	out := make([]string, len(ys))
	for i, y := range ys {
		out[i] = y.text
	}
	return out
}

func corpusLines(c jointest.Corpus, container, source string) []line {
	out := make([]line, len(c.Lines))
	for i, l := range c.Lines {
		out[i] = line{container, source, l, int64(i)}
	}
	return out
}

// Each language's corpus (testdata/multiline) comes out as its logs: each
// trace exactly one log, with the first line's time; single lines stay
// single. The classes of the lines follow the Datadog Agent's labels where
// the Agent has one (TestClassifyAgentCases) and go beyond it for levels,
// Go's goroutine dump and the heads a trace prints without a header.
func TestCorpora(t *testing.T) {
	for _, c := range jointest.All(t) {
		t.Run(c.Name, func(t *testing.T) {
			logs, r := readLogs(t, lineChunk(corpusLines(c, "app", "stderr")...), auto, nil)
			if got := texts(logs); !reflect.DeepEqual(got, c.Logs) {
				t.Fatalf("%d logs, want %d:\n%s", len(got), len(c.Logs), diff(got, c.Logs))
			}
			first := 0
			multi, joined := 0, 0
			for i, l := range logs {
				if l.idx != first || l.sec != 1795000000 || l.nsec != int64(first)*1_000_000 {
					t.Errorf("log %d: index %d time %d.%09d, want its first line's (%d)", i, l.idx, l.sec, l.nsec, first)
				}
				n := strings.Count(c.Logs[i], "\n") + 1
				first += n
				if n > 1 {
					multi, joined = multi+1, joined+n-1
				}
			}
			if got := r.Counts(); got.MultiLine != multi || got.LinesJoined != joined {
				t.Errorf("counts %+v, want %d logs of several lines, %d lines joined", got, multi, joined)
			}
		})
	}
}

func diff(got, want []string) string {
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)); i++ {
		g, w := "<none>", "<none>"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "log %d:\n got: %q\nwant: %q\n", i, g, w)
		}
	}
	return b.String()
}

// Lines of two containers, or of one container's stdout and stderr,
// interleaved line by line, are never mixed: each stream makes the logs it
// makes alone.
func TestStreamsNeverMixed(t *testing.T) {
	java, python := jointest.Read(t, "java"), jointest.Read(t, "python")
	cases := []struct {
		name string
		a, b []line
	}{
		{"two containers", corpusLines(java, "app", "stderr"), corpusLines(python, "worker", "stderr")},
		{"the same lines in two containers", corpusLines(java, "app", "stderr"), corpusLines(java, "app-2", "stderr")},
		{"stdout and stderr", corpusLines(java, "app", "stdout"), corpusLines(python, "app", "stderr")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mixed []line
			for i := 0; i < max(len(c.a), len(c.b)); i++ {
				if i < len(c.a) {
					mixed = append(mixed, c.a[i])
				}
				if i < len(c.b) {
					mixed = append(mixed, c.b[i])
				}
			}
			logs, _ := readLogs(t, lineChunk(mixed...), auto, nil)
			alone := func(ls []line) []string { l, _ := readLogs(t, lineChunk(ls...), auto, nil); return texts(l) }
			var gotA, gotB []string
			for _, l := range logs {
				if l.container == c.a[0].container && l.source == c.a[0].source {
					gotA = append(gotA, l.text)
				} else {
					gotB = append(gotB, l.text)
				}
			}
			if want := alone(c.a); !reflect.DeepEqual(gotA, want) {
				t.Errorf("first stream:\n%s", diff(gotA, want))
			}
			if want := alone(c.b); !reflect.DeepEqual(gotB, want) {
				t.Errorf("second stream:\n%s", diff(gotB, want))
			}
		})
	}
}

// The classes of lines on which the Agent has a test: its stack trace
// detector's (auto_multiline_detection/stack_trace_detector_test.go,
// TestStackTraceDetector), its JSON detector's (json_detector.go's pattern)
// and its timestamp detector's dataset (preprocessor/
// timestamp_detector_test.go, inputs). Where the issue goes beyond the
// Agent, the case says so: a level first starts a log; Python's traceback
// head, a plain exception line and a trace line are continuations; a time
// the Agent finds in the middle of a line is not a header here.
func TestClassifyAgentCases(t *testing.T) {
	starts := []string{
		// stack_trace_detector_test.go, startGroup
		"panic: runtime error: index out of range [0] with length 0",
		"panic: something went wrong",
		`Exception in thread "main" java.lang.NullPointerException`,
		`Exception in thread "pool-1-thread-1" java.lang.RuntimeException: fail`,
		"thread 'main' panicked at 'index out of bounds: the len is 3 but the index is 5', src/main.rs:4:5",
		"thread 'main' panicked at src/main.rs:4:5:",
		"thread 'tokio-runtime-worker' panicked at 'called `Result::unwrap()` on an `Err` value'",
		"thread 'a' panicked at src/lib.rs:1:1",
		"goroutine 1 [running]:", "goroutine 12345 [running]:", "goroutine 42 [chan receive]:",
		// timestamp_detector_test.go, startGroup, the time first or after a bracket
		"2021-03-28 13:45:30 App started successfully",
		"13:45:30 2021-03-28",
		"2023-03-28T14:33:53.743350Z App started successfully",
		"2023-03-27 12:34:56 INFO App started successfully",
		"2023-03.28T14-33:53-7430Z App started successfully",
		"[2023-03-27 12:34:56] [INFO] App started successfully",
		"9/28/2022 2:23:15 PM",
		"2024-05-15 17:04:12,369 - root - DEBUG -",
		"[2024-05-15T18:03:23.501Z] Info : All routes applied.",
		"2024-05-15 14:03:13 EDT | CORE | INFO | (pkg/logs/tailers/file/tailer.go:353 in forwardMessages) | ",
		"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=123.456.2.4 ",
		"Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback -",
		"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
		"2024/05/16 14:47:42 Datadog Tracer v1.64",
		"127.0.0.1 - - [16/May/2024:19:49:17 +0000]",
		"127.0.0.1 - - [17/May/2024:13:51:52 +0000] \"GET /probe?debug=1 HTTP/1.1\" 200 0\t",
		"2026-08-11 10:34:49 W3SVC1 10.1.48.10 GET /ZenIT/Service/v13/core/Consent land=DE 443",
		// levels first: beyond the Agent, which aggregates these
		"[INFO] App started successfully", "[INFO] test.swift:123 App started successfully",
		"ERROR in | myFile.go:53:123 App started successfully", "WARNING:root:disk full", "fail: Users.Api[13]",
		"error: could not connect", "level=error msg=boom", "WARN[0001] retrying", "FATAL EXCEPTION: main",
		// other headers
		`time="2026-01-15T10:00:00Z" level=info msg=started`, "I, [2026-01-15T10:00:00.101234 #1]  INFO -- : Started",
		"I0115 10:00:00.123456       1 main.go:10] started", "Unhandled exception. System.Exception: boom",
		"/app/src/server.js:118",
	}
	for _, s := range starts {
		if c := classify([]byte(s)); c < goPanic && c != goroutine {
			t.Errorf("%q: class %d, want a start", s, c)
		}
	}
	continues := []string{
		// stack_trace_detector_test.go, aggregate
		"Hello world", "    some indented content", "\tat some.method()", "# this is a comment", "#include <stdio.h>",
		"goroutines are lightweight threads", "goroutine pool size: 10", "goroutine [running]:", "goroutine ",
		"goroutine 5 started processing batch", "goroutine 1", "goroutine 1 running", "Exceptions should be handled properly",
		"threads are running concurrently", "thread main panicked", "panicking is bad practice", "panic!",
		"thread 'worker-5' processing request", "thread 'this has no closing quote and goes on for a long time", "thread '",
		"\tat com.example.MyClass.doSomething(MyClass.java:42)", `  File "/app/main.py", line 10, in main`,
		"    at processItems (/app/src/handler.js:25:18)", "\t/home/user/project/main.go:12 +0x1c0",
		"Caused by: java.io.IOException: Stream closed", "   0: rust_begin_unwind",
		"Fatal error: Uncaught TypeError", "BUG: unable to handle page fault", "Call Trace:",
		// timestamp_detector_test.go, aggregate
		"12:30:2017 - info App started successfully", "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
		" .  a at some log", "abc this 13:45:30  is a log ", " [java] 1234-12-12", "      at system.com.blah",
		"Info - this is an info message App started successfully", "a2de9888a8f1fc289547f77d4834e66 - - -] 10.11.10.1 ",
		"'/conf.d/..data/foobar_lifecycle.yaml' ", "commit: a2de9888a8f1fc289547f77d4834e669bf993e7e",
		" auth.handler: auth handler stopped", "1234-1234-1234-123-21-1", " = '10.20.30.123' (DEBUG)", "192.168.1.123",
		"'192.168.1.123'", "10.0.0.123", "\"10.0.0.123\"", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fd12:3456:789a:1::1",
		"2001:db8:0:1234::5678", "  Caused by: connect timed out to 10.1.48.10 after 3 retries",
		"  Host 10.1.48.10 port 443 peer 10.1.48.122 retry 3",
		// the Agent finds a time in these, in the middle: no header here
		"foo bar 13:45:30 2021-03-28", "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi",
		// continuations of a trace
		"java.lang.IllegalStateException: boom", "Traceback (most recent call last):", "... 12 more",
		"app/models/order.rb:88:in 'Order#place'", "requests.exceptions.ConnectionError: refused", "Node.js v20.11.1",
	}
	// Go's frames, Ruby's and the other continuations a cut trace starts
	// with are shaped as a trace's: they keep its rest together.
	for _, s := range []string{"main.(*Server).handleOrder(0xc000120000, {0x7f1a2c, 0xc0001a2000})", "main.main()",
		"created by net/http.(*Server).Serve in goroutine 1", "net/http.HandlerFunc.ServeHTTP(0xc0001b6000?, {0x7f1a2c?, 0xc0001a2000?}, 0x0?)",
		"app/models/order.rb:88:in 'Order#place'", "Caused by: x", "at x"} {
		if c := classify([]byte(s)); c != trace && c != goFrame {
			t.Errorf("%q: class %d, want a trace line", s, c)
		}
	}
	for _, s := range []string{"calling foo.bar(x)", "done (ok)", "Server listening on port 3000"} {
		if c := classify([]byte(s)); c == trace || c == goFrame {
			t.Errorf("%q: a trace line", s)
		}
	}
	for _, s := range continues {
		if c := classify([]byte(s)); c >= goPanic {
			t.Errorf("%q: class %d, want a continuation", s, c)
		}
	}
	for _, s := range []string{`{"key": "value"}`, `  { "a": 1}`, `{}`} {
		if c := classify([]byte(s)); c != jsonObject {
			t.Errorf("%q: class %d, want a JSON object", s, c)
		}
	}
	for _, s := range []string{"Error: boom", "TypeError: x is undefined", "ValueError: bad"} {
		if c := classify([]byte(s)); c != errorHead {
			t.Errorf("%q: class %d, want an error head", s, c)
		}
	}
}

// The Agent's timestamp formats (auto_multiline_detection/
// timestamp_detector.go, knownTimestampFormats; its "*" stands for any
// separator) start a log when a line starts with one.
func TestKnownTimestampFormats(t *testing.T) {
	formats := []string{
		"2024-03-28T13:45:30.123456Z", "28/Mar/2024:13:45:30", "Sun, 28 Mar 2024 13:45:30", "2024-03-28 13:45:30",
		"2024-03-28 13:45:30,123", "02 Jan 06 15:04 MST", "2024-03-28T14:33:53.743350Z", "2024-03-28T15:19:38.578639+00:00",
		"2024-08-20'T'13:20:10*633+0000", "2024 Mar 03 05:12:41.211 PDT", "Jan 21 18:20:11 +0000 2024", "19/Apr/2024:06:36:15",
		"Dec 2, 2024 2:39:58 AM", "Jun 09 2024 15:28:14", "Apr 20 00:00:35 2010", "Sep 28 19:00:00 +0000", "Mar 16 08:12:04",
		"Jul 1 09:00:55", "2024-10-14T22:11:20+0000", "2024-07-01T14:59:55.711'+0000'", "2024-07-01T14:59:55.711Z",
		"2024-08-19 12:17:55-0400", "2024/04/12*19:37:50", "2024 Apr 13 22:08:13.211*PDT", "2024 Mar 10 01:44:20.392",
		"2024-03-10 14:30:12,655+0000", "2024-02-27 15:35:20.311", "2024-07-22'T'16:28:55.444", "2024-10-30*02:47:33:899",
		"2024-07-04*13:23:55", "24-02-11 16:47:35,985 +0000", "24-04-19 12:00:17", "06/01/24 04:11:05", "08/10/24*13:33:56",
		"11/24/2024*05:13:11", "05/09/2024*08:22:14*612", "04/23/24 04:34:22 +0000", "2024/04/25 14:57:42", "11:42:35",
		"11:42:35.173", "11:42:35,173", "23/Apr 11:42:35,173", "23/Apr/2024:11:42:35", "23/Apr/2024 11:42:35",
		"23-Apr-2024 11:42:35", "23-Apr-2024 11:42:35.883", "23 Apr 2024 11:42:35", "23 Apr 2024 10:32:35*311",
		"8/5/2024 3:31:18 AM:234", "9/28/2024 2:23:15 PM", "2023-03.28T14-33:53-7430Z", "2017-05-16_13:53:08",
	}
	for _, f := range formats {
		if !startsWithTimestamp([]byte(f + " message")) {
			t.Errorf("%q not taken as a timestamp", f)
		}
	}
}

// A container's multi_line rule, as the Agent applies it
// (pkg/logs/internal/decoder/multiline_handler.go): a matching line starts
// a log, every other line joins the log before it, or starts one when
// there is none; a JSON object is no exception. Other containers' lines
// are untouched.
func TestMultiLineRule(t *testing.T) {
	o := &Options{Streams: fixed{byContainer: map[string]Grouping{"app": {Pattern: regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)}}}}
	in := []line{
		{"app", "stdout", "  continued from an earlier chunk", 0},
		{"app", "stdout", "more of it", 0},
		{"app", "stdout", "2026-01-15 10:00:00 first", 0},
		{"other", "stdout", "2026-01-15 10:00:00 other's", 0},
		{"app", "stdout", `{"a": 1}`, 0},
		{"other", "stdout", "  other's indented line", 0},
		{"app", "stdout", "2026-01-15 10:00:01 second", 1},
		{"app", "stdout", "Traceback (most recent call last):", 1},
		{"app", "stdout", "", 1},
		{"app", "stdout", "2026-01-15 10:00:02 third", 2},
	}
	logs, r := readLogs(t, lineChunk(in...), o, nil)
	want := []string{"  continued from an earlier chunk\nmore of it", "2026-01-15 10:00:00 first\n{\"a\": 1}", "2026-01-15 10:00:00 other's",
		"  other's indented line", "2026-01-15 10:00:01 second\nTraceback (most recent call last):", "2026-01-15 10:00:02 third"}
	if got := texts(logs); !reflect.DeepEqual(got, want) {
		t.Errorf("%s", diff(got, want))
	}
	if c := r.Counts(); c.MultiLine != 3 || c.LinesJoined != 4 {
		t.Errorf("counts %+v", c)
	}
}

// A Go dump cut by a chunk boundary: the lines after the cut make one log
// (its function lines are a trace's, and the goroutines after them join).
func TestCutGoDump(t *testing.T) {
	c := jointest.Read(t, "go")
	var dump []string
	for _, l := range c.Logs {
		if strings.HasPrefix(l, "panic: runtime error") {
			dump = strings.Split(l, "\n")
		}
	}
	var ls []line
	for _, l := range dump[3:] { // the chunk starts after "goroutine 41 [running]:"
		ls = append(ls, line{"app", "stderr", l, 0})
	}
	logs, _ := readLogs(t, lineChunk(ls...), auto, nil)
	if got := texts(logs); len(got) != 1 || !strings.HasPrefix(got[0], "main.(*Server).handleOrder") {
		t.Errorf("the rest of the dump in %d logs: %q", len(got), got)
	}
}

// A log ends at MaxLines lines, at the message bound and when a line comes
// more than MaxGap after the one before it; a trace cut by a bound goes on
// as one log (two in all), as the Agent's aggregator does.
func TestBounds(t *testing.T) {
	frames := func(n int, ms int64) []line {
		ls := []line{{"app", "stderr", "2026-01-15 10:00:00 ERROR boom", ms}}
		for i := 1; i < n; i++ {
			ls = append(ls, line{"app", "stderr", fmt.Sprintf("\tat frame%d(X.java:%d)", i, i), ms})
		}
		return ls
	}
	t.Run("lines", func(t *testing.T) {
		logs, _ := readLogs(t, lineChunk(frames(MaxLines+10, 0)...), auto, nil)
		if len(logs) != 2 || strings.Count(logs[0].text, "\n") != MaxLines-1 || strings.Count(logs[1].text, "\n") != 9 || logs[1].idx != MaxLines {
			t.Errorf("%d logs", len(logs))
		}
	})
	t.Run("bytes", func(t *testing.T) {
		o := &Options{MaxBytes: 1000, Streams: auto.Streams}
		ls := frames(100, 0) // 30 JSON-escaped bytes and a \n each
		logs, _ := readLogs(t, lineChunk(ls...), o, nil)
		total := 0
		for i, l := range logs {
			if n := len(strings.ReplaceAll(strings.ReplaceAll(l.text, "\t", `\t`), "\n", `\n`)); n > 1000 {
				t.Errorf("log %d: %d escaped bytes", i, n)
			}
			total += strings.Count(l.text, "\n") + 1
		}
		if len(logs) < 3 || total != 100 || !strings.HasPrefix(logs[1].text, "\tat frame") || strings.Contains(logs[1].text, "ERROR") {
			t.Errorf("%d logs of %d lines: %q", len(logs), total, texts(logs))
		}
	})
	t.Run("gap", func(t *testing.T) {
		ls := append(frames(3, 0), line{"app", "stderr", "\tat late(X.java:1)", 1001})
		ls = append(ls, line{"app", "stderr", "\tat later(X.java:2)", 1500})
		logs, _ := readLogs(t, lineChunk(ls...), auto, nil)
		if got := texts(logs); len(got) != 2 || strings.Count(got[0], "\n") != 2 || got[1] != "\tat late(X.java:1)\n\tat later(X.java:2)" {
			t.Errorf("%q", got)
		}
	})
}

// Records an earlier try delivered (done) are never grouped again: when
// the first try had no multi_line rule (the label was not read yet) and
// delivered some lines alone, the retry groups only the others, so nothing
// is lost or sent twice. Members marks a delivered joined log's records.
func TestDoneNeverGrouped(t *testing.T) {
	in := []line{
		{"app", "stderr", "2026-01-15 10:00:00 ERROR boom", 0},
		{"app", "stderr", "\tat a(X.java:1)", 0},
		{"app", "stderr", "\tat b(X.java:2)", 0},
		{"app", "stderr", "2026-01-15 10:00:00 ERROR again", 0},
		{"app", "stderr", "\tat c(X.java:3)", 0},
	}
	chunk := lineChunk(in...)
	var done progress.Ranges
	done.Add(0, 2) // the first try sent lines 0 and 1 alone
	logs, _ := readLogs(t, chunk, auto, &done)
	want := []yielded{{0, "app", in[0].text, "stderr", 1795000000, 0}, {1, "app", in[1].text, "stderr", 1795000000, 0},
		{2, "app", in[2].text, "stderr", 1795000000, 0}, {3, "app", in[3].text + "\n" + in[4].text, "stderr", 1795000000, 0}}
	if !reflect.DeepEqual(logs, want) {
		t.Errorf("got %v\nwant %v", logs, want)
	}
	// A delivered joined log takes its records with it.
	_, r := readLogs(t, chunk, auto, nil)
	var next progress.Ranges
	next.AddIDs([]int32{3}) // the second log was delivered
	r.Members().AddTo(&next, []int32{3})
	cur := next.Cursor()
	for i, w := range []bool{false, false, false, true, true} {
		if cur.Contains(int32(i)) != w {
			t.Errorf("record %d done: %v", i, !w)
		}
	}
}

// Split lines are joined first: a 40 KB header line in three parts and the
// trace lines after it make one log.
func TestSplitThenMultiLine(t *testing.T) {
	head := "2026-01-15 10:00:00 ERROR " + strings.Repeat("x", 40_000)
	var recs []rec
	for o := 1; o <= 3; o++ {
		p := dockerPart(idA, cA, head[(o-1)*16384:min(o*16384, len(head))], o, o == 3)
		recs = append(recs, p)
	}
	recs = append(recs, rec{"log", "\tat a(X.java:1)", "source", "stdout", "container_id", cA, "container_name", "/ecs-web-1-app-" + cA[:4]})
	var chunk []byte
	for _, x := range recs {
		chunk = ev1(chunk, 1795000000, x)
	}
	logs, r := readLogs(t, chunk, auto, nil)
	if len(logs) != 1 || logs[0].text != head+"\n\tat a(X.java:1)" {
		t.Fatalf("%d logs", len(logs))
	}
	if c := r.Counts(); c.SplitJoined != 1 || c.MultiLine != 1 || c.LinesJoined != 1 {
		t.Errorf("counts %+v", c)
	}
}

// With no stream grouping lines and no split line, the Reader is the plain
// decoder: no allocation.
func TestNoGroupingNoAllocs(t *testing.T) {
	c := jointest.Read(t, "java")
	chunk := lineChunk(corpusLines(c, "app", "stderr")...)
	o := &Options{Streams: fixed{}}
	if allocs := allocsPerChunk(chunk, o); allocs != 0 {
		t.Errorf("%v allocations per chunk", allocs)
	}
	logs, _ := readLogs(t, chunk, o, nil)
	if len(logs) != len(c.Lines) {
		t.Errorf("%d logs of %d lines", len(logs), len(c.Lines))
	}
}

// chunkgen's FireLens mix, which the real-Fluent-Bit tests send through the
// example task definition (auto_multiline on) and count a log a record, is
// one log a record: every line has a header, or is a JSON object.
func TestFireLensMixOneLogEach(t *testing.T) {
	g := chunkgen.New(1)
	var ls []line
	for i := 0; i < 2000; i++ {
		ls = append(ls, line{"app", "stdout", g.Line(chunkgen.FireLensMix[i%len(chunkgen.FireLensMix)], i), 0})
	}
	if logs, _ := readLogs(t, lineChunk(ls...), auto, nil); len(logs) != len(ls) {
		t.Errorf("%d logs of %d records", len(logs), len(ls))
	}
}

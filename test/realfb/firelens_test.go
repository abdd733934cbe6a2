// Package realfb runs the plugin inside real Fluent Bit (every line of
// fbtest.Lines: 5.1.1, 4.2.8 and 1.9.10, found by test/realfb/fbtest) in
// the shapes it runs in on ECS. Every test skips with one line when the
// binary is absent, so a bare clone passes.
package realfb

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

const apiKey = "5b2e9f0c7a1d4e6b8c3f2a9d0e7b1c4a" // not the FireLens task ID of the records: a log line naming their tag must not look like a leak

// agentTags are the Datadog Agent's ECS tags for fbtest.SeedTask and
// fbtest.DefaultContainer (docs/log-format.md, Tags).
var agentTags = []string{
	"env:prod",
	"ecs_cluster_name:web-cluster",
	"cluster_arn:arn:aws:ecs:us-east-1:123456789012:cluster/web-cluster",
	"task_arn:arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef",
	"task_family:web", "task_name:web", "task_version:42",
	"task_definition_arn:arn:aws:ecs:us-east-1:123456789012:task-definition/web:42",
	"region:us-east-1", "aws_account:123456789012",
	"container_id:" + fbtest.DefaultContainer.ID,
	"container_name:ecs-web-42-app-e4d2c3b1a0",
	"ecs_container_name:app",
}

// send feeds records to the router's forward socket as the log driver does.
func send(t *testing.T, socket, tag string, records [][]byte) {
	t.Helper()
	if err := sendRecords(socket, tag, records); err != nil {
		t.Fatal(err)
	}
}

// sendRecords sends in messages of 200 events, each acknowledged.
func sendRecords(socket, tag string, records [][]byte) error {
	f, err := fbtest.DialForward("unix", socket)
	if err != nil {
		return err
	}
	defer f.Close()
	f.Ack = true
	return fbtest.SendRecords(f, tag, records, 200)
}

// checkDelivered waits for n entries, then checks each seq arrived once,
// within the intake's limits, and that the key never reached the log.
func checkDelivered(t *testing.T, srv *intaketest.Server, p *fbtest.Process, n int) {
	t.Helper()
	if !fbtest.WaitFor(60*time.Second, func() bool { return srv.Stats().Entries >= n }) {
		t.Fatalf("%d of %d records arrived in 60 s", srv.Stats().Entries, n)
	}
	time.Sleep(300 * time.Millisecond) // let a duplicate, if any, arrive too
	st := srv.Stats()
	if st.Entries != n {
		t.Errorf("intake got %d entries, want %d", st.Entries, n)
	}
	seqs := srv.Seqs()
	for i := 0; i < n; i++ {
		if seqs[i] != 1 {
			t.Errorf("seq=%d arrived %d times", i, seqs[i])
			break
		}
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("contract violations: %q", v[:min(len(v), 5)])
	}
	if st.MaxEntries > intaketest.MaxEntries || st.MaxRawBytes > intaketest.MaxBytes {
		t.Errorf("a payload over the limits: %d entries, %d bytes", st.MaxEntries, st.MaxRawBytes)
	}
	if strings.Contains(p.Log(), apiKey) {
		t.Errorf("the API key appears in Fluent Bit's log")
	}
	t.Logf("%d records in %d payloads (max %d entries, %d bytes raw), encodings %v",
		st.Entries, st.Accepted, st.MaxEntries, st.MaxRawBytes, st.ByEncoding)
}

// TestFireLensShape runs the router ECS writes for an app container whose
// logConfiguration is the seed task definition's datadog_go options, fed
// over the forward socket, on every Fluent Bit line. A second container's
// records, routed by FireLens to its own output, must not reach ours.
func TestFireLensShape(t *testing.T) {
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			fbtest.Require(t, v)
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = fbtest.SeedOptions(srv.URL, apiKey)
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})

			const n = 20000
			other := fl
			other.Container = "sidecar"
			send(t, fl.Socket, other.Tag(), fbtest.Records(50, 2, fbtest.Container{ID: "ffff", Name: "/sidecar"}))
			send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 1, fbtest.DefaultContainer))
			checkDelivered(t, srv, p, n)

			logs := srv.Logs()
			for _, l := range logs[:1] {
				if l["service"] != "singsong" || l["ddsource"] != "httpd" {
					t.Errorf("service/ddsource %v/%v, want singsong/httpd", l["service"], l["ddsource"])
				}
				tags := strings.Split(l["ddtags"].(string), ",")
				for _, want := range agentTags {
					if !contains(tags, want) {
						t.Errorf("ddtags %q lack %q", l["ddtags"], want)
					}
				}
			}
			for _, l := range logs {
				if l["container_id"] == "ffff" || strings.Contains(l["ddtags"].(string), "container_id:ffff") {
					t.Fatalf("a record of another container's tag reached the output: %v", l)
				}
			}
			if !p.Stop(20 * time.Second) {
				t.Fatalf("fluent-bit did not exit on SIGTERM in 20 s")
			}
			if p.ExitCode() != 0 {
				t.Errorf("exit status %d", p.ExitCode())
			}
			if want := "records_out=" + strconv.Itoa(n); !strings.Contains(p.Log(), want) {
				t.Errorf("exit counters lack %q:\n%s", want, fbtest.Tail(p.Log(), 2000))
			}
			checkVerifyLines(t, p.Log())
		})
	}
}

// checkVerifyLines holds the start-up and stats lines that
// docs/operations.md ("Verify it works") shows to the ones in log: the same
// prefix and the same fields in the same order (the stats line's fields are
// the exit line's).
func checkVerifyLines(t *testing.T, log string) {
	t.Helper()
	section := doctest.Section(t, "../../docs/operations.md", "Verify it works\n")
	fields := regexp.MustCompile(`\b([a-z_]+)=`)
	keys := func(line string) string {
		var ks []string
		for _, m := range fields.FindAllStringSubmatch(line, -1) {
			ks = append(ks, m[1])
		}
		return strings.Join(ks, " ")
	}
	for _, c := range []struct{ doc, got string }{
		{" ready: url=", " ready: url="},
		{"] stats records_in=", "] exit: records_in="},
	} {
		want, got := logLine(section, c.doc), logLine(log, c.got)
		if want == "" || got == "" {
			t.Errorf("no line with %q in docs/operations.md (%q) or %q in the log (%q)", c.doc, want, c.got, got)
			continue
		}
		if !strings.Contains(got, "[output:datadog_go:datadog_go.0] ") || keys(want) != keys(got) {
			t.Errorf("docs/operations.md shows\n%s\nthe plugin logs\n%s", want, got)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dialAcked connects to a Fluent Bit's forward socket with each message
// acknowledged (a record sent is a record Fluent Bit holds), closed when
// the test ends.
func dialAcked(t *testing.T, socket string) *fbtest.Forwarder {
	t.Helper()
	f, err := fbtest.DialForward("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	f.Ack = true
	return f
}

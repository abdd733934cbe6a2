package realfb

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/join/jointest"
	"github.com/out-datadog-go/out_datadog_go/internal/labels"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// lineRecord is one line of a container as the log driver sends it.
func lineRecord(id, name, source, line string) []byte {
	b := msgp.AppendMapHeader(nil, 4)
	for _, kv := range [][2]string{{"container_id", id}, {"container_name", name}, {"source", source}, {"log", line}} {
		b = msgp.AppendString(msgp.AppendString(b, kv[0]), kv[1])
	}
	return b
}

// TestMultiLineCorpora (issue 31): the FireLens router with auto_multiline
// on receives, in one chunk, the corpus of every language
// (testdata/multiline: Java, Python, Go's panic with its goroutine dump,
// Node, Ruby, .NET, Rust), each from its own container, interleaved line by
// line, plus the Java corpus again on the Python container's stdout. Each
// trace arrives as exactly one log, single lines stay single, and no log
// holds another container's or stream's line. On every supported line.
func TestMultiLineCorpora(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, fl, p := startRouter(t, v, func(fl *fbtest.FireLens) {
				fl.Options = append(fl.Options, "auto_multiline on")
			})
			type stream struct {
				id, name, source string
				c                jointest.Corpus
			}
			var streams []stream
			for i, c := range jointest.All(t) {
				streams = append(streams, stream{fmt.Sprintf("%064x", i+1), "/ecs-web-42-" + c.Name + "-e4d2c3b1a0", "stderr", c})
			}
			streams = append(streams, stream{streams[1].id, streams[1].name, "stdout", jointest.Read(t, "java")})
			var records [][]byte
			want, multi, joined := 0, 0, 0
			for i := 0; ; i++ {
				more := false
				for _, s := range streams {
					if i < len(s.c.Lines) {
						records = append(records, lineRecord(s.id, s.name, s.source, s.c.Lines[i]))
						more = true
					}
				}
				if !more {
					break
				}
			}
			for _, s := range streams {
				want += len(s.c.Logs)
				for _, l := range s.c.Logs {
					if n := strings.Count(l, "\n"); n > 0 {
						multi, joined = multi+1, joined+n
					}
				}
			}
			f, err := fbtest.DialForward("unix", fl.Socket)
			if err != nil {
				t.Fatal(err)
			}
			f.Ack = true
			if err := fbtest.SendRecords(f, fl.Tag(), records, len(records)); err != nil { // one message: one chunk
				t.Fatal(err)
			}
			f.Close()
			if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= want }) {
				t.Fatalf("%d logs arrived in 30 s, want %d", srv.Stats().Entries, want)
			}
			if !p.Stop(20 * time.Second) {
				t.Fatal("fluent-bit did not exit on SIGTERM in 20 s")
			}
			got := map[string][]string{}
			for _, l := range srv.Logs() {
				tags, _ := l["ddtags"].(string)
				i := strings.Index(tags, "container_id:")
				key := tags[i+len("container_id:"):i+len("container_id:")+64] + "/" + fmt.Sprint(l["source"])
				got[key] = append(got[key], l["message"].(string))
			}
			for _, s := range streams {
				if g := got[s.id+"/"+s.source]; !reflect.DeepEqual(g, s.c.Logs) {
					t.Errorf("%s (%s): %d logs, want %d:\n%q", s.c.Name, s.source, len(g), len(s.c.Logs), g)
				}
			}
			if line := fmt.Sprintf("records_out=%d ", want); !strings.Contains(p.Log(), line) ||
				!strings.Contains(p.Log(), fmt.Sprintf("multiline_logs=%d lines_joined=%d ", multi, joined)) {
				t.Errorf("exit counters lack %s multiline_logs=%d lines_joined=%d:\n%s", line, multi, joined, fbtest.Tail(p.Log(), 1500))
			}
		})
	}
}

// TestMultiLineRuleEndToEnd (issue 31): the app container's
// com.datadoghq.ad.logs label, served by the task metadata endpoint, holds
// the Datadog documentation's multi_line rule (a new log starts with a
// date); the router sends its Java traces as one log each, with the label's
// source, and a line of a container without the rule as it is. On every
// supported line.
func TestMultiLineRuleEndToEnd(t *testing.T) {
	eachLine(t, fbtest.Lines, func(t *testing.T, v string) {
		label, _ := json.Marshal([]map[string]any{{"source": "java", "log_processing_rules": []map[string]string{
			{"type": "multi_line", "name": "new_log_start_with_date", "pattern": `\d{4}-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01])`},
		}}})
		doc := ecstest.WithLabel(t, ecstest.Doc(t, "fargate-service-task.json"), "app", labels.ADLogs, string(label))
		metaURI, hits := serveTask(t, "/v4/users", doc)
		srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
		dir := t.TempDir()
		fl := fbtest.FireLens{
			Socket: filepath.Join(dir, "fluent.sock"), Container: "app",
			Cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/prod", TaskARN: "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8",
			TaskDefinition: "users:17",
			Options: []string{"Name datadog_go", "dd_message_key log", "provider ecs", "endpoint " + srv.URL, "apikey " + apiKey,
				"workers 2", "Retry_Limit no_limits"},
		}
		p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir, Env: []string{"ECS_CONTAINER_METADATA_URI_V4=" + metaURI}})
		if !fbtest.WaitFor(10*time.Second, func() bool { return hits.Load() > 0 }) {
			t.Fatal("the plugin never asked the task metadata endpoint")
		}
		time.Sleep(200 * time.Millisecond) // the answer is parsed in the background
		java := jointest.Read(t, "java")
		const app = "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890"
		var records [][]byte
		for _, l := range java.Lines {
			records = append(records, lineRecord(app, "app", "stderr", l))
		}
		records = append(records, lineRecord("other-container", "sidecar", "stderr", "\tat a line of a container without the rule"))
		send(t, fl.Socket, fl.Tag(), records)
		// The rule: the lines before the first date, and from each dated
		// line to the next, make one log each.
		var want []string
		for _, l := range java.Lines {
			if len(want) == 0 || len(l) > 4 && l[0] >= '0' && l[0] <= '9' && l[4] == '-' {
				want = append(want, l)
			} else {
				want[len(want)-1] += "\n" + l
			}
		}
		if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= len(want)+1 }) {
			t.Fatalf("%d logs arrived in 30 s, want %d", srv.Stats().Entries, len(want)+1)
		}
		if !p.Stop(20 * time.Second) {
			t.Fatal("fluent-bit did not exit on SIGTERM in 20 s")
		}
		var got []string
		for _, l := range srv.Logs() {
			if strings.Contains(l["ddtags"].(string), "container_id:"+app) {
				got = append(got, l["message"].(string))
				if l["ddsource"] != "java" {
					t.Errorf("ddsource %v, want the label's java", l["ddsource"])
				}
			} else if l["message"] != "\tat a line of a container without the rule" {
				t.Errorf("the other container's line: %q", l["message"])
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d logs, want %d:\n%q", len(got), len(want), got)
		}
	})
}

package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/join/jointest"
	"github.com/out-datadog-go/out_datadog_go/internal/labels"
)

// taskLines is a chunk of lines of fargate-service-task.json's task, all
// at the same second: the app container's unless a line starts with
// "other:" (another task's container also named app, as an aggregator
// receives it).
func taskLines(lines ...string) []byte {
	var chunk []byte
	for _, l := range lines {
		task := "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8"
		id := "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890"
		if rest, ok := strings.CutPrefix(l, "other:"); ok {
			l, task, id = rest, "arn:aws:ecs:us-east-1:123456789012:task/prod/0000", "0000-1"
		}
		rec := msgp.AppendMapHeader(nil, 6)
		for _, kv := range [][2]string{{"log", l}, {"container_id", id}, {"container_name", "app"}, {"source", "stderr"},
			{"ecs_task_arn", task}, {"ecs_task_definition", "users:17"}} {
			rec = msgp.AppendString(msgp.AppendString(rec, kv[0]), kv[1])
		}
		chunk = chunkgen.New(1).AppendEvent(chunk, 1795000000, 0, rec)
	}
	return chunk
}

// The app container's com.datadoghq.ad.logs label asks for a multi_line
// rule (the Agent's documented example, a date starting each log), served
// by the task metadata endpoint's stand-in: its Java trace arrives as one
// log with the header's attributes and the container's tags, counted; a
// line of another task's container of the same name is not grouped (the
// label is the router task's); the label's other rules still apply.
func TestMultiLineRuleFromLabel(t *testing.T) {
	label, _ := json.Marshal([]map[string]any{{"source": "java", "log_processing_rules": []map[string]string{
		{"type": "multi_line", "name": "new_log_start_with_date", "pattern": `\d{4}-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01])`},
		{"type": "exclude_at_match", "name": "no_health", "pattern": "GET /health"},
	}}})
	doc := ecstest.WithLabel(t, ecstest.Doc(t, "fargate-service-task.json"), "app", labels.ADLogs, string(label))
	srv := intaketest.StartT(t, intaketest.Options{})
	in, logs := newInstance(t, srv, map[string]string{"ecs_metadata_uri": ecstest.URL(t, doc)})
	chunk := taskLines(
		"2026-01-15 10:00:07.912 ERROR [main] order failed seq=1",
		"java.lang.IllegalStateException: order 4711 has no customer",
		"other:\tat a line of another task's app seq=2",
		"\tat com.example.users.OrderService.place(OrderService.java:88)",
		"Caused by: java.sql.SQLException: refused",
		"\t... 52 more",
		"2026-01-15 10:00:08.000 INFO [main] GET /health 200",
		"2026-01-15 10:00:09.000 INFO [main] done seq=3",
	)
	if code := in.Flush(chunk, []byte("app-firelens")); code != OK {
		t.Fatal(code)
	}
	in.Close()
	got := srv.Logs()
	if len(got) != 3 {
		t.Fatalf("%d logs, want 3: %v", len(got), got)
	}
	want := "2026-01-15 10:00:07.912 ERROR [main] order failed seq=1\njava.lang.IllegalStateException: order 4711 has no customer\n" +
		"\tat com.example.users.OrderService.place(OrderService.java:88)\nCaused by: java.sql.SQLException: refused\n\t... 52 more"
	if got[0]["message"] != want || got[0]["ddsource"] != "java" || !strings.Contains(fmt.Sprint(got[0]["ddtags"]), "ecs_container_name:app") ||
		got[0]["timestamp"] != float64(1795000000000) {
		t.Errorf("joined log: %v", got[0])
	}
	if got[1]["message"] != "\tat a line of another task's app seq=2" || got[2]["message"] != "2026-01-15 10:00:09.000 INFO [main] done seq=3" {
		t.Errorf("other logs: %v / %v", got[1]["message"], got[2]["message"])
	}
	if s := in.Stats.Snapshot(); s.MultiLine != 1 || s.LinesJoined != 4 || s.Excluded != 1 || !strings.Contains(logs.String(), "multiline_logs=1 lines_joined=4") {
		t.Errorf("stats %+v\n%s", s, logs)
	}
}

// auto_multiline on: every corpus's logs arrive as the corpus says, and
// when a payload fails, Fluent Bit's retry of the chunk sends the rest and
// nothing twice: a joined log keeps its index, and its lines are done with
// it.
func TestAutoMultilineRetried(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n == 2 {
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	in, _ := newInstance(t, srv, map[string]string{"auto_multiline": "on", "max_batch_entries": "5", "max_retries": "0"})
	var lines, want []string
	for _, c := range jointest.All(t) { // a JSON line between two corpora ends the last log
		sep := fmt.Sprintf(`{"corpus": %q}`, c.Name)
		lines = append(append(lines, sep), c.Lines...)
		want = append(append(want, sep), c.Logs...)
	}
	chunk := taskLines(lines...)
	if code := in.Flush(chunk, []byte("app-firelens")); code != Retry {
		t.Fatalf("first flush %v, want Retry", code)
	}
	if code := in.Flush(chunk, []byte("app-firelens")); code != OK {
		t.Fatalf("retry %v", code)
	}
	in.Close()
	got := map[string]int{}
	for _, l := range srv.Logs() {
		got[l["message"].(string)]++
	}
	for _, w := range want {
		if got[w] != 1 {
			t.Errorf("log delivered %d times: %q", got[w], w)
		}
		delete(got, w)
	}
	for m := range got {
		t.Errorf("unexpected log %q", m)
	}
	if s := in.Stats.Snapshot(); s.RecordsIn != int64(len(want)) || s.RecordsOut != int64(len(want)) || s.Resumed == 0 {
		t.Errorf("records in %d out %d resumed %d, want %d logs", s.RecordsIn, s.RecordsOut, s.Resumed, len(want))
	}
}

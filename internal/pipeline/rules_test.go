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
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/labels"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
)

// Issue 13: the app container of fargate-service-task.json excludes
// "GET /health" lines and masks card numbers (com.datadoghq.ad.logs).
// Excluded records never reach the intake, masked values never do, both are
// counted in the stats line, and the chunk is done (FLB_OK).
func TestLogProcessingRules(t *testing.T) {
	srv, err := intaketest.Start(intaketest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, logs := newInstance(t, srv, map[string]string{"ecs_metadata_uri": ecstest.URL(t, ecstest.Doc(t, "fargate-service-task.json"))})
	chunk := appChunk(
		`10.0.0.1 "GET /health HTTP/1.1" 200 seq=0`,
		`paid with 4111-1111-1111-1111 seq=1`,
		`10.0.0.2 "GET /health HTTP/1.1" 200 seq=2`,
		`plain seq=3`,
	)
	if code := in.Flush(chunk, []byte("app-firelens")); code != OK {
		t.Fatalf("flush: %v", code)
	}
	in.Close()
	got := srv.Logs()
	if len(got) != 2 {
		t.Fatalf("%d logs reached the intake, want 2: %v", len(got), got)
	}
	for _, l := range got {
		msg, _ := l["message"].(string)
		if strings.Contains(msg, "/health") || strings.Contains(msg, "4111") {
			t.Errorf("excluded or masked content reached the intake: %q", msg)
		}
		if l["ddsource"] != "python" || l["service"] != "users-api-logs" {
			t.Errorf("source/service from com.datadoghq.ad.logs: %v %v", l["ddsource"], l["service"])
		}
	}
	if got[0]["message"] != "paid with [masked card] seq=1" {
		t.Errorf("masked message %q", got[0]["message"])
	}
	if s := in.Stats.Snapshot(); s.Excluded != 2 || s.Masked != 1 || !strings.Contains(logs.String(), "excluded=2 masked=1") {
		t.Errorf("stats %+v\n%s", s, logs.String())
	}
}

// appChunk is a chunk of the app container of fargate-service-task.json
// logging lines.
func appChunk(lines ...string) []byte {
	var chunk []byte
	for i, l := range lines {
		rec := msgp.AppendMapHeader(nil, 6)
		for _, kv := range [][2]string{{"log", l}, {"container_id", "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890"},
			{"container_name", "app"}, {"ecs_cluster", "arn:aws:ecs:us-east-1:123456789012:cluster/prod"},
			{"ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8"},
			{"ecs_task_definition", "users:17"}} {
			rec = msgp.AppendString(msgp.AppendString(rec, kv[0]), kv[1])
		}
		chunk = chunkgen.New(1).AppendEvent(chunk, 1795000000+uint32(i), 0, rec)
	}
	return chunk
}

// Hostile rules from a container's labels are bounded: a z* mask with a
// 1 KB placeholder on a 100 KB message stops at the per-log limit, the
// message ending at its last replacement, marked and counted; 3,000 rules
// apply as 32, reported once. (Before: 231 MB of heap for that record;
// 4 ms a record for 3,000 rules.)
func TestHostileRules(t *testing.T) {
	var rs []map[string]string
	rs = append(rs, map[string]string{"type": "mask_sequences", "name": "z", "pattern": "z*", "replace_placeholder": strings.Repeat("#", 1024)})
	for i := 0; i < 3000; i++ {
		rs = append(rs, map[string]string{"type": "mask_sequences", "name": fmt.Sprint("r", i), "pattern": fmt.Sprintf(`tok%d=\\w+`, i), "replace_placeholder": "x"})
	}
	label, _ := json.Marshal([]map[string]any{{"log_processing_rules": rs}})
	doc := ecstest.WithLabel(t, ecstest.Doc(t, "fargate-service-task.json"), "app", labels.ADLogs, string(label))
	srv := intaketest.StartT(t, intaketest.Options{})
	in, logs := newInstance(t, srv, map[string]string{"ecs_metadata_uri": ecstest.URL(t, doc)})
	msg := strings.Repeat("secret ", 100_000/7)
	if code := in.Flush(appChunk(msg, "short seq=1"), []byte("app-firelens")); code != OK {
		t.Fatalf("flush: %v", code)
	}
	in.Close()
	got := srv.Logs()
	if len(got) != 2 || srv.Stats().MaxEntryBytes > limits.MaxLogBytes {
		t.Fatalf("%d logs, largest entry %d bytes", len(got), srv.Stats().MaxEntryBytes)
	}
	if got[0][shape.TruncatedKey] != float64(len(msg)) || strings.Contains(got[0]["message"].(string), "secret secret") {
		t.Errorf("cut message marked %v, %d bytes", got[0][shape.TruncatedKey], len(got[0]["message"].(string)))
	}
	if s := in.Stats.Snapshot(); s.Truncated != 1 || s.Masked != 2 {
		t.Errorf("truncated %d masked %d", s.Truncated, s.Masked)
	}
	if c := strings.Count(logs.String(), "2969 rules past the first 32"); c != 1 {
		t.Errorf("rules over the bound reported %d times:\n%s", c, logs)
	}
}

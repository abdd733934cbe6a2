package realfb

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestAgentTagsEndToEnd (issue 13) runs the router FireLens writes for the
// app container of internal/ecs/testdata/fargate-service-task.json under
// real Fluent Bit, on every line, with that document served as the task
// metadata endpoint (ECS_CONTAINER_METADATA_URI_V4, as ECS sets it). Every
// log of the
// app container must carry the Agent's full tag set
// (fargate-service-task.app.tags, nothing more than dd_tags adds), the
// source and service of its com.datadoghq.ad.logs label, and its
// log_processing_rules: "GET /health" lines never reach the intake, card
// numbers never do.
func TestAgentTagsEndToEnd(t *testing.T) { eachLine(t, fbtest.Lines, agentTagsEndToEnd) }

func agentTagsEndToEnd(t *testing.T, v string) {
	root, err := fbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	testdata := filepath.Join(root, "internal", "ecs", "testdata")
	doc, err := os.ReadFile(filepath.Join(testdata, "fargate-service-task.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := readTags(t, filepath.Join(testdata, "fargate-service-task.app.tags"))

	metaURI, taskHits := serveTask(t, "/v4/users", doc)
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})

	dir := t.TempDir()
	fl := fbtest.FireLens{
		Socket:         filepath.Join(dir, "fluent.sock"),
		Container:      "app",
		Cluster:        "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
		TaskARN:        "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8",
		TaskDefinition: "users:17",
		Options: []string{"Name datadog_go", "dd_message_key log", "dd_service users", "dd_source httpd",
			"dd_tags env:staging", "provider ecs", "endpoint " + srv.URL, "apikey " + apiKey, "workers 2",
			"Retry_Limit no_limits", "stats_interval 1s"},
	}
	p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir,
		Env: []string{"ECS_CONTAINER_METADATA_URI_V4=" + metaURI}})
	metadataRead(t, p, taskHits)

	// Records as the app's log driver sends them: one in 4 a health check
	// (excluded), one in 4 with a card number (masked).
	const n = 2000
	lines := func(i int) string {
		switch i % 4 {
		case 0:
			return `10.0.66.189 - - "GET /health HTTP/1.1" 200 2`
		case 1:
			return "charged card 4111-1111-1111-1111 for order seq=" + strconv.Itoa(i)
		}
		return `10.0.66.189 - - "GET /api/v1/users/7 HTTP/1.1" 200 912 seq=` + strconv.Itoa(i)
	}
	records := make([][]byte, n)
	for i := range records {
		b := msgp.AppendMapHeader(nil, 4)
		b = msgp.AppendString(msgp.AppendString(b, "container_id"), "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890")
		b = msgp.AppendString(msgp.AppendString(b, "container_name"), "app")
		b = msgp.AppendString(msgp.AppendString(b, "source"), "stdout")
		b = msgp.AppendString(msgp.AppendString(b, "log"), lines(i))
		records[i] = b
	}
	send(t, fl.Socket, fl.Tag(), records)

	const kept = n * 3 / 4
	if !fbtest.WaitFor(60*time.Second, func() bool { return srv.Stats().Entries >= kept }) {
		t.Fatalf("%d of %d records arrived in 60 s", srv.Stats().Entries, kept)
	}
	if !p.Stop(20*time.Second) || p.ExitCode() != 0 {
		t.Fatalf("fluent-bit exit: status %d\n%s", p.ExitCode(), fbtest.Tail(p.Log(), 2000))
	}
	logs := srv.Logs()
	if len(logs) != kept {
		t.Errorf("intake got %d logs, want %d (health checks excluded)", len(logs), kept)
	}
	for _, l := range logs {
		msg, _ := l["message"].(string)
		if strings.Contains(msg, "/health") || strings.Contains(msg, "4111") {
			t.Fatalf("excluded or masked content reached the intake: %q", msg)
		}
		if l["ddsource"] != "python" || l["service"] != "users-api-logs" {
			t.Fatalf("ddsource/service %v/%v, want python/users-api-logs (com.datadoghq.ad.logs)", l["ddsource"], l["service"])
		}
		got := strings.Split(l["ddtags"].(string), ",")
		for _, w := range want { // env:prod: dd_tags env:staging loses to the env label
			if !contains(got, w) {
				t.Fatalf("ddtags %q lack %q", l["ddtags"], w)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("ddtags has %d tags, the Agent's set %d: %q", len(got), len(want), l["ddtags"])
		}
	}
	if !strings.Contains(p.Log(), "excluded=500 masked=500") {
		t.Errorf("exit counters lack excluded=500 masked=500:\n%s", fbtest.Tail(p.Log(), 2000))
	}
}

// readTags reads the tags of an internal/ecs/testdata .tags file.
func readTags(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			tag, _, _ := strings.Cut(line, "\t")
			out = append(out, tag)
		}
	}
	return out
}

// serveTask serves doc as the task metadata endpoint v4 at base (GET
// base+"/task", as ECS_CONTAINER_METADATA_URI_V4 names it) until the test
// ends; it returns the URI to set and the count of requests for the task.
// metadataRead fails the test unless the plugin read the task document
// while Fluent Bit started: its first fetch is made, and the answer parsed,
// within the output's init (ecs.NewClient from pipeline.New), which Fluent
// Bit runs before it logs fbtest.ReadyLine; a fetch that failed is logged.
func metadataRead(t *testing.T, p *fbtest.Process, hits *atomic.Int32) {
	t.Helper()
	if hits.Load() == 0 || strings.Contains(p.Log(), "ECS task metadata endpoint unavailable") {
		t.Fatalf("the plugin did not read the task metadata endpoint at start (%d requests):\n%s", hits.Load(), fbtest.Tail(p.Log(), 3000))
	}
}

func serveTask(t *testing.T, base string, doc []byte) (uri string, hits *atomic.Int32) {
	t.Helper()
	hits = new(atomic.Int32)
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != base+"/task" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		_, _ = w.Write(doc)
	}))
	t.Cleanup(meta.Close)
	return meta.URL + base, hits
}

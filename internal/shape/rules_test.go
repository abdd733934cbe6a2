package shape

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
)

// FireLens fields of fargate-service-task.json's containers.
func fargateRecord(container, msg string) []byte {
	id := map[string]string{"app": "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890", "log_router": "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-2233445566"}[container]
	return kv("log", msg, "source", "stdout", "container_id", id, "container_name", container,
		"ecs_cluster", "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
		"ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8",
		"ecs_task_definition", "users:17")
}

// The app container of fargate-service-task.json has com.datadoghq.ad.logs
// with source python, service users-api-logs, an exclude_at_match on
// "GET /health" and a mask_sequences of card numbers; the log router has no
// Datadog labels.
func TestContainerLogConfig(t *testing.T) {
	md := ecstest.Client(t, ecstest.Doc(t, "fargate-service-task.json"))
	newShaper := func(src, svc string) *Shaper {
		return New(Options{DateKey: "timestamp", Source: src, Service: svc, ECS: true,
			Tagger: tags.NewTagger(tags.Options{ECS: true, ConfigSource: src, ConfigService: svc, Metadata: md})})
	}
	cases := []struct {
		name, src, svc string
		rec            []byte
		excluded       bool
		masked         bool
		wantSrc        string
		wantSvc        string
		wantMsg        string
	}{
		{"excluded by exclude_at_match", "httpd", "web", fargateRecord("app", `10.0.0.1 "GET /health HTTP/1.1" 200`), true, false, "", "", ""},
		{"masked", "httpd", "web", fargateRecord("app", "paid with 4111-1111-1111-1111 ok"), false, true, "python", "users-api-logs", "paid with [masked card] ok"},
		{"labels above dd_source/dd_service", "httpd", "web", fargateRecord("app", "hello"), false, false, "python", "users-api-logs", "hello"},
		{"record values win", "httpd", "web", kv("log", "x", "ddsource", "rec-src", "service", "rec-svc", "container_id", "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890"),
			false, false, "rec-src", "rec-svc", "x"},
		{"no rules for the router: config values", "httpd", "web", fargateRecord("log_router", "GET /health 4111-1111-1111-1111"), false, false, "httpd", "web", "GET /health 4111-1111-1111-1111"},
		{"short image default", "", "", fargateRecord("log_router", "x"), false, false, "aws-for-fluent-bit", "aws-for-fluent-bit", "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newShaper(c.src, c.svc)
			ev := event.Event{Sec: 1795000000, Record: c.rec}
			out, info, err := s.Append([]byte("PREFIX"), &ev, []byte("t"))
			if err != nil {
				t.Fatal(err)
			}
			if info.Excluded != c.excluded || info.Masked != c.masked {
				t.Fatalf("excluded %v masked %v, want %v %v", info.Excluded, info.Masked, c.excluded, c.masked)
			}
			if c.excluded {
				if string(out) != "PREFIX" {
					t.Fatalf("an excluded record wrote %q", out)
				}
				return
			}
			var m map[string]any
			if err := json.Unmarshal(out[len("PREFIX"):], &m); err != nil {
				t.Fatal(err)
			}
			if m["ddsource"] != c.wantSrc || m["service"] != c.wantSvc || m["message"] != c.wantMsg {
				t.Errorf("ddsource %v service %v message %v", m["ddsource"], m["service"], m["message"])
			}
			if strings.Contains(string(out), "4111-1111") && c.masked {
				t.Errorf("card number reached the entry: %s", out)
			}
		})
	}
}

// Records of a container without rules run no regexp: the tagger gives no
// rule set, and shaping them allocates nothing.
func TestNoRulesNoCost(t *testing.T) {
	md := ecstest.Client(t, ecstest.Doc(t, "fargate-service-task.json"))
	tg := tags.NewTagger(tags.Options{ECS: true, Metadata: md})
	s := New(Options{DateKey: "timestamp", ECS: true, Tagger: tg})
	rec := fargateRecord("log_router", "GET /health 4111-1111-1111-1111")
	if r := tg.Lookup(&tags.Fields{ContainerID: []byte("5f1a2b3c4d5e6f708192a3b4c5d6e7f8-2233445566"), ContainerName: []byte("log_router"),
		Cluster: []byte("arn:aws:ecs:us-east-1:123456789012:cluster/prod"), TaskARN: []byte("arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8"),
		TaskDefinition: []byte("users:17")}); r.Rules != nil {
		t.Fatal("rules for a container without com.datadoghq.ad.logs")
	}
	ev := event.Event{Sec: 1795000000, Record: rec}
	buf := make([]byte, 0, 64<<10)
	s.Append(buf, &ev, nil)
	if n := testing.AllocsPerRun(200, func() { _, _, _ = s.Append(buf[:0], &ev, nil) }); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

// rulesDoc is a task document for the container of
// testdata/firelens-forward-3000.msgpack with two log_processing_rules: an
// exclusion that matches no record (so every record is shaped and sent)
// and a mask of IPv4 addresses, which rewrites the access lines (82 in 100).
const rulesDoc = `{"Cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod",
 "TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
 "Family":"web","Revision":"42","LaunchType":"FARGATE","AvailabilityZone":"us-east-1a",
 "Containers":[{"DockerId":"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9","Name":"app",
  "DockerName":"ecs-web-42-app-e4d2c3b1a0","Image":"nginx:1.27",
  "Labels":{"com.datadoghq.ad.logs":"[{\"source\":\"nginx\",\"service\":\"web\",\"log_processing_rules\":[{\"type\":\"exclude_at_match\",\"name\":\"no_health\",\"pattern\":\"GET /health\"},{\"type\":\"mask_sequences\",\"name\":\"ip\",\"pattern\":\"\\\\b(?:\\\\d{1,3}\\\\.){3}\\\\d{1,3}\\\\b\",\"replace_placeholder\":\"[ip]\"}]}]"}}]}`

// BenchmarkShapeFireLensRules is BenchmarkShapeFireLens for a container
// whose labels carry two log_processing_rules: the cost of the rules per
// record is the difference between the two.
func BenchmarkShapeFireLensRules(b *testing.B) {
	md := ecstest.Client(b, []byte(rulesDoc))
	benchShape(b, tags.NewTagger(tags.Options{ECS: true, ConfigTags: "env:prod", Metadata: md}), 2)
}

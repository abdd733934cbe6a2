package ecs

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jsoniter "github.com/json-iterator/go"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
)

func loadDoc(t *testing.T, name string) *TaskMetadata {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var d TaskMetadata
	if err := jsoniter.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestDescribeTags(t *testing.T) {
	// The Agent's tags for an ECS task and container (see Describe), on the
	// documents of earlier tests: Fargate gets both availability zone tags
	// and no docker_image; EC2 gets no zone tag and docker_image name:tag
	// (never the digest); no ecs_launch_type anywhere.
	fargateTask := "task_name:curltest,task_family:curltest,task_version:3,aws_account:111122223333,region:us-west-2," +
		"task_arn:arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3," +
		"task_definition_arn:arn:aws:ecs:us-west-2:111122223333:task-definition/curltest:3," +
		"cluster_name:default,ecs_cluster_name:default,cluster_arn:arn:aws:ecs:us-west-2:111122223333:cluster/default," +
		"availability_zone:us-west-2a,availability-zone:us-west-2a"
	ec2Task := "task_name:web,task_family:web,task_version:42,aws_account:444455556666,region:eu-west-1," +
		"task_arn:arn:aws:ecs:eu-west-1:444455556666:task/158d1c8083dd49d6b527399fd6414f5c," +
		"task_definition_arn:arn:aws:ecs:eu-west-1:444455556666:task-definition/web:42," +
		"cluster_name:prod-ec2,ecs_cluster_name:prod-ec2,cluster_arn:arn:aws:ecs:eu-west-1:444455556666:cluster/prod-ec2"
	cases := []struct {
		doc, id, name string
		want          string
		labels        int
	}{
		{"fargate-task.json", "e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603", "curl",
			fargateTask + ",container_name:curl,container_id:e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603," +
				"image_name:111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest,short_image:curltest,image_tag:latest," +
				"image_id:sha256:25f3695bedfb454a50f12d127839a68ad3caf91e451c1da073db34c542c4d2cb,ecs_container_name:curl", 8},
		// Joined on the name when the ID is unknown.
		{"fargate-task.json", "", "log-router",
			fargateTask + ",container_name:log-router,container_id:e9028f8d5d8e4f258373e7b93ce9a3c3-3020118441," +
				"image_name:public.ecr.aws/aws-observability/aws-for-fluent-bit,short_image:aws-for-fluent-bit,image_tag:3.2.2,ecs_container_name:log-router", 0},
		// EC2, old ARN, cluster given by name, image with registry port, tag and digest.
		{"ec2-task.json", "731a0d6a3b4210e2448339bc7015aaa79bfe4fa256384f4102db86ef94cbbc4c", "/ecs-web-42-app-f0ccd4b6c8e1a7b5e201",
			ec2Task + ",container_name:ecs-web-42-app-f0ccd4b6c8e1a7b5e201,container_id:731a0d6a3b4210e2448339bc7015aaa79bfe4fa256384f4102db86ef94cbbc4c," +
				"image_name:registry.example.com:5000/team/web-app,short_image:web-app,image_tag:2.7.1," +
				"docker_image:registry.example.com:5000/team/web-app:2.7.1,ecs_container_name:app", 1},
		// EC2 Docker name join, image without tag.
		{"ec2-task.json", "", "/ecs-web-42-sidecar-8a9b",
			ec2Task + ",container_name:ecs-web-42-sidecar-8a9b,container_id:9d1b3b8d4f1c," +
				"image_name:busybox,short_image:busybox,image_tag:latest,docker_image:busybox:latest,ecs_container_name:sidecar", 0},
		// Unknown container: task-level tags only.
		{"ec2-task.json", "nope", "nope", ec2Task, 0},
	}
	for _, c := range cases {
		tags, labels := DescribeTags(loadDoc(t, c.doc), c.id, c.name)
		if got := join(tags); got != c.want {
			t.Errorf("%s %s:\ngot  %s\nwant %s", c.doc, c.name, got, c.want)
		}
		if len(labels) != c.labels {
			t.Errorf("%s %s: %d labels", c.doc, c.name, len(labels))
		}
	}
}

func TestParseImage(t *testing.T) {
	// pkg/util/containers/image SplitImageName and its tests, then
	// workloadmeta NewContainerImage's "latest" default.
	cases := map[string]Image{
		"nginx":                  {"nginx", "nginx", "latest"},
		"nginx:1.25":             {"nginx", "nginx", "1.25"},
		"localhost:5000/a/b:dev": {"localhost:5000/a/b", "b", "dev"},
		"localhost:5000/a/b":     {"localhost:5000/a/b", "b", "latest"},
		"repo/app@sha256:abcd":   {"repo/app", "app", "latest"}, // pinned by digest only
		"public.ecr.aws/datadog/agent:7@sha256:1": {"public.ecr.aws/datadog/agent", "agent", "7"},
		"sha256:4d6f8a0c":                         {"sha256:4d6f8a0c", "", ""},               // not split
		"repo/app@other":                          {"repo/app@other", "app@other", "latest"}, // only @sha is a digest
		"":                                        {},
	}
	for in, want := range cases {
		if got := ParseImage(in); got != want {
			t.Errorf("ParseImage(%q) = %+v, want %+v", in, got, want)
		}
	}
}

// An endpoint that is down, then slow, then up: NewClient returns within
// its timeout, nothing waits on the endpoint, and the document appears once
// it answers.
func TestClientDownSlowUp(t *testing.T) {
	body, err := os.ReadFile("testdata/fargate-task.json")
	if err != nil {
		t.Fatal(err)
	}
	var mode atomic.Int32 // 0 down, 1 slow, 2 up
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/v4/abc/task" {
			http.NotFound(w, r)
			return
		}
		switch mode.Load() {
		case 0:
			http.Error(w, "down", http.StatusInternalServerError)
		case 1:
			time.Sleep(2 * time.Second)
			_, _ = w.Write(body)
		default:
			_, _ = w.Write(body)
		}
	}))
	defer srv.Close()
	var logs logtest.Buffer
	start := time.Now()
	c := NewClient(srv.URL+"/v4/abc", time.Hour, 300*time.Millisecond, logging.New(&logs, "t", logging.Info), nil)
	defer c.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("NewClient blocked %s", d)
	}
	if c.Document() != nil || c.Generation() != 0 {
		t.Fatal("document while the endpoint is down")
	}
	mode.Store(1)
	time.Sleep(1500 * time.Millisecond) // a retry hits the slow endpoint and times out
	if c.Document() != nil {
		t.Fatal("document from a request that should have timed out")
	}
	mode.Store(2)
	deadline := time.Now().Add(20 * time.Second)
	for c.Document() == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c.Document() == nil || c.Generation() == 0 {
		t.Fatalf("no document after the endpoint came up (%d requests)", hits.Load())
	}
	tags, _ := c.Container("e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603", "").Tags, 0
	if !strings.Contains(join(tags), "availability_zone:us-west-2a") {
		t.Errorf("tags %s", join(tags))
	}
	if n := strings.Count(logs.String(), "unavailable"); n != 1 {
		t.Errorf("%d warnings for the failing endpoint, want exactly 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "answers again") {
		t.Errorf("no recovery line:\n%s", logs.String())
	}
	var nilClient *Client
	if nilClient.Generation() != 0 || nilClient.Document() != nil {
		t.Error("nil client")
	}
}

func DescribeTags(d *TaskMetadata, id, name string) ([][2]string, map[string]string) {
	c := Describe(d, id, name)
	return c.Tags, c.Labels
}

// panicTransport panics in the refresher's own goroutine, as a bug in
// fetching or parsing would.
type panicTransport struct{}

func (panicTransport) RoundTrip(*http.Request) (*http.Response, error) { panic("metadata bug") }

// A panic in the metadata refresher is recovered, logged with its stack and
// counted, and the refresher goes on (it retries). (Before: the process
// aborted.)
func TestRefresherPanicRecovered(t *testing.T) {
	var logs logtest.Buffer
	var panics atomic.Int64
	c := newClient("http://127.0.0.1:1/v4/x", time.Hour, logging.New(&logs, "t", logging.Info), &panics,
		&http.Client{Transport: panicTransport{}})
	defer c.Close()
	// The first fetch (in newClient) and the first retry, a second later.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && panics.Load() < 2 {
		time.Sleep(20 * time.Millisecond)
	}
	if panics.Load() < 2 || c.Document() != nil {
		t.Errorf("panics %d, document %v", panics.Load(), c.Document())
	}
	if !strings.Contains(logs.String(), "panic in ECS task metadata refresh: metadata bug") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log:\n%s", logs.String())
	}
}

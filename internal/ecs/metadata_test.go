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

// Where each expectation of TestDescribe comes from, in the Datadog Agent's
// source.
const (
	ruleTask   = "comp/core/tagger/collectors/workloadmeta_extract.go handleECSTask: task tags, to the containers the task lists only"
	ruleJoin   = "comp/core/workloadmeta/collectors/util/ecs_util.go ParseV4TaskContainers: a task's containers are its DockerIds"
	ruleImage  = "workloadmeta_extract.go handleContainer + NewContainerImage: container and image tags"
	ruleDocker = "handleContainer: docker_image for the Docker runtime only (EC2)"
)

func TestDescribe(t *testing.T) {
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
	curl := ",container_name:curl,container_id:e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603," +
		"image_name:111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest,short_image:curltest,image_tag:latest," +
		"image_id:sha256:25f3695bedfb454a50f12d127839a68ad3caf91e451c1da073db34c542c4d2cb,ecs_container_name:curl"
	const (
		fargateARN = "arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3"
		ec2ARN     = "arn:aws:ecs:eu-west-1:444455556666:task/158d1c8083dd49d6b527399fd6414f5c"
		otherARN   = "arn:aws:ecs:us-west-2:111122223333:task/default/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		curlID     = "e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603"
	)
	cases := []struct {
		name, doc string
		f         FireLens
		want      string
		labels    int
		rule      string
	}{
		{"own task, joined on the ID", "fargate-task.json",
			FireLens{TaskARN: fargateARN, ContainerID: curlID, ContainerName: "curl"}, fargateTask + curl, 8, ruleTask},
		{"no task ARN, the ID is one of the task's", "fargate-task.json",
			FireLens{ContainerID: curlID, ContainerName: "curl"}, fargateTask + curl, 8, ruleJoin},
		{"own task, joined on the name when the record has no ID", "fargate-task.json",
			FireLens{TaskARN: fargateARN, ContainerName: "log-router"},
			fargateTask + ",container_name:log-router,container_id:e9028f8d5d8e4f258373e7b93ce9a3c3-3020118441," +
				"image_name:public.ecr.aws/aws-observability/aws-for-fluent-bit,short_image:aws-for-fluent-bit,image_tag:3.2.2,ecs_container_name:log-router", 0, ruleJoin},
		// EC2, old ARN, cluster given by name, image with registry port, tag and digest.
		{"EC2, joined on the ID", "ec2-task.json",
			FireLens{TaskARN: ec2ARN, ContainerID: "731a0d6a3b4210e2448339bc7015aaa79bfe4fa256384f4102db86ef94cbbc4c", ContainerName: "/ecs-web-42-app-f0ccd4b6c8e1a7b5e201"},
			ec2Task + ",container_name:ecs-web-42-app-f0ccd4b6c8e1a7b5e201,container_id:731a0d6a3b4210e2448339bc7015aaa79bfe4fa256384f4102db86ef94cbbc4c," +
				"image_name:registry.example.com:5000/team/web-app,short_image:web-app,image_tag:2.7.1," +
				"docker_image:registry.example.com:5000/team/web-app:2.7.1,ecs_container_name:app", 1, ruleDocker},
		{"EC2, joined on the Docker name, image without tag", "ec2-task.json",
			FireLens{TaskARN: ec2ARN, ContainerName: "/ecs-web-42-sidecar-8a9b"},
			ec2Task + ",container_name:ecs-web-42-sidecar-8a9b,container_id:9d1b3b8d4f1c," +
				"image_name:busybox,short_image:busybox,image_tag:latest,docker_image:busybox:latest,ecs_container_name:sidecar", 0, ruleImage},
		{"own task, a container it does not list: task tags only", "ec2-task.json",
			FireLens{TaskARN: ec2ARN, ContainerID: "nope", ContainerName: "nope"}, ec2Task, 0, ruleTask},
		{"own task, another container's name under an ID the task does not list", "ec2-task.json",
			FireLens{TaskARN: ec2ARN, ContainerID: "d1ffe4e47", ContainerName: "/ecs-web-42-sidecar-8a9b"}, ec2Task, 0, ruleJoin},
		// Another task's records, as an aggregator receives them over forward.
		{"another task, same container name and ID", "fargate-task.json",
			FireLens{TaskARN: otherARN, ContainerID: curlID, ContainerName: "curl"}, "", 0, ruleTask},
		{"another task, same container name", "fargate-task.json",
			FireLens{TaskARN: otherARN, ContainerID: "bbbb-1", ContainerName: "log-router"}, "", 0, ruleTask},
		{"no task ARN, an ID the task does not list, a colliding name", "fargate-task.json",
			FireLens{ContainerID: "bbbb-1", ContainerName: "curl"}, "", 0, ruleJoin},
		{"no task ARN, no ID: a name alone names no task", "fargate-task.json",
			FireLens{ContainerName: "curl"}, "", 0, ruleJoin},
		{"no FireLens field", "fargate-task.json", FireLens{}, "", 0, ruleTask},
	}
	for _, c := range cases {
		got := Describe(loadDoc(t, c.doc), c.f)
		if join(got.Tags) != c.want || len(got.Labels) != c.labels {
			t.Errorf("%s (%s):\ngot  %s (%d labels)\nwant %s (%d labels)", c.name, c.rule, join(got.Tags), len(got.Labels), c.want, c.labels)
		}
		if got.Found != (c.labels > 0 || strings.Contains(c.want, "container_id:")) {
			t.Errorf("%s: Found %v", c.name, got.Found)
		}
	}
}

// A container the document lists without a Docker ID yet (created after
// the fetch, or not started) is joined on its name; once the document knows
// its ID, a record under another ID is another container.
func TestDescribeNameBeforeID(t *testing.T) {
	doc := loadDoc(t, "fargate-task.json")
	f := FireLens{TaskARN: doc.TaskARN, ContainerID: "e9028f8d5d8e4f258373e7b93ce9a3c3-0000000001", ContainerName: "curl"}
	if c := Describe(doc, f); c.Found {
		t.Fatalf("joined on the name although the document knows curl's ID: %s", join(c.Tags))
	}
	doc.Containers[0].DockerID = ""
	if c := Describe(doc, f); !c.Found || !strings.Contains(join(c.Tags), "ecs_container_name:curl") {
		t.Errorf("not joined on the name while the document has no ID for it: %s", join(c.Tags))
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
// its timeout, nothing waits on the endpoint, a retry that reaches the slow
// endpoint gives up at its timeout (the endpoint sees it go), and the
// document appears once it answers.
func TestClientDownSlowUp(t *testing.T) {
	body, err := os.ReadFile("testdata/fargate-task.json")
	if err != nil {
		t.Fatal(err)
	}
	var mode atomic.Int32 // 0 down, 1 slow, 2 up
	var hits atomic.Int32
	slow := make(chan bool, 1) // a request to the slow endpoint ended: true when the client gave up first
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
			select {
			case <-r.Context().Done():
				select {
				case slow <- true:
				default:
				}
			case <-time.After(5 * time.Second): // the client did not give up at its 300ms timeout
				_, _ = w.Write(body)
				slow <- false
			}
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
	select {
	case gaveUp := <-slow:
		if !gaveUp || c.Document() != nil {
			t.Fatalf("a retry to the slow endpoint: gave up %v, document %v", gaveUp, c.Document() != nil)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no retry reached the slow endpoint (%d requests)", hits.Load())
	}
	mode.Store(2)
	deadline := time.Now().Add(20 * time.Second)
	for c.Document() == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c.Document() == nil || c.Generation() == 0 {
		t.Fatalf("no document after the endpoint came up (%d requests)", hits.Load())
	}
	tags := c.Container(FireLens{ContainerID: "e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603"}).Tags
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

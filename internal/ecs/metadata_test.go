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

func TestMetadataTags(t *testing.T) {
	cases := []struct {
		doc, id, name string
		want          string
		labels        int
	}{
		{"fargate-task.json", "e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603", "curl",
			"ecs_cluster_name:default,cluster_arn:arn:aws:ecs:us-west-2:111122223333:cluster/default," +
				"task_arn:arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3,task_family:curltest,task_name:curltest,task_version:3," +
				"region:us-west-2,aws_account:111122223333,availability_zone:us-west-2a,ecs_launch_type:fargate,ecs_container_name:curl," +
				"docker_image:111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest,image_name:111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest,short_image:curltest,image_tag:latest", 8},
		// Joined on the name when the ID is unknown.
		{"fargate-task.json", "", "log-router",
			"ecs_cluster_name:default,cluster_arn:arn:aws:ecs:us-west-2:111122223333:cluster/default," +
				"task_arn:arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3,task_family:curltest,task_name:curltest,task_version:3," +
				"region:us-west-2,aws_account:111122223333,availability_zone:us-west-2a,ecs_launch_type:fargate,ecs_container_name:log-router," +
				"docker_image:public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.2,image_name:public.ecr.aws/aws-observability/aws-for-fluent-bit,short_image:aws-for-fluent-bit,image_tag:3.2.2", 0},
		// EC2, old ARN, cluster given by name, image with registry port and digest.
		{"ec2-task.json", "731a0d6a3b4210e2448339bc7015aaa79bfe4fa256384f4102db86ef94cbbc4c", "/ecs-web-42-app-f0ccd4b6c8e1a7b5e201",
			"ecs_cluster_name:prod-ec2,task_arn:arn:aws:ecs:eu-west-1:444455556666:task/158d1c8083dd49d6b527399fd6414f5c,task_family:web,task_name:web,task_version:42," +
				"region:eu-west-1,aws_account:444455556666,cluster_arn:arn:aws:ecs:eu-west-1:444455556666:cluster/prod-ec2,availability_zone:eu-west-1b,ecs_launch_type:ec2,ecs_container_name:app," +
				"docker_image:registry.example.com:5000/team/web-app:2.7.1@sha256:aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999,image_name:registry.example.com:5000/team/web-app,short_image:web-app,image_tag:2.7.1", 1},
		// EC2 Docker name join, image without tag.
		{"ec2-task.json", "", "/ecs-web-42-sidecar-8a9b",
			"ecs_cluster_name:prod-ec2,task_arn:arn:aws:ecs:eu-west-1:444455556666:task/158d1c8083dd49d6b527399fd6414f5c,task_family:web,task_name:web,task_version:42," +
				"region:eu-west-1,aws_account:444455556666,cluster_arn:arn:aws:ecs:eu-west-1:444455556666:cluster/prod-ec2,availability_zone:eu-west-1b,ecs_launch_type:ec2,ecs_container_name:sidecar," +
				"docker_image:busybox,image_name:busybox,short_image:busybox,image_tag:latest", 0},
		// Unknown container: task-level tags only.
		{"ec2-task.json", "nope", "nope",
			"ecs_cluster_name:prod-ec2,task_arn:arn:aws:ecs:eu-west-1:444455556666:task/158d1c8083dd49d6b527399fd6414f5c,task_family:web,task_name:web,task_version:42," +
				"region:eu-west-1,aws_account:444455556666,cluster_arn:arn:aws:ecs:eu-west-1:444455556666:cluster/prod-ec2,availability_zone:eu-west-1b,ecs_launch_type:ec2", 0},
	}
	for _, c := range cases {
		tags, labels := MetadataTags(loadDoc(t, c.doc), c.id, c.name)
		if got := join(tags); got != c.want {
			t.Errorf("%s %s:\ngot  %s\nwant %s", c.doc, c.name, got, c.want)
		}
		if len(labels) != c.labels {
			t.Errorf("%s %s: %d labels", c.doc, c.name, len(labels))
		}
	}
}

func TestParseImage(t *testing.T) {
	cases := map[string]Image{
		"nginx":                  {"nginx", "nginx", "latest"},
		"nginx:1.25":             {"nginx", "nginx", "1.25"},
		"localhost:5000/a/b:dev": {"localhost:5000/a/b", "b", "dev"},
		"localhost:5000/a/b":     {"localhost:5000/a/b", "b", "latest"},
		"repo/app@sha256:abcd":   {"repo/app", "app", ""},
		"public.ecr.aws/datadog/agent:7@sha256:1": {"public.ecr.aws/datadog/agent", "agent", "7"},
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
	var logs syncBuf
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
	tags, _ := c.ContainerTags("e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603", "")
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

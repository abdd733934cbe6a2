package tags

import (
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// Where each expectation comes from, in the Datadog Agent's source.
const (
	ruleTask      = "comp/core/tagger/collectors/workloadmeta_extract.go handleECSTask"
	ruleFargateAZ = "handleECSTask: availability_zone and availability-zone for Fargate tasks only"
	ruleService   = "handleECSTask: ecs_service is ServiceName lower-cased"
	ruleCluster   = "handleECSTask: cluster_name and ecs_cluster_name (disable_cluster_name_tag_key off by default), cluster_arn"
	ruleRegion    = "package pkg/util/ecs ParseRegionAndAWSAccountID: aws, aws-cn, aws-us-gov partitions; region with 2 dashes; 12-digit account"
	ruleARN       = "ARNs built from the task ARN keep its partition (comp/core/workloadmeta/collectors/util/ecs_util.go fills the task)"
	ruleContainer = "workloadmeta_extract.go handleContainer: container_name (DockerName), container_id, image_name, short_image, image_tag, image_id"
	ruleImage     = "pkg/util/containers/image SplitImageName + workloadmeta NewContainerImage: @sha stripped, tag latest when none"
	ruleDocker    = "handleContainer: docker_image name:tag for the Docker runtime only (EC2), none on Fargate"
	ruleECSName   = "handleECSTask: ecs_container_name is the task container's Name, one value"
	ruleStdLabels = "workloadmeta_extract.go standardDockerLabels: com.datadoghq.tags.env/version/service"
	ruleOCI       = "workloadmeta_extract.go lowCardOrchestratorLabels: org.opencontainers.image.revision/source"
	ruleADTags    = "workloadmeta_extract.go parseContainerADTagsLabels: com.datadoghq.ad.tags JSON list of key:value"
	ruleLogsDef   = "pkg/logs/launchers/container/tailerfactory/defaults.go: log config source/service, then the service tag, then the short image"
)

type want struct{ tag, rule string }

// The tag set of a Fargate task's app container (ServiceName, Datadog and
// OCI labels, digest-pinned image) and of an EC2 task's containers in the
// China partition (tagged+digest image, untagged image, sha256 reference),
// tag by tag, each traced to the Agent rule that gives it. The set must be
// exactly this: nothing missing, nothing extra (no ecs_launch_type, no
// docker_image on Fargate, one ecs_container_name).
func TestAgentTagSet(t *testing.T) {
	cases := []struct {
		name, doc    string
		f            Fields
		tags         []want
		service, src string
		reports      int // label problems logged
		rules        int
	}{
		{
			name: "fargate app", doc: "fargate-service-task.json",
			f: Fields{
				Cluster:        []byte("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
				TaskARN:        []byte("arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8"),
				TaskDefinition: []byte("users:17"),
				ContainerID:    []byte("5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890"),
				ContainerName:  []byte("app"),
			},
			tags:    loadWant(t, "fargate-service-task.app.tags"),
			service: "users-api-logs", src: "python", rules: 2,
			reports: 0, // its auto_multi_line_detection (false) is honoured: nothing to say
		},
		{
			name: "ec2 china, tagged image with digest", doc: "ec2-cn-task.json",
			f: Fields{
				Cluster:        []byte("prod-cn"),
				TaskARN:        []byte("arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"),
				TaskDefinition: []byte("billing:8"),
				ContainerID:    []byte("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"),
				ContainerName:  []byte("/ecs-billing-8-api_v2-aa11bb22cc33dd44ee55"),
			},
			tags: append(ec2Task(), []want{
				{"service:billing-api", ruleStdLabels},
				{"git.commit.sha:9c0d1e2f3a4b", ruleOCI}, {"git.repository_url:https://git.example.cn/finance/billing-api", ruleOCI},
				{"container_name:ecs-billing-8-api_v2-aa11bb22cc33dd44ee55", ruleContainer},
				{"container_id:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", ruleContainer},
				{"image_name:registry.example.cn:5000/finance/billing-api", ruleImage},
				{"short_image:billing-api", ruleImage},
				{"image_tag:3.1.0", ruleImage},
				{"image_id:sha256:1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d", ruleContainer},
				{"docker_image:registry.example.cn:5000/finance/billing-api:3.1.0", ruleDocker}, // never the digest
				{"ecs_container_name:api_v2", ruleECSName},
			}...),
			// com.datadoghq.ad.tags "team:finance" is not a JSON list: reported, ignored.
			service: "billing-api", src: "billing-api", reports: 1,
		},
		{
			name: "ec2 china, untagged image", doc: "ec2-cn-task.json",
			f: Fields{
				Cluster:        []byte("prod-cn"),
				TaskARN:        []byte("arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"),
				TaskDefinition: []byte("billing:8"),
				ContainerID:    []byte("d00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00d"),
				ContainerName:  []byte("/ecs-billing-8-proxy-ff66ee77dd88"),
			},
			tags: append(ec2Task(), []want{
				{"container_name:ecs-billing-8-proxy-ff66ee77dd88", ruleContainer},
				{"container_id:d00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00d", ruleContainer},
				{"image_name:nginx", ruleImage}, {"short_image:nginx", ruleImage}, {"image_tag:latest", ruleImage},
				{"image_id:sha256:3c5e7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f", ruleContainer},
				{"docker_image:nginx:latest", ruleDocker},
				{"ecs_container_name:proxy", ruleECSName},
			}...),
			service: "nginx", src: "nginx",
		},
		{
			name: "ec2 china, sha256 image reference", doc: "ec2-cn-task.json",
			f: Fields{
				TaskARN:       []byte("arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"),
				ContainerID:   []byte("e11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11e"),
				ContainerName: []byte("/ecs-billing-8-init-0a0b0c"),
			},
			tags: append(ec2Task(), []want{
				{"container_name:ecs-billing-8-init-0a0b0c", ruleContainer},
				{"container_id:e11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11e", ruleContainer},
				// SplitImageName refuses a sha256 reference: the name stays whole, no short name, no tag.
				{"image_name:sha256:4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f", ruleImage},
				{"docker_image:sha256:4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f", ruleDocker},
				{"ecs_container_name:init", ruleECSName},
			}...),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs strings.Builder // the tagger logs on the caller's goroutine
			md := ecstest.Client(t, ecstest.Doc(t, c.doc))
			tg := NewTagger(Options{ECS: true, Metadata: md, Log: logging.New(&logs, "t", logging.Info)})
			r := tg.Lookup(&c.f)
			checkTagSet(t, r.Tags, c.tags)
			if r.Service != c.service || r.Source != c.src || r.Rules.Len() != c.rules {
				t.Errorf("service %q source %q rules %d; want %q %q %d (%s)", r.Service, r.Source, r.Rules.Len(), c.service, c.src, c.rules, ruleLogsDef)
			}
			// A refresh rebuilds the tags; the problem is not logged again.
			tg.Lookup(&Fields{ContainerID: c.f.ContainerID, ContainerName: c.f.ContainerName, TaskARN: c.f.TaskARN})
			if n := strings.Count(logs.String(), "[ warn]"); n != c.reports {
				t.Errorf("%d label reports, want %d:\n%s", n, c.reports, logs.String())
			}
		})
	}
}

// checkTagSet fails unless tags (comma-joined) is exactly want, each tag
// once, naming each missing tag with its Agent rule, and each extra one.
func checkTagSet(t *testing.T, tags string, want []want) {
	t.Helper()
	list := strings.Split(tags, ",")
	if len(list) != len(want) {
		t.Errorf("%d tags, want %d: %s", len(list), len(want), tags)
	}
	have := map[string]bool{}
	for _, g := range list {
		have[g] = true
	}
	for _, w := range want {
		if !have[w.tag] {
			t.Errorf("missing %s (%s)", w.tag, w.rule)
		}
		delete(have, w.tag)
	}
	for g := range have {
		t.Errorf("extra %s", g)
	}
}

// loadWant reads an expected tag set of internal/ecs/testdata: lines of
// tag, tab, the Agent rule; # comments.
func loadWant(t *testing.T, name string) []want {
	t.Helper()
	var out []want
	for _, line := range strings.Split(string(ecstest.Doc(t, name)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tag, rule, _ := strings.Cut(line, "\t")
		out = append(out, want{tag, rule})
	}
	return out
}

// ec2Task is the task-level set of ec2-cn-task.json: China partition ARNs,
// no availability zone (EC2), the service of the task.
func ec2Task() []want {
	return []want{
		{"task_name:billing", ruleTask}, {"task_family:billing", ruleTask}, {"task_version:8", ruleTask},
		{"aws_account:555566667777", ruleRegion}, {"region:cn-north-1", ruleRegion},
		{"service_arn:arn:aws-cn:ecs:cn-north-1:555566667777:service/prod-cn/billing", ruleARN}, // normalised: lower case,
		{"task_arn:arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", ruleTask},
		{"task_definition_arn:arn:aws-cn:ecs:cn-north-1:555566667777:task-definition/billing:8", ruleARN},
		{"cluster_name:prod-cn", ruleCluster}, {"ecs_cluster_name:prod-cn", ruleCluster},
		{"cluster_arn:arn:aws-cn:ecs:cn-north-1:555566667777:cluster/prod-cn", ruleARN},
		{"ecs_service:billing", ruleService},
	}
}

// A rule whose pattern does not compile is logged once per container,
// however often the container's tags are rebuilt; the container's other
// rules still apply, its multi_line rule too (package join applies it).
func TestLabelProblemsReportedOnce(t *testing.T) {
	doc := `{"TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/1","LaunchType":"FARGATE","Containers":[{"DockerId":"d1","Name":"app",` +
		`"Labels":{"com.datadoghq.ad.logs":"[{\"log_processing_rules\":[` +
		`{\"type\":\"multi_line\",\"name\":\"ml\",\"pattern\":\"\\\\d{4}\"},` +
		`{\"type\":\"exclude_at_match\",\"name\":\"bad\",\"pattern\":\"(\"},` +
		`{\"type\":\"exclude_at_match\",\"name\":\"ok\",\"pattern\":\"DEBUG\"}]}]"}}]}`
	var logs strings.Builder // the tagger logs on the caller's goroutine
	tg := NewTagger(Options{ECS: true, Metadata: ecstest.Client(t, []byte(doc)), Log: logging.New(&logs, "t", logging.Info)})
	for _, arn := range []string{"", "arn:aws:ecs:us-east-1:123456789012:task/c/1", "arn:aws:ecs:us-east-1:123456789012:task/c/2"} {
		want := 1 // the one that compiles
		if strings.HasSuffix(arn, "/2") {
			want = 0 // another task's container: not the document's (handleECSTask)
		}
		r := tg.Lookup(&Fields{ContainerID: []byte("d1"), TaskARN: []byte(arn)})
		if r.Rules.Len() != want || (r.MultiLine != nil) != (want == 1) {
			t.Fatalf("task %q: %d rules, multi_line %v; want %d", arn, r.Rules.Len(), r.MultiLine, want)
		}
	}
	if !tg.GroupsLines() {
		t.Error("the task has a container with a multi_line rule: GroupsLines must say so")
	}
	out := logs.String()
	if strings.Count(out, "[ warn]") != 1 || strings.Count(out, `"bad"`) != 1 {
		t.Errorf("want one line for the bad rule:\n%s", out)
	}
}

// ecs_container_name has one value: the task metadata's Name, even when the
// EC2 Docker name (which ECS sanitises: "api.v2" becomes "apiv2") parses to
// another (comp/core/tagger/collectors/workloadmeta_extract.go,
// handleECSTask: the task container's Name).
func TestOneECSContainerName(t *testing.T) {
	doc := `{"TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/1","Family":"billing","Revision":"8","LaunchType":"EC2",` +
		`"Containers":[{"DockerId":"d1","Name":"API.v2","DockerName":"ecs-billing-8-apiv2-aa11bb"}]}`
	f := &Fields{ContainerID: []byte("d1"), ContainerName: []byte("/ecs-billing-8-apiv2-aa11bb"), TaskDefinition: []byte("billing:8")}
	without := NewTagger(Options{ECS: true}).Lookup(f).Tags
	with := NewTagger(Options{ECS: true, Metadata: ecstest.Client(t, []byte(doc))}).Lookup(f).Tags
	if !strings.Contains(without, "ecs_container_name:apiv2") {
		t.Fatalf("without the endpoint: %s", without)
	}
	if strings.Count(with, "ecs_container_name:") != 1 || !strings.Contains(with, "ecs_container_name:api.v2") {
		t.Errorf("with the endpoint: %s", with)
	}
}

// A router that also receives other tasks' logs (an aggregator behind a
// load balancer, a sidecar with a forward port open) tags each record with
// its own task. The task metadata document describes the router's task
// only: the Agent gives a task's tags, labels and log configuration to the
// containers that task lists, joined on the container ID
// (comp/core/tagger/collectors/workloadmeta_extract.go handleECSTask;
// comp/core/workloadmeta/collectors/util/ecs_util.go ParseV4TaskContainers).
// Another task's record gets what its own FireLens fields say (the Agent
// running in that task would give the same values), no label, rule or
// image default of the router's containers, even when its container names
// collide with them; a record with no FireLens field gets no ECS tag.
func TestOtherTasksKeepTheirTags(t *testing.T) {
	const (
		ordersARN = "arn:aws:ecs:us-east-1:123456789012:task/orders/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		usersARN  = "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8"
		usersApp  = "5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890" // the document's app container
	)
	// What the FireLens fields of the orders task give, tag by tag.
	orders := func(id, name, ecsName string) []want {
		return []want{
			{"env:staging", "dd_tags"},
			{"ecs_cluster_name:orders", ruleCluster}, {"cluster_name:orders", ruleCluster},
			{"cluster_arn:arn:aws:ecs:us-east-1:123456789012:cluster/orders", ruleCluster},
			{"task_arn:" + ordersARN, ruleTask}, {"task_family:orders", ruleTask}, {"task_name:orders", ruleTask},
			{"task_version:3", ruleTask}, {"task_definition_arn:arn:aws:ecs:us-east-1:123456789012:task-definition/orders:3", ruleARN},
			{"region:us-east-1", ruleRegion}, {"aws_account:123456789012", ruleRegion},
			{"container_id:" + id, ruleContainer}, {"container_name:" + name, ruleContainer}, {"ecs_container_name:" + ecsName, ruleECSName},
		}
	}
	ordersFields := func(id, name string) Fields {
		return Fields{Cluster: []byte("arn:aws:ecs:us-east-1:123456789012:cluster/orders"), TaskARN: []byte(ordersARN),
			TaskDefinition: []byte("orders:3"), ContainerID: []byte(id), ContainerName: []byte(name)}
	}
	cases := []struct {
		name         string
		f            Fields
		tags         []want
		service, src string
		rules        int
	}{
		{"another task's app, its name the router task's app's", ordersFields("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-1111111111", "app"),
			orders("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-1111111111", "app", "app"), "cfg-svc", "cfg-src", 0},
		{"another task's container named like the router", ordersFields("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2222222222", "log_router"),
			orders("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2222222222", "log_router", "log_router"), "cfg-svc", "cfg-src", 0},
		{"another task's record claiming the router app's container ID", ordersFields(usersApp, "app"),
			orders(usersApp, "app", "app"), "cfg-svc", "cfg-src", 0},
		{"no FireLens field: no ECS tag", Fields{}, []want{{"env:staging", "dd_tags"}}, "cfg-svc", "cfg-src", 0},
		{"no task ARN, the router app's container ID: the router's own container", Fields{ContainerID: []byte(usersApp), ContainerName: []byte("app")},
			loadWant(t, "fargate-service-task.app.tags"), "users-api-logs", "python", 2},
		{"the router task's ARN, a name alone", Fields{TaskARN: []byte(usersARN), ContainerName: []byte("app")},
			loadWant(t, "fargate-service-task.app.tags"), "users-api-logs", "python", 2},
	}
	md := ecstest.Client(t, ecstest.Doc(t, "fargate-service-task.json"))
	tg := NewTagger(Options{ECS: true, Metadata: md, ConfigTags: "env:staging", ConfigService: "cfg-svc", ConfigSource: "cfg-src"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tg.Lookup(&c.f)
			checkTagSet(t, r.Tags, c.tags)
			if r.Service != c.service || r.Source != c.src || r.Rules.Len() != c.rules {
				t.Errorf("service %q source %q rules %d; want %q %q %d (%s)", r.Service, r.Source, r.Rules.Len(), c.service, c.src, c.rules, ruleLogsDef)
			}
		})
	}
}

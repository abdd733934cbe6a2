package tags

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
)

// TestDocsTagsTable checks the Tags table of docs/log-format.md against the code: every
// tag the tagger gives a Fargate container and an EC2 one (each with the
// Datadog and OCI labels) is in the table, and each tag named in the table
// is given on EC2 / on Fargate exactly as its ✓ columns say.
func TestDocsTagsTable(t *testing.T) {
	section := doctest.Section(t, "../../docs/log-format.md", "Tags\n")
	type row struct{ ec2, fargate bool }
	table := map[string]row{}
	custom := false
	name := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 8 || strings.HasPrefix(cells[1], "---") || strings.TrimSpace(cells[1]) == "Agent tag" {
			continue
		}
		r := row{ec2: strings.TrimSpace(cells[3]) == "✓", fargate: strings.TrimSpace(cells[4]) == "✓"}
		switch first := strings.TrimSpace(cells[1]); first {
		case "—": // the built-in output's own tag
		case "any":
			custom = true
		default:
			for _, m := range name.FindAllStringSubmatch(first, -1) {
				table[m[1]] = r
			}
		}
	}
	if len(table) < 20 || !custom {
		t.Fatalf("parsed %d tags from the docs table (custom row %v)", len(table), custom)
	}

	fargateDoc := ecstest.Doc(t, "fargate-service-task.json")
	ec2Doc := ec2WithLabelsOf(t, fargateDoc)
	sets := map[string]map[string]bool{
		"Fargate": keysFor(t, fargateDoc, &Fields{
			Cluster: []byte("arn:aws:ecs:us-east-1:123456789012:cluster/prod"), TaskDefinition: []byte("users:17"),
			TaskARN:     []byte("arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8"),
			ContainerID: []byte("5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890"), ContainerName: []byte("app")}),
		"EC2": keysFor(t, ec2Doc, &Fields{
			Cluster: []byte("prod-cn"), TaskDefinition: []byte("billing:8"),
			TaskARN:     []byte("arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"),
			ContainerID: []byte("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"), ContainerName: []byte("/ecs-billing-8-api_v2-aa11bb22cc33dd44ee55")}),
	}
	// The labels' custom tags (com.datadoghq.ad.tags, com.datadoghq.ad.logs
	// tags): the "any" rows.
	adTags := map[string]bool{"team": true, "tier": true, "log_pipeline": true, "pii": true}
	for launch, keys := range sets {
		for k := range keys {
			if _, ok := table[k]; !ok && !adTags[k] {
				t.Errorf("%s: the code sends %s, the docs table does not list it", launch, k)
			}
		}
		for k, r := range table {
			want := r.fargate
			if launch == "EC2" {
				want = r.ec2
			}
			if keys[k] != want {
				t.Errorf("%s: docs/log-format.md says %s is sent: %v; the code: %v", launch, k, want, keys[k])
			}
		}
	}
}

// ec2WithLabelsOf returns ec2-cn-task.json with its first container given
// the labels of the first container of doc.
func ec2WithLabelsOf(t *testing.T, doc []byte) []byte {
	t.Helper()
	var from, to map[string]any
	if json.Unmarshal(doc, &from) != nil || json.Unmarshal(ecstest.Doc(t, "ec2-cn-task.json"), &to) != nil {
		t.Fatal("bad testdata JSON")
	}
	to["Containers"].([]any)[0].(map[string]any)["Labels"] = from["Containers"].([]any)[0].(map[string]any)["Labels"]
	out, err := json.Marshal(to)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// keysFor returns the tag keys the tagger gives f's container with doc as
// the task metadata.
func keysFor(t *testing.T, doc []byte, f *Fields) map[string]bool {
	t.Helper()
	md := ecstest.Client(t, doc)
	keys := map[string]bool{}
	for _, tag := range strings.Split(NewTagger(Options{ECS: true, Metadata: md}).Lookup(f).Tags, ",") {
		k, _, _ := strings.Cut(tag, ":")
		keys[k] = true
	}
	return keys
}

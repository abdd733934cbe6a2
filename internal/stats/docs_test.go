package stats

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// operationsPage is docs/operations.md, the page that documents the
// metrics, the stats line and the Agent's check.
func operationsPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docs/operations.md's metrics table names every metric with its label and
// type, and nothing else under the plugin's prefix.
func TestDocsMetricsTable(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `(" + Namespace + "_(?:" + Subsystem + "|output)_[a-z_]+)(\\{([a-z,]+)\\})?` \\| (counter|gauge|histogram) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(operationsPage(t), -1) {
		rows[m[1]] = m[3] + " " + m[4]
	}
	kinds := map[Kind]string{Counter: "counter", Gauge: "gauge", Histogram: "histogram"}
	for _, m := range Metrics {
		full := m.FullName()
		if want := strings.Join(m.Labels, ",") + " " + kinds[m.Kind]; rows[full] != want {
			t.Errorf("docs row of %s: %q, want %q", full, rows[full], want)
		}
		delete(rows, full)
	}
	for name := range rows {
		t.Errorf("docs list %s, which the plugin does not have", name)
	}
}

// The Agent check docs/operations.md gives for the router container's
// Autodiscovery label is valid JSON, maps every metric (counters without
// _total, as the Agent's OpenMetrics check names them), and is the label
// the example task definition carries.
func TestDocsAgentCheck(t *testing.T) {
	s := operationsPage(t)
	start := strings.Index(s, "```json\n")
	if start < 0 {
		t.Fatal("no json block in docs/operations.md")
	}
	block := s[start+len("```json\n"):]
	block = block[:strings.Index(block, "```")]
	var check struct {
		OpenMetrics struct {
			Instances []struct {
				Endpoint  string              `json:"openmetrics_endpoint"`
				Namespace string              `json:"namespace"`
				Metrics   []map[string]string `json:"metrics"`
			} `json:"instances"`
		} `json:"openmetrics"`
	}
	if err := json.Unmarshal([]byte(block), &check); err != nil {
		t.Fatalf("the check is not JSON: %v", err)
	}
	if len(check.OpenMetrics.Instances) != 1 || len(check.OpenMetrics.Instances[0].Metrics) != 1 {
		t.Fatalf("want one instance with one metrics mapping: %+v", check)
	}
	in := check.OpenMetrics.Instances[0]
	if !strings.HasSuffix(in.Endpoint, ":2020/api/v2/metrics/prometheus") || in.Namespace != Namespace {
		t.Errorf("endpoint %q, namespace %q", in.Endpoint, in.Namespace)
	}
	for _, m := range Metrics {
		name, sub := strings.TrimSuffix(m.Name, "_total"), Subsystem
		if m.FluentBit {
			sub = "output"
		}
		if got := in.Metrics[0][strings.TrimSuffix(m.FullName(), "_total")]; got != sub+"."+name {
			t.Errorf("%s maps to %q", m.FullName(), got)
		}
	}
	td, err := os.ReadFile("../../docker/ecs/task-definition.json")
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		ContainerDefinitions []struct {
			Name         string            `json:"name"`
			DockerLabels map[string]string `json:"dockerLabels"`
		} `json:"containerDefinitions"`
	}
	if err := json.Unmarshal(td, &def); err != nil {
		t.Fatal(err)
	}
	var docs, label any
	_ = json.Unmarshal([]byte(block), &docs)
	for _, c := range def.ContainerDefinitions {
		if c.Name == "log-router" {
			if err := json.Unmarshal([]byte(c.DockerLabels["com.datadoghq.ad.checks"]), &label); err != nil {
				t.Fatalf("the router's com.datadoghq.ad.checks: %v", err)
			}
		}
	}
	if !reflect.DeepEqual(docs, label) {
		t.Errorf("docker/ecs/task-definition.json's router carries another check than docs/operations.md's:\n%v\n%v", label, docs)
	}
}

// docs/operations.md's stats line table explains every field of the line.
func TestDocsStatsFields(t *testing.T) {
	s := operationsPage(t)
	start := strings.Index(s, "| field | meaning |")
	if start < 0 {
		t.Fatal("no stats line table")
	}
	table := s[start:]
	table = table[:strings.Index(table, "\n\n")]
	documented := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, f := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(cells[1], -1) {
			documented[f[1]] = true
		}
	}
	for _, kv := range strings.Fields(Snapshot{}.String()) {
		if key, _, _ := strings.Cut(kv, "="); !documented[key] {
			t.Errorf("stats line field %s is not in the docs' table", key)
		}
	}
}

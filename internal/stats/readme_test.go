package stats

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// monitoringSection is README's Monitoring section.
func monitoringSection(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "\n## Monitoring\n")
	if start < 0 {
		t.Fatal("README has no Monitoring section")
	}
	s = s[start+1:]
	if end := strings.Index(s[3:], "\n## "); end >= 0 {
		s = s[:end+3]
	}
	return s
}

// README's metrics table names every metric with its label and type, and
// nothing else under the plugin's prefix.
func TestREADMEMetricsTable(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `(" + Namespace + "_" + Subsystem + "_[a-z_]+)(\\{([a-z]+)\\})?` \\| (counter|gauge) \\|")
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(monitoringSection(t), -1) {
		rows[m[1]] = m[3] + " " + m[4]
	}
	kinds := map[Kind]string{Counter: "counter", Gauge: "gauge"}
	for _, m := range Metrics {
		full := Namespace + "_" + Subsystem + "_" + m.Name
		if want := m.Label + " " + kinds[m.Kind]; rows[full] != want {
			t.Errorf("README row of %s: %q, want %q", full, rows[full], want)
		}
		delete(rows, full)
	}
	for name := range rows {
		t.Errorf("README lists %s, which the plugin does not have", name)
	}
}

// The Agent check README gives for the router container's Autodiscovery
// label is valid JSON and maps every metric (counters without _total, as
// the Agent's OpenMetrics check names them).
func TestREADMEAgentCheck(t *testing.T) {
	s := monitoringSection(t)
	start := strings.Index(s, "```json\n")
	if start < 0 {
		t.Fatal("no json block in Monitoring")
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
		name := strings.TrimSuffix(m.Name, "_total")
		if got := in.Metrics[0][Namespace+"_"+Subsystem+"_"+name]; got != Subsystem+"."+name {
			t.Errorf("%s maps to %q", m.Name, got)
		}
	}
}

// README's stats line table explains every field of the line.
func TestREADMEStatsFields(t *testing.T) {
	s := monitoringSection(t)
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
			t.Errorf("stats line field %s is not in README's table", key)
		}
	}
}

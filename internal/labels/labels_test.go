package labels

import (
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/rules"
)

// Expectations from the Agent's tagger
// (comp/core/tagger/collectors/workloadmeta_extract.go: standardDockerLabels,
// lowCardOrchestratorLabels for the OCI labels, parseContainerADTagsLabels
// for com.datadoghq.ad.tags, which keeps only entries with exactly one ':').
func TestTags(t *testing.T) {
	cases := []struct {
		name   string
		labels map[string]string
		want   string
		err    bool
	}{
		{"service label is a tag", map[string]string{Service: "users-api", Env: "prod"}, "service:users-api", false},
		{"OCI labels", map[string]string{OCIRevision: "4f2a9c1", OCISource: "https://github.com/acme/users"},
			"git.commit.sha:4f2a9c1,git.repository_url:https://github.com/acme/users", false},
		{"ad.tags list", map[string]string{ADTags: `["team:identity","tier:backend","bad","a:b:c"]`}, "team:identity,tier:backend", false},
		{"ad.tags not JSON", map[string]string{Service: "s", ADTags: `team:identity`}, "service:s", true},
		{"none", nil, "", false},
	}
	for _, c := range cases {
		got, err := Tags(c.labels)
		var s []string
		for _, kv := range got {
			s = append(s, kv[0]+":"+kv[1])
		}
		if strings.Join(s, ",") != c.want || (err != nil) != c.err {
			t.Errorf("%s: got %v (err %v), want %s (err %v)", c.name, got, err, c.want, c.err)
		}
	}
}

func TestLogs(t *testing.T) {
	cfg, ok, err := Logs(map[string]string{ADLogs: `[{"source":"python","service":"users-api","log_processing_rules":[` +
		`{"type":"exclude_at_match","name":"no_health","pattern":"GET /health"},` +
		`{"type":"mask_sequences","name":"mask","pattern":"\\d{16}","replace_placeholder":"[card]"}]}]`})
	if !ok || err != nil || cfg.Source != "python" || cfg.Service != "users-api" || len(cfg.Rules) != 2 ||
		cfg.Rules[1] != (rules.Spec{Type: "mask_sequences", Name: "mask", Pattern: `\d{16}`, ReplacePlaceholder: "[card]"}) {
		t.Fatalf("%+v %v %v", cfg, ok, err)
	}
	if _, ok, err := Logs(map[string]string{ADLogs: `{"source":`}); !ok || err == nil {
		t.Error("broken label not reported")
	}
	if _, ok, _ := Logs(map[string]string{}); ok {
		t.Error("absent label reported present")
	}
	if c, _, err := Logs(map[string]string{ADLogs: `[{"source":"a"},{"source":"b"}]`}); c.Source != "a" || err == nil {
		t.Errorf("two configurations: %+v %v", c, err)
	}
}

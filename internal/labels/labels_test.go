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

// Labels come from task definitions, not from us: whatever their value,
// parsing them and running the rules they hold never panics, and a label
// that does not parse yields an error, not a configuration.
func FuzzLabels(f *testing.F) {
	f.Add(`[{"source":"python","service":"s","log_processing_rules":[{"type":"mask_sequences","name":"m","pattern":"\\d+","replace_placeholder":"[$0]"}]}]`, `["a:b","c"]`, "card 1234")
	f.Add(`[{"log_processing_rules":[{"type":"exclude_at_match","name":"x","pattern":"("}]}]`, `{`, "")
	f.Fuzz(func(t *testing.T, logs, adTags, msg string) {
		l := map[string]string{ADLogs: logs, ADTags: adTags}
		_, _ = Tags(l)
		cfg, ok, err := Logs(l)
		if !ok {
			t.Fatal("label present but not seen")
		}
		if err != nil && !strings.Contains(err.Error(), "configurations;") && (cfg.Source != "" || cfg.Service != "" || len(cfg.Rules) > 0) {
			t.Fatalf("a label that does not parse gave a configuration: %+v", cfg)
		}
		s, _ := rules.Compile(cfg.Rules)
		if s != nil {
			s.Apply([]byte(msg))
		}
	})
}

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

// The keys of a log configuration the Agent turns into tags
// (pkg/logs/message/origin.go: "sourcecategory:" + source category, then
// the tags list), read as the Agent's ParseJSON reads them
// (comp/logs/agent/config/parser.go: encoding/json into LogsConfig, keys
// matched case-insensitively, tags a JSON list of strings), and the keys an
// output cannot honour, reported.
func TestLogsTagsAndIgnoredKeys(t *testing.T) {
	cases := []struct {
		name, label string
		cat         string
		tags        []string
		err         string // "" none; else a part of the report
	}{
		{"tags and sourcecategory", `[{"source":"a","sourcecategory":"web","tags":["team:x","pii"]}]`, "web", []string{"team:x", "pii"}, ""},
		{"any case, as encoding/json matches", `[{"Tags":["a:b"],"SourceCategory":"web"}]`, "web", []string{"a:b"}, ""},
		{"source_category, the YAML name", `[{"source_category":"web"}]`, "web", nil, ""},
		{"tags not a list: the label does not parse, as in the Agent", `[{"source":"a","tags":"a:b,c:d"}]`, "", nil, "not a JSON list"},
		{"auto_multi_line_detection honoured", `[{"source":"a","auto_multi_line_detection":true}]`, "", nil, ""},
		{"the Agent's other auto_multi_line settings reported", `[{"source":"a","auto_multi_line_detection":true,"auto_multi_line_sample_size":500}]`, "", nil,
			`"auto_multi_line_sample_size" not applied by an output, ignored (auto_multi_line_detection turns the plugin's detection on or off; it has no other setting)`},
		{"other keys reported, sorted", `[{"source":"a","path":"/x","type":"file"}]`, "", nil, `"path", "type" not applied`},
		{"a hostile number of keys: the report is bounded", `[{"k0":1,"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"source":"a"}]`, "", nil, `"k7", and 2 more not applied`},
	}
	for _, c := range cases {
		cfg, ok, err := Logs(map[string]string{ADLogs: c.label})
		if !ok || cfg.SourceCategory != c.cat || strings.Join(cfg.Tags, ",") != strings.Join(c.tags, ",") {
			t.Errorf("%s: %+v", c.name, cfg)
		}
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: err %v, want one with %q", c.name, err, c.err)
		}
		// A configuration that parses applies, reported keys aside; one that
		// does not, not at all.
		wantSource := ""
		if strings.Contains(c.label, `"source":"a"`) && !strings.Contains(c.err, "not a JSON list") {
			wantSource = "a"
		}
		if cfg.Source != wantSource {
			t.Errorf("%s: source %q, want %q", c.name, cfg.Source, wantSource)
		}
		if on := strings.Contains(c.label, `"auto_multi_line_detection":true`); on != (cfg.AutoMultiLine != nil && *cfg.AutoMultiLine) {
			t.Errorf("%s: auto_multi_line_detection %v", c.name, cfg.AutoMultiLine)
		}
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
		if err != nil && strings.Contains(err.Error(), "is not a JSON list") && (cfg.Source != "" || cfg.Service != "" || len(cfg.Rules) > 0 || len(cfg.Tags) > 0) {
			t.Fatalf("a label that does not parse gave a configuration: %+v", cfg)
		}
		s, _, _ := rules.Compile(cfg.Rules)
		if s != nil {
			s.Apply([]byte(msg))
		}
	})
}

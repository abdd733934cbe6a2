package join

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/join/jointest"
	"github.com/out-datadog-go/out_datadog_go/internal/labels"
	"github.com/out-datadog-go/out_datadog_go/internal/rules"
	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
)

// docs/log-format.md's label with a multi_line rule is a dockerLabels entry
// the plugin reads, whose rule groups the Java corpus by its dated lines;
// the page's bounds are the code's.
func TestDocsMultiLine(t *testing.T) {
	s := doctest.Section(t, "../../docs/log-format.md", "Multi-line logs")
	start := strings.Index(s, "```json\n")
	if start < 0 {
		t.Fatal("no json block")
	}
	block := s[start+len("```json\n"):]
	block = block[:strings.Index(block, "```")]
	var l struct {
		DockerLabels map[string]string `json:"dockerLabels"`
	}
	if err := json.Unmarshal([]byte("{"+block+"}"), &l); err != nil {
		t.Fatalf("the label is not a dockerLabels entry: %v", err)
	}
	lc, ok, err := labels.Logs(l.DockerLabels)
	if !ok || err != nil {
		t.Fatalf("label: %v %v", ok, err)
	}
	_, ml, skipped := rules.Compile(lc.Rules)
	if ml == nil || len(skipped) > 0 {
		t.Fatalf("no multi_line rule: %v", skipped)
	}
	java := jointest.Read(t, "java")
	logs, _ := readLogs(t, lineChunk(corpusLines(java, "app", "stderr")...), &Options{Streams: fixed{g: Grouping{Pattern: ml}}}, nil)
	for _, y := range logs {
		if !strings.HasPrefix(y.text, "2026-") && !strings.HasPrefix(y.text, "{") {
			t.Errorf("a log starts without a date: %q", y.text)
		}
	}
	for _, phrase := range []string{"at 4,096 lines", "more than 1 s after", "1 MB less\n16 KB"} {
		if !strings.Contains(s, phrase) {
			t.Errorf("the page lost %q", phrase)
		}
	}
	if MaxLines != 4096 || MaxGap != 1000 {
		t.Errorf("the page says 4,096 lines and 1 s: MaxLines %d, MaxGap %d ms", MaxLines, MaxGap)
	}
}

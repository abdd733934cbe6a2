package rules

import (
	"strings"
	"testing"
)

// Behaviour of the Agent's processor (pkg/logs/processor/processor.go,
// applyRedactingRules): exclusion on the first match,
// inclusion only of matching messages, masks applied in order with
// ReplaceAll semantics, rules compiled with regexp.Compile as written
// (pkg/logs/config/processing_rules.go).
func TestApply(t *testing.T) {
	specs := []Spec{
		{Type: ExcludeAtMatch, Name: "no_health", Pattern: `GET /health`},
		{Type: MaskSequences, Name: "mask_card", Pattern: `\b\d{4}-\d{4}-\d{4}-(\d{4})\b`, ReplacePlaceholder: "[card ending $1]"},
		{Type: MaskSequences, Name: "mask_token", Pattern: `token=\w+`, ReplacePlaceholder: "token=[masked]"},
	}
	s, skipped := Compile(specs)
	if len(skipped) != 0 || s.Len() != 3 {
		t.Fatalf("compile: %v, %d rules", skipped, s.Len())
	}
	cases := []struct {
		in, out          string
		excluded, masked bool
	}{
		{"GET /health 200", "", true, false},
		{"paid with 1234-5678-9012-3456 ok", "paid with [card ending 3456] ok", false, true},
		{"token=abc and 1111-2222-3333-4444", "[card ending 4444]", false, true},
		{"plain line", "plain line", false, false},
	}
	for _, c := range cases {
		out, ex, m := s.Apply([]byte(c.in))
		if ex != c.excluded || m != c.masked || (!ex && !strings.Contains(string(out), c.out)) {
			t.Errorf("Apply(%q) = %q excluded=%v masked=%v", c.in, out, ex, m)
		}
		if strings.Contains(c.in, "token=abc") && strings.Contains(string(out), "abc") {
			t.Errorf("token not masked: %q", out)
		}
	}
}

func TestIncludeAtMatch(t *testing.T) {
	s, _ := Compile([]Spec{{Type: IncludeAtMatch, Name: "only_errors", Pattern: `(?i)error`}})
	if _, ex, _ := s.Apply([]byte("all fine")); !ex {
		t.Error("non-matching message kept")
	}
	if out, ex, _ := s.Apply([]byte("ERROR boom")); ex || string(out) != "ERROR boom" {
		t.Errorf("matching message: %q %v", out, ex)
	}
}

func TestCompileSkips(t *testing.T) {
	s, skipped := Compile([]Spec{
		{Type: MultiLine, Name: "ml", Pattern: `\d{4}`},
		{Type: ExcludeAtMatch, Name: "bad", Pattern: `(`},
		{Type: "exclude_truncated", Name: "other"},
		{Type: MaskSequences, Name: "empty"},
	})
	if s != nil || len(skipped) != 4 {
		t.Fatalf("set %v, skipped %q", s, skipped)
	}
	if !strings.Contains(skipped[0], "multi_line") || !strings.Contains(skipped[1], `"bad"`) {
		t.Errorf("skipped %q", skipped)
	}
}

var raceEnabled bool

func TestApplyNoMatchNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items)")
	}
	s, _ := Compile([]Spec{
		{Type: ExcludeAtMatch, Name: "x", Pattern: `DEBUG`},
		{Type: MaskSequences, Name: "m", Pattern: `\d{16}`, ReplacePlaceholder: "[x]"},
	})
	msg := []byte("10.0.0.1 GET /api/v1/items 200 9994")
	if n := testing.AllocsPerRun(100, func() { s.Apply(msg) }); n != 0 {
		t.Errorf("a non-matching message allocates %v times", n)
	}
}

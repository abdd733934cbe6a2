package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
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
	s, _, skipped := Compile(specs)
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
		out, ex, m, _ := s.Apply([]byte(c.in))
		if ex != c.excluded || m != c.masked || (!ex && !strings.Contains(string(out), c.out)) {
			t.Errorf("Apply(%q) = %q excluded=%v masked=%v", c.in, out, ex, m)
		}
		if strings.Contains(c.in, "token=abc") && strings.Contains(string(out), "abc") {
			t.Errorf("token not masked: %q", out)
		}
	}
}

func TestIncludeAtMatch(t *testing.T) {
	s, _, _ := Compile([]Spec{{Type: IncludeAtMatch, Name: "only_errors", Pattern: `(?i)error`}})
	if _, ex, _, _ := s.Apply([]byte("all fine")); !ex {
		t.Error("non-matching message kept")
	}
	if out, ex, _, _ := s.Apply([]byte("ERROR boom")); ex || string(out) != "ERROR boom" {
		t.Errorf("matching message: %q %v", out, ex)
	}
}

func TestCompileSkips(t *testing.T) {
	s, ml, skipped := Compile([]Spec{
		{Type: MultiLine, Name: "bad_ml", Pattern: `[`},
		{Type: ExcludeAtMatch, Name: "bad", Pattern: `(`},
		{Type: "exclude_truncated", Name: "other"},
		{Type: MaskSequences, Name: "empty"},
	})
	if s != nil || ml != nil || len(skipped) != 4 {
		t.Fatalf("set %v, multi_line %v, skipped %q", s, ml, skipped)
	}
	if !strings.Contains(skipped[0], `"bad_ml"`) || !strings.Contains(skipped[1], `"bad"`) {
		t.Errorf("skipped %q", skipped)
	}
}

// A multi_line rule is compiled as the Agent compiles it: anchored at the
// line's start ("^" + pattern, pkg/logs/config/processing_rules.go), the
// last one of several applying (pkg/logs/internal/decoder/decoder.go loops
// over the rules and keeps the last). It is no processing rule: a
// container with only a multi_line rule has no Set, and runs no regexp on
// its messages when shaping them.
func TestCompileMultiLine(t *testing.T) {
	s, ml, skipped := Compile([]Spec{
		{Type: MultiLine, Name: "first", Pattern: `\[`},
		{Type: MultiLine, Name: "new_log_start_with_date", Pattern: `\d{4}-\d{2}-\d{2}`},
	})
	if s != nil || ml == nil || len(skipped) != 1 || !strings.Contains(skipped[0], `"new_log_start_with_date"`) {
		t.Fatalf("set %v, multi_line %v, skipped %q", s, ml, skipped)
	}
	for line, want := range map[string]bool{"2026-01-15 10:00:00 ERROR boom": true, "\tat x 2026-01-15": false, "[main] x": false} {
		if got := ml.MatchString(line); got != want {
			t.Errorf("%q: match %v, want %v", line, got, want)
		}
	}
}

var raceEnabled bool

func TestApplyNoMatchNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items)")
	}
	s, _, _ := Compile([]Spec{
		{Type: ExcludeAtMatch, Name: "x", Pattern: `DEBUG`},
		{Type: MaskSequences, Name: "m", Pattern: `\d{16}`, ReplacePlaceholder: "[x]"},
	})
	msg := []byte("10.0.0.1 GET /api/v1/items 200 9994")
	if n := testing.AllocsPerRun(100, func() { s.Apply(msg) }); n != 0 {
		t.Errorf("a non-matching message allocates %v times", n)
	}
}

// Within its bounds a mask is regexp.ReplaceAll exactly, empty matches,
// anchors, word boundaries and group expansion included.
func TestMaskIsReplaceAll(t *testing.T) {
	msgs := []string{"", "a", "abc abc", "aaa", "xyz-123-abc", "héllo wörld 42", "foo\nbar\nfoo"}
	for _, pat := range []string{`z*`, `a|`, `a*`, `x*y?`, `\b`, `^`, `$`, `(?m)^foo`, `(a)(b)?`, `(?P<d>\d+)`, `\w+`, `.`} {
		for _, ph := range []string{"", "[x]", "<$1>", "${d}!", "$0$0"} {
			s, _, skipped := Compile([]Spec{{Type: MaskSequences, Name: "m", Pattern: pat, ReplacePlaceholder: ph}})
			if len(skipped) != 0 {
				t.Fatal(skipped)
			}
			re := regexp.MustCompile(pat)
			for _, m := range msgs {
				got, _, _, cut := s.Apply([]byte(m))
				if want := re.ReplaceAll([]byte(m), []byte(ph)); string(got) != string(want) || cut {
					t.Errorf("%q -> %q on %q: %q (cut %v), ReplaceAll %q", pat, ph, m, got, cut, want)
				}
			}
		}
	}
}

// A mask that would grow a message past the per-log limit stops replacing:
// the message ends at its last replacement (never the unmasked rest) and
// is reported cut. (Before: z* with a 1 KB placeholder on a 100 KB message
// made a 100 MB message, 231 MB of heap for one record.)
func TestMaskBounded(t *testing.T) {
	msg := []byte(strings.Repeat("secret ", 100_000/7))
	s, _, _ := Compile([]Spec{{Type: MaskSequences, Name: "z", Pattern: `z*`, ReplacePlaceholder: strings.Repeat("#", 1024)}})
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	out, _, masked, cut := s.Apply(msg)
	runtime.ReadMemStats(&ms)
	if !masked || !cut || len(out) > limits.MaxLogBytes || len(out) < limits.MaxLogBytes-2048 {
		t.Fatalf("masked %v cut %v, %d bytes out", masked, cut, len(out))
	}
	if alloc := ms.TotalAlloc - before; alloc > 4<<20 && !raceEnabled { // sync.Pool drops regexp's machines under -race
		t.Errorf("%d MB allocated for one message", alloc>>20)
	}
	t.Logf("%d KB allocated for one message of %d KB", (ms.TotalAlloc-before)>>10, len(msg)>>10)
	if bytes.HasSuffix(out, []byte("secret")) || strings.Contains(string(out), "secret secret") {
		t.Errorf("unmasked text after the cut: %q", out[len(out)-40:])
	}
	// Matches beyond MaxMasks: the message ends at the last one replaced.
	s, _, _ = Compile([]Spec{{Type: MaskSequences, Name: "d", Pattern: `\d+`, ReplacePlaceholder: "N"}})
	many := []byte(strings.Repeat("id 12345 ", MaxMasks+10))
	out, _, _, cut = s.Apply(many)
	if !cut || strings.Count(string(out), "N") != MaxMasks || strings.ContainsAny(string(out), "0123456789") {
		t.Errorf("cut %v, %d replacements, digits left %v", cut, strings.Count(string(out), "N"), strings.ContainsAny(string(out), "0123456789"))
	}
}

// A container's rules are bounded: the first MaxRules apply, longer
// patterns are refused, and each is reported.
func TestRuleBounds(t *testing.T) {
	specs := []Spec{{Type: MaskSequences, Name: "long", Pattern: strings.Repeat("a", MaxPatternBytes+1)}}
	for i := 0; i < 3000; i++ {
		specs = append(specs, Spec{Type: MaskSequences, Name: fmt.Sprint("r", i), Pattern: fmt.Sprintf(`tok%d=\w+`, i), ReplacePlaceholder: "x"})
	}
	s, _, skipped := Compile(specs)
	if s.Len() != MaxRules || len(skipped) != 2 || !strings.Contains(skipped[0], "over 1024") || !strings.Contains(skipped[1], "2968 rules past the first 32") {
		t.Errorf("%d rules, skipped %q", s.Len(), skipped)
	}
}

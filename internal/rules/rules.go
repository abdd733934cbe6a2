// Package rules applies the Datadog Agent's log_processing_rules
// (exclude_at_match, include_at_match, mask_sequences) to one container's
// messages, with the engine the Agent uses: Go's regexp, patterns compiled
// as written (pkg/logs/config/processing_rules.go), applied in order, the
// first exclusion ending the record (pkg/logs/processor/processor.go).
package rules

import (
	"fmt"
	"regexp"
)

// Rule types the Agent knows.
const (
	ExcludeAtMatch = "exclude_at_match"
	IncludeAtMatch = "include_at_match"
	MaskSequences  = "mask_sequences"
	MultiLine      = "multi_line"
)

// Spec is one rule as the com.datadoghq.ad.logs label writes it.
type Spec struct {
	Type               string `json:"type"`
	Name               string `json:"name"`
	Pattern            string `json:"pattern"`
	ReplacePlaceholder string `json:"replace_placeholder"`
}

type rule struct {
	typ         string
	re          *regexp.Regexp
	placeholder []byte
}

// Set is a container's compiled rules; immutable and safe for concurrent
// use (regexp.Regexp is).
type Set struct{ rules []rule }

// Compile compiles specs. A rule that cannot be honoured (bad pattern,
// unknown type, multi_line, which an output cannot apply because a record
// may be split across chunks) is left out and described in skipped; the
// others still apply. The Set is nil when no rule applies, so callers test
// one pointer and run no regexp for containers without rules.
func Compile(specs []Spec) (s *Set, skipped []string) {
	var rs []rule
	for _, sp := range specs {
		switch sp.Type {
		case ExcludeAtMatch, IncludeAtMatch, MaskSequences:
		case MultiLine:
			skipped = append(skipped, fmt.Sprintf("rule %q: multi_line is not applied by an output (a record may be split across chunks); ignored", sp.Name))
			continue
		default:
			skipped = append(skipped, fmt.Sprintf("rule %q: type %q is not supported; ignored", sp.Name, sp.Type))
			continue
		}
		if sp.Pattern == "" {
			skipped = append(skipped, fmt.Sprintf("rule %q: no pattern; ignored", sp.Name))
			continue
		}
		re, err := regexp.Compile(sp.Pattern)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("rule %q: %v; ignored", sp.Name, err))
			continue
		}
		rs = append(rs, rule{typ: sp.Type, re: re, placeholder: []byte(sp.ReplacePlaceholder)})
	}
	if len(rs) == 0 {
		return nil, skipped
	}
	return &Set{rules: rs}, skipped
}

// Len is the number of rules applied.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// Apply runs the rules on msg in order. excluded reports that the record
// must not be sent; otherwise out is the message to send: msg itself when
// nothing was masked (no allocation), a new slice when a mask matched
// (placeholders expand $1 / ${name} as regexp.ReplaceAll does, as in the
// Agent).
func (s *Set) Apply(msg []byte) (out []byte, excluded, masked bool) {
	out = msg
	for i := range s.rules {
		r := &s.rules[i]
		switch r.typ {
		case ExcludeAtMatch:
			if r.re.Match(out) {
				return nil, true, masked
			}
		case IncludeAtMatch:
			if !r.re.Match(out) {
				return nil, true, masked
			}
		case MaskSequences:
			if r.re.Match(out) {
				out, masked = r.re.ReplaceAll(out, r.placeholder), true
			}
		}
	}
	return out, false, masked
}

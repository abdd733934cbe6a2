// Package rules applies the Datadog Agent's log_processing_rules
// (exclude_at_match, include_at_match, mask_sequences) to one container's
// messages, with the engine the Agent uses: Go's regexp, patterns compiled
// as written (pkg/logs/config/processing_rules.go), applied in order, the
// first exclusion ending the record (pkg/logs/processor/processor.go). A
// multi_line rule is compiled as the Agent compiles it, anchored at the
// line's start ("^" + pattern); package join applies it.
//
// Labels come from any container of the task, so the work they cause is
// bounded, where the Agent bounds none: at most MaxRules rules a container,
// patterns of at most MaxPatternBytes, and per message and mask rule at
// most MaxMasks replacements and an output no longer than the message or
// the intake's per-log limit, whichever is larger. A mask that reaches a
// bound stops there and the message ends at its last replacement: the rest,
// not masked, is never sent; the caller marks the message cut.
package rules

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
)

// The bounds on a container's rules.
const (
	MaxRules        = 32
	MaxPatternBytes = 1024
	MaxMasks        = 4096
	// maxIndexes bounds the match indexes one mask holds at once (8 bytes
	// each): a pattern with many groups gets fewer replacements.
	maxIndexes = 1 << 17
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
	expand      bool // the placeholder refers to groups ($1, ${name})
}

// Set is a container's compiled rules; immutable and safe for concurrent
// use (regexp.Regexp is).
type Set struct{ rules []rule }

// Compile compiles specs. A rule that cannot be honoured (bad pattern,
// a pattern over MaxPatternBytes, unknown type) is left out and described
// in skipped; the others still apply, the first MaxRules of them. The Set
// is nil when no processing rule applies, so callers test one pointer and
// run no regexp for containers without rules. multiLine is the last
// multi_line rule's pattern, anchored ("^" + pattern), as the Agent takes
// the last (pkg/logs/internal/decoder/decoder.go, pkg/logs/config/
// processing_rules.go); nil when there is none.
func Compile(specs []Spec) (s *Set, multiLine *regexp.Regexp, skipped []string) {
	var rs []rule
	applied := 0
	for i, sp := range specs {
		if applied == MaxRules {
			skipped = append(skipped, fmt.Sprintf("%d rules past the first %d that apply are ignored (at most %d rules a container)", len(specs)-i, MaxRules, MaxRules))
			break
		}
		switch sp.Type {
		case ExcludeAtMatch, IncludeAtMatch, MaskSequences, MultiLine:
		default:
			skipped = append(skipped, fmt.Sprintf("rule %q: type %q is not supported; ignored", sp.Name, sp.Type))
			continue
		}
		if sp.Pattern == "" {
			skipped = append(skipped, fmt.Sprintf("rule %q: no pattern; ignored", sp.Name))
			continue
		}
		if len(sp.Pattern) > MaxPatternBytes {
			skipped = append(skipped, fmt.Sprintf("rule %q: pattern of %d bytes, over %d; ignored", sp.Name, len(sp.Pattern), MaxPatternBytes))
			continue
		}
		if sp.Type == MultiLine {
			re, err := regexp.Compile("^" + sp.Pattern)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("rule %q: %v; ignored", sp.Name, err))
				continue
			}
			if multiLine != nil {
				skipped = append(skipped, fmt.Sprintf("rule %q: a later multi_line rule replaces an earlier one, as in the Agent", sp.Name))
			}
			multiLine = re
			applied++
			continue
		}
		re, err := regexp.Compile(sp.Pattern)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("rule %q: %v; ignored", sp.Name, err))
			continue
		}
		applied++
		ph := []byte(sp.ReplacePlaceholder)
		rs = append(rs, rule{typ: sp.Type, re: re, placeholder: ph, expand: bytes.IndexByte(ph, '$') >= 0})
	}
	if len(rs) == 0 {
		return nil, multiLine, skipped
	}
	return &Set{rules: rs}, multiLine, skipped
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
// Agent). cut reports that a mask reached a bound and out ends where it
// stopped.
func (s *Set) Apply(msg []byte) (out []byte, excluded, masked, cut bool) {
	out = msg
	for i := range s.rules {
		r := &s.rules[i]
		switch r.typ {
		case ExcludeAtMatch:
			if r.re.Match(out) {
				return nil, true, masked, cut
			}
		case IncludeAtMatch:
			if !r.re.Match(out) {
				return nil, true, masked, cut
			}
		case MaskSequences:
			if r.re.Match(out) {
				var c bool
				out, c = r.mask(out)
				masked, cut = true, cut || c
			}
		}
	}
	return out, false, masked, cut
}

// mask is regexp.ReplaceAll(src, placeholder) within the bounds: at most
// MaxMasks replacements (fewer for a pattern with many groups, see
// maxIndexes) and an output of at most max(len(src), limits.MaxLogBytes)
// bytes. Past a bound the output ends at the last replacement and cut is
// set.
func (r *rule) mask(src []byte) (out []byte, cut bool) {
	n := MaxMasks
	var ms [][]int
	if r.expand {
		n = min(n, maxIndexes/(2*(r.re.NumSubexp()+1)))
		ms = r.re.FindAllSubmatchIndex(src, n+1)
	} else {
		ms = r.re.FindAllIndex(src, n+1)
	}
	bound := max(len(src), limits.MaxLogBytes)
	out = make([]byte, 0, min(len(src)+len(r.placeholder)*len(ms), bound))
	last := 0
	for i, m := range ms {
		if i == n {
			return out, true
		}
		next := append(out, src[last:m[0]]...)
		if r.expand {
			next = r.re.Expand(next, r.placeholder, src, m)
		} else {
			next = append(next, r.placeholder...)
		}
		if len(next) > bound {
			return out, true
		}
		out, last = next, m[1]
	}
	if rest := src[last:]; len(out)+len(rest) > bound {
		return append(out, rest[:bound-len(out)]...), true
	}
	return append(out, src[last:]...), false
}

package flbconf

import (
	"fmt"
	"slices"
	"strings"
)

// CoreKeys are the keys Fluent Bit's core takes for every output
// (flb_output_set_property in src/flb_output.c), spelt as its manual spells
// them: they never reach the plugin. log_suppress_interval is core from 4.x;
// on 1.9 it reaches the plugin, which takes it as known all the same.
var CoreKeys = []string{
	"Name", "Match", "Match_Regex", "Alias", "Log_Level", "Log_Suppress_Interval", "Host", "Port", "IPv6",
	"Retry_Limit", "Workers", "TLS", "tls.verify", "tls.verify_hostname", "tls.debug", "tls.vhost", "tls.ca_path",
	"tls.ca_file", "tls.crt_file", "tls.key_file", "tls.key_passwd", "tls.min_version", "tls.max_version",
	"tls.ciphers", "storage.total_limit_size",
}

// corePrefixes are families of core keys (net.*, tls.* of later lines,
// _debug.http.*, 5.x's oauth2*), and keys Fluent Bit keeps from every
// output's properties: routes (configure_plugins_type skips it) and
// processors (a YAML group, never a property).
var corePrefixes = []string{"net.", "tls.", "_debug.", "oauth2"}

// IsCore reports whether key (any case) is one Fluent Bit's core keeps.
func IsCore(key string) bool {
	k := strings.ToLower(strings.TrimSpace(key))
	if k == "routes" || k == "processors" || slices.ContainsFunc(CoreKeys, func(c string) bool { return strings.EqualFold(c, k) }) {
		return true
	}
	return slices.ContainsFunc(corePrefixes, func(p string) bool { return strings.HasPrefix(k, p) })
}

// routing are the core keys that say which records an output takes and how
// Fluent Bit schedules it, not what the output does with them: sections
// that differ only there are the same output for the plugin.
var routing = []string{"name", "match", "match_regex", "alias", "log_level", "log_suppress_interval",
	"retry_limit", "workers", "storage.total_limit_size", "routes"}

// UnknownKey reports the first key, in the outputs named plugin, that is
// neither one of Fluent Bit's core keys nor in known, and that get (the
// instance's output_get_property) confirms is set on this instance: the
// files may hold several of the plugin's sections, so a key of another one
// never stops this one. It names the nearest key, the plugin's or Fluent
// Bit's.
func (c *Config) UnknownKey(plugin string, known []string, get func(string) string) error {
	for _, s := range c.Outputs(plugin) {
		for _, p := range s.Props {
			if IsCore(p.Key) || isKnown(known, p.Key) || strings.TrimSpace(get(strings.ToLower(p.Key))) == "" {
				continue
			}
			if near := nearest(strings.ToLower(p.Key), append(slices.Clone(known), CoreKeys...)); near != "" {
				return fmt.Errorf("%s: unknown key (%s); did you mean %s? %s would ignore it: correct or remove it", p.Key, s.Where, near, plugin)
			}
			return fmt.Errorf("%s: unknown key (%s): %s would ignore it; remove it (%s's keys: %s)", p.Key, s.Where, plugin, plugin, strings.Join(known, ", "))
		}
	}
	return nil
}

func isKnown(known []string, key string) bool {
	return slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(k, strings.TrimSpace(key)) })
}

// Instance is what the files say of one instance of a Go plugin.
type Instance struct {
	// Section is the section that is this instance, nil when none is
	// sure to be: Why says why not.
	Section *Section
	Why     string
	// Ambiguous: several sections fit and differ, which the user should
	// hear of.
	Ambiguous bool
}

// Instance finds, among the outputs named plugin, the section of the
// instance Fluent Bit passes get for. The plugin cannot list its own keys,
// so a section is this instance when every key in known has the value get
// gives (a value holding a variable the plugin could not expand fits any),
// and every other key it sets, not Fluent Bit's, is set on the instance
// too. Several sections fit (FireLens writes one output per container,
// often the same but for Match): they must agree in everything but
// routing, else none is taken.
func (c *Config) Instance(plugin string, known []string, get func(string) string) Instance {
	var fits []Section
	for _, s := range c.Outputs(plugin) {
		if isThis(s, known, get) {
			fits = append(fits, s)
		}
	}
	switch {
	case len(fits) == 0:
		return Instance{Why: fmt.Sprintf("no %s section of Fluent Bit's configuration matches what Fluent Bit passed this output", plugin)}
	case slices.ContainsFunc(fits[1:], func(s Section) bool { return !sameOutput(s, fits[0]) }):
		return Instance{Why: fmt.Sprintf("%d %s sections (%s) fit this output and differ", len(fits), plugin, wheres(fits)), Ambiguous: true}
	case slices.ContainsFunc(fits[0].Props, func(p Property) bool { return p.Unresolved && !slices.Contains(routing, strings.ToLower(p.Key)) }):
		return Instance{Why: fmt.Sprintf("%s holds variables only Fluent Bit can expand", fits[0].Where)}
	}
	return Instance{Section: &fits[0]}
}

func isThis(s Section, known []string, get func(string) string) bool {
	for _, k := range known {
		v, _ := s.Get(k)
		if strings.TrimSpace(v) != strings.TrimSpace(get(k)) && !unresolved(s, k) {
			return false
		}
	}
	for _, p := range s.Props {
		if !IsCore(p.Key) && !isKnown(known, p.Key) && strings.TrimSpace(get(strings.ToLower(p.Key))) == "" {
			return false
		}
	}
	return true
}

// unresolved: the first value of key in s holds a variable the plugin
// could not expand.
func unresolved(s Section, key string) bool {
	i := slices.IndexFunc(s.Props, func(p Property) bool { return strings.EqualFold(p.Key, key) })
	return i >= 0 && s.Props[i].Unresolved
}

// sameOutput: a and b set the same values but for routing keys.
func sameOutput(a, b Section) bool {
	kept := func(s Section) []string {
		var out []string
		for _, p := range s.Props {
			if !slices.Contains(routing, strings.ToLower(p.Key)) {
				out = append(out, strings.ToLower(p.Key)+"\x00"+p.Value)
			}
		}
		return out
	}
	return slices.Equal(kept(a), kept(b))
}

func wheres(ss []Section) string {
	w := make([]string, len(ss))
	for i, s := range ss {
		w[i] = s.Where
	}
	return strings.Join(w, ", ")
}

// nearest is the candidate closest to key (lower case): one it is part of
// ("service" for dd_service), else one at most two edits away, else "".
func nearest(key string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(key) >= 4 && strings.Contains(lc, key) {
			return c
		}
		if d := distance(key, lc); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance (edits, adjacent
// swaps counted as one) between a and b.
func distance(a, b string) int {
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

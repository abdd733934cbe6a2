package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/out-datadog-go/out_datadog_go/internal/flbconf"
)

// Keys are the keys of a datadog_go section that Parse reads
// (TestKeysAreParsed keeps the two equal).
var Keys = []string{
	"site", "endpoint", "apikey", "apikey_file", "proxy", "header",
	"timeout", "tls_verify", "tls_ca_file", "max_retries", "retry_budget", "max_concurrency",
	"compress", "compression_level", "max_batch_entries", "max_batch_bytes",
	"dd_service", "dd_source", "dd_tags", "dd_message_key", "dd_hostname", "provider",
	"json_date_key", "include_tag_key", "tag_key",
	"ecs_tag_style", "ecs_metadata_uri", "ecs_metadata_refresh", "detect_status", "stderr_status", "auto_multiline",
	"stats_interval",
}

// coreKeys are the keys Fluent Bit's core takes for every output
// (flb_output_set_property in src/flb_output.c, 1.9.10 and 4.2.8): they
// never reach the plugin, so get returns "" for them. Prefixes end in ".".
// log_suppress_interval is core in 4.x only; on 1.9 it reaches the plugin
// and is taken as known all the same.
var coreKeys = []string{
	"name", "match", "match_regex", "alias", "log_level", "log_suppress_interval",
	"host", "port", "ipv6", "retry_limit", "workers", "tls", "processors",
	"tls.", "net.", "storage.", "_debug.",
}

func isCore(key string) bool {
	for _, k := range coreKeys {
		if key == k || strings.HasSuffix(k, ".") && strings.HasPrefix(key, k) {
			return true
		}
	}
	return false
}

func isKnown(key string) bool { return slices.Contains(Keys, key) }

// CheckSections checks what Fluent Bit's files and command line say of
// this instance (sections: the datadog_go outputs package flbconf read),
// against what Fluent Bit passed it (get, output_get_property), and
// applies the leftovers of the built-in output's configuration to c.
//
// The plugin cannot list its own keys, and Fluent Bit's files may hold
// several datadog_go sections, so nothing is taken from a file on its own
// word:
//   - a key the plugin does not know is an error only when get confirms it
//     is set on this instance (Fluent Bit drops empty values: those go
//     unreported);
//   - Host, Port and tls.* never reach the plugin: they are read from the
//     section that is this instance, found by comparing every key the
//     plugin knows with get. When several sections fit and disagree, a
//     warning says so and nothing is applied.
//
// It returns the warnings to log and the first error (which names the key).
func CheckSections(c *Config, sections []flbconf.Section, get func(string) string) (warnings []string, err error) {
	if err := unknownKeys(sections, get); err != nil {
		return nil, err
	}
	var mine []flbconf.Section
	for _, s := range sections {
		if isThis(s, get) {
			mine = append(mine, s)
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	left := leftoversOf(mine[0])
	for _, s := range mine[1:] {
		if leftoversOf(s) != left {
			return []string{fmt.Sprintf("%d datadog_go sections (%s) fit this output and differ in Host, Port or TLS: those keys are not checked; "+
				"datadog_go does not read them (set site or endpoint)", len(mine), wheres(mine))}, nil
		}
	}
	return left.apply(c, get)
}

// unknownKeys reports the first key of the sections that the plugin does
// not know and get confirms.
func unknownKeys(sections []flbconf.Section, get func(string) string) error {
	for _, s := range sections {
		for _, p := range s.Props {
			k := strings.ToLower(strings.TrimSpace(p.Key))
			if isCore(k) || isKnown(k) || strings.TrimSpace(get(k)) == "" {
				continue
			}
			if near := nearest(k); near != "" {
				return fmt.Errorf("%s: unknown key (%s); did you mean %s? datadog_go would ignore it: correct or remove it", p.Key, s.Where, near)
			}
			return fmt.Errorf("%s: unknown key (%s): datadog_go would ignore it; remove it (datadog_go's keys: %s)", p.Key, s.Where, strings.Join(Keys, ", "))
		}
	}
	return nil
}

// isThis reports whether section s can be this instance: every key the
// plugin knows has the same value in s as get gives (a value holding
// ${...} is Fluent Bit's to expand and fits any), and every other key of s
// is set on the instance too.
func isThis(s flbconf.Section, get func(string) string) bool {
	for _, k := range Keys {
		v, _ := s.Get(k)
		v, got := strings.TrimSpace(v), strings.TrimSpace(get(k))
		if v != got && !strings.Contains(v, "${") {
			return false
		}
	}
	for _, p := range s.Props {
		k := strings.ToLower(strings.TrimSpace(p.Key))
		if !isCore(k) && !isKnown(k) && strings.TrimSpace(p.Value) != "" && strings.TrimSpace(get(k)) == "" {
			return false
		}
	}
	return true
}

func wheres(ss []flbconf.Section) string {
	w := make([]string, len(ss))
	for i, s := range ss {
		w[i] = s.Where
	}
	return strings.Join(w, ", ")
}

// leftovers are the built-in datadog output's destination keys found in
// this instance's section: Fluent Bit keeps them to itself.
type leftovers struct {
	host, port string
	tls        string // "" when not set
	tlsKey     string // the first tls.* key, "" when none
}

func leftoversOf(s flbconf.Section) leftovers {
	var l leftovers
	for _, p := range s.Props {
		k, v := strings.ToLower(strings.TrimSpace(p.Key)), os.ExpandEnv(strings.TrimSpace(p.Value))
		switch {
		case k == "host":
			l.host = strings.ToLower(v)
		case k == "port":
			l.port = v
		case k == "tls":
			l.tls = strings.ToLower(v)
		case strings.HasPrefix(k, "tls.") && l.tlsKey == "":
			l.tlsKey = p.Key
		}
	}
	return l
}

// apply makes the leftovers work when they name a Datadog site, and stops
// start-up with the fix otherwise.
func (l leftovers) apply(c *Config, get func(string) string) ([]string, error) {
	if l.tlsKey != "" {
		fix := "remove it"
		switch strings.ToLower(l.tlsKey) {
		case "tls.verify":
			fix = "use tls_verify instead"
		case "tls.ca_file", "tls.ca_path":
			fix = "use tls_ca_file (a PEM bundle) instead"
		}
		return nil, fmt.Errorf("%s: a key of Fluent Bit's own TLS, which datadog_go does not use: %s", l.tlsKey, fix)
	}
	if l.host == "" {
		if l.port != "" && l.port != "443" {
			return nil, fmt.Errorf("Port: datadog_go does not read Port (Fluent Bit keeps it): to send to another port, set endpoint (a full URL) and remove Port")
		}
		return nil, nil
	}
	site := siteOfHost(l.host)
	endpoint := strings.TrimSpace(get("endpoint"))
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err == nil && strings.EqualFold(u.Hostname(), l.host) {
			return nil, nil // the same destination, said twice
		}
		return nil, fmt.Errorf("Host: %s, but endpoint sends elsewhere: datadog_go does not read Host (Fluent Bit keeps it); remove Host", l.host)
	}
	if site == "" {
		return nil, fmt.Errorf("Host: %s is not a Datadog site's logs intake, and datadog_go does not read Host (Fluent Bit keeps it): "+
			"set endpoint %s and remove Host (or site, for a Datadog site)", l.host, l.endpoint())
	}
	if l.port != "" && l.port != "443" {
		return nil, fmt.Errorf("Port: %s with Host %s: the intake listens on 443; remove Port (or set endpoint, a full URL)", l.port, l.host)
	}
	if configured := strings.TrimSpace(get("site")); configured != "" {
		if configured != site {
			return nil, fmt.Errorf("Host: %s is site %s, but site says %s: datadog_go sends to site; remove Host", l.host, site, configured)
		}
		return nil, nil
	}
	u, err := SiteURL(site)
	if err != nil {
		return nil, fmt.Errorf("Host: %w", err)
	}
	c.Site, c.URL = site, u
	return []string{fmt.Sprintf("Host %s (left from the built-in output): sending to site %s; Fluent Bit keeps Host to itself, so prefer `site %s` and remove Host", l.host, site, site)}, nil
}

// endpoint is the URL the built-in output would have posted to.
func (l leftovers) endpoint() string {
	scheme, port := "http", "80"
	if l.tls == "on" || l.tls == "true" || l.tls == "yes" || l.tls == "1" {
		scheme, port = "https", "443"
	}
	host := l.host
	if l.port != "" && l.port != port {
		host += ":" + l.port
	}
	return scheme + "://" + host + "/api/v2/logs"
}

// siteOfHost is the Datadog site whose logs intake is host, "" for none.
func siteOfHost(host string) string {
	for _, s := range sites {
		if u, err := url.Parse(s.url); err == nil && strings.EqualFold(u.Hostname(), host) {
			return s.name
		}
	}
	return ""
}

// nearest is the known key closest to key: one it is part of ("service"
// for dd_service), else one at most two edits away, else "".
func nearest(key string) string {
	best, bestD := "", 3
	for _, k := range Keys {
		if len(key) >= 4 && strings.Contains(k, key) {
			return k
		}
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
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

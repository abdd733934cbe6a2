package flbconf

import (
	"strings"
	"testing"
)

// known stands in for the plugin's keys (package config's Keys).
var known = []string{"site", "endpoint", "apikey", "dd_service", "dd_source", "dd_tags", "header", "retry_budget", "max_retries"}

// output builds a datadog_go section from "key value" lines.
func output(lines ...string) Section {
	s := Section{Kind: "output", Where: "fluent-bit.conf:3", Props: []Property{{Key: "Name", Raw: "datadog_go", Value: "datadog_go"}}}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		s.Props = append(s.Props, Property{Key: k, Raw: v, Value: v, Unresolved: strings.Contains(v, "${")})
	}
	return s
}

// getter is what Fluent Bit passes the plugin for a section: the first
// value of every key but those its core keeps.
func getter(s Section) func(string) string {
	return func(key string) string {
		if IsCore(key) {
			return ""
		}
		v, _ := s.Get(key)
		return v
	}
}

func conf(sections ...Section) *Config { return &Config{Sections: sections} }

func TestUnknownKeys(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"dd_sevice web", "dd_sevice: unknown key (fluent-bit.conf:3); did you mean dd_service? datadog_go would ignore it"},
		{"service web", "did you mean dd_service?"},
		{"api_key x", "did you mean apikey?"},
		{"retry_bugdet 5s", "did you mean retry_budget?"},
		// Fluent Bit's own keys, misspelt, reach the plugin (issue 32).
		{"Retry_Limt no_limits", "Retry_Limt: unknown key (fluent-bit.conf:3); did you mean Retry_Limit?"},
		{"storage.total_limt_size 1G", "did you mean storage.total_limit_size?"},
		{"Worker 2", "did you mean Workers?"},
		{"frobnicate 1", "frobnicate: unknown key (fluent-bit.conf:3): datadog_go would ignore it; remove it (datadog_go's keys: site, endpoint,"},
	} {
		s := output("apikey k", tc.line)
		err := conf(s).UnknownKey("datadog_go", known, getter(s))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.line, err, tc.want)
		}
	}
	// Keys Fluent Bit's core takes, and empty values (Fluent Bit drops
	// them), are not reported.
	s := output("apikey k", "Match *", "workers 2", "Retry_Limit no_limits", "storage.total_limit_size 5M", "net.keepalive off",
		"log_level debug", "tls.verify off", "dd_sevice")
	if err := conf(s).UnknownKey("datadog_go", known, getter(s)); err != nil {
		t.Errorf("core keys: %v", err)
	}
}

// A key of another datadog_go section is not this instance's: reported only
// when Fluent Bit confirms the instance has it.
func TestUnknownKeyOfAnotherSection(t *testing.T) {
	mine := output("apikey k", "dd_service web")
	other := output("apikey k", "dd_service jobs", "dd_sevice jobs")
	if err := conf(other, mine).UnknownKey("datadog_go", known, getter(mine)); err != nil {
		t.Errorf("another section's typo failed this instance: %v", err)
	}
	if err := conf(mine, other).UnknownKey("datadog_go", known, getter(other)); err == nil {
		t.Error("the section's own typo not reported")
	}
}

func TestInstance(t *testing.T) {
	a := output("apikey k", "Match app-*", "Host http-intake.logs.datadoghq.eu")
	// FireLens' one output per container: the same but for Match.
	b := output("apikey k", "Match worker-*", "Host http-intake.logs.datadoghq.eu")
	if in := conf(a, b).Instance("datadog_go", known, getter(a)); in.Section == nil || in.Section.Where != a.Where {
		t.Errorf("same but for routing: %+v", in)
	}
	// Sections that fit and differ: none is taken.
	c := output("apikey k", "Host relay.internal")
	if in := conf(a, c).Instance("datadog_go", known, getter(a)); in.Section != nil || !strings.Contains(in.Why, "2 datadog_go sections") {
		t.Errorf("ambiguous: %+v", in)
	}
	// A section whose known keys differ is not this instance.
	d := output("apikey k", "dd_service jobs", "Host relay.internal")
	if in := conf(a, d).Instance("datadog_go", known, getter(a)); in.Section == nil || in.Section.Where != a.Where {
		t.Errorf("%+v", in)
	}
	// Several header lines: the first is what Fluent Bit passes.
	h := output("apikey k", "header X-A a", "header X-B b")
	if in := conf(h).Instance("datadog_go", known, getter(h)); in.Section == nil || len(in.Section.Values("header")) != 2 {
		t.Errorf("%+v", in)
	}
	// A value holding a variable only Fluent Bit can expand: not taken.
	u := output("apikey k", "Host ${DDHOST}")
	if in := conf(u).Instance("datadog_go", known, getter(u)); in.Section != nil || !strings.Contains(in.Why, "variables only Fluent Bit can expand") {
		t.Errorf("%+v", in)
	}
	if in := conf().Instance("datadog_go", known, getter(a)); in.Section != nil || in.Why == "" {
		t.Errorf("none: %+v", in)
	}
}

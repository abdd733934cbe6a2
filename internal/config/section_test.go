package config

import (
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/flbconf"
)

// section builds a datadog_go section from "key value" lines.
func section(lines ...string) flbconf.Section {
	s := flbconf.Section{Kind: "output", Where: "fluent-bit.conf:3", Props: []flbconf.Property{{Key: "Name", Value: "datadog_go"}}}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		s.Props = append(s.Props, flbconf.Property{Key: k, Value: v})
	}
	return s
}

// getter is what Fluent Bit passes the plugin for a section: every key but
// those its core keeps (the C host's core_key does the same).
func getter(s flbconf.Section) func(string) string {
	return func(key string) string {
		if isCore(strings.ToLower(key)) {
			return ""
		}
		v, _ := s.Get(key)
		return v
	}
}

const key32 = "0123456789abcdef0123456789abcdef"

func check(t *testing.T, sections []flbconf.Section, get func(string) string) (*Config, []string, error) {
	t.Helper()
	c, err := Parse(get, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	w, err := CheckSections(c, sections, get)
	return c, w, err
}

func TestUnknownKeys(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"dd_sevice web", "dd_sevice: unknown key (fluent-bit.conf:3); did you mean dd_service?"},
		{"service web", "did you mean dd_service?"},
		{"api_key x", "did you mean apikey?"},
		{"retry_bugdet 5s", "did you mean retry_budget?"},
		{"frobnicate 1", "frobnicate: unknown key (fluent-bit.conf:3): datadog_go would ignore it; remove it (datadog_go's keys: site, endpoint,"},
	} {
		s := section("apikey "+key32, tc.line)
		_, _, err := check(t, []flbconf.Section{s}, getter(s))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.line, err, tc.want)
		}
	}
	// Keys Fluent Bit's core takes, and empty values (Fluent Bit drops
	// them), are not reported.
	s := section("apikey "+key32, "Match *", "workers 2", "Retry_Limit no_limits", "storage.total_limit_size 5M", "net.keepalive off", "log_level debug", "dd_sevice")
	if _, _, err := check(t, []flbconf.Section{s}, getter(s)); err != nil {
		t.Errorf("core keys: %v", err)
	}
}

// A key of another datadog_go section is not this instance's: reported only
// when Fluent Bit confirms the instance has it.
func TestUnknownKeyOfAnotherSection(t *testing.T) {
	mine := section("apikey "+key32, "dd_service web")
	other := section("apikey "+key32, "dd_service jobs", "dd_sevice jobs")
	if _, _, err := check(t, []flbconf.Section{other, mine}, getter(mine)); err != nil {
		t.Errorf("another section's typo failed this instance: %v", err)
	}
	if _, _, err := check(t, []flbconf.Section{mine, other}, getter(other)); err == nil {
		t.Error("the section's own typo not reported")
	}
}

func TestHostLeftover(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		site  string // site applied; "" when unchanged
		err   string
	}{
		{"EU intake host", []string{"Host http-intake.logs.datadoghq.eu", "TLS on", "Port 443"}, "datadoghq.eu", ""},
		{"US intake, no TLS key", []string{"Host http-intake.logs.datadoghq.com"}, "datadoghq.com", ""},
		{"same site said twice", []string{"Host http-intake.logs.us5.datadoghq.com", "site us5.datadoghq.com"}, "us5.datadoghq.com", ""},
		{"site disagrees", []string{"Host http-intake.logs.datadoghq.eu", "site datadoghq.com"}, "", "Host: http-intake.logs.datadoghq.eu is site datadoghq.eu, but site says datadoghq.com"},
		{"a relay", []string{"Host relay.internal", "Port 8080", "TLS on"}, "", "set endpoint https://relay.internal:8080/api/v2/logs and remove Host"},
		{"a plain relay", []string{"Host 10.0.0.5"}, "", "set endpoint http://10.0.0.5/api/v2/logs"},
		{"endpoint elsewhere", []string{"Host http-intake.logs.datadoghq.eu", "endpoint http://127.0.0.1:9"}, "", "Host: http-intake.logs.datadoghq.eu, but endpoint sends elsewhere"},
		{"endpoint same host", []string{"Host relay.internal", "endpoint https://relay.internal/x"}, "", ""},
		{"intake on another port", []string{"Host http-intake.logs.datadoghq.eu", "Port 80"}, "", "Port: 80 with Host"},
		{"Port alone", []string{"Port 8443"}, "", "Port: datadog_go does not read Port"},
		{"tls.verify", []string{"tls.verify off"}, "", "tls.verify: a key of Fluent Bit's own TLS, which datadog_go does not use: use tls_verify instead"},
		{"TLS alone", []string{"TLS on"}, "", ""},
	} {
		s := section(append([]string{"apikey " + key32}, tc.lines...)...)
		c, warnings, err := check(t, []flbconf.Section{s}, getter(s))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.site != "" && (c.Site != tc.site || !strings.Contains(c.URL, tc.site)):
			t.Errorf("%s: site %s url %s, want %s", tc.name, c.Site, c.URL, tc.site)
		case tc.site == "datadoghq.eu" && (len(warnings) != 1 || !strings.Contains(warnings[0], "prefer `site datadoghq.eu`")):
			t.Errorf("%s: warnings %q", tc.name, warnings)
		}
	}
}

// Two sections that fit the instance equally and disagree on Host: not
// applied, a warning says why.
func TestAmbiguousSections(t *testing.T) {
	a := section("apikey "+key32, "Host http-intake.logs.datadoghq.eu")
	b := section("apikey "+key32, "Host relay.internal")
	c, warnings, err := check(t, []flbconf.Section{a, b}, getter(a))
	if err != nil || c.Site != DefaultSite || len(warnings) != 1 || !strings.Contains(warnings[0], "2 datadog_go sections") {
		t.Errorf("err %v, site %s, warnings %q", err, c.Site, warnings)
	}
	// A section whose known keys differ is not this instance.
	b = section("apikey "+key32, "dd_service jobs", "Host relay.internal")
	if c, _, err := check(t, []flbconf.Section{a, b}, getter(a)); err != nil || c.Site != "datadoghq.eu" {
		t.Errorf("err %v, site %s", err, c.Site)
	}
	// A value Fluent Bit expands fits any.
	b = section("apikey ${DD_KEY}", "Host http-intake.logs.datadoghq.eu")
	if c, _, err := check(t, []flbconf.Section{b}, getter(a)); err != nil || c.Site != "datadoghq.eu" {
		t.Errorf("err %v, site %s", err, c.Site)
	}
}

// Keys lists every key Parse reads, no more (apikey_file is read when
// apikey is not set: two passes).
func TestKeysAreParsed(t *testing.T) {
	read := map[string]bool{}
	for _, keyFrom := range []string{"apikey", "apikey_file"} {
		_, err := Parse(func(k string) string {
			read[k] = true
			if k == keyFrom {
				return key32
			}
			return ""
		}, func(string) string { return "" }, func(string) ([]byte, error) { return []byte(key32), nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	for k := range read {
		if !isKnown(k) {
			t.Errorf("Parse reads %q, which Keys lacks", k)
		}
	}
	for _, k := range Keys {
		if !read[k] {
			t.Errorf("Keys has %q, which Parse does not read", k)
		}
	}
}

package config

import (
	"reflect"
	"strings"
	"testing"
)

// section is a Section from "key value" lines (package flbconf reads the
// real ones).
type section []string

func (s section) Values(key string) []string {
	var vs []string
	for _, l := range s {
		if k, v, _ := strings.Cut(l, " "); strings.EqualFold(k, key) {
			vs = append(vs, v)
		}
	}
	return vs
}

func (s section) Keys() []string {
	ks := make([]string, len(s))
	for i, l := range s {
		ks[i], _, _ = strings.Cut(l, " ")
	}
	return ks
}

// getter is what Fluent Bit passes the plugin for a section: the first
// value of every key but those its core keeps (Host, Port, TLS, tls.*).
func (s section) get(key string) string {
	switch k := strings.ToLower(key); {
	case k == "host" || k == "port" || k == "tls" || strings.HasPrefix(k, "tls."):
		return ""
	}
	if vs := s.Values(key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

const key32 = "0123456789abcdef0123456789abcdef"

func apply(t *testing.T, s section) (*Config, []string, error) {
	t.Helper()
	c, err := Parse(s.get, func(string) string { return "" }, func(string) ([]byte, error) { return []byte("PEM"), nil })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	w, err := c.ApplySection(s, s.get)
	return c, w, err
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
		{"Port 443 alone", []string{"Port 443"}, "", ""},
		// Leftovers that agree with endpoint (issue 27): the same port,
		// written or the scheme's.
		{"Port as endpoint's", []string{"endpoint http://127.0.0.1:18081", "Port 18081"}, "", ""},
		{"Port as endpoint's scheme's", []string{"endpoint https://relay.internal/in", "Port 443", "Host relay.internal"}, "", ""},
		{"Port not endpoint's", []string{"endpoint http://127.0.0.1:18081", "Port 18082"}, "", "Port: 18082, but endpoint sends to port 18081"},
		{"Port 80 with https", []string{"endpoint https://relay.internal", "Port 80"}, "", "Port: 80, but endpoint sends to port 443"},
		{"tls.verify", []string{"tls.verify off"}, "", "tls.verify: a key of Fluent Bit's own TLS, which datadog_go does not use: use tls_verify instead"},
		{"tls.verify as tls_verify", []string{"tls.verify off", "tls_verify off"}, "", ""},
		{"tls.ca_file as tls_ca_file, then another", []string{"tls.ca_file /ca.pem", "tls_ca_file /ca.pem", "tls.crt_file /c.pem"}, "", "tls.crt_file: a key of Fluent Bit's own TLS"},
		{"TLS alone", []string{"TLS on"}, "", ""},
	} {
		s := section(append([]string{"apikey " + key32}, tc.lines...))
		c, warnings, err := apply(t, s)
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

// Every header line of the section is sent, each checked as the first is.
func TestHeaderLines(t *testing.T) {
	c, _, err := apply(t, section{"apikey " + key32, "header X-Team web", "header X-Env  prod", "header X-Team api"})
	want := []Header{{"X-Team", "web"}, {"X-Env", "prod"}, {"X-Team", "api"}}
	if err != nil || !reflect.DeepEqual(c.Headers, want) {
		t.Fatalf("headers %+v, %v", c.Headers, err)
	}
	if s := c.String(); !strings.Contains(s, "header=X-Team:**** header=X-Env:**** header=X-Team:****") || strings.Contains(s, "prod") {
		t.Errorf("start-up line: %s", s)
	}
	if _, _, err := apply(t, section{"apikey " + key32, "header X-Team web", "header X-Token:secret-token"}); err == nil ||
		!strings.HasPrefix(err.Error(), "header: ") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("a bad second line: %v", err)
	}
}

package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const key = "0123456789abcdef0123456789abcdef"

func parseMap(m map[string]string, envm map[string]string) (*Config, error) {
	files := map[string]string{"/keyfile": "  " + key + "\n", "/empty": "\n", "/ca.pem": "PEM"}
	return Parse(
		func(k string) string { return m[k] },
		func(k string) string { return envm[k] },
		func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
		})
}

func TestDefaults(t *testing.T) {
	c, err := parseMap(map[string]string{"apikey": key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	if c.URL != "https://http-intake.logs.datadoghq.com/api/v2/logs" || c.Compression != "zstd" ||
		c.MaxBatchEntries != 1000 || c.MaxBatchBytes != 5_000_000 || c.JSONDateKey != "timestamp" ||
		c.TagKey != "tagkey" || !c.TLSVerify || c.Timeout != want.Timeout || c.MaxRetries != 5 ||
		c.ECSTagStyle != "agent" || c.Provider != "" || c.MessageKey != "" || c.APIKeySrc != "apikey" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestSites(t *testing.T) {
	for _, site := range []string{"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu",
		"ap1.datadoghq.com", "ap2.datadoghq.com", "uk1.datadoghq.com", "ddog-gov.com", "us2.ddog-gov.com"} {
		c, err := parseMap(map[string]string{"apikey": key, "site": site}, nil)
		if err != nil {
			t.Fatalf("%s: %v", site, err)
		}
		if want := "https://http-intake.logs." + site + "/api/v2/logs"; c.URL != want {
			t.Errorf("%s: %s, want %s", site, c.URL, want)
		}
	}
}

func TestKeys(t *testing.T) {
	cases := []struct {
		name  string
		props map[string]string
		env   map[string]string
		check func(c *Config) bool
	}{
		{"endpoint without path", map[string]string{"endpoint": "http://127.0.0.1:8080"}, nil,
			func(c *Config) bool { return c.URL == "http://127.0.0.1:8080/api/v2/logs" }},
		{"endpoint with path", map[string]string{"endpoint": "https://intake.example/custom"}, nil,
			func(c *Config) bool { return c.URL == "https://intake.example/custom" }},
		{"endpoint overrides site", map[string]string{"endpoint": "http://localhost:1/", "site": "datadoghq.eu"}, nil,
			func(c *Config) bool { return c.URL == "http://localhost:1/api/v2/logs" }},
		{"apikey_file", map[string]string{"apikey": "", "apikey_file": "/keyfile"}, nil,
			func(c *Config) bool { return c.APIKey == key && c.APIKeySrc == "apikey_file" }},
		{"DD_API_KEY", map[string]string{"apikey": ""}, map[string]string{"DD_API_KEY": key},
			func(c *Config) bool { return c.APIKey == key && c.APIKeySrc == "DD_API_KEY" }},
		{"compress values", map[string]string{"compress": "zstd"}, nil, func(c *Config) bool { return c.Compression == "zstd" }},
		{"compress off", map[string]string{"compress": "off"}, nil, func(c *Config) bool { return c.Compression == "none" }},
		{"compress deflate level", map[string]string{"compress": "deflate", "compression_level": "9"}, nil,
			func(c *Config) bool { return c.Compression == "deflate" && c.CompressionLevel == 9 }},
		{"shaping keys", map[string]string{"dd_service": "s", "dd_source": "src", "dd_tags": "env:prod", "dd_message_key": "log",
			"dd_hostname": "h", "provider": "ECS", "include_tag_key": "true", "tag_key": "t"}, nil,
			func(c *Config) bool {
				return c.Service == "s" && c.Source == "src" && c.Tags == "env:prod" && c.MessageKey == "log" &&
					c.Hostname == "h" && c.Provider == "ecs" && c.IncludeTagKey && c.TagKey == "t"
			}},
		{"json_date_key off", map[string]string{"json_date_key": "false"}, nil, func(c *Config) bool { return c.JSONDateKey == "" }},
		{"json_date_key custom", map[string]string{"json_date_key": "@timestamp"}, nil, func(c *Config) bool { return c.JSONDateKey == "@timestamp" }},
		{"header", map[string]string{"header": "X-Team  web"}, nil,
			func(c *Config) bool { return len(c.Headers) == 1 && c.Headers[0] == Header{"X-Team", "web"} }},
		{"proxy", map[string]string{"proxy": "http://proxy:3128"}, nil, func(c *Config) bool { return c.Proxy == "http://proxy:3128" }},
		{"durations", map[string]string{"timeout": "5", "retry_budget": "2m", "ecs_metadata_refresh": "30s", "stats_interval": "0"}, nil,
			func(c *Config) bool {
				return c.Timeout == 5*time.Second && c.RetryBudget == 2*time.Minute && c.ECSRefresh == 30*time.Second && c.StatsInterval == 0
			}},
		{"sizes", map[string]string{"max_batch_bytes": "512KB", "max_batch_entries": "200"}, nil,
			func(c *Config) bool { return c.MaxBatchBytes == 512000 && c.MaxBatchEntries == 200 }},
		{"tls", map[string]string{"tls_verify": "off", "tls_ca_file": "/ca.pem"}, nil,
			func(c *Config) bool { return !c.TLSVerify && c.TLSCAFile == "/ca.pem" }},
		{"ecs options", map[string]string{"ecs_tag_style": "both", "detect_status": "on", "stderr_status": "ERROR"},
			map[string]string{"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc", "DD_ENV": "prod", "DD_VERSION": "1.2", "DD_SERVICE": "svc"},
			func(c *Config) bool {
				return c.ECSTagStyle == "both" && c.DetectStatus && c.StderrStatus == "error" &&
					c.ECSMetadataURI == "http://169.254.170.2/v4/abc" && c.Env == "prod" && c.Version == "1.2" && c.EnvService == "svc"
			}},
		{"ecs metadata off", map[string]string{"ecs_metadata_uri": "off"}, map[string]string{"ECS_CONTAINER_METADATA_URI_V4": "http://x/v4"},
			func(c *Config) bool { return c.ECSMetadataURI == "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"apikey": key}
			for k, v := range tc.props {
				props[k] = v
			}
			c, err := parseMap(props, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		props   map[string]string
		env     map[string]string
		wantKey string
	}{
		{map[string]string{"apikey": ""}, nil, "apikey:"},
		{map[string]string{"apikey": "", "apikey_file": "/missing"}, nil, "apikey_file:"},
		{map[string]string{"apikey": "", "apikey_file": "/empty"}, nil, "apikey_file:"},
		{map[string]string{"site": "datadoghq.org"}, nil, "site:"},
		{map[string]string{"endpoint": "ftp://x"}, nil, "endpoint:"},
		{map[string]string{"endpoint": "http://"}, nil, "endpoint:"},
		{map[string]string{"compress": "brotli"}, nil, "compress:"},
		{map[string]string{"compression_level": "12"}, nil, "compression_level:"},
		{map[string]string{"compress": "zstd", "compression_level": "7"}, nil, "compression_level:"},
		{map[string]string{"provider": "k8s"}, nil, "provider:"},
		{map[string]string{"timeout": "soon"}, nil, "timeout:"},
		{map[string]string{"timeout": "0"}, nil, "timeout:"},
		{map[string]string{"tls_verify": "maybe"}, nil, "tls_verify:"},
		{map[string]string{"tls_ca_file": "/nope.pem"}, nil, "tls_ca_file:"},
		{map[string]string{"max_batch_entries": "1001"}, nil, "max_batch_entries:"},
		{map[string]string{"max_batch_bytes": "6MB"}, nil, "max_batch_bytes:"},
		{map[string]string{"max_retries": "-1"}, nil, "max_retries:"},
		{map[string]string{"max_concurrency": "0"}, nil, "max_concurrency:"},
		{map[string]string{"proxy": "proxy:3128"}, nil, "proxy:"},
		{map[string]string{"header": "X-Only"}, nil, "header:"},
		{map[string]string{"ecs_tag_style": "fancy"}, nil, "ecs_tag_style:"},
		{map[string]string{"stderr_status": "bad"}, nil, "stderr_status:"},
		{map[string]string{"ecs_metadata_uri": "not a url"}, nil, "ecs_metadata_uri:"},
		{map[string]string{"include_tag_key": "2"}, nil, "include_tag_key:"},
	}
	for _, tc := range cases {
		props := map[string]string{"apikey": key}
		for k, v := range tc.props {
			props[k] = v
		}
		_, err := parseMap(props, tc.env)
		if err == nil {
			t.Errorf("%v: accepted", tc.props)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.wantKey) {
			t.Errorf("%v: error %q does not start with %q", tc.props, err, tc.wantKey)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("%v: error leaks the API key", tc.props)
		}
		if errors.Unwrap(err) == nil && strings.Contains(err.Error(), "%!") {
			t.Errorf("bad format: %v", err)
		}
	}
}

func TestStringNeverShowsKey(t *testing.T) {
	c, err := parseMap(map[string]string{"apikey": key, "dd_tags": "oops:" + key, "proxy": "http://user:secret@proxy:3128"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, key) || strings.Contains(s, key[:8]) || strings.Contains(s, "secret") {
		t.Errorf("String leaks: %s", s)
	}
	if !strings.Contains(s, "apikey=<from apikey>") {
		t.Errorf("String: %s", s)
	}
}

// No secret in the start-up line or in a configuration error: endpoint
// userinfo, proxy credentials (also when the proxy value does not parse) and
// header values. (Before: the endpoint's userinfo was printed, an invalid
// proxy was echoed whole, a bad header was echoed whole.)
func TestSecretsNeverPrinted(t *testing.T) {
	ok, err := parseMap(map[string]string{"apikey": key, "endpoint": "https://relayuser:relaypass@relay.example/in",
		"header": "X-Relay-Token tok-abcdef123"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{ok.String()}
	for _, bad := range []map[string]string{
		{"apikey": key, "proxy": "http://proxyuser:proxypass@proxy:31x8"},
		{"apikey": key, "proxy": "proxyuser:proxypass@proxy"},
		{"apikey": key, "endpoint": "ftp://relayuser:relaypass@relay"},
		{"apikey": key, "endpoint": "http://relayuser:relaypass@"},
		{"apikey": key, "header": "X-Relay-Token:tok-abcdef123"},
		{"apikey": key, "header": "X-Relay-Token tok-abcdef123\nInjected: x"},
	} {
		_, err := parseMap(bad, nil)
		if err == nil {
			t.Fatalf("%v accepted", bad)
		}
		lines = append(lines, err.Error())
	}
	for _, l := range lines {
		for _, secret := range []string{"relaypass", "proxypass", "tok-abcdef123", key[:8]} {
			if strings.Contains(l, secret) {
				t.Errorf("%q in %q", secret, l)
			}
		}
	}
	if !strings.Contains(lines[0], "url=https://****@relay.example/in") || !strings.Contains(lines[0], "header=X-Relay-Token:****") {
		t.Errorf("start-up line: %s", lines[0])
	}
	if got := ok.Secrets().Scrub("relayuser:relaypass tok-abcdef123 " + key); strings.Contains(got, "relaypass") ||
		strings.Contains(got, "tok-abcdef123") || strings.Contains(got, key) {
		t.Errorf("Secrets misses one: %s", got)
	}
}

// An endpoint without a scheme gets the URL it most likely means: http
// with a port other than 443, else https (issue 32).
func TestEndpointWithoutScheme(t *testing.T) {
	for v, want := range map[string]string{
		"127.0.0.1:18096":             `endpoint: "127.0.0.1:18096" is not a URL: did you mean http://127.0.0.1:18096?`,
		"relay.internal:8080/in":      `did you mean http://relay.internal:8080/in?`,
		"intake.example.com":          `did you mean https://intake.example.com?`,
		"intake.example.com:443":      `did you mean https://intake.example.com:443?`,
		"user:pass@relay.internal:81": `did you mean http://****@relay.internal:81?`,
		"ftp://x":                     `endpoint: "ftp://x": scheme must be http or https`,
	} {
		_, err := parseMap(map[string]string{"apikey": key, "endpoint": v}, nil)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "pass@") {
			t.Errorf("%s: %v, want %q", v, err, want)
		}
	}
}

// dd_tags separated by spaces: kept as written (the built-in sends them so
// too), with a warning giving the comma form (issue 32).
func TestTagsWithSpaces(t *testing.T) {
	c, err := parseMap(map[string]string{"apikey": key, "dd_tags": "env:prod team:web, tier:1"}, nil)
	if err != nil || c.Tags != "env:prod team:web, tier:1" || len(c.Warnings) != 1 ||
		!strings.Contains(c.Warnings[0], "`dd_tags env:prod,team:web,tier:1`") || !strings.Contains(c.Warnings[0], `"env:prod_team:web,_tier:1"`) {
		t.Errorf("%v %+v", err, c)
	}
	for _, ok := range []string{"env:prod,team:web", "env:prod, team:web", " env:prod "} {
		if c, err := parseMap(map[string]string{"apikey": key, "dd_tags": ok}, nil); err != nil || len(c.Warnings) != 0 {
			t.Errorf("%q: %v %q", ok, err, c.Warnings)
		}
	}
}

// The start-up line: url, the key's source and the keys that always
// show, then any other key set to something else than its default.
func TestStartupLine(t *testing.T) {
	c, err := parseMap(map[string]string{"apikey": key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `url=https://http-intake.logs.datadoghq.com/api/v2/logs apikey=<from apikey> compress=zstd dd_service="" dd_source="" dd_tags="" dd_message_key="" provider="" json_date_key="timestamp" timeout=30s tls_verify=true max_retries=5 retry_budget=4s max_concurrency=8 max_batch_entries=1000 max_batch_bytes=5000000`
	if got := c.String(); got != want {
		t.Errorf("defaults:\n%s\nwant\n%s", got, want)
	}
	c, err = parseMap(map[string]string{"apikey": key, "provider": "ecs", "detect_status": "on", "stats_interval": "10s", "compression_level": "3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{" compression_level=3 ", ` provider="ecs" ecs_tag_style=agent ecs_metadata=false `, " detect_status=true ", " stats_interval=10s"} {
		if !strings.Contains(c.String()+" ", f) {
			t.Errorf("%q not in %s", f, c.String())
		}
	}
}

package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/redact"
	"github.com/out-datadog-go/out_datadog_go/internal/status"
)

// DefaultSite is Datadog's US1 site.
const DefaultSite = "datadoghq.com"

// Defaults returns the configuration with every default applied.
func Defaults() Config {
	return Config{
		Site:       DefaultSite,
		Timeout:    30 * time.Second,
		TLSVerify:  true,
		MaxRetries: 5,
		// Fluent Bit waits for a flush in flight before it exits on
		// SIGTERM, and 1.9 crashes when that flush outlives Grace (5 s by
		// default): the budget ends a flush inside it.
		RetryBudget:     4 * time.Second,
		MaxConcurrency:  8, // a full chunk (2 MB, ~5 payloads) in one round trip: benchmarks/RESULTS.md, a distant intake
		Compression:     compress.Gzip,
		MaxBatchEntries: limits.MaxEntries,
		MaxBatchBytes:   limits.MaxBytes,
		JSONDateKey:     "timestamp",
		TagKey:          "tagkey",
		ECSTagStyle:     ecs.StyleAgent,
		ECSRefresh:      5 * time.Minute,
		StatsInterval:   60 * time.Second,
	}
}

// Parse reads an instance's properties. get returns "" for a key that is not
// set (as Fluent Bit's output_get_property does); env is os.Getenv and
// readFile os.ReadFile in production. Every error names the key.
func Parse(get func(string) string, env func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	c := Defaults()
	p := parser{get: get}

	// Where to send.
	if v := p.str("site"); v != "" {
		c.Site = v
	}
	if ep := p.str("endpoint"); ep != "" {
		u, err := parseEndpoint(ep)
		if err != nil {
			return nil, fmt.Errorf("endpoint: %w", err)
		}
		c.URL = u
	} else {
		u, err := SiteURL(c.Site)
		if err != nil {
			return nil, fmt.Errorf("site: %w", err)
		}
		c.URL = u
	}
	switch {
	case p.str("apikey") != "":
		c.APIKey, c.APIKeySrc = p.str("apikey"), "apikey"
	case p.str("apikey_file") != "":
		path := p.str("apikey_file")
		b, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("apikey_file: cannot read %q: %w", path, unwrapPath(err))
		}
		c.APIKey, c.APIKeySrc = strings.TrimSpace(string(b)), "apikey_file"
		if c.APIKey == "" {
			return nil, fmt.Errorf("apikey_file: %q is empty", path)
		}
	case strings.TrimSpace(env("DD_API_KEY")) != "":
		c.APIKey, c.APIKeySrc = strings.TrimSpace(env("DD_API_KEY")), "DD_API_KEY"
	}
	if c.APIKey == "" {
		return nil, errors.New("apikey: no API key: set apikey, apikey_file or the DD_API_KEY environment variable")
	}
	if strings.ContainsAny(c.APIKey, "\r\n\t ") {
		return nil, fmt.Errorf("%s: the API key contains white space", c.APIKeySrc)
	}
	if v := p.str("proxy"); v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("proxy: %q is not an http(s)://host:port URL", redact.URL(v))
		}
		c.Proxy = v
	}
	if v := p.str("header"); v != "" {
		name, value, ok := strings.Cut(v, " ")
		value = strings.TrimSpace(value)
		if !ok || name == "" || value == "" || strings.ContainsAny(name, ":\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("header: want \"Name value\" (a header name, a space, a value without line breaks); got one starting %q", headerName(name))
		}
		c.Headers = append(c.Headers, Header{Name: name, Value: value})
	}

	// Transport.
	p.duration("timeout", &c.Timeout, time.Millisecond, time.Hour)
	p.boolean("tls_verify", &c.TLSVerify)
	if v := p.str("tls_ca_file"); v != "" {
		if _, err := readFile(v); err != nil {
			return nil, fmt.Errorf("tls_ca_file: cannot read %q: %w", v, unwrapPath(err))
		}
		c.TLSCAFile = v
	}
	p.integer("max_retries", &c.MaxRetries, 0, 100)
	p.duration("retry_budget", &c.RetryBudget, time.Second, 24*time.Hour)
	p.integer("max_concurrency", &c.MaxConcurrency, 1, 64)

	// Wire format.
	if v := strings.ToLower(p.str("compress")); v != "" {
		switch v {
		case "gzip", "on", "true", "yes":
			c.Compression = compress.Gzip
		case "deflate", "zlib":
			c.Compression = compress.Deflate
		case "zstd":
			c.Compression = compress.Zstd
		case "none", "off", "false", "no":
			c.Compression = compress.None
		default:
			return nil, fmt.Errorf("compress: unknown value %q (want gzip, deflate, zstd or none)", v)
		}
	}
	p.integer("compression_level", &c.CompressionLevel, -10, 22)
	if p.err == nil && c.CompressionLevel != 0 {
		codec, err := compress.New(c.Compression, c.CompressionLevel)
		if err != nil {
			return nil, fmt.Errorf("compression_level: %w", err)
		}
		codec.Close()
	}
	p.integer("max_batch_entries", &c.MaxBatchEntries, 1, limits.MaxEntries)
	p.size("max_batch_bytes", &c.MaxBatchBytes, 1024, limits.MaxBytes)

	// Record shaping.
	c.Service = p.str("dd_service")
	c.Source = p.str("dd_source")
	c.Tags = p.str("dd_tags")
	c.MessageKey = p.str("dd_message_key")
	c.Hostname = p.str("dd_hostname")
	switch v := Provider(strings.ToLower(p.str("provider"))); v {
	case NoProvider, ProviderECS:
		c.Provider = v
	default:
		return nil, fmt.Errorf("provider: unknown value %q (want ecs or leave unset)", v)
	}
	if v := p.str("json_date_key"); v != "" {
		if b, ok := parseBool(v); ok && !b {
			c.JSONDateKey = ""
		} else {
			c.JSONDateKey = v
		}
	}
	p.boolean("include_tag_key", &c.IncludeTagKey)
	if v := p.str("tag_key"); v != "" {
		c.TagKey = v
	}

	// ECS.
	if v := strings.ToLower(p.str("ecs_tag_style")); v != "" {
		style, ok := ecs.ParseTagStyle(v)
		if !ok {
			return nil, fmt.Errorf("ecs_tag_style: unknown value %q (want agent, builtin or both)", v)
		}
		c.ECSTagStyle = style
	}
	c.ECSMetadataURI = env("ECS_CONTAINER_METADATA_URI_V4")
	if v := p.str("ecs_metadata_uri"); v != "" {
		if b, ok := parseBool(v); ok && !b {
			c.ECSMetadataURI = ""
		} else {
			if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return nil, fmt.Errorf("ecs_metadata_uri: %q is not an http(s) URL", v)
			}
			c.ECSMetadataURI = v
		}
	}
	p.duration("ecs_metadata_refresh", &c.ECSRefresh, time.Second, 24*time.Hour)
	p.boolean("detect_status", &c.DetectStatus)
	if v := strings.ToLower(p.str("stderr_status")); v != "" {
		st, ok := status.Parse(v)
		if !ok {
			return nil, fmt.Errorf("stderr_status: unknown status %q (want emergency, alert, critical, error, warn, notice, info, debug or ok)", v)
		}
		c.StderrStatus = st
	}
	c.Env = env("DD_ENV")
	c.EnvService = env("DD_SERVICE")
	c.Version = env("DD_VERSION")
	if p.str("stats_interval") == "0" {
		c.StatsInterval = 0 // periodic line off; the exit line stays
	} else {
		p.duration("stats_interval", &c.StatsInterval, time.Second, 24*time.Hour)
	}
	if p.err != nil {
		return nil, p.err
	}
	return &c, nil
}

// SiteURL resolves a Datadog site to its logs intake URL with
// datadog-api-client-go's server table, as written out in sites_gen.go
// (TestSiteTable keeps the two equal), so new sites come with the library.
func SiteURL(site string) (string, error) {
	for _, s := range sites {
		if s.name == site {
			return s.url, nil
		}
	}
	return "", fmt.Errorf("unknown Datadog site %q (want one of %s)", site, strings.Join(SiteNames(), ", "))
}

// SiteNames are the sites SiteURL knows, in the table's order.
func SiteNames() []string {
	names := make([]string, len(sites))
	for i, s := range sites {
		names[i] = s.name
	}
	return names
}

func parseEndpoint(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", redact.URL(v))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: scheme must be http or https", redact.URL(v))
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", redact.URL(v))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/v2/logs"
	}
	return u.String(), nil
}

// unwrapPath drops the path from *os.PathError (the message names it already).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parser reads typed values and keeps the first error.
type parser struct {
	get func(string) string
	err error
}

func (p *parser) str(key string) string { return strings.TrimSpace(p.get(key)) }

func (p *parser) fail(key, v, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: invalid value %q (%s)", key, v, want)
	}
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, true
	case "off", "false", "no", "0":
		return false, true
	}
	return false, false
}

func (p *parser) boolean(key string, dst *bool) {
	if v := p.str(key); v != "" {
		b, ok := parseBool(v)
		if !ok {
			p.fail(key, v, "want on/off, true/false, yes/no or 1/0")
			return
		}
		*dst = b
	}
}

func (p *parser) integer(key string, dst *int, min, max int) {
	if v := p.str(key); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			p.fail(key, v, fmt.Sprintf("want an integer from %d to %d", min, max))
			return
		}
		*dst = n
	}
}

// duration accepts Go durations ("10s", "1m30s") or plain seconds ("10").
func (p *parser) duration(key string, dst *time.Duration, min, max time.Duration) {
	v := p.str(key)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			p.fail(key, v, "want a duration such as 10s, 500ms or plain seconds")
			return
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < min || d > max {
		p.fail(key, v, fmt.Sprintf("want between %s and %s", min, max))
		return
	}
	*dst = d
}

// size accepts bytes ("5000000") or units ("512K", "5M", "5MB"; K=1000).
func (p *parser) size(key string, dst *int, min, max int) {
	v := p.str(key)
	if v == "" {
		return
	}
	s := strings.ToUpper(strings.TrimSuffix(strings.ToUpper(v), "B"))
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1000, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1000*1000, strings.TrimSuffix(s, "M")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	n := int(f * float64(mult))
	if err != nil || n < min || n > max {
		p.fail(key, v, fmt.Sprintf("want a size from %d to %d bytes (K and M units allowed)", min, max))
		return
	}
	*dst = n
}

// String renders the effective configuration for the start-up log line. It
// never shows any character of the API key: only where it came from.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "url=%s apikey=<from %s> compress=%s", redact.URL(c.URL), c.APIKeySrc, c.Compression)
	if c.CompressionLevel != 0 {
		fmt.Fprintf(&b, " compression_level=%d", c.CompressionLevel)
	}
	fmt.Fprintf(&b, " dd_service=%q dd_source=%q dd_tags=%q dd_message_key=%q provider=%q json_date_key=%q",
		c.Service, c.Source, c.Tags, c.MessageKey, c.Provider, c.JSONDateKey)
	fmt.Fprintf(&b, " max_batch_entries=%d max_batch_bytes=%d timeout=%s max_retries=%d retry_budget=%s max_concurrency=%d tls_verify=%t",
		c.MaxBatchEntries, c.MaxBatchBytes, c.Timeout, c.MaxRetries, c.RetryBudget, c.MaxConcurrency, c.TLSVerify)
	if c.Proxy != "" {
		fmt.Fprintf(&b, " proxy=%s", redact.URL(c.Proxy))
	}
	if c.Provider == ProviderECS {
		fmt.Fprintf(&b, " ecs_tag_style=%s ecs_metadata=%t", c.ECSTagStyle, c.ECSMetadataURI != "")
	}
	for _, h := range c.Headers {
		fmt.Fprintf(&b, " header=%s:****", h.Name)
	}
	// Belt and braces: a secret pasted into another option.
	return c.Secrets().Scrub(b.String())
}

// Secrets are the values the plugin must never print: the API key, the
// values of header, and the credentials of the endpoint and proxy URLs.
func (c *Config) Secrets() *redact.Secrets {
	values := make([]string, len(c.Headers))
	for i, h := range c.Headers {
		values[i] = h.Value
	}
	return redact.Of(c.APIKey, []string{c.URL, c.Proxy}, values)
}

// headerName is the part of a bad header value safe to echo: its leading
// run of header-name characters (letters, digits, '-', '_'), at most 40, so
// a value glued to the name ("X-Token:abc") is never printed.
func headerName(name string) string {
	i := 0
	for i < len(name) && i < 40 {
		c := name[i]
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			break
		}
		i++
	}
	return name[:i]
}

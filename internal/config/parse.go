package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/redact"
)

// DefaultSite is Datadog's US1 site.
const DefaultSite = "datadoghq.com"

// Parse reads an instance's properties. get returns "" for a key that is not
// set (as Fluent Bit's output_get_property does), and the first value of a
// key set several times; env is os.Getenv and readFile os.ReadFile in
// production. Every error names the key.
func Parse(get func(string) string, env func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	c := Defaults()
	c.ECSMetadataURI = env("ECS_CONTAINER_METADATA_URI_V4") // unless ecs_metadata_uri says otherwise
	for _, k := range keys {
		if v := strings.TrimSpace(get(k.name)); v != "" {
			if err := k.set(&c, v); err != nil {
				return nil, fmt.Errorf("%s: %w", k.name, err)
			}
		}
	}

	// The rules that span keys.
	if c.URL == "" { // endpoint overrides site
		c.URL, _ = SiteURL(c.Site) // a site its setter checked
	}
	if err := c.apiKey(env, readFile); err != nil {
		return nil, err
	}
	if c.Proxy == "" { // the proxy key wins over the environment
		var err error
		if c.Proxy, c.ProxyFrom, err = envProxy(c.URL, env); err != nil {
			return nil, err
		}
	}
	if c.TLSCAFile != "" {
		if _, err := readFile(c.TLSCAFile); err != nil {
			return nil, fmt.Errorf("tls_ca_file: cannot read %q: %w", c.TLSCAFile, unwrapPath(err))
		}
	}
	if c.CompressionLevel != 0 { // a level the codec takes
		codec, err := compress.New(c.Compression, c.CompressionLevel)
		if err != nil {
			return nil, fmt.Errorf("compression_level: %w", err)
		}
		codec.Close()
	}
	c.Env, c.EnvService, c.Version = env("DD_ENV"), env("DD_SERVICE"), env("DD_VERSION")
	return &c, nil
}

// apiKey takes the key from apikey, else apikey_file, else DD_API_KEY.
func (c *Config) apiKey(env func(string) string, readFile func(string) ([]byte, error)) error {
	switch {
	case c.APIKey != "":
	case c.APIKeyFile != "":
		b, err := readFile(c.APIKeyFile)
		if err != nil {
			return fmt.Errorf("apikey_file: cannot read %q: %w", c.APIKeyFile, unwrapPath(err))
		}
		c.APIKey, c.APIKeySrc = strings.TrimSpace(string(b)), "apikey_file"
		if c.APIKey == "" {
			return fmt.Errorf("apikey_file: %q is empty", c.APIKeyFile)
		}
	case strings.TrimSpace(env("DD_API_KEY")) != "":
		c.APIKey, c.APIKeySrc = strings.TrimSpace(env("DD_API_KEY")), "DD_API_KEY"
	default:
		return errors.New("apikey: no API key: set apikey, apikey_file or the DD_API_KEY environment variable")
	}
	if strings.ContainsAny(c.APIKey, "\r\n\t ") {
		return fmt.Errorf("%s: the API key contains white space", c.APIKeySrc)
	}
	return nil
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

// unwrapPath drops the path from *os.PathError (the message names it already).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// String renders the effective configuration for the start-up log line,
// from the keys table: url and the API key's source, then every key whose
// row always shows or whose value is not its default. It never shows any
// character of the API key or of a header's value.
func (c *Config) String() string {
	var b strings.Builder
	for _, k := range keys {
		if k.show == nil {
			continue
		}
		vs := k.show(c)
		if !k.always && slices.Equal(vs, k.show(&defaults)) {
			continue
		}
		name := k.name
		if k.label != "" {
			name = k.label
		}
		for _, v := range vs {
			fmt.Fprintf(&b, " %s=%s", name, v)
		}
	}
	// Belt and braces: a secret pasted into another option.
	return c.Secrets().Scrub(strings.TrimPrefix(b.String(), " "))
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

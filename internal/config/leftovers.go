package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Section is this instance's section of Fluent Bit's configuration files,
// its values expanded as Fluent Bit expands them: what output_get_property
// does not give the plugin (package flbconf reads and finds it; its
// *Section has these methods).
type Section interface {
	// Values are every value of key (any case), in order; none when unset.
	Values(key string) []string
	// Keys are the section's keys as written, in order.
	Keys() []string
}

// ApplySection takes from the instance's section what Fluent Bit does not
// pass a Go plugin: every header line (output_get_property gives the
// first), and the built-in datadog output's destination keys, which
// Fluent Bit keeps to itself. A leftover that agrees with where the plugin
// sends is fine; one naming a Datadog site's intake picks that site, with
// a warning; one that would send elsewhere stops start-up with the fix.
// get is the instance's output_get_property. It returns the warnings to
// log and the first error (which names the key).
func (c *Config) ApplySection(s Section, get func(string) string) (warnings []string, err error) {
	if lines := s.Values("header"); len(lines) > 1 {
		c.Headers = nil
		for _, l := range lines {
			if err := setHeader(c, strings.TrimSpace(l)); err != nil {
				return nil, fmt.Errorf("header: %w", err)
			}
		}
	}
	return leftoversOf(s).apply(c, get)
}

// leftovers are the built-in datadog output's destination keys found in
// this instance's section.
type leftovers struct {
	host, port string
	tls        string      // "" when not set
	tlsKeys    [][2]string // tls.* keys as written, and their values
}

func leftoversOf(s Section) leftovers {
	first := func(k string) string {
		if vs := s.Values(k); len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	l := leftovers{host: strings.ToLower(first("host")), port: first("port"), tls: strings.ToLower(first("tls"))}
	for _, k := range s.Keys() {
		if strings.HasPrefix(strings.ToLower(k), "tls.") {
			l.tlsKeys = append(l.tlsKeys, [2]string{k, first(k)})
		}
	}
	return l
}

// apply makes the leftovers work when they agree with the configuration or
// name a Datadog site, and stops start-up with the fix otherwise.
func (l leftovers) apply(c *Config, get func(string) string) ([]string, error) {
	if err := l.checkTLS(c); err != nil {
		return nil, err
	}
	endpoint := strings.TrimSpace(get("endpoint"))
	if endpoint != "" {
		return nil, l.agree(endpoint)
	}
	if l.host == "" {
		if l.port != "" && l.port != "443" {
			return nil, fmt.Errorf("Port: datadog_go does not read Port (Fluent Bit keeps it): to send to another port, set endpoint (a full URL) and remove Port")
		}
		return nil, nil
	}
	site := siteOfHost(l.host)
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

// agree checks Host and Port against the endpoint the plugin sends to:
// saying the same again is fine (Port as the URL's port, written or its
// scheme's); naming another destination stops start-up.
func (l leftovers) agree(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil // Parse refused it already
	}
	if l.host != "" && !strings.EqualFold(u.Hostname(), l.host) {
		return fmt.Errorf("Host: %s, but endpoint sends elsewhere: datadog_go does not read Host (Fluent Bit keeps it); remove Host", l.host)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if l.port != "" && l.port != port {
		return fmt.Errorf("Port: %s, but endpoint sends to port %s: datadog_go does not read Port (Fluent Bit keeps it); remove Port, or put the port in endpoint", l.port, port)
	}
	return nil
}

// checkTLS refuses the keys of Fluent Bit's own TLS, but for tls.verify and
// tls.ca_file saying what tls_verify and tls_ca_file say.
func (l leftovers) checkTLS(c *Config) error {
	for _, kv := range l.tlsKeys {
		fix := "remove it"
		switch k, v := strings.ToLower(kv[0]), kv[1]; k {
		case "tls.verify":
			if b, ok := parseBool(v); ok && b == c.TLSVerify {
				continue
			}
			fix = "use tls_verify instead"
		case "tls.ca_file", "tls.ca_path":
			if k == "tls.ca_file" && v == c.TLSCAFile {
				continue
			}
			fix = "use tls_ca_file (a PEM bundle) instead"
		}
		return fmt.Errorf("%s: a key of Fluent Bit's own TLS, which datadog_go does not use: %s", kv[0], fix)
	}
	return nil
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

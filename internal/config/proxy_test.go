package config

import (
	"strings"
	"testing"
)

// Proxies from the environment, as Go's net/http reads them
// (golang.org/x/net/http/httpproxy, which http.ProxyFromEnvironment uses):
// HTTPS_PROXY for an https intake, HTTP_PROXY for an http one, NO_PROXY's
// exceptions, lower-case names after upper-case ones, HTTP_PROXY ignored in
// a CGI process; the proxy key wins. The start-up line names the proxy with
// its credentials masked, and where it came from.
func TestProxyFromEnvironment(t *testing.T) {
	cases := []struct {
		name       string
		props, env map[string]string
		proxy      string // the proxy used
		line       string // in the start-up line ("" : no proxy field)
	}{
		{"none", nil, nil, "", ""},
		{"HTTPS_PROXY for the https intake", nil, map[string]string{"HTTPS_PROXY": "http://u:secretpw@proxy.internal:3128", "HTTP_PROXY": "http://other:1"},
			"http://u:secretpw@proxy.internal:3128", " proxy=http://****@proxy.internal:3128 proxy_from=HTTPS_PROXY"},
		{"lower case", nil, map[string]string{"https_proxy": "proxy.internal:3128"}, "http://proxy.internal:3128",
			" proxy=http://proxy.internal:3128 proxy_from=https_proxy"},
		{"HTTP_PROXY is not for https", nil, map[string]string{"HTTP_PROXY": "http://proxy.internal:3128"}, "", ""},
		{"HTTP_PROXY for an http endpoint", map[string]string{"endpoint": "http://relay.internal:8080"},
			map[string]string{"HTTP_PROXY": "http://proxy.internal:3128"}, "http://proxy.internal:3128", " proxy=http://proxy.internal:3128 proxy_from=HTTP_PROXY"},
		{"not in a CGI process", map[string]string{"endpoint": "http://relay.internal:8080"},
			map[string]string{"HTTP_PROXY": "http://proxy.internal:3128", "REQUEST_METHOD": "GET"}, "", ""},
		{"NO_PROXY", nil, map[string]string{"HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "169.254.170.2,.datadoghq.com"},
			"", " proxy=none proxy_from=NO_PROXY"},
		{"NO_PROXY elsewhere", nil, map[string]string{"HTTPS_PROXY": "http://proxy.internal:3128", "no_proxy": "169.254.170.2,.example.com"},
			"http://proxy.internal:3128", " proxy=http://proxy.internal:3128 proxy_from=HTTPS_PROXY"},
		{"a loopback endpoint is never proxied", map[string]string{"endpoint": "http://127.0.0.1:8080"},
			map[string]string{"HTTP_PROXY": "http://proxy.internal:3128"}, "", " proxy=none proxy_from=NO_PROXY"},
		{"the key wins", map[string]string{"proxy": "http://key.internal:3128"},
			map[string]string{"HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "*"}, "http://key.internal:3128", " proxy=http://key.internal:3128"},
	}
	for _, c := range cases {
		props := map[string]string{"apikey": key}
		for k, v := range c.props {
			props[k] = v
		}
		cfg, err := parseMap(props, c.env)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if cfg.Proxy != c.proxy {
			t.Errorf("%s: proxy %q, want %q", c.name, cfg.Proxy, c.proxy)
		}
		line := cfg.String()
		if c.line == "" && strings.Contains(line, "proxy") || c.line != "" && !strings.Contains(line, c.line+" ") && !strings.HasSuffix(line, c.line) {
			t.Errorf("%s: start-up line %q, want %q in it", c.name, line, c.line)
		}
		if strings.Contains(line, "secretpw") || strings.Contains(cfg.Secrets().Scrub("pw=secretpw"), "secretpw") && strings.Contains(c.proxy, "secretpw") {
			t.Errorf("%s: the proxy's password is not held secret: %q", c.name, line)
		}
	}
	_, err := parseMap(map[string]string{"apikey": key}, map[string]string{"HTTPS_PROXY": "http://u:pw@bad host:3128"})
	if err == nil || !strings.HasPrefix(err.Error(), "HTTPS_PROXY: ") || strings.Contains(err.Error(), "pw") {
		t.Errorf("a bad HTTPS_PROXY: %v", err)
	}
}

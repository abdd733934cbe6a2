package config

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/out-datadog-go/out_datadog_go/internal/redact"
)

// envProxy is the proxy the environment names for requests to intake, read
// as Go's net/http reads it (http.ProxyFromEnvironment is httpproxy's
// FromEnvironment): HTTPS_PROXY for an https intake, HTTP_PROXY for an
// http one (ignored in a CGI process, REQUEST_METHOD set), NO_PROXY's
// exceptions, the upper-case names first, then the lower-case ones; a
// localhost or loopback intake is never proxied. from names the variable
// that decided: the one whose proxy is used, NO_PROXY when it exempts the
// intake, "" when the environment names no proxy. A value that is not a
// proxy URL is an error naming the variable.
func envProxy(intake string, env func(string) string) (proxy, from string, err error) {
	u, err := url.Parse(intake)
	if err != nil {
		return "", "", err
	}
	pick := func(names ...string) (string, string) {
		for _, n := range names {
			if v := env(n); v != "" {
				return v, n
			}
		}
		return "", ""
	}
	httpsVal, httpsVar := pick("HTTPS_PROXY", "https_proxy")
	httpVal, httpVar := pick("HTTP_PROXY", "http_proxy")
	noVal, noVar := pick("NO_PROXY", "no_proxy")
	cgi := env("REQUEST_METHOD") != ""
	from = httpsVar
	if u.Scheme == "http" {
		from = httpVar
		if cgi {
			from = ""
		}
	}
	if from == "" {
		return "", "", nil
	}
	// httpproxy ignores a value that does not parse, and the requests
	// would go direct: say so at start-up instead.
	if !parsesAsProxy(env(from)) {
		return "", "", fmt.Errorf("%s: %q is not a proxy URL (want http://host:port)", from, redact.URL(env(from)))
	}
	cfg := httpproxy.Config{HTTPSProxy: httpsVal, HTTPProxy: httpVal, NoProxy: noVal, CGI: cgi}
	p, err := cfg.ProxyFunc()(u)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", from, err)
	}
	if p == nil {
		if noVar == "" {
			noVar = "NO_PROXY" // localhost and loopback addresses are never proxied
		}
		return "", noVar, nil
	}
	return p.String(), from, nil
}

// parsesAsProxy: an http, https or socks5 URL with a host, or a bare
// host:port, which httpproxy takes as http://host:port.
func parsesAsProxy(v string) bool {
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	return err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "socks5")
}

package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/redact"
	"github.com/out-datadog-go/out_datadog_go/internal/status"
)

// A param is one key of a datadog_go [OUTPUT] section, declared once: its
// name, its default as a user writes it, the sentence docs/configuration.md
// gives it, how its value is read and how the start-up line shows it.
// Keys, Defaults, Parse, the start-up line (String) and the docs table's
// check (TestDocsConfigTable) all come from the table below.
//
// To add a key: add its field to Config, then one row to keys, in the
// place the docs table should list it, for example
//
//	{name: "max_widgets", def: "8", doc: "Widgets per flush.",
//		set:  integer(1, 64, func(c *Config) *int { return &c.MaxWidgets }),
//		show: showInt(func(c *Config) int { return c.MaxWidgets })},
//
// (text, boolean, integer, duration and size read the common types; a key
// of its own gets a setter function), then run
// `go test ./internal/config -run TestDocsConfigTable -update` to write the
// row into docs/configuration.md. A rule that spans keys goes in Parse
// after the loop, not in a setter.
type param struct {
	name string
	def  string // the default, as written in the docs ("" for none)
	doc  string // docs/configuration.md's "meaning" cell
	// set reads a value (trimmed, never empty) into c; its error says
	// what is wanted (Parse prefixes the key's name).
	set func(c *Config, v string) error
	// show gives the start-up line's values of the key (one "key=value"
	// each); nil: never shown. always: shown even when it is the
	// default; else only when it is not.
	show   func(c *Config) []string
	always bool
	label  string // the start-up line's name for it, when not name
}

// keys are every key of the section, in the docs table's order.
var keys = []param{
	{name: "site", def: DefaultSite, set: setSite,
		doc: "Datadog site: " + siteList() + ". The plugin sends to that site's logs intake, `https://http-intake.logs.<site>/api/v2/logs` (datadog-api-client-go's server table, checked against the library by a test)."},
	{name: "endpoint", set: setEndpoint, label: "url", always: true, show: func(c *Config) []string { return one(redact.URL(c.URL)) },
		doc: "Full intake URL (a proxy, a relay, `http://127.0.0.1:8080`); overrides `site`. `/api/v2/logs` is appended when the URL has no path."},
	{name: "apikey", label: "apikey", always: true, show: func(c *Config) []string { return one("<from " + c.APIKeySrc + ">") },
		set: func(c *Config, v string) error { c.APIKey, c.APIKeySrc = v, "apikey"; return nil },
		doc: "Datadog API key. Falls back to `apikey_file`, then the `DD_API_KEY` environment variable; start-up fails without one. Never logged."},
	{name: "apikey_file", set: func(c *Config, v string) error { c.APIKeyFile = v; return nil },
		doc: "File holding the API key (a mounted secret); white space around it is trimmed."},
	{name: "compress", def: "zstd", set: setCompress, always: true, show: func(c *Config) []string { return one(string(c.Compression)) },
		doc: "`zstd`, `gzip`, `deflate` or `none` (`on`/`off` also accepted: `on` is gzip). zstd at its fastest level is what the Datadog Agent sends: the smallest payloads for the least CPU. If the path to the intake refuses zstd (an HTTP 415, or a 400 naming the encoding: a relay or proxy that does not speak it), the output switches to gzip for good, sends that payload again and logs one warning."},
	{name: "compression_level", set: integer(-10, 22, func(c *Config) *int { return &c.CompressionLevel }),
		show: func(c *Config) []string { return one(strconv.Itoa(c.CompressionLevel)) },
		doc:  "Unset: zstd's fastest level (1), gzip's and deflate's level 6. 1..4 selects zstd's, -2..9 gzip's or deflate's (klauspost/compress). Trade-offs: [benchmarks](../benchmarks/README.md#compression-levels)."},
	{name: "dd_service", set: text(func(c *Config) *string { return &c.Service }), always: true, show: quoted(func(c *Config) string { return c.Service }),
		doc: "`service` of every log, below the record's own and the container's labels ([log format](log-format.md#what-a-log-looks-like))."},
	{name: "dd_source", set: text(func(c *Config) *string { return &c.Source }), always: true, show: quoted(func(c *Config) string { return c.Source }),
		doc: "`ddsource` of every log, below the record's own and the container's `com.datadoghq.ad.logs` label."},
	{name: "dd_tags", set: setTags, always: true, show: quoted(func(c *Config) string { return c.Tags }),
		doc: "Tags added to every log, `key:value,key:value` (tags separated by spaces start with a warning showing the comma form). Its `env:`/`version:` are the lowest-priority unified service tags."},
	{name: "dd_message_key", set: text(func(c *Config) *string { return &c.MessageKey }), always: true, show: quoted(func(c *Config) string { return c.MessageKey }),
		doc: "Record key whose value becomes `message`. Unset: `log`, else `message`."},
	{name: "dd_hostname", set: text(func(c *Config) *string { return &c.Hostname }), show: quoted(func(c *Config) string { return c.Hostname }),
		doc: "`hostname` of every log, unless the record has one."},
	{name: "provider", set: setProvider, always: true, show: quoted(func(c *Config) string { return string(c.Provider) }),
		doc: "`ecs`: FireLens' ECS fields, and the task metadata endpoint's, become the Agent's tags ([tags](log-format.md#tags))."},
	{name: "ecs_tag_style", def: "agent", set: setTagStyle, always: true, show: ifECS(func(c *Config) string { return string(c.ECSTagStyle) }),
		doc: "`agent`: the Datadog Agent's tag names; `builtin`: the built-in output's; `both`."},
	{name: "ecs_metadata_uri", set: setMetadataURI, label: "ecs_metadata", always: true, show: ifECS(func(c *Config) string { return strconv.FormatBool(c.ECSMetadataURI != "") }),
		doc: "Task metadata endpoint (v4) for the service, image, availability zone and container labels. Unset: the `ECS_CONTAINER_METADATA_URI_V4` environment variable, which ECS sets in every container; `off` disables it. Read in the background, never on the flush path."},
	{name: "ecs_metadata_refresh", def: "5m", set: duration(time.Second, 24*time.Hour, func(c *Config) *time.Duration { return &c.ECSRefresh }),
		show: showDuration(func(c *Config) time.Duration { return c.ECSRefresh }),
		doc:  "How often the task metadata is read again."},
	{name: "json_date_key", def: "timestamp", set: setDateKey, always: true, show: quoted(func(c *Config) string { return c.JSONDateKey }),
		doc: "Attribute holding the event time in milliseconds; `false` leaves it out."},
	{name: "include_tag_key", def: "false", set: boolean(func(c *Config) *bool { return &c.IncludeTagKey }),
		show: showBool(func(c *Config) bool { return c.IncludeTagKey }),
		doc:  "Add the Fluent Bit tag as an attribute named by `tag_key`."},
	{name: "tag_key", def: "tagkey", set: text(func(c *Config) *string { return &c.TagKey }), show: quoted(func(c *Config) string { return c.TagKey }),
		doc: "Name of that attribute."},
	{name: "detect_status", def: "off", set: boolean(func(c *Config) *bool { return &c.DetectStatus }),
		show: showBool(func(c *Config) bool { return c.DetectStatus }),
		doc:  "Take a leading level of a plain-text message (`ERROR ...`, `[warn] ...`, `<time> INFO ...`, `level=error`) as its `status`."},
	{name: "stderr_status", set: setStderrStatus, show: quoted(func(c *Config) string { return string(c.StderrStatus) }),
		doc: "`status` of `source: stderr` records that carry no level, for example `error` (the Agent's choice for stderr)."},
	{name: "auto_multiline", def: "off", set: boolean(func(c *Config) *bool { return &c.AutoMultiline }),
		show: showBool(func(c *Config) bool { return c.AutoMultiline }),
		doc:  "Send a stack trace, and any log of several lines, as one log: a stream's lines are grouped by their shape, as the Datadog Agent's automatic multi-line detection does ([log format](log-format.md#multi-line-logs)). A container's `multi_line` rule, and its label's `auto_multi_line_detection`, win over it."},
	{name: "proxy", set: setProxy, show: showProxy,
		doc: "HTTP proxy for the intake, `http://host:port` (`http://user:password@host:port` with credentials). Unset: the environment's proxy, read as Go's `net/http` reads it ([below](#environment)). The key wins over the environment. The start-up line names the proxy, its credentials masked (`proxy=http://****@10.0.0.5:3128 proxy_from=HTTPS_PROXY`)."},
	{name: "header", set: setHeader, show: func(c *Config) []string {
		names := make([]string, len(c.Headers))
		for i, h := range c.Headers {
			names[i] = h.Name + ":****"
		}
		return names
	},
		doc: "An extra request header, `Name value`; one line per header, as many as needed (each is sent, two of one name as two). Every request also names the plugin (`DD-EVP-ORIGIN: out_datadog_go`, `DD-EVP-ORIGIN-VERSION`), which `header` cannot change."},
	{name: "timeout", def: "30s", set: duration(time.Millisecond, time.Hour, func(c *Config) *time.Duration { return &c.Timeout }),
		always: true, show: showDuration(func(c *Config) time.Duration { return c.Timeout }),
		doc: "One HTTP request, answer included. A request also ends when its flush's `retry_budget` does, so by default the budget is the bound. Durations (`500ms`, `1m`) or seconds."},
	{name: "tls_verify", def: "on", set: boolean(func(c *Config) *bool { return &c.TLSVerify }),
		always: true, show: showBool(func(c *Config) bool { return c.TLSVerify }),
		doc: "Verify the intake's certificate."},
	{name: "tls_ca_file", set: text(func(c *Config) *string { return &c.TLSCAFile }), show: quoted(func(c *Config) string { return c.TLSCAFile }),
		doc: "Extra CA bundle (PEM), for a TLS-intercepting proxy or a private relay."},
	{name: "max_retries", def: "5", set: integer(0, 100, func(c *Config) *int { return &c.MaxRetries }),
		always: true, show: showInt(func(c *Config) int { return c.MaxRetries }),
		doc: "Retries of one payload inside a flush (exponential backoff with full jitter, `Retry-After` honoured) before the chunk goes back to Fluent Bit with `FLB_RETRY`."},
	// Fluent Bit waits for a flush in flight before it exits on SIGTERM,
	// and 1.9 crashes when that flush outlives Grace (5 s by default): the
	// default budget ends a flush inside it.
	{name: "retry_budget", def: "4s", set: duration(time.Second, 24*time.Hour, func(c *Config) *time.Duration { return &c.RetryBudget }),
		always: true, show: showDuration(func(c *Config) time.Duration { return c.RetryBudget }),
		doc: "Time of one flush: its requests and retries end with it, no retry sleeps past it. Once the intake has failed for this long, it is down: one probe request at a time, new chunks go back to Fluent Bit at once between probes ([delivery](delivery.md#outages)). The default ends the flush in flight at a stop inside Fluent Bit's default `Grace` (5 s): raise it only with `Grace` and the task's `stopTimeout`."},
	// A full chunk (2 MB, ~5 payloads) in one round trip to the intake:
	// benchmarks/RESULTS.md, a distant intake.
	{name: "max_concurrency", def: "8", set: integer(1, 64, func(c *Config) *int { return &c.MaxConcurrency }),
		always: true, show: showInt(func(c *Config) int { return c.MaxConcurrency }),
		doc: "Payloads of one chunk in flight at once: a full Fluent Bit chunk (2 MB, about five payloads) goes out in one round trip to the intake ([sizing](deploy.md#sizing-a-router))."},
	{name: "max_batch_entries", def: strconv.Itoa(limits.MaxEntries), set: integer(1, limits.MaxEntries, func(c *Config) *int { return &c.MaxBatchEntries }),
		always: true, show: showInt(func(c *Config) int { return c.MaxBatchEntries }),
		doc: "Entries per request, at most the intake's 1,000."},
	{name: "max_batch_bytes", def: strconv.Itoa(limits.MaxBytes), set: size(1024, limits.MaxBytes, func(c *Config) *int { return &c.MaxBatchBytes }),
		always: true, show: showInt(func(c *Config) int { return c.MaxBatchBytes }),
		doc: "Uncompressed bytes per request (`512K`, `5M` accepted), at most the intake's 5 MB. A record larger than this has its message cut to fit."},
	{name: "stats_interval", def: "60s", set: setStatsInterval, show: showDuration(func(c *Config) time.Duration { return c.StatsInterval }),
		doc: "Period of the counters line in Fluent Bit's log ([operations](operations.md#the-stats-line)); `0` leaves only the line at exit."},
}

// Keys are the names of every key, in the docs table's order.
var Keys = func() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return names
}()

// defaults is every key's default applied to an empty Config.
var defaults = func() Config {
	var c Config
	for _, k := range keys {
		if k.def == "" {
			continue
		}
		if err := k.set(&c, k.def); err != nil {
			panic(fmt.Sprintf("config: the default of %s: %v", k.name, err))
		}
	}
	return c
}()

// Defaults returns the configuration with every default applied (the
// environment's fallbacks are Parse's).
func Defaults() Config { return defaults }

// The setters of most keys, by type.

func text(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
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

func invalid(v, want string) error { return fmt.Errorf("invalid value %q (%s)", v, want) }

func boolean(f func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, ok := parseBool(v)
		if !ok {
			return invalid(v, "want on/off, true/false, yes/no or 1/0")
		}
		*f(c) = b
		return nil
	}
}

func integer(lo, hi int, f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return invalid(v, fmt.Sprintf("want an integer from %d to %d", lo, hi))
		}
		*f(c) = n
		return nil
	}
}

// duration accepts Go durations ("10s", "1m30s") or plain seconds ("10").
func duration(lo, hi time.Duration, f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil {
				return invalid(v, "want a duration such as 10s, 500ms or plain seconds")
			}
			d = time.Duration(secs * float64(time.Second))
		}
		if d < lo || d > hi {
			return invalid(v, fmt.Sprintf("want between %s and %s", lo, hi))
		}
		*f(c) = d
		return nil
	}
}

// size accepts bytes ("5000000") or units ("512K", "5M", "5MB"; K=1000).
func size(lo, hi int, f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		s := strings.TrimSuffix(strings.ToUpper(v), "B")
		mult := 1
		switch {
		case strings.HasSuffix(s, "K"):
			mult, s = 1000, strings.TrimSuffix(s, "K")
		case strings.HasSuffix(s, "M"):
			mult, s = 1000*1000, strings.TrimSuffix(s, "M")
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		n := int(x * float64(mult))
		if err != nil || n < lo || n > hi {
			return invalid(v, fmt.Sprintf("want a size from %d to %d bytes (K and M units allowed)", lo, hi))
		}
		*f(c) = n
		return nil
	}
}

// The setters of keys with a value of their own.

func setSite(c *Config, v string) error {
	if _, err := SiteURL(v); err != nil {
		return err
	}
	c.Site = v
	return nil
}

func setEndpoint(c *Config, v string) error {
	u, err := parseEndpoint(v)
	if err != nil {
		return err
	}
	c.URL = u
	return nil
}

// parseEndpoint is the intake URL of an endpoint value; without a scheme
// ("127.0.0.1:8080") the error suggests one: https on 443 or no port,
// else http.
func parseEndpoint(v string) (string, error) {
	u, err := url.Parse(v)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == "":
		return "", fmt.Errorf("%q has no host", redact.URL(v))
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		if u.Path == "" || u.Path == "/" {
			u.Path = "/api/v2/logs"
		}
		return u.String(), nil
	case !strings.Contains(v, "://"):
		scheme := "https"
		if h, err := url.Parse("//" + v); err == nil && h.Host != "" && h.Port() != "" && h.Port() != "443" {
			scheme = "http"
		}
		if fixed, err := url.Parse(scheme + "://" + v); err == nil && fixed.Host != "" {
			return "", fmt.Errorf("%q is not a URL: did you mean %s?", redact.URL(v), redact.URL(fixed.String()))
		}
	}
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", redact.URL(v))
	}
	return "", fmt.Errorf("%q: scheme must be http or https", redact.URL(v))
}

func setCompress(c *Config, v string) error {
	switch strings.ToLower(v) {
	case "gzip", "on", "true", "yes":
		c.Compression = compress.Gzip
	case "deflate", "zlib":
		c.Compression = compress.Deflate
	case "zstd":
		c.Compression = compress.Zstd
	case "none", "off", "false", "no":
		c.Compression = compress.None
	default:
		return fmt.Errorf("unknown value %q (want gzip, deflate, zstd or none)", strings.ToLower(v))
	}
	return nil
}

// setTags keeps dd_tags as written, and warns when tags are separated by
// white space: Datadog splits ddtags at commas only and makes a space in a
// tag an underscore, so "env:prod team:web" is the one tag
// env:prod_team:web.
func setTags(c *Config, v string) error {
	c.Tags = v
	var parts []string
	spaced := false
	for _, t := range strings.Split(v, ",") {
		fs := strings.Fields(t)
		spaced = spaced || len(fs) > 1
		parts = append(parts, fs...)
	}
	if spaced {
		c.Warnings = append(c.Warnings, fmt.Sprintf("dd_tags %q: Datadog separates tags with commas only, so the spaces are part of a tag (sent as %q); for separate tags write `dd_tags %s`",
			v, strings.Join(strings.Fields(v), "_"), strings.Join(parts, ",")))
	}
	return nil
}

func setProvider(c *Config, v string) error {
	switch p := Provider(strings.ToLower(v)); p {
	case ProviderECS:
		c.Provider = p
		return nil
	}
	return fmt.Errorf("unknown value %q (want ecs or leave unset)", strings.ToLower(v))
}

func setTagStyle(c *Config, v string) error {
	style, ok := ecs.ParseTagStyle(strings.ToLower(v))
	if !ok {
		return fmt.Errorf("unknown value %q (want agent, builtin or both)", strings.ToLower(v))
	}
	c.ECSTagStyle = style
	return nil
}

func setMetadataURI(c *Config, v string) error {
	if b, ok := parseBool(v); ok && !b {
		c.ECSMetadataURI = ""
		return nil
	}
	if !httpURL(v) {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	c.ECSMetadataURI = v
	return nil
}

// httpURL: v is an http or https URL with a host.
func httpURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https")
}

func setDateKey(c *Config, v string) error {
	if b, ok := parseBool(v); ok && !b {
		c.JSONDateKey = ""
	} else {
		c.JSONDateKey = v
	}
	return nil
}

func setStderrStatus(c *Config, v string) error {
	st, ok := status.Parse(strings.ToLower(v))
	if !ok {
		return fmt.Errorf("unknown status %q (want emergency, alert, critical, error, warn, notice, info, debug or ok)", strings.ToLower(v))
	}
	c.StderrStatus = st
	return nil
}

func setProxy(c *Config, v string) error {
	if !httpURL(v) {
		return fmt.Errorf("%q is not an http(s)://host:port URL", redact.URL(v))
	}
	c.Proxy, c.ProxyFrom = v, "proxy"
	return nil
}

// showProxy is the proxy, its credentials masked, and, when the
// environment decided, the variable that did: "http://****@h:3128
// proxy_from=HTTPS_PROXY", "none proxy_from=NO_PROXY".
func showProxy(c *Config) []string {
	switch {
	case c.ProxyFrom == "proxy":
		return one(redact.URL(c.Proxy))
	case c.Proxy != "":
		return one(redact.URL(c.Proxy) + " proxy_from=" + c.ProxyFrom)
	case c.ProxyFrom != "":
		return one("none proxy_from=" + c.ProxyFrom)
	}
	return nil
}

// setHeader adds one header line, "Name value" (split at the first space,
// as out_datadog's FLB_CONFIG_MAP_SLIST_1 splits it).
func setHeader(c *Config, v string) error {
	name, value, ok := strings.Cut(v, " ")
	value = strings.TrimSpace(value)
	if !ok || name == "" || value == "" || strings.ContainsAny(name, ":\r\n") || strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("want \"Name value\" (a header name, a space, a value without line breaks); got one starting %q", headerName(name))
	}
	c.Headers = append(c.Headers, Header{Name: name, Value: value})
	return nil
}

func setStatsInterval(c *Config, v string) error {
	if v == "0" {
		c.StatsInterval = 0 // periodic line off; the exit line stays
		return nil
	}
	return duration(time.Second, 24*time.Hour, func(c *Config) *time.Duration { return &c.StatsInterval })(c, v)
}

// How keys show on the start-up line.

func one(v string) []string { return []string{v} }

func quoted(f func(*Config) string) func(*Config) []string {
	return func(c *Config) []string { return one(strconv.Quote(f(c))) }
}

func showInt(f func(*Config) int) func(*Config) []string {
	return func(c *Config) []string { return one(strconv.Itoa(f(c))) }
}

func showBool(f func(*Config) bool) func(*Config) []string {
	return func(c *Config) []string { return one(strconv.FormatBool(f(c))) }
}

func showDuration(f func(*Config) time.Duration) func(*Config) []string {
	return func(c *Config) []string { return one(f(c).String()) }
}

// ifECS shows a key of provider ecs only with it.
func ifECS(f func(*Config) string) func(*Config) []string {
	return func(c *Config) []string {
		if c.Provider != ProviderECS {
			return nil
		}
		return one(f(c))
	}
}

func siteList() string {
	names := SiteNames()
	for i, n := range names {
		names[i] = "`" + n + "`"
	}
	return strings.Join(names, ", ")
}

// Package config reads an [OUTPUT] section's properties once, at init, into a
// validated Config. Every error names the offending key so a bad FireLens
// option fails Fluent Bit's start-up with a message the user can act on.
package config

import (
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/status"
)

// Provider is the `provider` key: where records come from.
type Provider string

// Providers.
const (
	NoProvider  Provider = ""
	ProviderECS Provider = "ecs" // FireLens on ECS: its fields become tags
)

// Header is one extra HTTP header sent with every intake request (`header`).
type Header struct {
	Name  string
	Value string
}

// Config is the validated configuration of one [OUTPUT] instance.
// Its String method never prints the API key.
type Config struct {
	// Where to send.
	Site       string // site name, default "datadoghq.com"
	URL        string // full intake URL, e.g. https://http-intake.logs.datadoghq.com/api/v2/logs
	APIKey     string // from apikey, apikey_file or DD_API_KEY; never logged
	APIKeySrc  string // "apikey", "apikey_file" or "DD_API_KEY" (for messages)
	APIKeyFile string // apikey_file's path, read when apikey is not set
	Proxy      string // proxy URL or "": the proxy key's, else the one the environment names for the intake
	ProxyFrom  string // "proxy", the environment variable that decided (HTTPS_PROXY, NO_PROXY, ...), or ""
	Headers    []Header

	// Transport.
	Timeout        time.Duration // per HTTP request, default 30s; never past the flush's RetryBudget
	TLSVerify      bool          // default true
	TLSCAFile      string
	MaxRetries     int           // retries of one payload inside a flush, default 5
	RetryBudget    time.Duration // per-flush time budget, requests and retries included, default 4s (bounds the exit too)
	MaxConcurrency int           // payloads of one chunk in flight at once, default 8

	// Wire format.
	Compression      compress.Algorithm // default zstd
	CompressionLevel int                // 0 means the codec's chosen default
	MaxBatchEntries  int                // 1..limits.MaxEntries, default limits.MaxEntries
	MaxBatchBytes    int                // 1024..limits.MaxBytes uncompressed, default limits.MaxBytes

	// Record shaping (same meaning as Fluent Bit's built-in datadog output).
	Service       string // dd_service
	Source        string // dd_source
	Tags          string // dd_tags, comma separated key:value
	MessageKey    string // dd_message_key; "" means: "log", else "message"
	Hostname      string // dd_hostname
	Provider      Provider
	JSONDateKey   string // json_date_key, default "timestamp"; "" when disabled ("false"/"off")
	IncludeTagKey bool   // include_tag_key
	TagKey        string // tag_key, default "tagkey"

	// ECS (provider ecs).
	ECSTagStyle    ecs.TagStyle  // default agent
	ECSMetadataURI string        // from ECS_CONTAINER_METADATA_URI_V4 unless ecs_metadata_uri is set; "" disables
	ECSRefresh     time.Duration // task metadata refresh interval, default 5m
	DetectStatus   bool          // detect_status: leading ERROR/WARN/... in plain text messages
	AutoMultiline  bool          // auto_multiline: group a stream's multi-line logs (stack traces) by their shape
	StderrStatus   status.Status // stderr_status: status for source=stderr records without a level ("" = none)

	// Environment fallbacks for unified service tagging (DD_ENV, DD_SERVICE, DD_VERSION).
	Env        string // DD_ENV
	EnvService string // DD_SERVICE
	Version    string // DD_VERSION

	// Self-observability.
	StatsInterval time.Duration // stats_interval, default 60s; 0 disables the periodic line

	// Warnings are what Parse has to say of values it accepted (dd_tags
	// separated by spaces), for the start-up log.
	Warnings []string
}

// Package version carries the plugin's version, set at link time by the Makefile.
package version

// Version is overwritten with -ldflags -X at build time.
var Version = "dev"

// Origin names the plugin in the intake's DD-EVP-ORIGIN request header.
const Origin = "out_datadog_go"

// UserAgent names the plugin in every intake request.
func UserAgent() string { return "out_datadog_go/" + Version + " (fluent-bit go output)" }

package fbtest

import (
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

// Cases that test/e2e (the C host) and test/realfb (real Fluent Bit) both
// run, defined once so the two tiers cannot drift.

// BadConfig is an output line that must fail start-up with
// "configuration error: <Key>: ...". test/e2e (the C host) and test/realfb
// (real Fluent Bit) run the same table, so the two cannot drift.
type BadConfig struct{ Key, Line string }

// BadConfigs are the bad values both tiers check. The site case needs an
// output without endpoint (endpoint overrides site). The last three are
// keys Fluent Bit's proxy does not pass the plugin: they are read from the
// configuration file (package flbconf), so the C host must name its file
// with -c.
var BadConfigs = []BadConfig{
	{"compress", "compress brotli"},
	{"site", "site example.com"},
	{"max_batch_entries", "max_batch_entries 5000"},
	{"timeout", "timeout soon"},
	{"dd_sevice", "dd_sevice web"},   // a typo: "did you mean dd_service?"
	{"Host", "Host relay.internal"},  // the built-in's Host next to endpoint
	{"tls.verify", "tls.verify off"}, // the built-in's TLS keys
}

// FaultMatrix is an intake that fails about half of the requests in every
// way it can: 503 on every 3rd, 429 with Retry-After 0 on every 5th, a
// connection reset on every 7th, the 11th stalled past FaultMatrixOptions'
// 5 s timeout (the stand-in drops a request whose client has gone: a stall
// the intake processes anyway would be delivered twice by any HTTP client,
// the intake having no idempotency key), and a truncated answer on every
// 13th. Every record must still arrive exactly once.
func FaultMatrix(n int) intaketest.Fault {
	switch {
	case n%3 == 0:
		return intaketest.Fault{Status: 503}
	case n%5 == 0:
		return intaketest.Fault{Status: 429, RetryAfter: "0"}
	case n%7 == 0:
		return intaketest.Fault{Reset: true}
	case n == 11:
		return intaketest.Fault{Delay: 10 * time.Second}
	case n%13 == 0:
		return intaketest.Fault{Truncate: true}
	}
	return intaketest.Fault{}
}

// FaultMatrixOptions are the output lines FaultMatrix runs with.
// The timeout leaves room for a loaded machine (make test's parallel
// packages with -race on 2 cores): with 1 s, and once with 3 s, it fired
// while the stand-in was still checking a payload it then recorded, the
// duplicate no client avoids.
var FaultMatrixOptions = []string{"timeout 5s", "max_retries 2", "retry_budget 20s", "max_batch_entries 500"}

// Package limits is the Datadog logs intake's contract in numbers (the
// "Send logs" API, v2), in one place: config bounds the options by them,
// batch and shape cut payloads and messages to them, and the intake
// stand-in of the tests checks every request against them. It imports
// nothing, so any package may use it.
package limits

import "time"

const (
	// MaxEntries is the most log entries one request may carry.
	MaxEntries = 1000
	// MaxBytes is the most uncompressed bytes (the JSON array) of one request.
	MaxBytes = 5_000_000
	// MaxLogBytes is the largest single log the intake keeps whole.
	MaxLogBytes = 1_000_000
	// MaxLogAge is how old a log may be for the intake to index it.
	MaxLogAge = 18 * time.Hour
)

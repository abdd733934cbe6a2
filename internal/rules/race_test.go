//go:build race

package rules

// The race detector makes sync.Pool drop items at random, so regexp's
// pooled matchers allocate under -race: allocation tests skip there.
func init() { raceEnabled = true }

//go:build !linux

package pipeline

import "time"

// Outside Linux (where Fluent Bit loads the plugin) there is no thread id
// or process CPU to read: pace sees one worker that never computes.
func threadID() int { return 0 }

func processCPU() time.Duration { return 0 }

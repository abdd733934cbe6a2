// Package logtest holds what tests need to read the plugin's log lines.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer collects log lines written from several goroutines (an
// instance's flushes, its metadata refresher) for a test to read.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

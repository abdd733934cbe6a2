// Package logging writes the plugin's log lines to stderr in the same shape as
// Fluent Bit's own ("[time] [level] [output:datadog_go:NAME] message"), so they
// interleave readably with Fluent Bit's log and are picked up by the same
// log router pipelines.
//
// Fluent Bit 1.9's Go proxy has no log callback for plugins, so stderr is the
// one channel that works on every Fluent Bit line we support.
package logging

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/redact"
)

// Level orders log lines by severity.
type Level int

const (
	Debug Level = iota
	Info
	Warn
	Error
)

var levelNames = [...]string{Debug: "debug", Info: " info", Warn: " warn", Error: "error"}

// Logger is safe for concurrent use. The zero value is not usable; use New.
type Logger struct {
	secrets atomic.Pointer[redact.Secrets]
	mu      sync.Mutex
	w       io.Writer
	name    string
	level   Level
	now     func() time.Time
}

// New returns a logger that prefixes every line with the instance name.
// A nil writer means stderr.
func New(w io.Writer, name string, level Level) *Logger {
	if w == nil {
		w = os.Stderr
	}
	return &Logger{w: w, name: name, level: level, now: time.Now}
}

// Redact masks secrets in every line written from now on: the one place
// all of the plugin's output passes, so no caller has to remember.
func (l *Logger) Redact(s *redact.Secrets) { l.secrets.Store(s) }

// Discard returns a logger that writes nothing (tests, benchmarks).
func Discard() *Logger { return New(io.Discard, "", Error+1) }

func (l *Logger) logf(lv Level, format string, args ...any) {
	if l == nil || lv < l.level {
		return
	}
	msg := l.secrets.Load().Scrub(fmt.Sprintf(format, args...))
	ts := l.now().Format("2006/01/02 15:04:05")
	l.mu.Lock()
	fmt.Fprintf(l.w, "[%s] [%s] [output:datadog_go:%s] %s\n", ts, levelNames[lv], l.name, msg)
	l.mu.Unlock()
}

func (l *Logger) Debugf(format string, args ...any) { l.logf(Debug, format, args...) }
func (l *Logger) Infof(format string, args ...any)  { l.logf(Info, format, args...) }
func (l *Logger) Warnf(format string, args ...any)  { l.logf(Warn, format, args...) }
func (l *Logger) Errorf(format string, args ...any) { l.logf(Error, format, args...) }

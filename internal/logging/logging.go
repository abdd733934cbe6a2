// Package logging is the plugin's logger. Every line names the output
// instance the way Fluent Bit names its own ("[output:datadog_go:NAME]
// message"), has the instance's secrets masked, and goes to a Sink: Fluent
// Bit's own logger when the host has one (package main sets it, so
// Log_File, Log_Level and the output's log_level apply), else a writer
// (stderr) in Fluent Bit's line format.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/out-datadog-go/out_datadog_go/internal/redact"
)

// Level orders log lines by severity.
type Level int

const (
	Debug Level = iota
	Info
	Warn
	Error
	Off // a logger at this level prints nothing
)

var levelNames = [...]string{Debug: "debug", Info: " info", Warn: " warn", Error: "error"}

// Sink receives the lines a Logger lets through (at or above its level).
// msg has its secrets masked already; name is the instance's (see Prefix).
// A Sink must be safe for concurrent use and must not block for long: it
// is called on the flush path.
type Sink interface {
	Print(lv Level, name, msg string)
}

// Prefix is what starts every line of instance name, as Fluent Bit starts
// the lines of its own outputs.
func Prefix(name string) string { return "[output:datadog_go:" + name + "] " }

// Logger is safe for concurrent use. The zero value is not usable; use New
// or NewSink.
type Logger struct {
	secrets atomic.Pointer[redact.Secrets]
	out     atomic.Pointer[output]
	sup     atomic.Pointer[suppressor] // nil: every line is printed
	name    string
}

type output struct {
	sink  Sink
	level Level
}

// New returns a logger writing to w (nil means stderr) in Fluent Bit's
// line format.
func New(w io.Writer, name string, level Level) *Logger {
	return NewSink(WriterSink(w), name, level)
}

// NewSink returns a logger printing to s the lines at or above level.
func NewSink(s Sink, name string, level Level) *Logger {
	l := &Logger{name: name}
	l.SetSink(s, level)
	return l
}

// SetSink sends the lines from now on to s, filtered at level.
func (l *Logger) SetSink(s Sink, level Level) { l.out.Store(&output{sink: s, level: level}) }

// Redact masks secrets in every line written from now on: the one place
// all of the plugin's output passes, so no caller has to remember.
func (l *Logger) Redact(s *redact.Secrets) { l.secrets.Store(s) }

// Discard returns a logger that writes nothing (tests, benchmarks).
func Discard() *Logger { return New(io.Discard, "", Off) }

func (l *Logger) logf(lv Level, format string, args ...any) {
	if l == nil {
		return
	}
	o := l.out.Load()
	if lv < o.level {
		return
	}
	msg := l.secrets.Load().Scrub(fmt.Sprintf(format, args...))
	if s := l.sup.Load(); s != nil && lv >= Warn && !s.admit(lv, kindOf(format, msg), msg) {
		return
	}
	o.sink.Print(lv, l.name, msg)
}

func (l *Logger) Debugf(format string, args ...any) { l.logf(Debug, format, args...) }
func (l *Logger) Infof(format string, args ...any)  { l.logf(Info, format, args...) }
func (l *Logger) Warnf(format string, args ...any)  { l.logf(Warn, format, args...) }
func (l *Logger) Errorf(format string, args ...any) { l.logf(Error, format, args...) }

// WriterSink writes lines as Fluent Bit writes its own to stderr:
// "[2006/01/02 15:04:05] [ info] [output:datadog_go:NAME] message". A nil
// writer means stderr.
func WriterSink(w io.Writer) Sink {
	if w == nil {
		w = os.Stderr
	}
	return &writerSink{w: w, now: time.Now}
}

type writerSink struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func (s *writerSink) Print(lv Level, name, msg string) {
	ts := s.now().Format("2006/01/02 15:04:05")
	s.mu.Lock()
	fmt.Fprintf(s.w, "[%s] [%s] %s%s\n", ts, levelNames[lv], Prefix(name), msg)
	s.mu.Unlock()
}

// Pieces cuts msg into parts of at most max bytes, at line ends where it
// can and at a character boundary otherwise, for a logger that truncates
// long lines (Fluent Bit's keeps about 4 KB of each): a panic's stack trace
// then arrives whole, over several lines.
func Pieces(msg string, max int) []string {
	if len(msg) <= max || max < utf8.UTFMax {
		return []string{msg}
	}
	var out []string
	for len(msg) > max {
		cut := strings.LastIndexByte(msg[:max], '\n')
		next := cut + 1
		if cut <= 0 {
			cut = max
			for cut > 0 && !utf8.RuneStart(msg[cut]) {
				cut--
			}
			next = cut
		}
		out = append(out, msg[:cut])
		msg = msg[next:]
	}
	return append(out, msg)
}

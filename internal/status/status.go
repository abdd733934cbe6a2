// Package status maps the level a log record carries to Datadog's status
// attribute. Both functions run per record on the hot path: they return
// constant strings and do not allocate.
package status

// Status is a value of Datadog's status attribute.
type Status string

// Datadog's status values.
const (
	Emergency Status = "emergency"
	Alert     Status = "alert"
	Critical  Status = "critical"
	Error     Status = "error"
	Warn      Status = "warn"
	Notice    Status = "notice"
	Info      Status = "info"
	Debug     Status = "debug"
	OK        Status = "ok"
)

// All are the status values, most severe first.
var All = [...]Status{Emergency, Alert, Critical, Error, Warn, Notice, Info, Debug, OK}

// Parse reads a status value as Datadog spells it (lower case).
func Parse(s string) (Status, bool) {
	for _, st := range All {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// syslog severities 0-7, as Datadog's status remapper reads them.
var bySeverity = [...]Status{Emergency, Alert, Critical, Error, Warn, Notice, Info, Debug}

// FromValue maps a level value ("WARNING", "err", "fatal", "3"...) to a
// status, case-insensitively. ok is false when the value is not a level.
func FromValue(v []byte) (Status, bool) {
	if len(v) == 0 || len(v) > 13 {
		return "", false
	}
	if len(v) == 1 && v[0] >= '0' && v[0] <= '7' {
		return bySeverity[v[0]-'0'], true
	}
	var low [13]byte
	for i, c := range v {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	switch string(low[:len(v)]) {
	case "emerg", "emergency", "panic":
		return Emergency, true
	case "alert":
		return Alert, true
	case "crit", "critical", "fatal", "severe":
		return Critical, true
	case "err", "error", "eror":
		return Error, true
	case "warn", "warning":
		return Warn, true
	case "notice":
		return Notice, true
	case "info", "information", "informational":
		return Info, true
	case "debug", "dbg", "trace", "verbose", "fine", "finer", "finest":
		return Debug, true
	case "ok", "success":
		return OK, true
	}
	return "", false
}

// FromMessage finds a level in a plain-text line, in the forms loggers
// commonly print, checked in this order:
//
//	"ERROR something"          an upper-case level word first
//	"[warn] something"         a bracketed level word first (any case; also <> and ())
//	"2026-11-24T15:00:00Z INFO ..." or "15:00:00.123 WARN ..." the same after one timestamp token
//	"... level=error ..."      a logfmt level= field anywhere
//
// Lower-case bare words ("error handling done") are not taken as levels.
func FromMessage(msg []byte) (Status, bool) {
	s := trimLeft(msg)
	if st, ok := Leading(s); ok {
		return st, true
	}
	// One timestamp-like token (starts with a digit), then the level.
	if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		i := 0
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if st, ok := Leading(trimLeft(s[i:])); ok {
			return st, true
		}
	}
	return logfmtLevel(msg)
}

func trimLeft(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// Leading is the level s starts with, in FromMessage's first two forms: an
// upper-case level word ("ERROR something") or a bracketed one in any case
// ("[warn] something", also <> and ()).
func Leading(s []byte) (Status, bool) {
	if len(s) == 0 {
		return "", false
	}
	if close := closer(s[0]); close != 0 {
		for i := 1; i < len(s) && i < 16; i++ {
			if s[i] == close {
				return FromValue(s[1:i])
			}
		}
		return "", false
	}
	i := 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	if i == 0 || (i < len(s) && !isBoundary(s[i])) {
		return "", false
	}
	return FromValue(s[:i])
}

func closer(c byte) byte {
	switch c {
	case '[':
		return ']'
	case '<':
		return '>'
	case '(':
		return ')'
	}
	return 0
}

func isBoundary(c byte) bool {
	return c == ' ' || c == '\t' || c == ':' || c == ']' || c == '|' || c == '-' || c == ','
}

func logfmtLevel(s []byte) (Status, bool) {
	const key = "level="
	for i := 0; i+len(key) < len(s); i++ {
		if s[i] != 'l' || string(s[i:i+len(key)]) != key || (i > 0 && s[i-1] != ' ') {
			continue
		}
		v := s[i+len(key):]
		if len(v) > 0 && v[0] == '"' {
			v = v[1:]
		}
		j := 0
		for j < len(v) && v[j] != ' ' && v[j] != '"' {
			j++
		}
		return FromValue(v[:j])
	}
	return "", false
}

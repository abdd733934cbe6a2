package join

import (
	"bytes"

	"github.com/out-datadog-go/out_datadog_go/internal/status"
)

// class is what auto_multiline makes of one line. The Datadog Agent labels
// a line startGroup (a timestamp, pkg/logs/internal/decoder/
// auto_multiline_detection/timestamp_detector.go; an exception head without
// one, stack_trace_detector.go), noAggregate (a JSON object,
// json_detector.go) or aggregate (anything else, which joins the log being
// aggregated: aggregator.go). The classes below refine those labels where
// the plugin goes beyond the Agent (levels, Go's dump, Python's and Node's
// heads) and where it keeps a trace without a header whole.
type class uint8

const (
	plain         class = iota // aggregate
	blank                      // aggregate; empty or white space only
	trace                      // aggregate, and shaped as a trace's continuation
	traceback                  // Python's "Traceback (most recent call last):"
	goroutine                  // "goroutine N [": Go's dump
	errorHead                  // "Error: …", "<Name>Error: …" unindented
	chainSentence              // Python's sentence between chained tracebacks
	goFrame                    // a Go dump's function line, shaped as a trace's
	goPanic                    // Go's "panic: …", "fatal error: …"
	start                      // startGroup: a timestamp, a level, another exception head
	jsonObject                 // noAggregate
)

// classify labels line s.
func classify(s []byte) class {
	if isJSONObject(s) {
		return jsonObject
	}
	if len(s) == 0 {
		return blank
	}
	switch s[0] {
	case ' ', '\t', '\r', '\v', '\f':
		if len(bytes.TrimSpace(s)) == 0 {
			return blank
		}
		return trace
	}
	switch {
	case hasPrefix(s, "Traceback (most recent call last):"):
		return traceback
	case hasPrefix(s, "goroutine ") && isGoroutine(s):
		return goroutine
	case hasPrefix(s, "panic: "), hasPrefix(s, "fatal error: "):
		return goPanic
	case hasPrefix(s, `Exception in thread "`), hasPrefix(s, "Unhandled exception. "), isRustPanic(s), isNodeSource(s):
		return start
	case hasPrefix(s, "During handling of the above exception"), hasPrefix(s, "The above exception was the direct cause"):
		return chainSentence
	case isErrorHead(s):
		return errorHead
	case isGoFrame(s):
		return goFrame
	case isTraceLine(s):
		return trace
	case startsWithTimestamp(s), startsWithLevel(s):
		return start
	}
	return plain
}

func hasPrefix(s []byte, p string) bool { return len(s) >= len(p) && string(s[:len(p)]) == p }

// isJSONObject is the Agent's JSON detector (json_detector.go,
// `^\s*\{\s*["}]`): a line that opens an object with a key or closes it.
func isJSONObject(s []byte) bool {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	return i < len(s) && (s[i] == '"' || s[i] == '}')
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// isGoroutine: "goroutine N [status]:", digits then " [" (the Agent's
// isGoGoroutine, which rejects "goroutine 5 started processing").
func isGoroutine(s []byte) bool {
	i := len("goroutine ")
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j > i && j+1 < len(s) && s[j] == ' ' && s[j+1] == '['
}

// isRustPanic: "thread '<name>' panicked", the name at most 64 bytes (the
// Agent's isRustPanic).
func isRustPanic(s []byte) bool {
	const p = "thread '"
	if !hasPrefix(s, p) {
		return false
	}
	rest := s[len(p):]
	q := bytes.IndexByte(rest[:min(len(rest), 64)], '\'')
	return q >= 0 && hasPrefix(rest[q:], "' panicked")
}

// isErrorHead: an error as Node prints it, "Error: msg" or "TypeError:
// msg" (also Python's last traceback line, "ValueError: msg"): a name
// ending in "Error", of letters, digits, _ and $ only, then ": ".
func isErrorHead(s []byte) bool {
	i := 0
	for i < len(s) && (isLetter(s[i]) || isDigit(s[i]) || s[i] == '_' || s[i] == '$') {
		i++
	}
	return i >= len("Error") && string(s[i-len("Error"):i]) == "Error" && hasPrefix(s[i:], ": ")
}

// isTraceLine: an unindented line that only continues a trace: Java's
// "at …", "Caused by: …" and "... N more", .NET's "--- End of …", Ruby's
// frames ("file.rb:12:in 'method'"), Go's "created by …".
func isTraceLine(s []byte) bool {
	switch {
	case hasPrefix(s, "at "), hasPrefix(s, "Caused by: "), hasPrefix(s, "... "), hasPrefix(s, "--- End of "),
		hasPrefix(s, "created by "):
		return true
	}
	// file:line:in `method' / 'method' / ‘method’
	c := bytes.IndexByte(s[:min(len(s), 512)], ':')
	if c <= 0 || bytes.IndexByte(s[:c], ' ') >= 0 {
		return false
	}
	i := c + 1
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > c+1 && (hasPrefix(s[i:], ":in `") || hasPrefix(s[i:], ":in '") || hasPrefix(s[i:], ":in ‘"))
}

// isGoFrame: a Go dump's function line, "pkg.Func(args)" or
// "pkg.(*T).Method(...)": a dotted name without spaces, then the
// arguments, closing the line.
func isGoFrame(s []byte) bool {
	p := bytes.IndexByte(s, '(')
	for p >= 0 && p+1 < len(s) && s[p+1] == '*' { // "(*T)" is part of the name
		q := bytes.IndexByte(s[p:], ')')
		if q < 0 {
			return false
		}
		n := bytes.IndexByte(s[p+q:], '(')
		if n < 0 {
			return false
		}
		p += q + n
	}
	return p > 0 && s[len(s)-1] == ')' && bytes.IndexByte(s[:p], '.') > 0 && bytes.IndexByte(s[:p], ' ') < 0
}

// isNodeSource: "/app/src/server.js:118" alone, the first line Node
// prints for an uncaught error (the source line, a caret line and the error
// follow).
func isNodeSource(s []byte) bool {
	c := bytes.LastIndexByte(s, ':')
	if c <= 0 || digits(s, c+1) != len(s)-c-1 || c+1 == len(s) || bytes.IndexByte(s, ' ') >= 0 {
		return false
	}
	for _, ext := range [...]string{".js", ".mjs", ".cjs", ".ts"} {
		if bytes.HasSuffix(s[:c], []byte(ext)) {
			return true
		}
	}
	return false
}

// isCaret: a line of white space and carets only, as Node marks the
// column of an uncaught error in the source line it prints.
func isCaret(s []byte) bool {
	t := bytes.TrimSpace(s)
	return len(t) > 0 && len(bytes.Trim(t, "^")) == 0
}

// startsWithLevel: a level word first, as loggers print it: upper case
// ("ERROR …", "WARN[0001] …"), bracketed in any case ("[warn] …",
// "<info>"), both as status.Leading reads them (detect_status); in any case
// followed by a colon ("error: …", "Warning: …", Python's "ERROR:root:…",
// .NET's "fail: …"); logfmt's "level=…". Words are status.FromValue's and
// .NET's four-letter ones.
func startsWithLevel(s []byte) bool {
	if hasPrefix(s, "level=") || hasPrefix(s, "lvl=") {
		return true
	}
	if _, ok := status.Leading(s); ok {
		return true
	}
	i := 0
	upper := true
	for i < len(s) && isLetter(s[i]) {
		upper = upper && s[i] <= 'Z'
		i++
	}
	if i == 0 || !isLevel(s[:i]) {
		return false
	}
	return i == len(s) || s[i] == ':' || upper && (s[i] == '[' || s[i] == '(' || s[i] == '>')
}

func isLevel(w []byte) bool {
	switch string(w) {
	case "fail", "dbug", "trce": // .NET's console logger (info, warn, crit are words below)
		return true
	}
	_, ok := status.FromValue(w)
	return ok
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

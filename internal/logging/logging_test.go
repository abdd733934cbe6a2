package logging

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/out-datadog-go/out_datadog_go/internal/redact"
)

// Every line goes through the instance's secrets once Redact is called.
func TestRedact(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "x", Info)
	l.Infof("before %s", "tok-123456")
	l.Redact(redact.New("tok-123456"))
	l.Warnf("after %s", "tok-123456")
	l.Debugf("hidden %s", "tok-123456")
	out := buf.String()
	if !strings.Contains(out, "before tok-123456") || !strings.Contains(out, "after ****") || strings.Contains(out, "hidden") {
		t.Errorf("log:\n%s", out)
	}
	if !strings.Contains(out, "[ warn] [output:datadog_go:x] after") {
		t.Errorf("line shape:\n%s", out)
	}
}

// sinkFunc is a Sink for tests.
type sinkFunc func(lv Level, name, msg string)

func (f sinkFunc) Print(lv Level, name, msg string) { f(lv, name, msg) }

// A sink set on a running logger gets the lines from then on, filtered at
// its level and already masked: the plugin switches its start-up logger to
// Fluent Bit's once an instance finds the logger.
func TestSinkAndLevel(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "dd", Debug)
	l.Redact(redact.New("tok-123456"))
	var got []string
	l.SetSink(sinkFunc(func(lv Level, name, msg string) {
		got = append(got, fmt.Sprintf("%d %s %s", lv, name, msg))
	}), Warn)
	l.Infof("hidden")
	l.Warnf("key %s", "tok-123456")
	l.Errorf("bad")
	if buf.Len() != 0 || strings.Join(got, "|") != "2 dd key ****|3 dd bad" {
		t.Errorf("writer %q, sink %q", buf.String(), got)
	}
}

func TestPieces(t *testing.T) {
	stack := "panic: boom\n" + strings.Repeat("\tat frame.go:42\n", 40)
	for _, tc := range []struct {
		msg  string
		max  int
		want int
	}{
		{"short", 100, 1},
		{stack, 100, 7},
		{strings.Repeat("é", 100), 51, 4}, // 200 bytes: cut at character boundaries
		{strings.Repeat("x", 250), 100, 3},
	} {
		ps := Pieces(tc.msg, tc.max)
		joined := ""
		for i, p := range ps {
			if len(p) > tc.max || !utf8.ValidString(p) {
				t.Errorf("piece %d of %d bytes (max %d), valid %v", i, len(p), tc.max, utf8.ValidString(p))
			}
			joined += p
		}
		if len(ps) != tc.want || strings.ReplaceAll(tc.msg, "\n", "") != strings.ReplaceAll(joined, "\n", "") {
			t.Errorf("%d pieces, want %d; lost text: %v", len(ps), tc.want, strings.ReplaceAll(tc.msg, "\n", "") != strings.ReplaceAll(joined, "\n", ""))
		}
	}
}

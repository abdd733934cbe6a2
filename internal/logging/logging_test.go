package logging

import (
	"bytes"
	"strings"
	"testing"

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

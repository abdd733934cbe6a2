package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// make run works, on every line: the log arrives whole, with the
// configured service, and the plugin's start-up line is shown.
func TestMakeRun(t *testing.T) {
	so, err := fbtest.Plugin()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			bin := fbtest.Require(t, v)
			var out bytes.Buffer
			if err := run(so, bin, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, want := range []string{`"message": "` + Message + `"`, `"service": "first-contact"`, "] out_datadog_go ", "] exit: records_in=1 records_out=1 "} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// Without any Fluent Bit, it says where it looked and how to get one.
func TestMakeRunNoFluentBit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, v := range []string{"FLUENT_BIT", "FLUENT_BIT_5", "FLUENT_BIT_19"} {
		t.Setenv(v, "/nonexistent/fluent-bit")
	}
	if isExec("/opt/fluent-bit/bin/fluent-bit") {
		t.Skip("skipped: /opt/fluent-bit/bin/fluent-bit exists here")
	}
	_, err := findFluentBit("")
	if err == nil || !strings.Contains(err.Error(), "set FLUENT_BIT=") || !strings.Contains(err.Error(), "docs.fluentbit.io") {
		t.Errorf("no Fluent Bit: %v", err)
	}
}

package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
)

const configDoc = "../../docs/configuration.md"

// docsTable is docs/configuration.md's parameter table as the keys table
// gives it: one row per key, its default and its sentence.
func docsTable() string {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, k := range keys {
		def := ""
		if k.def != "" {
			def = " `" + k.def + "`"
		}
		b.WriteString("| `" + k.name + "` |" + def + " | " + k.doc + " |\n")
	}
	return b.String()
}

// TestDocsConfigTable holds docs/configuration.md's parameter table to the
// keys table, row for row; -update writes it. Each key's documented
// default is what Defaults holds (the table's defaults make it), and
// writing a key's default changes nothing.
func TestDocsConfigTable(t *testing.T) {
	doc := doctest.Section(t, configDoc, "Parameters\n")
	start := strings.Index(doc, "| key |")
	end := strings.Index(doc, "|\n\n")
	if start < 0 || end < start {
		t.Fatalf("no table in docs/configuration.md's Parameters:\n%s", doc)
	}
	got, want := doc[start:end+2], docsTable()
	if got != want {
		if *update {
			b, err := os.ReadFile(configDoc)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(configDoc, []byte(strings.Replace(string(b), got, want, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the table of %s", configDoc)
		} else {
			t.Errorf("docs/configuration.md's parameter table is not the keys table's (go test ./internal/config -run TestDocsConfigTable -update):\n%s", want)
		}
	}
	parse := func(props map[string]string) *Config {
		t.Helper()
		p := map[string]string{"apikey": "0123456789abcdef"}
		for k, v := range props {
			p[k] = v
		}
		c, err := Parse(func(k string) string { return p[k] }, func(string) string { return "" }, os.ReadFile)
		if err != nil {
			t.Fatalf("%v: %v", props, err)
		}
		return c
	}
	unset := parse(nil)
	for _, k := range keys {
		if k.def == "" {
			continue
		}
		if got := parse(map[string]string{k.name: k.def}); !reflect.DeepEqual(got, unset) {
			t.Errorf("%s %s (the documented default) parses to\n%+v\nnot to the default\n%+v", k.name, k.def, got, unset)
		}
	}
}

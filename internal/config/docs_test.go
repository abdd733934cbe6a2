package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
)

// TestDocsConfigTable holds docs/configuration.md's parameter table to
// Parse: every key Parse reads (Keys) has a row and every row is a key
// Parse reads, and setting a key to the default its row gives (a single
// literal in backticks) parses to the same Config as leaving it unset.
func TestDocsConfigTable(t *testing.T) {
	doc := doctest.Section(t, "../../docs/configuration.md", "Parameters\n")
	literal := regexp.MustCompile("^`([^`]+)`$")
	defaults := map[string]string{}
	var rows []string
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "key" {
			continue
		}
		m := literal.FindStringSubmatch(strings.TrimSpace(cells[1]))
		if m == nil {
			t.Errorf("row %q: the key is not one literal", cells[1])
			continue
		}
		rows = append(rows, m[1])
		if d := literal.FindStringSubmatch(strings.TrimSpace(cells[2])); d != nil {
			defaults[m[1]] = d[1]
		}
	}
	for _, k := range Keys {
		if !slices.Contains(rows, k) {
			t.Errorf("Parse reads %s; docs/configuration.md does not list it", k)
		}
	}
	for _, k := range rows {
		if !slices.Contains(Keys, k) {
			t.Errorf("docs/configuration.md lists %s; Parse does not read it", k)
		}
	}
	if len(defaults) < 15 {
		t.Fatalf("only %d defaults read from the table: %v", len(defaults), defaults)
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
	for k, v := range defaults {
		if got := parse(map[string]string{k: v}); !reflect.DeepEqual(got, unset) {
			t.Errorf("%s %s (the documented default) parses to\n%+v\nnot to the default\n%+v", k, v, got, unset)
		}
	}
}

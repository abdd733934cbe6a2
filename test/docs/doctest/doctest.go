// Package doctest reads the sections of the project's Markdown pages that
// tests hold to the code (the configuration table, the tags table, the
// lines shown to verify a router, the benchmark figures README quotes).
package doctest

import (
	"os"
	"strings"
	"testing"
)

// Section is the part of the Markdown file at path under the first
// level-2 heading that begins with heading, up to the next level-2
// heading; t fails when the file or the heading is missing.
func Section(t testing.TB, path, heading string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := "\n" + string(b)
	start := strings.Index(doc, "\n## "+heading)
	if start < 0 {
		t.Fatalf("%s has no section %q", path, heading)
	}
	s := doc[start+1:]
	if end := strings.Index(s, "\n## "); end >= 0 {
		s = s[:end+1]
	}
	return s
}

// Package jointest reads the multi-line corpora of testdata/multiline: what
// a container prints, and the logs auto_multiline must make of it.
package jointest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Corpus is one language's corpus.
type Corpus struct {
	Name  string   // the file's name without .txt: java, python, ...
	Lines []string // the lines the container prints, in order
	Logs  []string // the logs they make: lines joined with "\n"
}

// Separator is the corpus line between two logs (never printed).
const Separator = "%%"

// Names are the corpora, one per language.
var Names = []string{"java", "python", "go", "node", "ruby", "dotnet", "rust"}

// Read reads testdata/multiline/<name>.txt.
func Read(tb testing.TB, name string) Corpus {
	tb.Helper()
	_, self, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "..", "testdata", "multiline", name+".txt"))
	if err != nil {
		tb.Fatal(err)
	}
	c := Corpus{Name: name}
	var log []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == Separator {
			c.Logs = append(c.Logs, strings.Join(log, "\n"))
			log = nil
			continue
		}
		c.Lines = append(c.Lines, line)
		log = append(log, line)
	}
	c.Logs = append(c.Logs, strings.Join(log, "\n"))
	return c
}

// All reads every corpus.
func All(tb testing.TB) []Corpus {
	out := make([]Corpus, len(Names))
	for i, n := range Names {
		out[i] = Read(tb, n)
	}
	return out
}

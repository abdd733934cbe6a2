// Package docs checks the user's manual as a whole: every link between its
// pages resolves, and the figures README quotes are the latest make bench's.
// The pages' promises are held by the tests they name (internal/config,
// internal/tags, internal/stats and test/realfb read the pages they check).
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/test/docs/doctest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

const root = "../.."

// pages are the Markdown files a user or a developer reads.
func pages(t *testing.T) []string {
	t.Helper()
	list := []string{"README.md", "CONTRIBUTING.md", "CHANGELOG.md", "benchmarks/README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) < 6 {
		t.Fatalf("docs/*.md: %v %v", docs, err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		list = append(list, rel)
	}
	return list
}

var (
	link    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	fence   = regexp.MustCompile("(?s)```.*?```")
)

// anchor is the fragment GitHub gives a heading: lower case, punctuation
// other than - and _ dropped, spaces as -.
func anchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(string(b), ""), -1) {
		set[anchor(m[1])] = true
	}
	return set
}

// TestLinks: every relative link of the pages names a file that exists and,
// with a #fragment, a heading of that file.
func TestLinks(t *testing.T) {
	for _, page := range pages(t) {
		b, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		text := fence.ReplaceAllString(string(b), "")
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(filepath.Join(root, path)); err != nil {
					t.Errorf("%s: link %s: no such file", page, target)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(path, ".md") && !anchors(t, path)[frag] {
				t.Errorf("%s: link %s: %s has no heading #%s", page, target, path, frag)
			}
		}
	}
}

// TestREADMEPerformance: the table at the top of README quotes the latest
// benchmarks/RESULTS.md, Fluent Bit line by line (every line of
// fbtest.Lines, which make bench measures by default): the built-in's and
// datadog_go's CPU per record beyond null, the router ratio and the peak
// memory of each.
func TestREADMEPerformance(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range fbtest.Lines {
		sec := doctest.Section(t, filepath.Join(root, "benchmarks", "RESULTS.md"), "Real Fluent Bit "+version+":")
		// rows returns the cells of every row starting with prefix, in
		// order: the router table's first, then the memory table's.
		rows := func(prefix string, n int) [][]string {
			var out [][]string
			for _, line := range strings.Split(sec, "\n") {
				if strings.HasPrefix(line, "| "+prefix) {
					c := strings.Split(line, "|")
					for i := range c {
						c[i] = strings.TrimSpace(c[i])
					}
					out = append(out, c)
				}
			}
			if len(out) < n {
				t.Fatalf("RESULTS.md %s: %d rows %q, want %d (router and memory tables)", version, len(out), prefix, n)
			}
			return out
		}
		builtin, ours := rows("built-in datadog", 2), rows("datadog_go (default config)", 2)
		figure := func(name string) string {
			m := regexp.MustCompile(regexp.QuoteMeta(name) + ` = \*\*([0-9.]+)x?\*\*`).FindStringSubmatch(sec)
			if m == nil {
				t.Fatalf("RESULTS.md %s: no %q", version, name)
			}
			return m[1]
		}
		ratio, wire := figure("router ratio CPU(go) / CPU(built-in)"), figure("wire bytes, go / built-in")
		// router table: | output | router CPU s | CPU beyond null µs/record | ...
		// memory table: | output | idle RSS MB | anonymous | file | idle threads | Go init | paced peak RSS MB | ...
		want := "| " + version + " | " + builtin[0][3] + " → " + ours[0][3] + " µs | " + ratio + " | " + wire + " | " +
			builtin[1][2] + " → " + ours[1][2] + " MB | " + builtin[1][7] + " → " + ours[1][7] + " MB |"
		if !strings.Contains(string(readme), want) {
			t.Errorf("README's performance row for %s is not the latest make bench's: want\n%s", version, want)
		}
	}
}

package main

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"
)

// The chart is well-formed SVG with one bar per measured output, line and
// panel (null has no wire and no paced peak), each titled with its figure.
func TestChartSVG(t *testing.T) {
	line := func(v string, scale float64) *fbLine {
		r := func(cpu float64, wire int64) *fbResult { return &fbResult{cpu: cpu * scale, last: fbRun{wire: wire}} }
		return &fbLine{version: v, null: r(1.3, 0), builtin: r(4.4, 4_970_000), gor: r(1.7, 4_100_000),
			mem: map[string]*footprint{
				fbNull:    {idleRSS: 9.7},
				fbBuiltin: {idleRSS: 9.6, peakRSS: 35},
				fbGo:      {idleRSS: 17.7, peakRSS: 46},
			}}
	}
	svg := chartSVG([]*fbLine{line("5.1.1", 1), line("4.2.8", 1.1), line("1.9.10", 0.5)})
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if got, want := strings.Count(svg, "<rect x="), 3+3*(3+2+3+2); got != want {
		t.Errorf("%d rectangles (legend and bars), want %d", got, want)
	}
	for _, s := range []string{"4.2.8 datadog_go: 1.9 s", "1.9.10 built-in datadog: 35 MB", "5.1.1 null (Fluent Bit&#39;s floor): 9.7 MB"} {
		if !strings.Contains(svg, s) {
			t.Errorf("no bar titled %q", s)
		}
	}
	if out := os.Getenv("CHART_OUT"); out != "" {
		_ = os.WriteFile(out, []byte(svg), 0o644)
	}
}

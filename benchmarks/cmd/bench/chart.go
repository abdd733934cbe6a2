package main

// The router table as an SVG bar chart (benchmarks/chart.svg, shown by
// README): per panel one measure, per Fluent Bit line one group, per output
// one bar. Plain SVG written by hand: no plotting library.

import (
	"fmt"
	"html"
	"math"
	"os"
	"strings"
)

// chartPanel is one measure of the chart.
type chartPanel struct {
	title string
	unit  string
	value func(l *fbLine, output string) (float64, bool) // false: not measured for that output
}

var chartPanels = []chartPanel{
	{"Router CPU, 200,000 records", "s", func(l *fbLine, o string) (float64, bool) { return fbOf(l, o).cpu, true }},
	{"Bytes on the wire", "MB", func(l *fbLine, o string) (float64, bool) {
		return float64(fbOf(l, o).last.wire) / 1e6, o != fbNull
	}},
	{"Idle memory, resident", "MB", func(l *fbLine, o string) (float64, bool) { return l.mem[o].idleRSS, true }},
	{"Peak memory, paced sender", "MB", func(l *fbLine, o string) (float64, bool) {
		return l.mem[o].peakRSS, o != fbNull
	}},
}

func fbOf(l *fbLine, output string) *fbResult {
	switch output {
	case fbNull:
		return l.null
	case fbBuiltin:
		return l.builtin
	}
	return l.gor
}

var chartOutputs = []struct{ name, label, color string }{
	{fbNull, "null (Fluent Bit's floor)", "#b0b0b0"},
	{fbBuiltin, "built-in datadog", "#e8853d"},
	{fbGo, "datadog_go", "#632ca6"},
}

// chartSVG draws the panels for lines.
func chartSVG(lines []*fbLine) string {
	const (
		panelW, panelH = 440, 230
		cols           = 2
		top            = 44 // legend
		barW, gap      = 22, 4
		plotTop        = 34 // panel title
		plotH          = 150
	)
	rows := (len(chartPanels) + cols - 1) / cols
	width, height := cols*panelW, top+rows*panelH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	x := 12
	for _, o := range chartOutputs {
		fmt.Fprintf(&b, `<rect x="%d" y="14" width="12" height="12" fill="%s"/><text x="%d" y="24">%s</text>`+"\n", x, o.color, x+16, html.EscapeString(o.label))
		x += 26 + 7*len(o.label)
	}
	for i, p := range chartPanels {
		px, py := (i%cols)*panelW, top+(i/cols)*panelH
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s (%s)</text>`+"\n", px+12, py+20, html.EscapeString(p.title), p.unit)
		top := 0.0
		for _, l := range lines {
			for _, o := range chartOutputs {
				if v, ok := p.value(l, o.name); ok {
					top = math.Max(top, v)
				}
			}
		}
		if top <= 0 {
			continue
		}
		base := py + plotTop + plotH
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444"/>`+"\n", px+12, base, px+panelW-12, base)
		groupW := len(chartOutputs)*(barW+gap) + 24
		gx := px + 24
		for _, l := range lines {
			for j, o := range chartOutputs {
				v, ok := p.value(l, o.name)
				if !ok {
					continue
				}
				h := int(math.Round(v / top * plotH))
				bx := gx + j*(barW+gap)
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s %s: %s %s</title></rect>`+"\n",
					bx, base-h, barW, h, o.color, l.version, html.EscapeString(o.label), chartNum(v), p.unit)
				fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="9">%s</text>`+"\n", bx+barW/2, base-h-3, chartNum(v))
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">Fluent Bit %s</text>`+"\n", gx+(groupW-24)/2, base+16, l.version)
			gx += groupW
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// chartNum prints v with the digits a bar label needs.
func chartNum(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// writeChart writes the chart of lines to path (nothing without lines).
func writeChart(path string, lines []*fbLine) error {
	if len(lines) == 0 {
		return nil
	}
	return os.WriteFile(path, []byte(chartSVG(lines)), 0o644)
}

package chunkgen

import (
	"bytes"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
)

func TestChunksDecode(t *testing.T) {
	for _, layout := range []Layout{V2, V1, V1Int, V1Float} {
		g := New(1)
		g.Layout = layout
		chunks := g.Chunks(2500, 64<<10)
		if len(chunks) < 2 {
			t.Fatalf("layout %d: %d chunks", layout, len(chunks))
		}
		n := 0
		for _, c := range chunks {
			d := event.NewDecoder(c)
			var ev event.Event
			for {
				err := d.Next(&ev)
				if event.IsEnd(err) {
					break
				}
				if err != nil {
					t.Fatalf("layout %d: %v", layout, err)
				}
				n++
			}
		}
		if n != 2500 || g.Seq() != 2500 {
			t.Errorf("layout %d: decoded %d records, seq %d", layout, n, g.Seq())
		}
	}
	ga, gb := New(7), New(7)
	gb.Sec = ga.Sec
	a, b := ga.Chunks(100, 1<<20), gb.Chunks(100, 1<<20)
	if !bytes.Equal(a[0], b[0]) {
		t.Error("not deterministic")
	}
	if !strings.Contains(New(1).Line(Stack, 5), "seq=5") {
		t.Error("no seq marker")
	}
}

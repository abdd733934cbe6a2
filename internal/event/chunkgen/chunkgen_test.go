package chunkgen

import (
	"bytes"
	"io"
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
				if err == io.EOF {
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

func TestMix(t *testing.T) {
	cases := []map[Shape]int{
		{Access: 82, JSON: 15, Binary: 2, Stack: 1},
		{Access: 1, Stack: 1},
		{JSON: 3},
	}
	for _, counts := range cases {
		m := Mix(counts)
		got := map[Shape]int{}
		for _, s := range m {
			got[s]++
		}
		total := 0
		for s, n := range counts {
			total += n
			if got[s] != n {
				t.Errorf("%v: %d of shape %d, want %d", counts, got[s], s, n)
			}
		}
		if len(m) != total {
			t.Errorf("%v: cycle of %d, want %d", counts, len(m), total)
		}
	}
	// Even spread: no two JSON logs (15 per 100) next to each other.
	m := FireLensMix
	for i := 1; i < len(m); i++ {
		if m[i] == JSON && m[i-1] == JSON {
			t.Fatalf("JSON logs bunched at %d: %v", i, m)
		}
	}
}

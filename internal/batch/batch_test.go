package batch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestBuildAndSplit(t *testing.T) {
	var b Batch
	if got := string(b.Bytes()); got != "[]" {
		t.Fatalf("empty batch = %q", got)
	}
	for i := 0; i < 5; i++ {
		buf := b.Begin(int32(10 + i))
		b.End(append(buf, fmt.Sprintf(`{"i":%d}`, i)...))
	}
	if b.Len() != 5 || b.Size() != len(b.Bytes()) {
		t.Fatalf("len=%d size=%d bytes=%d", b.Len(), b.Size(), len(b.Bytes()))
	}
	var all []map[string]int
	if err := json.Unmarshal(b.Bytes(), &all); err != nil || len(all) != 5 {
		t.Fatalf("payload %s: %v", b.Bytes(), err)
	}
	// Adding after Bytes reopens the array.
	buf := b.Begin(15)
	b.End(append(buf, `{"i":5}`...))
	if want := `[{"i":0},{"i":1},{"i":2},{"i":3},{"i":4},{"i":5}]`; string(b.Bytes()) != want {
		t.Fatalf("got %s", b.Bytes())
	}
	for i := 0; i < b.Len(); i++ {
		if want := fmt.Sprintf(`{"i":%d}`, i); string(b.Entry(i)) != want {
			t.Errorf("Entry(%d) = %s", i, b.Entry(i))
		}
	}
	l, r := b.Slice(0, 3), b.Slice(3, 6)
	if string(l.Bytes()) != `[{"i":0},{"i":1},{"i":2}]` || string(r.Bytes()) != `[{"i":3},{"i":4},{"i":5}]` {
		t.Errorf("split: %s | %s", l.Bytes(), r.Bytes())
	}
	if fmt.Sprint(l.IDs(), r.IDs()) != "[10 11 12] [13 14 15]" {
		t.Errorf("split ids: %v %v", l.IDs(), r.IDs())
	}
	// Abort drops the last entry, also after End.
	b.Abort()
	if string(b.Bytes()) != `[{"i":0},{"i":1},{"i":2},{"i":3},{"i":4}]` || fmt.Sprint(b.IDs()) != "[10 11 12 13 14]" {
		t.Errorf("after Abort: %s %v", b.Bytes(), b.IDs())
	}
	// MoveLast carries the entry and its record id to the next payload.
	next := &Batch{}
	b.MoveLast(next)
	if string(b.Bytes()) != `[{"i":0},{"i":1},{"i":2},{"i":3}]` || string(next.Bytes()) != `[{"i":4}]` ||
		fmt.Sprint(b.IDs(), next.IDs()) != "[10 11 12 13] [14]" {
		t.Errorf("MoveLast: %s %v | %s %v", b.Bytes(), b.IDs(), next.Bytes(), next.IDs())
	}
	one := &Batch{}
	one.Append(7, []byte(`{}`))
	one.Abort()
	if one.Len() != 0 || string(one.Bytes()) != "[]" {
		t.Errorf("abort only entry: %q", one.Bytes())
	}
	if one.Append(8, []byte(`{"i":1000}`)); one.Size() != 12 { // an entry of 10 bytes in an empty payload: "[" + 10 + "]"
		t.Errorf("size after an entry of 10 bytes in an empty batch = %d", one.Size())
	}
	one.Abort()
	b.Reset()
	if b.Len() != 0 || string(b.Bytes()) != "[]" {
		t.Errorf("after Reset: %q", b.Bytes())
	}
}

// Cut hands a payload over when the next entry would make it too large
// (that entry starts the next payload) or when it holds the most entries.
func TestLimitsCut(t *testing.T) {
	for _, c := range []struct {
		name string
		lim  Limits
		want string // the payloads, in order, then the one being filled
	}{
		{name: "by entries", lim: Limits{Entries: 2, Bytes: 1000}, want: `[{"i":0},{"i":1}] [{"i":2},{"i":3}] [{"i":4}]`},
		{name: "by bytes", lim: Limits{Entries: 10, Bytes: 20}, want: `[{"i":0},{"i":1}] [{"i":2},{"i":3}] [{"i":4}]`},
		{name: "one per payload", lim: Limits{Entries: 1, Bytes: 1000}, want: `[{"i":0}] [{"i":1}] [{"i":2}] [{"i":3}] [{"i":4}] []`},
		{name: "all fit", lim: Limits{Entries: 10, Bytes: 1000}, want: `[{"i":0},{"i":1},{"i":2},{"i":3},{"i":4}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			b := &Batch{}
			for i := range 5 {
				b.Append(int32(i), fmt.Appendf(nil, `{"i":%d}`, i))
				if c.lim.Over(b) > 0 {
					t.Fatalf("entry %d does not fit alone in %+v", i, c.lim)
				}
				b = c.lim.Cut(b, func() *Batch { return &Batch{} }, func(full *Batch) { got = append(got, string(full.Bytes())) })
			}
			got = append(got, string(b.Bytes()))
			if s := strings.Join(got, " "); s != c.want {
				t.Errorf("payloads %s, want %s", s, c.want)
			}
		})
	}
}

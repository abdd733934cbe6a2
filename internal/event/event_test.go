package event

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

func eventTime(b []byte, sec, nsec uint32) []byte {
	return append(b, 0xd7, 0x00, byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec),
		byte(nsec>>24), byte(nsec>>16), byte(nsec>>8), byte(nsec))
}

func record(b []byte, msg string) []byte {
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(b, "log")
	return msgp.AppendString(b, msg)
}

func v2(b []byte, sec uint32, msg string) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendArrayHeader(b, 2)
	b = eventTime(b, sec, 5)
	b = msgp.AppendMapHeader(b, 0)
	return record(b, msg)
}

func decodeAll(t *testing.T, chunk []byte) (evs []Event, skipped int, err error) {
	t.Helper()
	d := NewDecoder(chunk)
	for {
		var ev Event
		e := d.Next(&ev)
		switch {
		case e == nil:
			evs = append(evs, ev)
		case e == io.EOF:
			return evs, skipped, nil
		case errors.Is(e, ErrMalformed):
			return evs, skipped, e
		default:
			var re *RecordError
			if !errors.As(e, &re) {
				t.Fatalf("unexpected error type %T: %v", e, e)
			}
			skipped++
		}
	}
}

func TestLayouts(t *testing.T) {
	groupStart := func(b []byte) []byte {
		b = msgp.AppendArrayHeader(b, 2)
		b = msgp.AppendArrayHeader(b, 2)
		b = eventTime(b, 0xFFFFFFFF, 0) // -1
		b = msgp.AppendMapHeader(b, 1)
		b = msgp.AppendString(b, "resource")
		b = msgp.AppendString(b, "x")
		return msgp.AppendMapHeader(b, 0)
	}
	groupEnd := func(b []byte) []byte {
		b = msgp.AppendArrayHeader(b, 2)
		b = msgp.AppendArrayHeader(b, 2)
		b = msgp.AppendInt64(b, -2)
		b = msgp.AppendMapHeader(b, 0)
		return msgp.AppendMapHeader(b, 0)
	}
	cases := []struct {
		name     string
		chunk    []byte
		wantSecs []int64
		wantNsec []int64
		skipped  int
		malform  bool
	}{
		{"v2 EventTime", v2(v2(nil, 100, "a"), 101, "b"), []int64{100, 101}, []int64{5, 5}, 0, false},
		{"v1 EventTime", record(eventTime(msgp.AppendArrayHeader(nil, 2), 7, 9), "x"), []int64{7}, []int64{9}, 0, false},
		{"v1 int", record(msgp.AppendInt64(msgp.AppendArrayHeader(nil, 2), 1700000000), "x"), []int64{1700000000}, []int64{0}, 0, false},
		{"v1 uint", record(msgp.AppendUint64(msgp.AppendArrayHeader(nil, 2), 1700000000), "x"), []int64{1700000000}, []int64{0}, 0, false},
		{"v1 float", record(msgp.AppendFloat64(msgp.AppendArrayHeader(nil, 2), 12.25), "x"), []int64{12}, []int64{250000000}, 0, false},
		{"v1 float32", record(msgp.AppendFloat32(msgp.AppendArrayHeader(nil, 2), 3.5), "x"), []int64{3}, []int64{500000000}, 0, false},
		{"group markers skipped", groupEnd(v2(groupStart(nil), 5, "in group")), []int64{5}, []int64{5}, 0, false},
		{"record not a map", v2(msgp.AppendString(eventTime(msgp.AppendArrayHeader(nil, 2), 1, 0), "oops"), 2, "ok"), []int64{2}, []int64{5}, 1, false},
		{"event of 3 elements", v2(msgp.AppendInt(msgp.AppendInt(msgp.AppendInt(msgp.AppendArrayHeader(nil, 3), 1), 2), 3), 2, "ok"), []int64{2}, []int64{5}, 1, false},
		{"string timestamp", v2(record(msgp.AppendString(msgp.AppendArrayHeader(nil, 2), "now"), "x"), 3, "ok"), []int64{3}, []int64{5}, 1, false},
		// Only v2 headers of -1/-2 are group markers; every other negative
		// time is a log and is delivered. (Before: any sec < 0 was skipped.)
		{"v1 negative int", record(msgp.AppendInt64(msgp.AppendArrayHeader(nil, 2), -5), "x"), []int64{-5}, []int64{0}, 0, false},
		{"v1 -1 is no marker", record(msgp.AppendInt64(msgp.AppendArrayHeader(nil, 2), -1), "x"), []int64{-1}, []int64{0}, 0, false},
		{"v2 negative EventTime", v2(nil, 0xFFFFFFFD, "x"), []int64{-3}, []int64{5}, 0, false},
		// int64 times whose milliseconds would overflow are reported, not
		// wrapped into garbage; EventTime nanoseconds ≥ 1e9 carry.
		{"int out of range", v2(record(msgp.AppendInt64(msgp.AppendArrayHeader(nil, 2), math.MaxInt64/999), "x"), 3, "ok"), []int64{3}, []int64{5}, 1, false},
		{"int below range", v2(record(msgp.AppendInt64(msgp.AppendArrayHeader(nil, 2), math.MinInt64/999), "x"), 3, "ok"), []int64{3}, []int64{5}, 1, false},
		{"nsec carry", record(eventTime(msgp.AppendArrayHeader(nil, 2), 7, 2_500_000_000), "x"), []int64{9}, []int64{500_000_000}, 0, false},
		{"truncated", v2(nil, 1, "abc")[:10], nil, nil, 0, true},
		{"garbage byte", []byte{0xc1}, nil, nil, 0, true},
		{"empty", nil, nil, nil, 0, false},
		{"good then truncated", append(v2(nil, 1, "a"), v2(nil, 2, "b")[:5]...), []int64{1}, []int64{5}, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, skipped, err := decodeAll(t, c.chunk)
			if (err != nil) != c.malform {
				t.Fatalf("err = %v, want malformed=%v", err, c.malform)
			}
			if skipped != c.skipped {
				t.Errorf("skipped = %d, want %d", skipped, c.skipped)
			}
			if len(evs) != len(c.wantSecs) {
				t.Fatalf("got %d events, want %d", len(evs), len(c.wantSecs))
			}
			for i, ev := range evs {
				if ev.Sec != c.wantSecs[i] || ev.Nsec != c.wantNsec[i] {
					t.Errorf("event %d time = %d.%d, want %d.%d", i, ev.Sec, ev.Nsec, c.wantSecs[i], c.wantNsec[i])
				}
				if msgp.NextType(ev.Record) != msgp.MapType {
					t.Errorf("event %d record is %s", i, msgp.NextType(ev.Record))
				}
				if rest, err := msgp.Skip(ev.Record); err != nil || len(rest) != 0 {
					t.Errorf("event %d record is not exactly one value: rest=%d err=%v", i, len(rest), err)
				}
			}
		})
	}
}

// The chunks captured from real Fluent Bit 4.2.8 decode completely.
func TestRealChunks(t *testing.T) {
	want := map[string]int{
		"firelens-forward-3000.msgpack": 3000,
		"tail-raw-lines.msgpack":        4,
		"dummy-typed-a.msgpack":         2,
		"dummy-typed-b.msgpack":         1,
	}
	for name, n := range want {
		t.Run(name, func(t *testing.T) {
			chunk, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			evs, skipped, err := decodeAll(t, chunk)
			if err != nil || skipped != 0 {
				t.Fatalf("err=%v skipped=%d", err, skipped)
			}
			if len(evs) != n {
				t.Fatalf("decoded %d events, want %d", len(evs), n)
			}
			for _, ev := range evs {
				// Captured on 2026-11-24.
				if ev.Sec < 1795000000 || ev.Sec > 1796000000 || ev.Nsec < 0 || ev.Nsec >= 1e9 {
					t.Fatalf("implausible time %d.%d", ev.Sec, ev.Nsec)
				}
			}
		})
	}
}

func TestNoAllocs(t *testing.T) {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		d := NewDecoder(chunk)
		var ev Event
		for d.Next(&ev) == nil {
		}
	})
	if allocs != 0 {
		t.Errorf("decoding a chunk allocated %v times", allocs)
	}
}

func BenchmarkDecodeFireLens(b *testing.B) {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(chunk)
		var ev Event
		n := 0
		for d.Next(&ev) == nil {
			n++
		}
		if n != 3000 {
			b.Fatal(n)
		}
	}
}

func FuzzDecoder(f *testing.F) {
	for _, name := range []string{"dummy-typed-a.msgpack", "dummy-typed-b.msgpack"} {
		b, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(v2(v2(nil, 1, "a"), 2, "b"))
	f.Fuzz(func(t *testing.T, chunk []byte) {
		d := NewDecoder(chunk)
		for i := 0; i <= len(chunk); i++ {
			var ev Event
			err := d.Next(&ev)
			if err == io.EOF || errors.Is(err, ErrMalformed) {
				return
			}
			if err == nil {
				if _, rerr := msgp.Skip(ev.Record); rerr != nil {
					t.Fatalf("record not skippable: %v", rerr)
				}
			}
		}
		t.Fatalf("decoder did not terminate")
	})
}

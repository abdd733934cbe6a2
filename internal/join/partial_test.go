package join

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

// rec is a record as alternating keys and values (string, int, bool).
type rec []any

// ev1 appends one event [EventTime, map] to a chunk.
func ev1(b []byte, sec uint32, r rec) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	b = append(b, 0xd7, 0x00, byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec), 0, 0, 0, 7)
	b = msgp.AppendMapHeader(b, uint32(len(r)/2))
	for _, v := range r {
		var err error
		if b, err = msgp.AppendIntf(b, v); err != nil {
			panic(err)
		}
	}
	return b
}

func chunkOf(recs ...rec) []byte {
	var b []byte
	for i, r := range recs {
		b = ev1(b, uint32(1795000000+i), r)
	}
	return b
}

// dockerPart is a part as moby's fluentd log driver writes it
// (daemon/logger/fluentd/fluentd.go: a map[string]string, so every value a
// string, ordinals from "1" as daemon/logger/copier.go counts them, and
// partial_message "true" on every part including the last). The key order
// is the Go map's, so it differs from part to part; keyOrder picks one of the
// orders shown in aws-samples/amazon-ecs-firelens-examples
// examples/fluent-bit/filter-multiline-partial-message-mode/README.md.
func dockerPart(id, container, log string, ord int, last bool) rec {
	vals := map[string]string{
		"container_id": container, "container_name": "/ecs-web-1-app-" + container[:4], "source": "stdout",
		"log": log, "partial_message": "true", "partial_id": id, "partial_ordinal": strconv.Itoa(ord),
		"partial_last": strconv.FormatBool(last),
	}
	orders := [][]string{
		{"source", "log", "partial_message", "partial_id", "partial_ordinal", "partial_last", "container_id", "container_name"},
		{"partial_last", "container_id", "container_name", "source", "log", "partial_message", "partial_id", "partial_ordinal"},
		{"log", "partial_message", "partial_id", "partial_ordinal", "partial_last", "container_id", "container_name", "source"},
		{"container_id", "container_name", "source", "log", "partial_message", "partial_id", "partial_ordinal", "partial_last"},
	}
	var r rec
	for _, k := range orders[ord%len(orders)] {
		r = append(r, k, vals[k])
	}
	return r
}

func plainRec(log string) rec { return rec{"log", log, "source", "stdout", "container_id", "cafe0000"} }

const (
	idA = "dc37eb08b4242c41757d4cd995d983d1cdda4589193755a22fcf47a638317da0"
	idB = "0a96998303938eab6087a7f8487ca40350f2c252559bc6047569a0b11b936f0f"
	cA  = "a96998303938eab6087a7f8487ca40350f2c252559bc6047569a0b11b936f0f2"
	cB  = "b1b2b3b4303938eab6087a7f8487ca40350f2c252559bc6047569a0b11b936f0"
)

// got is one yielded log: its index, its time and its record as JSON values.
type got struct {
	idx int
	sec int64
	rec map[string]any
}

func readAll(t testing.TB, chunk []byte, msgKey string) (logs []got, r Reader, err error) {
	t.Helper()
	r = NewReader(chunk, &Options{MessageKey: msgKey}, nil)
	for {
		var ev event.Event
		idx, e := r.Next(&ev)
		if e != nil {
			if e == io.EOF {
				return logs, r, nil
			}
			var re *event.RecordError
			if errors.As(e, &re) {
				logs = append(logs, got{idx: -1})
				continue
			}
			return logs, r, e
		}
		js, rest, e := transcode.AppendValue(nil, ev.Record)
		if e != nil || len(rest) != 0 {
			t.Fatalf("record %d is not one msgpack value: %v", idx, e)
		}
		m := map[string]any{}
		if e := json.Unmarshal(js, &m); e != nil {
			t.Fatalf("record %d: %v: %s", idx, e, js)
		}
		logs = append(logs, got{idx: idx, sec: ev.Sec, rec: m})
	}
}

// asMap renders a rec the way readAll renders records.
func asMap(r rec) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(r); i += 2 {
		switch v := r[i+1].(type) {
		case int:
			m[r[i].(string)] = float64(v)
		case []byte:
			m[r[i].(string)] = string(v)
		default:
			m[r[i].(string)] = v
		}
	}
	return m
}

// joined is the record expected from joining: the first part's keys
// without partial_*, log replaced.
func joined(first rec, log string) map[string]any {
	m := asMap(first)
	for _, k := range []string{KeyMessage, KeyID, KeyOrdinal, KeyLast} {
		delete(m, k)
	}
	m["log"] = log
	return m
}

func marked(r rec) map[string]any {
	m := asMap(r)
	m[IncompleteKey] = true
	return m
}

func TestJoin(t *testing.T) {
	a1, a2, a3 := dockerPart(idA, cA, "Sher", 1, false), dockerPart(idA, cA, "lock", 2, false), dockerPart(idA, cA, " Holmes", 3, true)
	b1, b2 := dockerPart(idB, cB, `{"a":`, 1, false), dockerPart(idB, cB, `1}`, 2, true)
	cases := []struct {
		name       string
		msgKey     string
		recs       []rec
		want       []got // sec relative to 1795000000
		joined     int
		incomplete int
	}{
		{"no parts: the decoder's events and indexes", "",
			[]rec{plainRec("x"), plainRec("y")},
			[]got{{0, 0, asMap(plainRec("x"))}, {1, 1, asMap(plainRec("y"))}}, 0, 0},
		{"in order, between plain records", "",
			[]rec{plainRec("before"), a1, a2, a3, plainRec("after")},
			[]got{{0, 0, asMap(plainRec("before"))}, {1, 1, joined(a1, "Sherlock Holmes")}, {4, 4, asMap(plainRec("after"))}}, 1, 0},
		{"out of order: joined in ordinal order, at the first part's index", "",
			[]rec{a2, a1, a3},
			[]got{{1, 1, joined(a1, "Sherlock Holmes")}}, 1, 0},
		{"interleaved ids of two containers", "",
			[]rec{a1, b1, a2, plainRec("p"), b2, a3},
			[]got{{0, 0, joined(a1, "Sherlock Holmes")}, {1, 1, joined(b1, `{"a":1}`)}, {3, 3, asMap(plainRec("p"))}}, 2, 0},
		{"missing ordinal: parts as they are, marked", "",
			[]rec{a1, a3},
			[]got{{0, 0, marked(a1)}, {1, 1, marked(a3)}}, 0, 2},
		{"chunk ends before the last part", "",
			[]rec{plainRec("x"), a1, a2},
			[]got{{0, 0, asMap(plainRec("x"))}, {1, 1, marked(a1)}, {2, 2, marked(a2)}}, 0, 2},
		{"sequence begun in the previous chunk", "",
			[]rec{a2, a3, b1, b2},
			[]got{{0, 0, marked(a2)}, {1, 1, marked(a3)}, {2, 2, joined(b1, `{"a":1}`)}}, 1, 2},
		{"a duplicated ordinal is not a sequence", "",
			[]rec{a1, a1, a2, a3},
			[]got{{0, 0, marked(a1)}, {1, 1, marked(a1)}, {2, 2, marked(a2)}, {3, 3, marked(a3)}}, 0, 4},
		{"last flag on a middle part", "",
			[]rec{a1, dockerPart(idA, cA, "lock", 2, true), a3},
			[]got{{0, 0, marked(a1)}, {1, 1, marked(dockerPart(idA, cA, "lock", 2, true))}, {2, 2, marked(a3)}}, 0, 3},
		{"line of exactly 16 KB: empty last part", "",
			[]rec{a1, dockerPart(idA, cA, "", 2, true)},
			[]got{{0, 0, joined(a1, "Sher")}}, 1, 0},
		{"one part, first and last", "",
			[]rec{dockerPart(idA, cA, "whole", 1, true)},
			[]got{{0, 0, joined(dockerPart(idA, cA, "whole", 1, true), "whole")}}, 1, 0},
		{"typed fields (a filter re-encoded them): bool and int", "",
			[]rec{
				{"log", "ab", "partial_message", true, "partial_id", "x", "partial_ordinal", 1, "partial_last", false},
				{"log", "cd", "partial_message", true, "partial_id", "x", "partial_ordinal", 2, "partial_last", true},
			},
			[]got{{0, 0, map[string]any{"log": "abcd"}}}, 1, 0},
		{"binary message values", "",
			[]rec{
				{"log", []byte("ab"), "partial_message", "TRUE", "partial_id", "x", "partial_ordinal", "1", "partial_last", "False"},
				{"log", []byte("cd"), "partial_message", "true", "partial_id", "x", "partial_ordinal", "2", "partial_last", "true"},
			},
			[]got{{0, 0, map[string]any{"log": "abcd"}}}, 1, 0},
		{"partial_message false is not a part", "",
			[]rec{{"log", "a", "partial_message", "false", "partial_id", "x", "partial_ordinal", "1", "partial_last", "true"}},
			[]got{{0, 0, map[string]any{"log": "a", "partial_message": "false", "partial_id": "x", "partial_ordinal": "1", "partial_last": "true"}}}, 0, 0},
		{"a part without a usable ordinal is marked", "",
			[]rec{{"log", "a", "partial_message", "true", "partial_id", "x", "partial_ordinal", "one", "partial_last", "true"}},
			[]got{{0, 0, map[string]any{"log": "a", "partial_message": "true", "partial_id": "x", "partial_ordinal": "one", "partial_last": "true", IncompleteKey: true}}}, 0, 1},
		{"a part whose message is not a string is marked", "",
			[]rec{
				{"log", 5, "partial_message", "true", "partial_id", "x", "partial_ordinal", "1", "partial_last", "false"},
				{"log", "b", "partial_message", "true", "partial_id", "x", "partial_ordinal", "2", "partial_last", "true"},
			},
			[]got{
				{0, 0, map[string]any{"log": 5.0, "partial_message": "true", "partial_id": "x", "partial_ordinal": "1", "partial_last": "false", IncompleteKey: true}},
				{1, 1, map[string]any{"log": "b", "partial_message": "true", "partial_id": "x", "partial_ordinal": "2", "partial_last": "true", IncompleteKey: true}},
			}, 0, 2},
		{"no log key: message is the message", "",
			[]rec{
				{"message", "ab", "partial_message", "true", "partial_id", "x", "partial_ordinal", "1", "partial_last", "false"},
				{"message", "cd", "partial_message", "true", "partial_id", "x", "partial_ordinal", "2", "partial_last", "true"},
			},
			[]got{{0, 0, map[string]any{"message": "abcd"}}}, 1, 0},
		{"dd_message_key names the joined key", "msg",
			[]rec{
				{"msg", "ab", "log", "first", "partial_message", "true", "partial_id", "x", "partial_ordinal", "1", "partial_last", "false"},
				{"msg", "cd", "log", "second", "partial_message", "true", "partial_id", "x", "partial_ordinal", "2", "partial_last", "true"},
			},
			[]got{{0, 0, map[string]any{"msg": "abcd", "log": "first"}}}, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs, r, err := readAll(t, chunkOf(c.recs...), c.msgKey)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.want {
				c.want[i].sec += 1795000000
			}
			if !reflect.DeepEqual(logs, c.want) {
				t.Errorf("got\n%v\nwant\n%v", logs, c.want)
			}
			if got := r.Counts(); got.SplitJoined != c.joined || got.Incomplete != c.incomplete {
				t.Errorf("counts %+v, want joined %d incomplete %d", got, c.joined, c.incomplete)
			}
		})
	}
}

// The joined and marked records of a chunk fit in one buffer of at most
// the parts' size plus 32 bytes a part, allocated once (docs/delivery.md, Buffering).
func TestBufferBound(t *testing.T) {
	var recs []rec
	for i := 0; i < 200; i++ { // complete 4-part lines, then incomplete ones
		recs = append(recs, dockerPart(strconv.Itoa(i/4)+idA, cA, strings.Repeat("x", i), i%4+1, i%4 == 3 && i < 100))
	}
	r := NewReader(chunkOf(recs...), &Options{}, nil)
	first := &r.j.buf[:1][0]
	partsSize := 0
	for _, e := range r.j.ents {
		partsSize += int(e.rec.n)
	}
	for {
		var ev event.Event
		if _, err := r.Next(&ev); err != nil {
			break
		}
	}
	if c := r.Counts(); c.SplitJoined != 25 || c.Incomplete != 100 {
		t.Fatalf("counts %+v", c)
	}
	if &r.j.buf[:1][0] != first || len(r.j.buf) > partsSize+32*len(r.j.ents) {
		t.Errorf("buffer reallocated or %d bytes for %d bytes of parts", len(r.j.buf), partsSize)
	}
}

// Skipped events and a damaged tail come out where the decoder reports
// them; indexes count the decoder's events only; a sequence cut by the
// damage is delivered marked.
func TestDecoderErrorsPass(t *testing.T) {
	a1, a2 := dockerPart(idA, cA, "x", 1, false), dockerPart(idA, cA, "y", 2, true)
	b1 := dockerPart(idB, cB, "z", 1, false)
	chunk := chunkOf(a1)
	chunk = msgp.AppendArrayHeader(chunk, 3) // not an event: skipped
	chunk = msgp.AppendNil(chunk)
	chunk = msgp.AppendNil(chunk)
	chunk = msgp.AppendNil(chunk)
	chunk = ev1(chunk, 1795000001, a2)
	chunk = ev1(chunk, 1795000002, b1)
	chunk = append(chunk, 0x92, 0xc1) // damage
	logs, r, err := readAll(t, chunk, "")
	if !errors.Is(err, event.ErrMalformed) {
		t.Fatalf("err %v, want malformed", err)
	}
	want := []got{{0, 1795000000, joined(a1, "xy")}, {-1, 0, nil}, {2, 1795000002, marked(b1)}}
	if !reflect.DeepEqual(logs, want) {
		t.Errorf("got\n%v\nwant\n%v", logs, want)
	}
	if c := r.Counts(); c.SplitJoined != 1 || c.Incomplete != 1 {
		t.Errorf("counts %+v", c)
	}
}

// Fluent Bit retries a chunk with the same bytes; the delivery memory skips
// logs by index, so the same bytes must give the same logs at the same
// indexes, whatever the order of the parts.
func TestDeterministic(t *testing.T) {
	var recs []rec
	for i := 0; i < 40; i++ {
		id := strconv.Itoa(i % 7)
		recs = append(recs, dockerPart(strings.Repeat(id, 64), cA, strconv.Itoa(i), i/7+1, i/7 == 5))
	}
	chunk := chunkOf(recs...)
	first, _, err := readAll(t, chunk, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, _, _ := readAll(t, chunk, "")
		if !reflect.DeepEqual(first, again) {
			t.Fatal("same chunk, different logs")
		}
	}
}

// A joined message over the intake's 1 MB per-log limit is cut by the
// shaper with its marker, whose value is the joined size.
func TestJoinedOverLimitTruncated(t *testing.T) {
	part := strings.Repeat("0123456789abcdef", 1024) // 16 KB, as the runtime cuts
	const n = 70                                     // 1,146,880 bytes
	var recs []rec
	for i := 1; i <= n; i++ {
		recs = append(recs, dockerPart(idA, cA, part, i, i == n))
	}
	r := NewReader(chunkOf(recs...), &Options{}, nil)
	var ev event.Event
	if _, err := r.Next(&ev); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(&ev); err != io.EOF {
		t.Fatalf("more than one log: %v", err)
	}
	s := shape.New(shape.Options{})
	out, info, err := s.Append(nil, &ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	msg, _ := m["message"].(string)
	if !info.Truncated || len(msg) > shape.DefaultMaxMessageBytes || !strings.HasPrefix(part+part, msg[:2*len(part)]) ||
		m[shape.TruncatedKey] != float64(n*len(part)) {
		t.Errorf("truncated %v, message %d bytes, marker %v", info.Truncated, len(msg), m[shape.TruncatedKey])
	}
	for _, k := range []string{KeyMessage, KeyID, KeyOrdinal, KeyLast} {
		if _, ok := m[k]; ok {
			t.Errorf("%s kept", k)
		}
	}
}

// Present looks for the key as the encoders on the way write it (a
// fixstr); the text in a log line does not trigger the joining path, and
// a value that happens to be the key's bytes only costs the second pass.
func TestPresent(t *testing.T) {
	str8 := append([]byte{0xd9, 15}, KeyMessage...) // a longer form no encoder here uses
	cases := []struct {
		name  string
		chunk []byte
		want  bool
	}{
		{"a part", chunkOf(dockerPart(idA, cA, "x", 1, false)), true},
		{"the words in a log line", chunkOf(plainRec("grep partial_message in the docs")), false},
		{"a value that is the key's bytes", chunkOf(plainRec(KeyMessage)), true},
		{"str8 key: not recognised", append([]byte{0x81}, append(str8, 0xa4, 't', 'r', 'u', 'e')...), false},
	}
	for _, c := range cases {
		if got := Present(c.chunk); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	logs, _, err := readAll(t, chunkOf(plainRec(KeyMessage)), "")
	if err != nil || len(logs) != 1 || !reflect.DeepEqual(logs[0].rec, asMap(plainRec(KeyMessage))) {
		t.Errorf("record changed: %v %v", logs, err)
	}
}

// The FireLens capture holds no part: the Reader yields exactly the
// decoder's events.
func TestRealChunkUnchanged(t *testing.T) {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		t.Fatal(err)
	}
	if Present(chunk) {
		t.Fatal("capture holds partial_message")
	}
	r := NewReader(chunk, &Options{}, nil)
	d := event.NewDecoder(chunk)
	for i := 0; ; i++ {
		var a, b event.Event
		idx, ea := r.Next(&a)
		eb := d.Next(&b)
		if ea != eb || (ea == nil && (idx != i || !reflect.DeepEqual(a, b))) {
			t.Fatalf("event %d: %v/%v", i, ea, eb)
		}
		if ea != nil {
			break
		}
	}
}

func TestNoAllocsWithoutParts(t *testing.T) {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		t.Fatal(err)
	}
	if allocs := allocsPerChunk(chunk, &Options{}); allocs != 0 {
		t.Errorf("%v allocations per chunk", allocs)
	}
}

// allocsPerChunk is the allocations of reading chunk whole.
func allocsPerChunk(chunk []byte, o *Options) float64 {
	return testing.AllocsPerRun(5, func() {
		r := NewReader(chunk, o, nil)
		var ev event.Event
		for {
			if _, err := r.Next(&ev); err != nil {
				break
			}
		}
	})
}

// FuzzReader: any chunk, no panic; every yielded record is one msgpack map
// the shaper accepts or refuses with an error, the same on a second read;
// with streams grouping lines too.
func FuzzReader(f *testing.F) {
	f.Add(chunkOf(dockerPart(idA, cA, "a", 1, false), dockerPart(idA, cA, "b", 2, true)), "")
	f.Add(chunkOf(dockerPart(idA, cA, "a", 2, false), plainRec("x"), dockerPart(idA, cA, "b", 1, true)), "log")
	f.Add(chunkOf(rec{"log", 1, "partial_message", true, "partial_id", []byte{0}, "partial_ordinal", "9", "partial_last", true}), "")
	f.Add(lineChunk(line{"app", "stderr", "panic: x", 0}, line{"app", "stderr", "", 0}, line{"app", "stderr", "goroutine 1 [running]:", 0},
		line{"b", "stdout", "Traceback (most recent call last):", 1}, line{"app", "stderr", "\tat x", 1}), "")
	s := shape.New(shape.Options{})
	f.Fuzz(func(t *testing.T, chunk []byte, msgKey string) {
		o := &Options{MessageKey: msgKey, MaxBytes: 64}
		if len(chunk)%2 == 0 { // half the inputs group lines too, with a small bound
			o.Streams = fixed{g: Grouping{Auto: true}}
		}
		var recs [][]byte
		for pass := 0; pass < 2; pass++ {
			r := NewReader(chunk, o, nil)
			k := 0
			for {
				var ev event.Event
				idx, err := r.Next(&ev)
				if err != nil {
					var re *event.RecordError
					if errors.As(err, &re) {
						continue
					}
					break
				}
				if idx < 0 || msgp.NextType(ev.Record) != msgp.MapType {
					t.Fatalf("index %d, record type %v", idx, msgp.NextType(ev.Record))
				}
				if rest, err := event.Skip(ev.Record); err != nil || len(rest) != 0 {
					t.Fatalf("record %d is not one value: %v", idx, err)
				}
				_, _, _ = s.Append(nil, &ev, nil)
				if pass == 0 {
					recs = append(recs, append([]byte(nil), ev.Record...))
				} else if k >= len(recs) || string(recs[k]) != string(ev.Record) {
					t.Fatalf("second read differs at log %d", k)
				}
				k++
			}
			if pass == 1 && k != len(recs) {
				t.Fatalf("second read: %d logs, first %d", k, len(recs))
			}
		}
	})
}

// BenchmarkRead compares the plain decoder with the Reader on the FireLens
// capture (no part: the Reader's cost is one bytes.Contains per chunk and
// a counter per event) and on the same records made parts of 4-part lines.
func BenchmarkRead(b *testing.B) {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("present-check", func(b *testing.B) { // the whole extra cost per chunk without parts
		b.SetBytes(int64(len(chunk)))
		for b.Loop() {
			if Present(chunk) {
				b.Fatal("parts in the capture")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/3000, "ns/record")
	})
	b.Run("decoder", func(b *testing.B) {
		b.SetBytes(int64(len(chunk)))
		for b.Loop() {
			d := event.NewDecoder(chunk)
			var ev event.Event
			for d.Next(&ev) == nil {
			}
		}
	})
	b.Run("reader-no-parts", func(b *testing.B) { benchReader(b, chunk, &Options{}) })
	// auto_multiline on: every record read twice and its line classified.
	b.Run("reader-auto-multiline", func(b *testing.B) { benchReader(b, chunk, auto) })
	var recs []rec
	for i := 0; i < 3000; i++ {
		recs = append(recs, dockerPart(strconv.Itoa(i/4)+idA, cA, strings.Repeat("x", 100), i%4+1, i%4 == 3))
	}
	parts := chunkOf(recs...)
	b.Run("reader-4-part-lines", func(b *testing.B) { benchReader(b, parts, &Options{}) })
}

func benchReader(b *testing.B, chunk []byte, o *Options) {
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(chunk, o, nil)
		var ev event.Event
		for {
			if _, err := r.Next(&ev); err != nil {
				break
			}
		}
	}
}

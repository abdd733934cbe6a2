package shape

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
)

// fitOne shapes rec and fits it to limit; it checks the result is valid
// JSON within limit and returns it parsed.
func fitOne(t *testing.T, s *Shaper, rec []byte, limit int) (map[string]any, Fitted, int) {
	t.Helper()
	js, _ := shapeOne(t, s, rec)
	out, f, ok := s.Fit([]byte(js), limit)
	if !ok {
		t.Fatalf("the entry of %d bytes cannot fit %d", len(js), limit)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil || len(out) > limit {
		t.Fatalf("fitted entry of %d bytes (limit %d): %v", len(out), limit, err)
	}
	return m, f, len(out)
}

// The per-log limit applies to the whole entry: the largest values are cut
// first, the message's or an attribute's, to a common size, and marked;
// with too many attributes even so, the largest are left out, counted.
// (Before: a 2 MB stack attribute went out as a 2.1 MB entry; a 1 MB key
// and 100,000 keys made entries over 1 MB too.)
func TestFitWholeEntry(t *testing.T) {
	s := New(Options{DateKey: "timestamp", Source: "src", Service: "svc", Hostname: "h"})
	const limit = limits.MaxLogBytes
	stack := strings.Repeat("\tat com.example.Handler.process(Handler.java:42)\n", 2_000_000/50)

	m, f, n := fitOne(t, s, kv("log", "boom", "stack", stack, "user", "u1"), limit)
	if m["message"] != "boom" || m["user"] != "u1" || f != (Fitted{Cut: 1}) || m[CutAttributesKey] != 1.0 || n < limit-1000 {
		t.Errorf("2 MB stack: %+v, %d bytes, message %v", f, n, m["message"])
	}
	if !strings.HasPrefix(m["stack"].(string), "\tat com.example") || m["ddsource"] != "src" || m["timestamp"] == nil {
		t.Errorf("stack or reserved attributes lost: %.100v", m)
	}

	nested := msgp.AppendMapHeader(nil, 1)
	nested = msgp.AppendString(msgp.AppendString(nested, "trace"), stack)
	m, f, _ = fitOne(t, s, kv("log", "x", "ctx", rawMsgpack(nested)), limit)
	if v, _ := m["ctx"].(string); !strings.HasPrefix(v, `{"trace":"\tat`) || f.Cut != 1 {
		t.Errorf("a nested value over the limit becomes its JSON text, cut: %+v %.60q", f, m["ctx"])
	}

	big := strings.Repeat("m", 700_000)
	m, f, _ = fitOne(t, s, kv("log", big, "stack", stack), limit)
	msg, _ := json.Marshal(m["message"]) // the common size is of the values as JSON
	st, _ := json.Marshal(m["stack"])
	if !f.Message || f.Cut != 1 || m[TruncatedKey] != float64(len(big)) || len(msg) < 400_000 || len(msg)-len(st) > 100 || len(st)-len(msg) > 100 {
		t.Errorf("message and attribute both large: %+v, message %d stack %d bytes of JSON", f, len(msg), len(st))
	}

	m, f, _ = fitOne(t, s, kv("log", "x", strings.Repeat("k", 1_000_000), "v", "small", "s"), limit)
	if f.Dropped != 1 || m[DroppedAttributesKey] != 1.0 || m["small"] != "s" || m["message"] != "x" {
		t.Errorf("1 MB key: %+v %v", f, m)
	}

	pairs := []any{"log", "many keys"}
	for i := 0; i < 100_000; i++ {
		pairs = append(pairs, fmt.Sprintf("key_%06d", i), "value")
	}
	m, f, _ = fitOne(t, s, kv(pairs...), limit)
	if f.Dropped == 0 || m[DroppedAttributesKey] != float64(f.Dropped) || len(m)+f.Dropped < 100_000 || m["message"] != "many keys" {
		t.Errorf("100,000 keys: %+v, %d kept", f, len(m))
	}
}

// A record whose reserved attributes alone exceed the limit cannot fit.
func TestFitReservedTooLarge(t *testing.T) {
	s := New(Options{})
	js, _ := shapeOne(t, s, kv("log", "x", "hostname", strings.Repeat("h", 2000)))
	if _, _, ok := s.Fit([]byte(js), 1000); ok {
		t.Error("a 2 KB hostname fitted into 1,000 bytes")
	}
	if out, f, ok := s.Fit([]byte(js), len(js)); !ok || string(out) != js || f != (Fitted{}) {
		t.Error("an entry that fits was changed")
	}
}

// BenchmarkFit fits a 2 MB entry (a stack attribute over the per-log
// limit, a message and a few attributes): the path of an oversized record.
func BenchmarkFit(b *testing.B) {
	s := New(Options{DateKey: "timestamp", Source: "src", Service: "svc", Hostname: "h"})
	stack := strings.Repeat("\tat com.example.Handler.process(Handler.java:42)\n", 2_000_000/50)
	ev := event.Event{Sec: 1795000000, Nsec: 123456789, Record: kv("log", "boom", "stack", stack, "user", "u1", "path", "/api/v1/orders")}
	js, _, err := s.Append(nil, &ev, []byte("app-firelens-1"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := s.Fit(js, limits.MaxLogBytes); !ok {
			b.Fatal("does not fit")
		}
	}
}

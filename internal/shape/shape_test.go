package shape

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
)

// kv builds a msgpack map from alternating keys and values.
func kv(pairs ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(pairs)/2))
	for i, p := range pairs {
		switch v := p.(type) {
		case string:
			b = msgp.AppendString(b, v)
		case []byte:
			b = msgp.AppendBytes(b, v)
		case int:
			b = msgp.AppendInt(b, v)
		case float64:
			b = msgp.AppendFloat64(b, v)
		case bool:
			b = msgp.AppendBool(b, v)
		case nil:
			b = msgp.AppendNil(b)
		case rawMsgpack:
			b = append(b, v...)
		default:
			panic(i)
		}
	}
	return b
}

type rawMsgpack []byte

func shapeOne(t *testing.T, s *Shaper, rec []byte) (string, Info) {
	t.Helper()
	ev := event.Event{Sec: 1795000000, Nsec: 123456789, Record: rec}
	out, info, err := s.Append([]byte("PREFIX"), &ev, []byte("app-firelens-1"))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if !strings.HasPrefix(string(out), "PREFIX") {
		t.Fatalf("prefix lost")
	}
	js := string(out[len("PREFIX"):])
	if !json.Valid([]byte(js)) || !utf8.ValidString(js) {
		t.Fatalf("invalid JSON: %s", js)
	}
	return js, info
}

func TestShape(t *testing.T) {
	base := Options{DateKey: "timestamp", Source: "httpd", Service: "web", Hostname: "h1"}
	cases := []struct {
		name string
		opts func(o *Options)
		rec  []byte
		want string
	}{
		{"log becomes message", nil,
			kv("log", "hello", "source", "stdout"),
			`{"message":"hello","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"source":"stdout"}`},
		{"message key when no log", nil,
			kv("message", "hi", "x", 1),
			`{"message":"hi","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"x":1}`},
		{"log wins, message kept renamed", nil,
			kv("message", "other", "log", "main"),
			`{"message":"main","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"_message":"other"}`},
		{"dd_message_key", func(o *Options) { o.MessageKey = "msg" },
			kv("msg", "from msg", "log", "stays"),
			`{"message":"from msg","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"log":"stays"}`},
		{"record overrides service source hostname", nil,
			kv("log", "x", "service", "api", "ddsource", "java", "hostname", "h2"),
			`{"message":"x","ddsource":"java","service":"api","hostname":"h2","timestamp":1795000000123}`},
		{"dd.service from tracer injection", nil,
			kv("log", "x", "dd.service", "checkout"),
			`{"message":"x","ddsource":"httpd","service":"checkout","hostname":"h1","timestamp":1795000000123,"dd.service":"checkout"}`},
		{"level to status", nil,
			kv("log", "x", "level", "WARNING"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","status":"warn","timestamp":1795000000123,"level":"WARNING"}`},
		{"status key consumed when a level", nil,
			kv("log", "x", "status", "error"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","status":"error","timestamp":1795000000123}`},
		{"numeric http status is an attribute", nil,
			kv("log", "x", "status", 200),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"status":200}`},
		{"http status renamed when a level exists", nil,
			kv("log", "x", "status", 200, "severity", "info"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","status":"info","timestamp":1795000000123,"_status":200,"severity":"info"}`},
		{"detect status in text", func(o *Options) { o.DetectStatus = true },
			kv("log", "ERROR something broke"),
			`{"message":"ERROR something broke","ddsource":"httpd","service":"web","hostname":"h1","status":"error","timestamp":1795000000123}`},
		{"stderr status", func(o *Options) { o.StderrStatus = "error" },
			kv("log", "plain", "source", "stderr"),
			`{"message":"plain","ddsource":"httpd","service":"web","hostname":"h1","status":"error","timestamp":1795000000123,"source":"stderr"}`},
		{"date key collision renamed", nil,
			kv("log", "x", "timestamp", "2026-11-24"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"_timestamp":"2026-11-24"}`},
		{"no date key", func(o *Options) { o.DateKey = "" },
			kv("log", "x"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1"}`},
		{"include tag key", func(o *Options) { o.IncludeTagKey = true; o.TagKey = "fluent_tag" },
			kv("log", "x"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"fluent_tag":"app-firelens-1"}`},
		{"record ddtags kept", nil,
			kv("log", "x", "ddtags", "a:b,c:d"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","ddtags":"a:b,c:d","timestamp":1795000000123}`},
		{"structured message", nil,
			kv("log", rawMsgpack(kv("k", "v", "n", 1))),
			`{"message":"{\"k\":\"v\",\"n\":1}","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123}`},
		{"nested attributes and types", nil,
			kv("log", "x", "m", rawMsgpack(kv("a", rawMsgpack(kv("b", nil)))), "f", 1.5, "t", true, "bin", []byte("raw")),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"m":{"a":{"b":null}},"f":1.5,"t":true,"bin":"raw"}`},
		{"binary key and invalid utf8", nil,
			append(msgp.AppendBytes(msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(nil, 2), "log"), "bad\xff"), []byte("k\xfe")), msgp.AppendString(nil, "v")...),
			`{"message":"bad` + "\uFFFD" + `","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"k` + "\uFFFD" + `":"v"}`},
		{"firelens fields stay without provider ecs", nil,
			kv("log", "x", "container_id", "abc", "ecs_cluster", "c"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"container_id":"abc","ecs_cluster":"c"}`},
		{"firelens fields become tags only with provider ecs", func(o *Options) { o.ECS = true },
			kv("log", "x", "container_id", "abc", "ecs_cluster", "c", "source", "stdout"),
			`{"message":"x","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123,"source":"stdout"}`},
		{"empty record: an empty message, the intake's schema requires one", nil,
			kv(),
			`{"message":"","ddsource":"httpd","service":"web","hostname":"h1","timestamp":1795000000123}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base
			if c.opts != nil {
				c.opts(&o)
			}
			got, info := shapeOne(t, New(o), c.rec)
			if got != c.want {
				t.Errorf("\ngot  %s\nwant %s", got, c.want)
			}
			if info.Truncated {
				t.Error("unexpected truncation")
			}
		})
	}
}

func TestTruncation(t *testing.T) {
	big := strings.Repeat("x", 1_500_000)
	s := New(Options{})
	got, info := shapeOne(t, s, kv("log", big, "after", 1))
	if !info.Truncated {
		t.Fatal("not truncated")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatal(err)
	}
	if n := len(m["message"].(string)); n != DefaultMaxMessageBytes {
		t.Errorf("message length %d, want %d", n, DefaultMaxMessageBytes)
	}
	if m[TruncatedKey] != float64(1_500_000) || m["after"] != float64(1) {
		t.Errorf("marker/attributes: %v %v", m[TruncatedKey], m["after"])
	}
	if len(got) > 1_000_000 {
		t.Errorf("entry is %d bytes, over the 1 MB per-log limit", len(got))
	}
}

func TestMalformedRecord(t *testing.T) {
	rec := kv("log", "x", "y", "zzzz")
	s := New(Options{})
	for i := 1; i < len(rec); i++ {
		ev := event.Event{Record: rec[:i]}
		if _, _, err := s.Append(nil, &ev, nil); err == nil {
			t.Errorf("truncated record of %d bytes accepted", i)
		}
	}
}

// Every record of the real Fluent Bit chunks shapes into valid JSON.
func TestRealChunks(t *testing.T) {
	for _, name := range []string{"firelens-forward-3000.msgpack", "tail-raw-lines.msgpack", "dummy-typed-a.msgpack", "dummy-typed-b.msgpack"} {
		chunk, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		s := New(Options{DateKey: "timestamp", Source: "app", Service: "svc", ECS: true})
		d := event.NewDecoder(chunk)
		var ev event.Event
		n, truncated := 0, 0
		for d.Next(&ev) == nil {
			out, info, err := s.Append(nil, &ev, []byte("t"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("%s: invalid JSON %.200s", name, out)
			}
			checkSchema(t, string(out))
			if info.Truncated {
				truncated++
			}
			n++
		}
		if name == "tail-raw-lines.msgpack" && truncated != 1 {
			t.Errorf("tail-raw-lines: %d truncated, want 1 (the 1.5 MB line)", truncated)
		}
		if n == 0 {
			t.Errorf("%s: no records", name)
		}
	}
}

func FuzzShape(f *testing.F) {
	f.Add(kv("log", "x", "level", "warn", "n", rawMsgpack(kv("a", 1))))
	f.Add(kv("message", []byte("\xff"), "container_id", "c"))
	f.Add(kv("service", rawMsgpack(kv("a", 1)), "service", "x", "hostname", 1, "hostname", nil, "log", nil, "ddtags", rawMsgpack(msgp.AppendArrayHeader(nil, 0))))
	s := New(Options{DateKey: "timestamp", ECS: true, DetectStatus: true, StderrStatus: "error", IncludeTagKey: true})
	f.Fuzz(func(t *testing.T, rec []byte) {
		ev := event.Event{Record: rec}
		out, _, err := s.Append(nil, &ev, []byte("tag"))
		if err == nil && (!json.Valid(out) || !utf8.Valid(out)) {
			t.Fatalf("invalid JSON %q from %x", out, rec)
		}
		if err == nil {
			checkSchema(t, string(out))
		}
		// Fit keeps it valid JSON of the schema within any limit it accepts.
		if limit := len(out) / 2; err == nil {
			if fit, _, ok := s.Fit(out, limit); ok {
				if len(fit) > limit || !json.Valid(fit) || !utf8.Valid(fit) {
					t.Fatalf("fitted to %d: %q from %q", limit, fit, out)
				}
				checkSchema(t, string(fit))
			}
		}
	})
}

func BenchmarkShapeFireLens(b *testing.B) {
	// As shipped with provider ecs: the Agent-style ddtags are written too.
	benchShape(b, tags.NewTagger(tags.Options{ECS: true, ConfigTags: "env:prod"}), 0)
}

// benchShape shapes the captured FireLens chunk with a tagger whose
// container has the given number of log_processing_rules.
func benchShape(b *testing.B, tg *tags.Tagger, rules int) {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		b.Fatal(err)
	}
	s := New(Options{DateKey: "timestamp", Source: "httpd", Service: "web", ECS: true, Tagger: tg})
	buf := make([]byte, 0, 4<<20)
	var ev event.Event
	if d := event.NewDecoder(chunk); d.Next(&ev) != nil {
		b.Fatal("empty chunk")
	}
	if r := tg.Lookup(&tags.Fields{ContainerID: []byte("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"),
		ContainerName: []byte("/ecs-web-42-app-e4d2c3b1a0"), Cluster: []byte("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
		TaskARN:        []byte("arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"),
		TaskDefinition: []byte("web:42")}); r.Rules.Len() != rules {
		b.Fatalf("%d rules for the chunk's container, want %d", r.Rules.Len(), rules)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		d := event.NewDecoder(chunk)
		for d.Next(&ev) == nil {
			var info Info
			buf, info, err = s.Append(buf, &ev, []byte("tag"))
			if err != nil || info.Excluded {
				b.Fatal(err, info.Excluded)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/3000, "ns/record")
}

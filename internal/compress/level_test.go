package compress

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
)

// shapedPayload shapes up to 1,000 records of chunk as the plugin ships
// them with provider ecs (Agent-style ddtags included).
func shapedPayload(tb testing.TB, chunk []byte, configTags string) []byte {
	return shapedPayloadProvider(tb, chunk, configTags, true)
}

// shapedPayloadProvider is shapedPayload with or without provider ecs (false: no
// ECS tags: only the configured ones).
func shapedPayloadProvider(tb testing.TB, chunk []byte, configTags string, ecs bool) []byte {
	s := shape.New(shape.Options{DateKey: "timestamp", Source: "httpd", Service: "web", ECS: ecs,
		Tagger: tags.NewTagger(tags.Options{ECS: ecs, ConfigTags: configTags})})
	p, err := chunkgen.Payload(chunk, s, []byte("tag"), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// mixPayload is 1,000 generated records of the given mix (nil = the
// generator's default, a multi-KB stack trace every 7 records), as the bench
// configures the plugin.
func mixPayload(tb testing.TB, shapes []chunkgen.Shape) []byte {
	return shapedPayload(tb, mixChunk(shapes), "env:prod,team:web")
}

// noECSPayload is the reference mix shaped without provider ecs: the
// entries share only the configured tags.
func noECSPayload(tb testing.TB) []byte {
	return shapedPayloadProvider(tb, mixChunk(chunkgen.FireLensMix), "env:prod,team:web", false)
}

// mixChunk is one chunk of 1,000 generated records of the given mix.
func mixChunk(shapes []chunkgen.Shape) []byte {
	g := chunkgen.New(1)
	g.Shapes = shapes
	return g.Chunks(1000, 64<<20)[0]
}

// firelensPayload is the first 1,000 records of the captured FireLens chunk.
func firelensPayload(tb testing.TB) []byte {
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		tb.Fatal(err)
	}
	return shapedPayload(tb, chunk, "env:prod")
}

var levelCases = []struct {
	name  Algorithm
	level int
}{{Gzip, 1}, {Gzip, 2}, {Gzip, 3}, {Gzip, 4}, {Gzip, 5}, {Gzip, 6}, {Gzip, 7}, {Gzip, 9}, {Zstd, 1}, {Zstd, 2}, {Zstd, 3}, {Deflate, 3}, {Deflate, 6}}

type levelPayload struct {
	name, short string // for the table; for benchmark names
	p           []byte
}

// levelPayloads are the payloads the default level is chosen on.
func levelPayloads(tb testing.TB) []levelPayload {
	return []levelPayload{
		{"captured FireLens chunk", "captured", firelensPayload(tb)},
		{"bench reference mix", "reference", mixPayload(tb, chunkgen.FireLensMix)},
		{"bench stress mix", "stress", mixPayload(tb, nil)},
		{"bench reference mix, no ECS tags", "reference-no-ecs", noECSPayload(tb)},
	}
}

// TestLevelTable checks the default gzip and deflate levels keep the wire within 1.1x of standard gzip at its default level, on
// FireLens payloads with and without the Agent-style ECS tags, that zstd at
// its fastest level is smaller still (benchmarks/README.md says both), and
// logs the ratio table (-v).
func TestLevelTable(t *testing.T) {
	for _, pl := range levelPayloads(t) {
		p := pl.p
		var ref bytes.Buffer
		w, _ := stdgzip.NewWriterLevel(&ref, stdgzip.DefaultCompression)
		w.Write(p)
		w.Close()
		t.Logf("%s: payload %d bytes; compress/gzip level 6: %d bytes", pl.name, len(p), ref.Len())
		var dflt, zstd1 int
		for _, c := range levelCases {
			codec, err := New(c.name, c.level)
			if err != nil {
				t.Fatal(err)
			}
			out, err := codec.Compress(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			rel := float64(len(out)) / float64(ref.Len())
			label := fmt.Sprintf("level %d", c.level)
			if c.level == DefaultLevel(c.name) {
				label += " (default)"
			}
			t.Logf("  %-8s %-25s: %7d bytes, ratio %5.1fx, %.3fx of compress/gzip -6", c.name, label, len(out), float64(len(p))/float64(len(out)), rel)
			if c.name != Zstd && c.level == DefaultLevel(c.name) && rel > 1.1 {
				t.Errorf("%s: default %s is %.3fx of gzip -6's size, over 1.1x", pl.name, c.name, rel)
			}
			switch {
			case c.name == Gzip && c.level == DefaultLevel(Gzip):
				dflt = len(out)
			case c.name == Zstd && c.level == 1:
				zstd1 = len(out)
			}
		}
		if zstd1 >= dflt {
			t.Errorf("%s: zstd level 1 is %d bytes, not smaller than the default gzip's %d", pl.name, zstd1, dflt)
		}
	}
}

func BenchmarkLevels(b *testing.B) {
	p := firelensPayload(b)
	for _, c := range levelCases {
		b.Run(fmt.Sprintf("%s-%d", c.name, c.level), func(b *testing.B) {
			codec, _ := New(c.name, c.level)
			var out []byte
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				out, _ = codec.Compress(out, p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
		})
	}
}

// TestZstdWindow: the encoder's 512 KB window (zstdWindow) costs nothing
// measurable in size against the library's default window on the level
// table's payloads, and its state (tables, history) stays near 1 MB where
// the default's is about 9 (compress.go says both).
func TestZstdWindow(t *testing.T) {
	wide, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
	if err != nil {
		t.Fatal(err)
	}
	defer wide.Close()
	for _, pl := range levelPayloads(t) {
		codec, err := New(Zstd, 0)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		out, _ := codec.Compress(nil, pl.p)
		runtime.ReadMemStats(&after)
		state := int64(after.TotalAlloc-before.TotalAlloc) - int64(cap(out))
		ref := wide.EncodeAll(pl.p, nil)
		t.Logf("%s: %d bytes with a 512 KB window, %d with the default; encoder state %d KB", pl.name, len(out), len(ref), state>>10)
		if float64(len(out)) > 1.01*float64(len(ref)) {
			t.Errorf("%s: %d bytes with a 512 KB window, over 1%% more than the default window's %d", pl.name, len(out), len(ref))
		}
		if state > 2<<20 {
			t.Errorf("%s: the zstd encoder allocated %d KB for its state, want under 2 MB", pl.name, state>>10)
		}
		codec.Close()
	}
}

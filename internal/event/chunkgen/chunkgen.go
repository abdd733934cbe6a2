// Package chunkgen writes msgpack chunks in the layouts Fluent Bit hands an
// output plugin, filled with FireLens-shaped records, for tests, the demo
// and the benchmarks. Output is deterministic for a seed.
package chunkgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// Layout of the events.
type Layout int

const (
	V2      Layout = iota // [[EventTime, {}], record] (Fluent Bit >= 2.1), with group markers
	V1                    // [EventTime, record] (Fluent Bit 1.9)
	V1Int                 // [int seconds, record]
	V1Float               // [float seconds, record]
)

// Shape of a record's log line.
type Shape int

const (
	Access Shape = iota // ~110 B nginx-style access line
	JSON                // JSON app log with nesting
	Stack               // multi-line Java stack trace, several KB
	Binary              // text with invalid UTF-8 and control bytes
	numShapes
)

// Mix spreads counts[shape] records of each shape evenly over one cycle of
// sum(counts) records, in a fixed order, for Generator.Shapes.
func Mix(counts map[Shape]int) []Shape {
	total := 0
	for _, n := range counts {
		total += n
	}
	out := make([]Shape, 0, total)
	placed := make(map[Shape]int, len(counts))
	for i := 0; i < total; i++ {
		// Pick the shape furthest behind its even share at position i+1.
		best, bestLag := Access, -1.0
		for s := Shape(0); s < numShapes; s++ {
			if placed[s] >= counts[s] {
				continue
			}
			lag := float64(counts[s])*float64(i+1)/float64(total) - float64(placed[s])
			if lag > bestLag {
				best, bestLag = s, lag
			}
		}
		placed[best]++
		out = append(out, best)
	}
	return out
}

// FireLensMix is a record mix sized like the FireLens records of the
// issue's reference measurement (~590 B per record as the built-in
// output's JSON) and of testdata's captured chunk (447 B of msgpack per
// event: a ~100 B log line plus the ECS fields): per 100 records, 82 access
// lines, 15 JSON app logs, 2 non-UTF-8 lines and 1 multi-KB stack trace.
// Its events average 471 B of msgpack, 5% over the captured ones.
var FireLensMix = Mix(map[Shape]int{Access: 82, JSON: 15, Binary: 2, Stack: 1})

// ECS describes the task the records come from.
type ECS struct {
	Cluster, TaskARN, TaskDefinition, ContainerID, ContainerName string
}

// DefaultECS is a Fargate-like task, as in testdata's captured chunk.
var DefaultECS = ECS{
	Cluster:        "arn:aws:ecs:us-east-1:123456789012:cluster/web-cluster",
	TaskARN:        "arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef",
	TaskDefinition: "web:42",
	ContainerID:    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
	ContainerName:  "/ecs-web-42-app-e4d2c3b1a0",
}

// Generator produces FireLens records.
type Generator struct {
	rng    *rand.Rand
	Shapes []Shape // cycled through; default all
	ECS    ECS
	Layout Layout
	Sec    uint32 // first event time (Unix seconds)
	// Refused, when set, picks the records whose log starts with
	// RefuseMarker (the intake stand-in's RejectMarker refuses them).
	Refused func(seq int) bool
	seq     int
}

// RefuseMarker starts the log of the records Generator.Refused picks.
const RefuseMarker = "REFUSE-ME"

// New returns a generator for seed.
func New(seed uint64) *Generator {
	// Event times start a minute ago: the intake ignores logs over 18 h old.
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)), ECS: DefaultECS, Sec: uint32(time.Now().Unix() - 60)}
}

// Seq is the number of records generated so far (the next record's seq).
func (g *Generator) Seq() int { return g.seq }

// Line returns the log text of one record with its seq=N marker.
func (g *Generator) Line(shape Shape, seq int) string {
	r := g.rng
	switch shape {
	case JSON:
		return fmt.Sprintf(`{"level":"%s","msg":"order %d processed seq=%d","user":{"id":%d,"tier":"gold","tags":["a","b"]},"latency_ms":%.3f}`,
			[]string{"info", "warn", "error", "debug"}[r.IntN(4)], r.IntN(100000), seq, r.IntN(1_000_000), r.Float64()*100)
	case Stack:
		var b strings.Builder
		fmt.Fprintf(&b, "ERROR [main] c.e.OrderService - failed to process order seq=%d\njava.lang.IllegalStateException: boom %d\n", seq, r.IntN(1000))
		for i := 0; i < 30+r.IntN(30); i++ {
			fmt.Fprintf(&b, "\tat com.example.orders.Handler%d.process(Handler%d.java:%d)\n", i, i, r.IntN(500))
		}
		return b.String()
	case Binary:
		// A level first, as an app's log lines have a header: with
		// auto_multiline on (the example task definition) each record is
		// one log, as these tests and benchmarks count them.
		return fmt.Sprintf("WARN bin \xff\xfe\"q\" \\ \t \x1b[31mred\x1b[0m \x00 ctrl 한국어 😀 \u2028 seq=%d", seq)
	}
	return fmt.Sprintf(`10.0.%d.%d - - [24/Nov/2026:15:00:00 +0000] "GET /api/v1/items/%d HTTP/1.1" 200 %d seq=%d`,
		r.IntN(256), r.IntN(256), r.IntN(10000), r.IntN(10000), seq)
}

// AppendRecord appends one FireLens record (a msgpack map) to b.
func (g *Generator) AppendRecord(b []byte, shape Shape) []byte {
	seq := g.seq
	g.seq++
	source := "stdout"
	if shape == Stack || seq%7 == 0 {
		source = "stderr"
	}
	line := g.Line(shape, seq)
	if g.Refused != nil && g.Refused(seq) {
		line = RefuseMarker + " " + line
	}
	b = msgp.AppendMapHeader(b, 7)
	b = msgp.AppendString(b, "log")
	b = msgp.AppendString(b, line)
	b = msgp.AppendString(msgp.AppendString(b, "source"), source)
	b = msgp.AppendString(msgp.AppendString(b, "container_id"), g.ECS.ContainerID)
	b = msgp.AppendString(msgp.AppendString(b, "container_name"), g.ECS.ContainerName)
	b = msgp.AppendString(msgp.AppendString(b, "ecs_cluster"), g.ECS.Cluster)
	b = msgp.AppendString(msgp.AppendString(b, "ecs_task_arn"), g.ECS.TaskARN)
	b = msgp.AppendString(msgp.AppendString(b, "ecs_task_definition"), g.ECS.TaskDefinition)
	return b
}

// AppendEventTime appends Fluent Bit's EventTime ext (type 0, 8 bytes).
func AppendEventTime(b []byte, sec, nsec uint32) []byte {
	return append(b, 0xd7, 0x00, byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec),
		byte(nsec>>24), byte(nsec>>16), byte(nsec>>8), byte(nsec))
}

// AppendEvent appends one event with the generator's layout and the record
// (already msgpack) rec.
func (g *Generator) AppendEvent(b []byte, sec, nsec uint32, rec []byte) []byte {
	b = msgp.AppendArrayHeader(b, 2)
	switch g.Layout {
	case V2:
		b = msgp.AppendArrayHeader(b, 2)
		b = AppendEventTime(b, sec, nsec)
		b = msgp.AppendMapHeader(b, 0)
	case V1:
		b = AppendEventTime(b, sec, nsec)
	case V1Int:
		b = msgp.AppendUint32(b, sec)
	case V1Float:
		b = msgp.AppendFloat64(b, float64(sec)+float64(nsec)/1e9)
	}
	return append(b, rec...)
}

// AppendGroupMarker appends a v2 group start (-1) or end (-2) marker.
func AppendGroupMarker(b []byte, start bool) []byte {
	sec := uint32(0xFFFFFFFF) // -1 as int32
	if !start {
		sec = 0xFFFFFFFE
	}
	b = msgp.AppendArrayHeader(b, 2)
	b = msgp.AppendArrayHeader(b, 2)
	b = AppendEventTime(b, sec, 0)
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(msgp.AppendString(b, "schema"), "otlp")
	return msgp.AppendMapHeader(b, 0)
}

// Chunks generates n records cut into chunks of about maxBytes each. With
// the V2 layout every chunk is wrapped in group start/end markers.
func (g *Generator) Chunks(n, maxBytes int) [][]byte {
	shapes := g.Shapes
	if len(shapes) == 0 {
		shapes = []Shape{Access, JSON, Access, JSON, Access, Stack, Binary}
	}
	var out [][]byte
	var cur, rec []byte
	open := func() {
		cur = nil
		if g.Layout == V2 {
			cur = AppendGroupMarker(cur, true)
		}
	}
	closeChunk := func() {
		if g.Layout == V2 {
			cur = AppendGroupMarker(cur, false)
		}
		out = append(out, cur)
	}
	open()
	for i := 0; i < n; i++ {
		rec = g.AppendRecord(rec[:0], shapes[g.seq%len(shapes)])
		cur = g.AppendEvent(cur, g.Sec+uint32(i/1000), uint32(i%1000)*1_000_000, rec)
		if len(cur) >= maxBytes {
			closeChunk()
			open()
		}
	}
	if len(cur) > 0 && (g.Layout != V2 || len(cur) > len(AppendGroupMarker(nil, true))) {
		closeChunk()
	}
	return out
}

package deflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

func inflate(t testing.TB, z []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

func roundTrip(t testing.TB, e *Encoder, src []byte) []byte {
	t.Helper()
	z := e.Encode(nil, src)
	if got := inflate(t, z); !bytes.Equal(got, src) {
		t.Fatalf("round trip of %d bytes gave %d different bytes", len(src), len(got))
	}
	return z
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	text := strings.Repeat(`{"message":"GET /api/v1/items/42 HTTP/1.1 200","ddtags":"env:prod,service:web,`+
		`task_arn:arn:aws:ecs:us-east-1:123456789012:task/web/0123456789abcdef"}`, 2000)
	cases := map[string][]byte{
		"empty":       {},
		"one byte":    {'x'},
		"short":       []byte("hello, hello, hello"),
		"15 bytes":    []byte("abcdefghijklmno"),
		"zeros 1M":    make([]byte, 1<<20),
		"random 200K": random(200 << 10),
		"text":        []byte(text),
		"text+random": append([]byte(text), random(70000)...),
		"two bytes":   bytes.Repeat([]byte("ab"), 100000),
		"259 run":     append(bytes.Repeat([]byte{'a'}, 259+8), 'b', 'c'),
	}
	e := NewEncoder()
	for name, src := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, e, src) })
	}
	// The same encoder, reused, still gives exactly what a new one does.
	for name, src := range cases {
		if a, b := e.Encode(nil, src), NewEncoder().Encode(nil, src); !bytes.Equal(a, b) {
			t.Errorf("%s: reused encoder's output differs from a new one's", name)
		}
	}
}

// When the position base nears its limit the tables are cleared and
// encoding goes on correctly.
func TestBaseWraps(t *testing.T) {
	src := []byte(strings.Repeat("wrap around the position base; ", 3000))
	e := NewEncoder()
	roundTrip(t, e, src)
	e.base = 1<<30 - 10
	roundTrip(t, e, src) // base goes over the limit here
	if e.base <= 1<<30 {
		t.Fatalf("base %d did not pass the limit", e.base)
	}
	z := roundTrip(t, e, src) // and is reset here
	if want := NewEncoder().Encode(nil, src); !bytes.Equal(z, want) {
		t.Error("after the reset the output differs from a new encoder's")
	}
}

// Low-entropy input with few long matches makes many tokens: several
// dynamic Huffman blocks, each decoded in turn.
func TestManyBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	src := make([]byte, 600000)
	for i := range src {
		src[i] = "acgt"[rng.IntN(4)]
	}
	z := roundTrip(t, NewEncoder(), src)
	// zlib -6 makes 0.293 of it; stored or fixed-code blocks over 0.5.
	if len(z) > len(src)*32/100 {
		t.Errorf("%d bytes of a 4-letter alphabet took %d, zlib -6 takes 0.293 of it", len(src), len(z))
	}
}

func TestIncompressibleIsStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 300000)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	z := roundTrip(t, NewEncoder(), src)
	if over := len(z) - len(src); over > 64 {
		t.Errorf("random input grew by %d bytes; stored blocks cost 5 per 64 KB", over)
	}
}

func TestFraming(t *testing.T) {
	src := []byte(strings.Repeat("framing test line\n", 1000))
	e := NewEncoder()
	zr, err := gzip.NewReader(bytes.NewReader(e.AppendGzip(nil, src)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, src) {
		t.Fatalf("gzip: err %v, equal %v", err, bytes.Equal(got, src))
	}
	zl, err := zlib.NewReader(bytes.NewReader(e.AppendZlib([]byte("keep"), src)[4:]))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zl); err != nil || !bytes.Equal(got, src) {
		t.Fatalf("zlib: err %v, equal %v", err, bytes.Equal(got, src))
	}
}

// GNU gzip (zlib's inflate, not Go's) decodes what AppendGzip writes: the
// intake's decoder is not Go's either.
func TestGNUGzipDecodes(t *testing.T) {
	gz, err := exec.LookPath("gzip")
	if err != nil {
		t.Skip("no gzip binary (Debian always has one)")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var src []byte
	for i := 0; i < 3000; i++ {
		src = fmt.Appendf(src, `{"message":"GET /items/%d HTTP/1.1 200 %d","ddtags":"env:prod,task_arn:arn:aws:ecs:us-east-1:1:task/c/0123456789abcdef"},`,
			rng.IntN(10000), rng.IntN(5000))
		if i%500 == 0 {
			for j := 0; j < 20000; j++ {
				src = append(src, byte(rng.Uint32()))
			}
		}
	}
	cmd := exec.Command(gz, "-dc")
	cmd.Stdin = bytes.NewReader(NewEncoder().AppendGzip(nil, src))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gzip -dc: %v", err)
	}
	if !bytes.Equal(out, src) {
		t.Fatalf("gzip -dc gave %d bytes, want the %d encoded", len(out), len(src))
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("abcabcabcabcabcabc"), uint8(0))
	f.Add(bytes.Repeat([]byte("0123456789"), 100), uint8(3))
	e := NewEncoder()
	f.Fuzz(func(t *testing.T, data []byte, reps uint8) {
		src := bytes.Repeat(data, int(reps%8)+1)
		roundTrip(t, e, src)
	})
}

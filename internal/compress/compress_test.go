package compress

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func decode(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	var err error
	switch enc {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b))
		r = d
	case "":
		return b
	}
	if err != nil {
		t.Fatalf("%s reader: %v", enc, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s decode: %v", enc, err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	src := []byte(strings.Repeat(`{"message":"GET /api/v1/items 200","ddsource":"httpd"},`, 500))
	for _, c := range []struct {
		name  Algorithm
		level int
		enc   string
	}{{"gzip", 0, "gzip"}, {"gzip", 9, "gzip"}, {"deflate", 0, "deflate"}, {"zstd", 0, "zstd"}, {"zstd", 3, "zstd"}, {"none", 0, ""}} {
		codec, err := New(c.name, c.level)
		if err != nil {
			t.Fatalf("%s/%d: %v", c.name, c.level, err)
		}
		if codec.ContentEncoding() != c.enc {
			t.Errorf("%s: Content-Encoding %q", c.name, codec.ContentEncoding())
		}
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ { // concurrent use shares the pool
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf []byte
				for i := 0; i < 3; i++ {
					out, err := codec.Compress(buf, src)
					if err != nil {
						t.Error(err)
						return
					}
					if got := decode(t, c.enc, out); !bytes.Equal(got, src) {
						t.Errorf("%s/%d: round trip mismatch", c.name, c.level)
					}
					if c.name != "none" && len(out) >= len(src)/4 {
						t.Errorf("%s/%d: %d -> %d bytes, expected real compression", c.name, c.level, len(src), len(out))
					}
					buf = out
				}
			}()
		}
		wg.Wait()
		codec.Close()
	}
}

func TestBadSettings(t *testing.T) {
	for _, c := range []struct {
		name  Algorithm
		level int
	}{{"brotli", 0}, {"gzip", 10}, {"deflate", -5}, {"zstd", 9}} {
		if _, err := New(c.name, c.level); err == nil {
			t.Errorf("New(%q, %d) accepted", c.name, c.level)
		}
	}
}

// Fallback: zstd falls back to gzip at its default level; the others have
// nowhere to fall back to.
func TestFallback(t *testing.T) {
	for _, c := range []struct {
		name Algorithm
		want string
	}{{Zstd, "gzip"}, {Gzip, ""}, {Deflate, ""}, {None, ""}} {
		codec, err := New(c.name, 0)
		if err != nil {
			t.Fatal(err)
		}
		fb := codec.Fallback()
		switch {
		case c.want == "" && fb != nil:
			t.Errorf("%s: fallback %s, want none", c.name, fb.name)
		case c.want != "" && (fb == nil || fb.ContentEncoding() != c.want || fb.level != DefaultLevel(Gzip)):
			t.Errorf("%s: fallback %+v, want %s at its default level", c.name, fb, c.want)
		}
		codec.Close()
	}
}

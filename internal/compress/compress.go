// Package compress turns an uncompressed intake payload into the bytes put on
// the wire, with the Content-Encoding that names them. Writers are pooled per
// Codec so steady-state flushes allocate no compressor state. Every codec is
// klauspost/compress's.
package compress

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Algorithm is a payload encoding (the `compress` config key).
type Algorithm string

// The algorithms New accepts.
const (
	Gzip    Algorithm = "gzip"
	Deflate Algorithm = "deflate"
	Zstd    Algorithm = "zstd"
	None    Algorithm = "none"
)

// DefaultLevel is the level used when the configuration gives none, per
// codec, chosen by measurement on FireLens payloads of 1,000 entries as the
// plugin ships them (TestLevelTable; benchmarks/README.md, Compression
// levels). zstd: its fastest level, the Datadog Agent's default (level 1),
// both the smallest and the cheapest of the defaults. gzip and deflate:
// level 6, the cheapest level whose output stays within 1.1x of standard
// gzip's at its default level on every payload (lower levels do not on one
// or more).
func DefaultLevel(name Algorithm) int {
	if name == Zstd {
		return int(zstd.SpeedFastest)
	}
	return 6
}

// zstdWindow is the zstd encoder's window: the window zstd's own level 1
// uses for inputs over 256 KB (2^19), as the Agent sends. A payload is at
// most 5 MB and about 0.8 MB with 1,000 FireLens records; a larger window
// found nothing more on them (TestZstdWindow) and keeps an encoder's tables
// and history at about 1 MB instead of the library default's 9.
const zstdWindow = 512 << 10

// Codec compresses payloads. It is safe for concurrent use.
type Codec struct {
	name  Algorithm
	level int
	pool  sync.Pool // klauspost's *gzip.Writer / *zlib.Writer
	zenc  *zstd.Encoder
}

// New returns a Codec for name at level (0 = DefaultLevel[name]).
func New(name Algorithm, level int) (*Codec, error) {
	c := &Codec{name: name, level: level}
	if level == 0 {
		c.level = DefaultLevel(name)
	}
	switch name {
	case Gzip, Deflate:
		// klauspost's flate levels, the same for its gzip and zlib writers.
		if c.level < gzip.HuffmanOnly || c.level > gzip.BestCompression {
			return nil, fmt.Errorf("%s level %d out of range %d..%d", name, c.level, gzip.HuffmanOnly, gzip.BestCompression)
		}
	case Zstd:
		if c.level < int(zstd.SpeedFastest) || c.level > int(zstd.SpeedBestCompression) {
			return nil, fmt.Errorf("zstd level %d out of range %d..%d", c.level, zstd.SpeedFastest, zstd.SpeedBestCompression)
		}
		// One encoder per instance: payloads compressed at the same time
		// take turns on it (each is about a millisecond), which bounds the
		// memory to one encoder's. No content checksum, as zstd's own
		// default and the Agent's payloads: TCP and TLS guard the bytes,
		// and its hashing was 2.6% of the plugin's CPU in a perf profile
		// of the 5.1.1 router (make bench -perf).
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevel(c.level)),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithLowerEncoderMem(true),
			zstd.WithEncoderCRC(false),
			zstd.WithZeroFrames(true))
		if err != nil {
			return nil, fmt.Errorf("zstd encoder: %w", err)
		}
		c.zenc = enc
	case None:
		c.level = 0
	default:
		return nil, fmt.Errorf("unknown compression %q (want gzip, deflate, zstd or none)", name)
	}
	return c, nil
}

// ContentEncoding is the HTTP Content-Encoding value, "" for none.
func (c *Codec) ContentEncoding() string {
	switch c.name {
	case Gzip:
		return "gzip"
	case Deflate:
		return "deflate" // HTTP's deflate is the zlib format (RFC 9110 8.4.1.2)
	case Zstd:
		return "zstd"
	}
	return ""
}

// Compress appends the compressed form of src to dst[:0] and returns it.
// With "none" it returns src itself.
func (c *Codec) Compress(dst, src []byte) ([]byte, error) {
	switch c.name {
	case None:
		return src, nil
	case Zstd:
		return c.zenc.EncodeAll(src, dst[:0]), nil
	}
	buf := bytes.NewBuffer(dst[:0])
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if pw := c.pool.Get(); pw != nil {
		switch z := pw.(type) {
		case *gzip.Writer:
			z.Reset(buf)
			w = z
		case *zlib.Writer:
			z.Reset(buf)
			w = z
		}
	} else {
		var err error
		if c.name == Gzip {
			w, err = gzip.NewWriterLevel(buf, c.level)
		} else {
			w, err = zlib.NewWriterLevel(buf, c.level)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := w.Write(src); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	c.pool.Put(w)
	return buf.Bytes(), nil
}

// Close releases the codec's resources.
func (c *Codec) Close() {
	if c.zenc != nil {
		c.zenc.Close()
	}
}

// Fallback is the codec to switch to when the path to the intake refuses
// this codec's encoding: gzip at its default level for zstd (every intake,
// relay and proxy on the way speaks gzip), nil for the others.
func (c *Codec) Fallback() *Codec {
	if c.name != Zstd {
		return nil
	}
	g, err := New(Gzip, 0)
	if err != nil {
		panic(err) // the default level is in range
	}
	return g
}

// Package compress turns an uncompressed intake payload into the bytes put on
// the wire, with the Content-Encoding that names them. Writers are pooled per
// Codec so steady-state flushes allocate no compressor state.
//
// gzip and deflate without a level use the payload encoder of package
// deflate; an explicit level selects klauspost/compress at that level.
package compress

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/out-datadog-go/out_datadog_go/internal/deflate"
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
// plugin ships them (TestLevelTable; benchmarks/README.md). For gzip and deflate
// it is 0, which is not a klauspost level but the payload encoder of
// package deflate: within 1.1x of what standard gzip produces at its
// default level (TestLevelTable fails otherwise) for less CPU than
// klauspost level 6, the cheapest klauspost level that stays within 1.1x on
// every payload (lower levels do not on one or more). zstd at its fastest
// level is both cheaper and smaller. TestLevelTable prints the
// figures (benchmarks/README.md, Compression levels).
func DefaultLevel(name Algorithm) int {
	if name == Zstd {
		return int(zstd.SpeedFastest)
	}
	return 0
}

// Codec compresses payloads. It is safe for concurrent use.
type Codec struct {
	name  Algorithm
	level int       // 0 for gzip/deflate: the payload encoder
	pool  sync.Pool // *deflate.Encoder, or klauspost's *gzip.Writer / *zlib.Writer
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
		// 0 is the payload encoder; other levels are klauspost's, the same
		// flate levels for its gzip and zlib writers.
		if c.level != 0 && (c.level < gzip.HuffmanOnly || c.level > gzip.BestCompression) {
			return nil, fmt.Errorf("%s level %d out of range %d..%d", name, c.level, gzip.HuffmanOnly, gzip.BestCompression)
		}
	case Zstd:
		if c.level < int(zstd.SpeedFastest) || c.level > int(zstd.SpeedBestCompression) {
			return nil, fmt.Errorf("zstd level %d out of range %d..%d", c.level, zstd.SpeedFastest, zstd.SpeedBestCompression)
		}
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevel(c.level)),
			zstd.WithEncoderConcurrency(1),
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
	if c.level == 0 {
		e, _ := c.pool.Get().(*deflate.Encoder)
		if e == nil {
			e = deflate.NewEncoder()
		}
		if c.name == Gzip {
			dst = e.AppendGzip(dst[:0], src)
		} else {
			dst = e.AppendZlib(dst[:0], src)
		}
		c.pool.Put(e)
		return dst, nil
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

package event

import (
	"encoding/binary"

	"github.com/tinylib/msgp/msgp"
)

// Skip returns b after its first msgpack value, exactly as msgp.Skip does,
// errors included. Written by hand for what log records are made of (maps
// and arrays of strings, small integers, nil and booleans), because every
// record is walked twice (once here to find its end, once by the shaper to
// read its fields) and msgp.Skip's generic per-value dispatch is slow for
// that (BenchmarkDecodeFireLens; benchmarks/README.md). Anything else, nested
// containers included, goes to msgp.Skip, whose depth limit then applies.
func Skip(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return msgp.Skip(b)
	}
	whole := b
	var n uint64 // elements of a map or array (2 per map entry)
	switch c := b[0]; {
	case c&0xf0 == 0x80: // fixmap
		n, b = 2*uint64(c&0x0f), b[1:]
	case c&0xf0 == 0x90: // fixarray
		n, b = uint64(c&0x0f), b[1:]
	case c == 0xde && len(b) >= 3: // map16
		n, b = 2*uint64(binary.BigEndian.Uint16(b[1:])), b[3:]
	case c == 0xdf && len(b) >= 5: // map32
		n, b = 2*uint64(binary.BigEndian.Uint32(b[1:])), b[5:]
	case c == 0xdc && len(b) >= 3: // array16
		n, b = uint64(binary.BigEndian.Uint16(b[1:])), b[3:]
	case c == 0xdd && len(b) >= 5: // array32
		n, b = uint64(binary.BigEndian.Uint32(b[1:])), b[5:]
	default:
		if rest, ok := skipFlat(b); ok {
			return rest, nil
		}
		return msgp.Skip(b)
	}
	if n > uint64(len(b)) { // every element takes at least one byte
		return msgp.Skip(whole)
	}
	for ; n > 0; n-- {
		rest, ok := skipFlat(b)
		if !ok {
			var err error
			if rest, err = msgp.Skip(b); err != nil {
				return msgp.Skip(whole)
			}
		}
		b = rest
	}
	return b, nil
}

// skipFlat skips one string, fixint, nil or boolean. ok is false for any
// other value and for a string running past the end of b.
func skipFlat(b []byte) (rest []byte, ok bool) {
	if len(b) == 0 {
		return b, false
	}
	var size uint64
	switch c := b[0]; {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3: // fixint, nil, false, true
		size = 1
	case c&0xe0 == 0xa0: // fixstr
		size = 1 + uint64(c&0x1f)
	case c == 0xd9 && len(b) >= 2: // str8
		size = 2 + uint64(b[1])
	case c == 0xda && len(b) >= 3: // str16
		size = 3 + uint64(binary.BigEndian.Uint16(b[1:]))
	case c == 0xdb && len(b) >= 5: // str32
		size = 5 + uint64(binary.BigEndian.Uint32(b[1:]))
	default:
		return b, false
	}
	if size > uint64(len(b)) {
		return b, false
	}
	return b[size:], true
}

package transcode

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// MaxDepth bounds the nesting of maps and arrays written as JSON. Deeper
// values are written as a string placeholder: a hostile record must not be
// able to make the encoder recurse without bound.
const MaxDepth = 64

// errTrunc reports a msgpack value cut short.
var errTrunc = errors.New("truncated msgpack value")

// AppendValue appends the msgpack value at the start of b as JSON and returns
// the rest of b after that value. Maps become objects (keys turned into
// strings), binary becomes a string (invalid UTF-8 replaced), ext values
// become strings: EventTime as RFC 3339-like seconds.nanoseconds, others base64.
// Non-finite floats become strings ("NaN", "+Inf", "-Inf"): JSON has no such
// numbers and dropping them would lose data.
func AppendValue(dst, b []byte) ([]byte, []byte, error) {
	return appendValue(dst, b, 0, false)
}

// appendValue writes the value at depth; inKey is set while writing the JSON
// text of a composite map key.
func appendValue(dst, b []byte, depth int, inKey bool) ([]byte, []byte, error) {
	if len(b) == 0 {
		return dst, b, errTrunc
	}
	switch t := msgp.NextType(b); t {
	case msgp.StrType:
		s, rest, err := msgp.ReadStringZC(b)
		if err != nil {
			return dst, b, err
		}
		return AppendString(dst, s), rest, nil
	case msgp.BinType:
		s, rest, err := msgp.ReadBytesZC(b)
		if err != nil {
			return dst, b, err
		}
		return AppendString(dst, s), rest, nil
	case msgp.MapType:
		if depth >= MaxDepth {
			return skipAs(dst, b, nestedTooDeep)
		}
		n, rest, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return dst, b, err
		}
		dst = append(dst, '{')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, rest, err = appendKey(dst, rest, inKey); err != nil {
				return dst, rest, err
			}
			dst = append(dst, ':')
			if dst, rest, err = appendValue(dst, rest, depth+1, inKey); err != nil {
				return dst, rest, err
			}
		}
		return append(dst, '}'), rest, nil
	case msgp.ArrayType:
		if depth >= MaxDepth {
			return skipAs(dst, b, nestedTooDeep)
		}
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return dst, b, err
		}
		dst = append(dst, '[')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, rest, err = appendValue(dst, rest, depth+1, inKey); err != nil {
				return dst, rest, err
			}
		}
		return append(dst, ']'), rest, nil
	case msgp.IntType:
		v, rest, err := msgp.ReadInt64Bytes(b)
		if err != nil {
			return dst, b, err
		}
		return strconv.AppendInt(dst, v, 10), rest, nil
	case msgp.UintType:
		v, rest, err := msgp.ReadUint64Bytes(b)
		if err != nil {
			return dst, b, err
		}
		return strconv.AppendUint(dst, v, 10), rest, nil
	case msgp.Float64Type:
		v, rest, err := msgp.ReadFloat64Bytes(b)
		if err != nil {
			return dst, b, err
		}
		return appendFloat(dst, v, 64), rest, nil
	case msgp.Float32Type:
		v, rest, err := msgp.ReadFloat32Bytes(b)
		if err != nil {
			return dst, b, err
		}
		return appendFloat(dst, float64(v), 32), rest, nil
	case msgp.BoolType:
		v, rest, err := msgp.ReadBoolBytes(b)
		if err != nil {
			return dst, b, err
		}
		return strconv.AppendBool(dst, v), rest, nil
	case msgp.NilType:
		rest, err := msgp.ReadNilBytes(b)
		if err != nil {
			return dst, b, err
		}
		return append(dst, "null"...), rest, nil
	case msgp.ExtensionType, msgp.TimeType:
		return appendExt(dst, b)
	default:
		return dst, b, fmt.Errorf("unsupported msgpack type byte 0x%02x", b[0])
	}
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Inf"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// skipAs replaces the value at the start of b with placeholder (JSON).
func skipAs(dst, b []byte, placeholder string) ([]byte, []byte, error) {
	rest, err := msgp.Skip(b)
	if err != nil {
		return dst, b, err
	}
	return append(dst, placeholder...), rest, nil
}

// nestedTooDeep stands for a value nested deeper than MaxDepth.
const nestedTooDeep = `"[nested too deep]"`

// appendExt writes an extension value. Fluent Bit's EventTime (type 0, 8
// bytes) becomes a float of seconds; other types a base64 string.
func appendExt(dst, b []byte) ([]byte, []byte, error) {
	typ, data, rest, err := readExt(b)
	if err != nil {
		return dst, b, err
	}
	if typ == 0 && len(data) == 8 {
		sec := int64(int32(binary.BigEndian.Uint32(data)))
		nsec := int64(binary.BigEndian.Uint32(data[4:]))
		dst = strconv.AppendInt(dst, sec, 10)
		dst = append(dst, '.')
		var ns [9]byte
		v := nsec
		for i := 8; i >= 0; i-- {
			ns[i] = byte('0' + v%10)
			v /= 10
		}
		return append(dst, ns[:]...), rest, nil
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, '"'), rest, nil
}

// readExt splits an ext value into type and data without copying.
func readExt(b []byte) (typ int8, data, rest []byte, err error) {
	var hdr, n int
	switch b[0] {
	case 0xd4:
		hdr, n = 2, 1
	case 0xd5:
		hdr, n = 2, 2
	case 0xd6:
		hdr, n = 2, 4
	case 0xd7:
		hdr, n = 2, 8
	case 0xd8:
		hdr, n = 2, 16
	case 0xc7:
		if len(b) < 3 {
			return 0, nil, b, errTrunc
		}
		hdr, n = 3, int(b[1])
	case 0xc8:
		if len(b) < 4 {
			return 0, nil, b, errTrunc
		}
		hdr, n = 4, int(binary.BigEndian.Uint16(b[1:]))
	case 0xc9:
		if len(b) < 6 {
			return 0, nil, b, errTrunc
		}
		hdr, n = 6, int(binary.BigEndian.Uint32(b[1:]))
	default:
		return 0, nil, b, fmt.Errorf("not an extension: 0x%02x", b[0])
	}
	if n < 0 || len(b) < hdr+n {
		return 0, nil, b, errTrunc
	}
	return int8(b[hdr-1]), b[hdr : hdr+n], b[hdr+n:], nil
}

// AppendKey appends a map key as a JSON string. Keys are normally strings
// or binary; other scalar keys are written in their JSON form, quoted.
func AppendKey(dst, b []byte) ([]byte, []byte, error) {
	return appendKey(dst, b, false)
}

// compositeKeyPlaceholder stands for a map or array key inside the JSON
// text of another composite key.
const compositeKeyPlaceholder = `"[composite key]"`

// appendKey writes a key; inKey is set inside a composite key's JSON text.
// A composite key is written as its JSON text in a string, and its own
// values past the first level as placeholders (it is encoded at MaxDepth-1).
// Composite keys inside it become a placeholder too: each level of them
// would escape the one below again, doubling its size, so a few dozen bytes
// of nested map keys could otherwise make gigabytes.
func appendKey(dst, b []byte, inKey bool) ([]byte, []byte, error) {
	if len(b) == 0 {
		return dst, b, errTrunc
	}
	switch msgp.NextType(b) {
	case msgp.StrType, msgp.BinType:
		k, rest, err := ReadKey(b)
		if err != nil {
			return dst, b, err
		}
		return AppendString(dst, k), rest, nil
	case msgp.MapType, msgp.ArrayType:
		if inKey {
			return skipAs(dst, b, compositeKeyPlaceholder)
		}
		var tmp [64]byte
		enc, rest, err := appendValue(tmp[:0], b, MaxDepth-1, true)
		if err != nil {
			return dst, b, err
		}
		return AppendString(dst, enc), rest, nil
	default:
		var tmp [64]byte
		enc, rest, err := appendValue(tmp[:0], b, 0, inKey)
		if err != nil {
			return dst, b, err
		}
		if len(enc) > 0 && enc[0] == '"' { // already a string (ext)
			return append(dst, enc...), rest, nil
		}
		dst = append(dst, '"')
		dst = append(dst, enc...)
		return append(dst, '"'), rest, nil
	}
}

// ReadKey reads a string or binary map key without copying.
func ReadKey(b []byte) (key, rest []byte, err error) {
	if msgp.NextType(b) == msgp.BinType {
		return msgp.ReadBytesZC(b)
	}
	return msgp.ReadStringZC(b)
}

package join

import (
	"bytes"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

// fields are what one record says about itself: as a part, its message,
// and the stream it belongs to.
type fields struct {
	rec     []byte
	partial bool // partial_message is "true" (any case) or true
	id      []byte
	hasID   bool
	ord     int
	hasOrd  bool
	last    bool
	hasLast bool
	msgVal  []byte // raw msgpack value of the message key, nil when absent
	msg     []byte // its bytes when a string (or binary)
	msgOK   bool
	// The stream: FireLens' fields and the log driver's source (read
	// only when streams is set).
	view   ecs.View
	source []byte
}

// usable reports whether the part can be placed in a sequence and joined.
func (f *fields) usable() bool { return f.hasID && f.hasOrd && f.hasLast && f.msgOK }

// scan reads the partial_* fields, the message and, when streams is set,
// the stream fields of one record (a msgpack map). The driver writes every
// value as a string; booleans and integers are accepted too, so a record
// re-encoded upstream (a Lua or modify filter) still joins. A later
// duplicate key wins, as in the shaper, except for FireLens' fields, whose
// first value counts, as in the shaper (a FireLens router appends its own
// task's fields to records forwarded with theirs).
func scan(rec []byte, msgKey string, streams bool) (fields, error) {
	f := fields{rec: rec}
	n, body, err := msgp.ReadMapHeaderBytes(rec)
	if err != nil {
		return f, err
	}
	var logVal, messageVal []byte
	for i := uint32(0); i < n; i++ {
		k, rest, err := readKey(body)
		if err != nil {
			return f, err
		}
		v := rest
		if body, err = event.Skip(rest); err != nil {
			return f, err
		}
		v = v[:len(v)-len(body)]
		if k == nil {
			continue
		}
		switch string(k) {
		case KeyMessage:
			f.partial, _ = readBool(v)
		case KeyID:
			f.id, f.hasID = strBytes(v)
		case KeyOrdinal:
			f.ord, f.hasOrd = readOrdinal(v)
		case KeyLast:
			f.last, f.hasLast = readBool(v)
		}
		switch {
		case msgKey != "":
			if string(k) == msgKey {
				f.msgVal = v
			}
		case string(k) == "log":
			logVal = v
		case string(k) == "message":
			messageVal = v
		}
		if streams {
			if string(k) == "source" {
				f.source, _ = strBytes(v)
			} else if p := f.view.Field(k); p != nil && *p == nil {
				*p, _ = strBytes(v)
			}
		}
	}
	if msgKey == "" {
		f.msgVal = logVal
		if f.msgVal == nil {
			f.msgVal = messageVal
		}
	}
	if f.msgVal != nil {
		f.msg, f.msgOK = strBytes(f.msgVal)
	}
	return f, nil
}

// readKey reads a str/bin key; other key types give a nil key.
func readKey(b []byte) (key, rest []byte, err error) {
	if t := msgp.NextType(b); t == msgp.StrType || t == msgp.BinType {
		return transcode.ReadKey(b)
	}
	rest, err = event.Skip(b)
	return nil, rest, err
}

// strBytes returns the bytes of a str or bin value.
func strBytes(v []byte) ([]byte, bool) {
	switch msgp.NextType(v) {
	case msgp.StrType:
		s, _, err := msgp.ReadStringZC(v)
		return s, err == nil
	case msgp.BinType:
		s, _, err := msgp.ReadBytesZC(v)
		return s, err == nil
	}
	return nil, false
}

// readBool reads "true"/"false" in any case, or a msgpack bool.
func readBool(v []byte) (val, ok bool) {
	if msgp.NextType(v) == msgp.BoolType {
		b, _, err := msgp.ReadBoolBytes(v)
		return b, err == nil
	}
	s, ok := strBytes(v)
	switch {
	case !ok:
		return false, false
	case bytes.EqualFold(s, []byte("true")):
		return true, true
	case bytes.EqualFold(s, []byte("false")):
		return false, true
	}
	return false, false
}

// maxOrdinal bounds an ordinal: a 16 KB part each, larger is no real line.
const maxOrdinal = 1 << 30

// readOrdinal reads a decimal string or an integer, 1 or more.
func readOrdinal(v []byte) (int, bool) {
	switch msgp.NextType(v) {
	case msgp.IntType, msgp.UintType:
		n, _, err := msgp.ReadInt64Bytes(v)
		if err != nil || n < 1 || n > maxOrdinal {
			return 0, false
		}
		return int(n), true
	}
	s, ok := strBytes(v)
	if !ok || len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > maxOrdinal {
		return 0, false
	}
	return n, true
}

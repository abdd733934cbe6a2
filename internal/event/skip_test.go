package event

import (
	"os"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// sameAsMsgp checks Skip against msgp.Skip on b.
func sameAsMsgp(t *testing.T, b []byte) {
	t.Helper()
	want, werr := msgp.Skip(b)
	got, gerr := Skip(b)
	if (werr == nil) != (gerr == nil) || len(got) != len(want) {
		t.Fatalf("Skip(% x): %d bytes left, err %v; msgp.Skip: %d left, err %v", b[:min(len(b), 32)], len(got), gerr, len(want), werr)
	}
}

func TestSkip(t *testing.T) {
	long := msgp.AppendString(nil, string(make([]byte, 70000)))
	cases := map[string][]byte{
		"empty":          nil,
		"fixint":         {0x05, 0xff},
		"negative":       {0xe3},
		"nil bool":       {0xc0, 0xc2, 0xc3},
		"fixstr":         msgp.AppendString(nil, "hello"),
		"str8":           msgp.AppendString(nil, string(make([]byte, 200))),
		"str16":          msgp.AppendString(nil, string(make([]byte, 300))),
		"str32":          long,
		"short str":      msgp.AppendString(nil, "hello")[:3],
		"short str32":    long[:100],
		"map":            msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "k"), "v"),
		"map16 header":   {0xde, 0x00},
		"nested":         msgp.AppendMapHeader(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "k"), 0),
		"float in array": msgp.AppendFloat64(msgp.AppendArrayHeader(nil, 1), 1.5),
		"map32 too long": {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0},
		"array short":    {0x92, 0xa1, 'x'},
		"bad in map":     {0x81, 0xa1, 'k', 0xc1},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) { sameAsMsgp(t, b) })
	}
	chunk, err := os.ReadFile("../../testdata/firelens-forward-3000.msgpack")
	if err != nil {
		t.Fatal(err)
	}
	for rest := chunk; len(rest) > 0; {
		sameAsMsgp(t, rest)
		rest, _ = Skip(rest)
	}
}

func FuzzSkip(f *testing.F) {
	f.Add([]byte{0x81, 0xa1, 'k', 0xa1, 'v'})
	f.Add([]byte{0xdc, 0x00, 0x02, 0xc0, 0xd9, 0x01, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) { sameAsMsgp(t, b) })
}

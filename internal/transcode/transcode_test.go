package transcode

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
	"github.com/tinylib/msgp/msgp"
)

func TestAppendString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"tab\tnl\ncr\r", `"tab\tnl\ncr\r"`},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"한국어 😀", `"한국어 😀"`},
		{"bad \xff\xfe end", `"bad ` + "\uFFFD\uFFFD" + ` end"`},
		{"cut \xe2\x82", `"cut ` + "\uFFFD\uFFFD" + `"`},
		{"\u2028", "\"\u2028\""},
		{"", `""`},
	}
	for _, c := range cases {
		got := string(AppendString([]byte("x"), []byte(c.in)))
		if got != "x"+c.want {
			t.Errorf("AppendString(%q) = %s, want %s", c.in, got[1:], c.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got[1:]), &back); err != nil {
			t.Errorf("%q: not valid JSON: %v", c.in, err)
		}
	}
}

func TestAppendStringLimit(t *testing.T) {
	in := []byte(strings.Repeat("a\"é😀\xff\n", 1000))
	full := AppendString(nil, in)
	for _, limit := range []int{0, 1, 2, 5, 6, 7, 100, 1001, len(full) - 3, len(full) - 2, len(full)} {
		got, cut := AppendStringLimit(nil, in, limit)
		if !json.Valid(got) || !utf8.Valid(got) {
			t.Fatalf("limit %d: invalid JSON or UTF-8: %q", limit, got)
		}
		if len(got)-2 > limit {
			t.Errorf("limit %d: content is %d bytes", limit, len(got)-2)
		}
		if cut != (len(full)-2 > limit) {
			t.Errorf("limit %d: cut=%v", limit, cut)
		}
		if !bytes.HasPrefix(full, got[:len(got)-1]) {
			t.Errorf("limit %d: not a prefix of the full encoding", limit)
		}
		if cut && limit > 20 && len(got)-2 < limit-8 { // cuts only at the last boundary that fits
			t.Errorf("limit %d: cut too early at %d", limit, len(got)-2)
		}
	}
}

func TestAppendValueTypes(t *testing.T) {
	b := msgp.AppendMapHeader(nil, 13)
	b = msgp.AppendString(msgp.AppendString(b, "s"), "v")
	b = msgp.AppendBytes(msgp.AppendString(b, "bin"), []byte("raw\xff"))
	b = msgp.AppendInt64(msgp.AppendString(b, "neg"), -42)
	b = msgp.AppendUint64(msgp.AppendString(b, "big"), math.MaxUint64)
	b = msgp.AppendFloat64(msgp.AppendString(b, "f"), 3.25)
	b = msgp.AppendFloat32(msgp.AppendString(b, "f32"), 0.5)
	b = msgp.AppendFloat64(msgp.AppendString(b, "nan"), math.NaN())
	b = msgp.AppendBool(msgp.AppendString(b, "t"), true)
	b = msgp.AppendNil(msgp.AppendString(b, "n"))
	b = msgp.AppendArrayHeader(msgp.AppendString(b, "arr"), 2)
	b = msgp.AppendInt(b, 1)
	b = msgp.AppendMapHeader(b, 1)
	b = msgp.AppendString(msgp.AppendString(b, "k"), "v")
	b = append(msgp.AppendString(b, "ts"), 0xd7, 0, 0, 0, 0, 10, 0, 0, 0, 7)
	b = append(msgp.AppendString(b, "ext"), 0xd4, 5, 0xab)
	b = msgp.AppendBytes(b, []byte("binkey")) // binary key
	b = msgp.AppendInt(b, 1)
	got, rest, err := AppendValue(nil, b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("err=%v rest=%d", err, len(rest))
	}
	want := `{"s":"v","bin":"raw` + "\uFFFD" + `","neg":-42,"big":18446744073709551615,"f":3.25,"f32":0.5,"nan":"NaN","t":true,"n":null,"arr":[1,{"k":"v"}],"ts":10.000000007,"ext":"qw==","binkey":1}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Error("invalid JSON")
	}
}

func TestNonStringKeys(t *testing.T) {
	b := msgp.AppendMapHeader(nil, 3)
	b = msgp.AppendString(msgp.AppendInt(b, 7), "int")
	b = msgp.AppendString(msgp.AppendBool(b, true), "bool")
	b = msgp.AppendString(msgp.AppendNil(b), "nil")
	got, _, err := AppendValue(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"7":"int","true":"bool","null":"nil"}` {
		t.Errorf("got %s", got)
	}
}

func TestDeepNesting(t *testing.T) {
	var b []byte
	for i := 0; i < 10000; i++ {
		b = msgp.AppendArrayHeader(b, 1)
	}
	b = msgp.AppendInt(b, 1)
	got, rest, err := AppendValue(nil, b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("err=%v", err)
	}
	if !json.Valid(got) || !bytes.Contains(got, []byte("nested too deep")) {
		t.Errorf("deep value: %.200s", got)
	}
}

func TestTruncatedValues(t *testing.T) {
	full := msgp.AppendMapHeader(nil, 2)
	full = msgp.AppendString(msgp.AppendString(full, "a"), "bcdef")
	full = msgp.AppendFloat64(msgp.AppendString(full, "x"), 1)
	for i := 0; i < len(full); i++ {
		if _, _, err := AppendValue(nil, full[:i]); err == nil {
			t.Errorf("prefix of %d bytes: no error", i)
		}
	}
}

// Map keys that are maps, nested: each level's JSON text would be escaped
// again inside the next, doubling it; 40 levels must stay small and valid.
// (Found by FuzzAppendValue: the fuzzer was killed running out of memory.)
func TestNestedCompositeKeys(t *testing.T) {
	var b []byte
	for i := 0; i < 40; i++ {
		b = msgp.AppendMapHeader(b, 1)
	}
	b = msgp.AppendInt(b, 7) // the innermost key
	for i := 0; i < 40; i++ {
		b = msgp.AppendString(b, "v") // each map's value
	}
	out, rest, err := AppendValue(nil, b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("err %v, %d bytes left", err, len(rest))
	}
	if !json.Valid(out) || len(out) > 200 {
		t.Fatalf("%d bytes of output (valid JSON: %v): %s", len(out), json.Valid(out), out)
	}
	want := `{"{\"[composite key]\":\"v\"}":"v"}`
	if string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

func FuzzAppendValue(f *testing.F) {
	f.Add(msgp.AppendString(nil, "x\xff"))
	f.Add(msgp.AppendMapHeader(msgp.AppendMapHeader(nil, 1), 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _, err := AppendValue(nil, b)
		if err == nil && (!json.Valid(out) || !utf8.Valid(out)) {
			t.Fatalf("invalid output %q for %x", out, b)
		}
	})
}

var benchLine = []byte(`10.0.66.189 - - [24/Nov/2026:15:00:00 +0000] "GET /api/v1/items/1 HTTP/1.1" 200 9994 seq=1 {"level": "info", "msg": "order 0 processed"}`)

func BenchmarkAppendStringOurs(b *testing.B) {
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], benchLine)
	}
}

// The alternative this package replaces: json-iterator's stream writer.
// (Its WriteString does not repair invalid UTF-8; the HTML-escaping variant does.)
func BenchmarkAppendStringJsoniter(b *testing.B) {
	s := string(benchLine)
	stream := jsoniter.NewStream(jsoniter.ConfigDefault, nil, 1024)
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		stream.Reset(nil)
		stream.WriteStringWithHTMLEscaped(s)
	}
}

// EscapedLen is what AppendString writes between the quotes.
func TestEscapedLen(t *testing.T) {
	for _, s := range []string{"", "plain ascii text of some length", "tab\there \"quoted\" back\\slash\nnew line",
		"\x01\x1f control", "héllo wörld ✓", "bad \xff\xfe utf8 \xc3", strings.Repeat("0123456789\t", 50)} {
		if got, want := EscapedLen([]byte(s)), len(AppendString(nil, []byte(s)))-2; got != want {
			t.Errorf("%q: %d, want %d", s, got, want)
		}
	}
}

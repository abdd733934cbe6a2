package shape

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event"
)

// An ext-typed message is its base64 text, not a quoted string inside a
// string. (Before: "message":"\"AQID\"".)
func TestExtMessage(t *testing.T) {
	ext, err := msgp.AppendExtension(nil, &msgp.RawExtension{Type: 42, Data: []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := shapeOne(t, New(Options{}), kv("log", rawMsgpack(ext)))
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil || m["message"] != "AQID" {
		t.Errorf("message of an ext value: %s", js)
	}
}

// A ddtags value that is an array of strings is joined into the tag string,
// as Vector's datadog_logs sink does (src/sinks/datadog/logs/sink.rs
// normalize_event); any other non-string is kept as the attribute _ddtags
// and reported, never dropped silently. (Before: arrays went to _ddtags.)
func TestNonStringDDTags(t *testing.T) {
	arr := msgp.AppendString(msgp.AppendString(msgp.AppendArrayHeader(nil, 2), "a:b"), "c:d")
	js, info := shapeOne(t, New(Options{Source: "s"}), kv("log", "x", "ddtags", rawMsgpack(arr)))
	if info.BadType || !strings.Contains(js, `"ddtags":"a:b,c:d"`) || strings.Contains(js, "_ddtags") {
		t.Errorf("array: info %+v, entry %s", info, js)
	}
	mixed := msgp.AppendInt(msgp.AppendString(msgp.AppendArrayHeader(nil, 2), "a:b"), 1)
	js, info = shapeOne(t, New(Options{Source: "s"}), kv("log", "x", "ddtags", rawMsgpack(mixed)))
	if !info.BadType || !strings.Contains(js, `"_ddtags":["a:b",1]`) {
		t.Errorf("array with a number: info %+v, entry %s", info, js)
	}
	js, info = shapeOne(t, New(Options{}), kv("log", "x", "ddtags", "a:b"))
	if info.BadType || !strings.Contains(js, `"ddtags":"a:b"`) || strings.Contains(js, "_ddtags") {
		t.Errorf("string ddtags: info %+v, entry %s", info, js)
	}
}

// AppendLimit cuts the message to the given escaped size and reports the
// size written, so the flush can fit a record to max_batch_bytes.
func TestAppendLimit(t *testing.T) {
	s := New(Options{})
	msg := strings.Repeat("é\"x", 10_000) // escapes and multi-byte characters
	ev := event.Event{Sec: 1, Record: kv("log", msg, "k", "v")}
	full, info, err := s.Append(nil, &ev, nil)
	if err != nil || info.Truncated || info.MessageBytes != len(`é\"x`)*10_000 {
		t.Fatalf("full: err %v info %+v", err, info)
	}
	out, info, err := s.AppendLimit(nil, &ev, nil, 1000)
	if err != nil || !info.Truncated || info.MessageBytes > 1000 || info.MessageBytes < 990 {
		t.Fatalf("limited: err %v info %+v", err, info)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil || m["ddgo_truncated_from"] != float64(len(msg)) || m["k"] != "v" {
		t.Errorf("limited entry (%d bytes, full %d): %v %.200s", len(out), len(full), err, out)
	}
}

package shape

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/tags"
)

// schema: the intake's types for the reserved attributes
// (datadog-api-client-go api/datadogV2/model_http_log_item.go HTTPLogItem:
// ddsource, ddtags, hostname, message and service are strings, message
// required).
const schema = "datadog-api-client-go HTTPLogItem: ddsource, ddtags, hostname, message, service are strings; message required"

// Every record value for a reserved attribute goes out as the type the
// intake's schema gives it: a number or bool as its text, an object, array
// or null kept with a leading "_" and reported (the attribute then comes
// from the configuration). A status is not typed by the schema: a level
// word is the status, a number (an HTTP status) or bool stays an attribute,
// an object, array or null is set aside as the other reserved ones are.
// (Before: "service":123, {"a":1}, true, null and ["x"] went out as they
// were.)
func TestReservedTypes(t *testing.T) {
	obj := rawMsgpack(kv("a", 1))
	arr := rawMsgpack(msgp.AppendString(msgp.AppendArrayHeader(nil, 1), "x"))
	base := Options{Source: "httpd", Service: "web", Hostname: "h1"}
	cases := []struct {
		name string
		rec  []byte
		want string
		bad  bool
	}{
		{"service number", kv("log", "m", "service", 123),
			`{"message":"m","ddsource":"httpd","service":"123","hostname":"h1"}`, false},
		{"service float", kv("log", "m", "service", 1.5),
			`{"message":"m","ddsource":"httpd","service":"1.5","hostname":"h1"}`, false},
		{"service bool", kv("log", "m", "service", true),
			`{"message":"m","ddsource":"httpd","service":"true","hostname":"h1"}`, false},
		{"service object", kv("log", "m", "service", obj),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","_service":{"a":1}}`, true},
		{"service null", kv("log", "m", "service", nil),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","_service":null}`, true},
		{"service array", kv("log", "m", "service", arr),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","_service":["x"]}`, true},
		{"ddsource number, hostname bool", kv("log", "m", "ddsource", 7, "hostname", false),
			`{"message":"m","ddsource":"7","service":"web","hostname":"false"}`, false},
		{"ddsource object, hostname array", kv("log", "m", "ddsource", obj, "hostname", arr),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","_ddsource":{"a":1},"_hostname":["x"]}`, true},
		{"status object", kv("log", "m", "status", obj),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","_status":{"a":1}}`, true},
		{"status null beside a level", kv("log", "m", "status", nil, "level", "warn"),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","status":"warn","_status":null,"level":"warn"}`, true},
		{"status number stays an attribute", kv("log", "m", "status", 404),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","status":404}`, false},
		{"status bool stays an attribute", kv("log", "m", "status", true),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","status":true}`, false},
		{"ddtags array of strings joined (Vector's sink)", kv("log", "m", "ddtags", rawMsgpack(msgp.AppendString(msgp.AppendString(msgp.AppendArrayHeader(nil, 2), "a:b"), "c"))),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","ddtags":"a:b,c"}`, false},
		{"ddtags empty array: no tags", kv("log", "m", "ddtags", rawMsgpack(msgp.AppendArrayHeader(nil, 0))),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1"}`, false},
		{"ddtags number", kv("log", "m", "ddtags", 5),
			`{"message":"m","ddsource":"httpd","service":"web","hostname":"h1","_ddtags":5}`, true},
		// The message.
		{"log null: an empty message, not the text null", kv("log", nil, "x", 1),
			`{"message":"","ddsource":"httpd","service":"web","hostname":"h1","x":1}`, false},
		{"log null, a message key: that is the message", kv("log", nil, "message", "from message"),
			`{"message":"from message","ddsource":"httpd","service":"web","hostname":"h1","log":null}`, false},
		{"no message key: an empty message", kv("a", "b"),
			`{"message":"","ddsource":"httpd","service":"web","hostname":"h1","a":"b"}`, false},
		{"message a number: its text", kv("message", 5),
			`{"message":"5","ddsource":"httpd","service":"web","hostname":"h1"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, info := shapeOne(t, New(base), c.rec)
			if got != c.want || info.BadType != c.bad {
				t.Errorf("(%s)\ngot  %s (bad %v)\nwant %s (bad %v)", schema, got, info.BadType, c.want, c.bad)
			}
			checkSchema(t, got)
		})
	}
}

// A dd_message_key that the record lacks: its "message" is the message
// (before: it went out as a plain attribute of any type).
func TestMessageKeyAbsent(t *testing.T) {
	got, _ := shapeOne(t, New(Options{MessageKey: "msg"}), kv("message", rawMsgpack(kv("k", "v")), "log", "stays"))
	if want := `{"message":"{\"k\":\"v\"}","log":"stays"}`; got != want {
		t.Errorf("\ngot  %s\nwant %s", got, want)
	}
}

// FireLens' record_modifier appends its own task's fields to every record,
// also to one another task's router forwarded with that task's fields (its
// source, plugins/filter_record_modifier/filter_modifier.c, appends the
// Record keys after the record's own, duplicates included): the record's
// first values are its own task's, and they tag it.
func TestFireLensFirstValueWins(t *testing.T) {
	s := New(Options{ECS: true, Tagger: tags.NewTagger(tags.Options{ECS: true})})
	got, _ := shapeOne(t, s, kv("log", "m", "container_id", "b1", "ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/orders/b",
		"ecs_cluster", "orders", "ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/router/a", "ecs_cluster", "router"))
	if !strings.Contains(got, "task_arn:arn:aws:ecs:us-east-1:123456789012:task/orders/b") || strings.Contains(got, "router") {
		t.Errorf("the forwarded record lost its own task: %s", got)
	}
}

// checkSchema fails when an entry's reserved attributes are not the types
// the intake's schema gives them.
func checkSchema(t *testing.T, entry string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(entry), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["message"].(string); !ok {
		t.Errorf("message %v is not a string (%s)", m["message"], schema)
	}
	for _, k := range []string{"ddsource", "ddtags", "hostname", "service"} {
		if v, ok := m[k]; ok {
			if _, str := v.(string); !str {
				t.Errorf("%s %v is not a string (%s)", k, v, schema)
			}
		}
	}
}

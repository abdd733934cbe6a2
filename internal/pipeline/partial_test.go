package pipeline

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/join"
)

// partsChunk builds a chunk of FireLens records; a line longer than 16 KB
// becomes parts as moby's fluentd log driver sends them (every value a
// string, ordinals from "1", partial_last "true" on the last part:
// daemon/logger/fluentd/fluentd.go, daemon/logger/copier.go). A line not
// complete loses its last part, as when a chunk ends mid-line.
type line struct {
	text     string
	complete bool
}

func partsChunk(lines ...line) []byte {
	const size = 16 * 1024
	var b []byte
	now := uint32(time.Now().Unix())
	event := func(kv ...string) {
		b = msgp.AppendArrayHeader(b, 2)
		b = append(b, 0xd7, 0x00, byte(now>>24), byte(now>>16), byte(now>>8), byte(now), 0, 0, 0, 0)
		b = msgp.AppendMapHeader(b, uint32(len(kv)/2))
		for _, s := range kv {
			b = msgp.AppendString(b, s)
		}
	}
	for i, l := range lines {
		base := []string{"source", "stdout", "container_id", "c0ffee", "container_name", "/ecs-web-1-app-c0ffee",
			"ecs_cluster", "prod", "ecs_task_arn", "arn:aws:ecs:us-east-1:123456789012:task/prod/0123",
			"ecs_task_definition", "web:1"}
		if len(l.text) <= size {
			event(append([]string{"log", l.text}, base...)...)
			continue
		}
		id := fmt.Sprintf("%064x", i+1)
		n := (len(l.text) + size - 1) / size
		for o := 1; o <= n; o++ {
			if o == n && !l.complete {
				break
			}
			p := l.text[(o-1)*size : min(o*size, len(l.text))]
			event(append([]string{"log", p, "partial_message", "true", "partial_id", id,
				"partial_ordinal", strconv.Itoa(o), "partial_last", strconv.FormatBool(o == n)}, base...)...)
		}
	}
	return b
}

// bigJSON is a JSON log line of about size bytes with seq=N in it.
func bigJSON(seq, size int) string {
	b, _ := json.Marshal(map[string]any{"msg": fmt.Sprintf("seq=%d", seq), "level": "info",
		"payload": strings.Repeat("0123456789abcdef", size/16), "nested": map[string]any{"k": []int{1, 2, 3}}})
	return string(b)
}

// A 100 KB JSON line split into 16 KB parts arrives as one log whose
// message parses as the original; a line whose last part is not in the
// chunk arrives as its parts, marked and counted.
func TestFlushJoinsParts(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	in, logs := newInstance(t, srv, nil)
	orig := bigJSON(2, 100_000)
	chunk := partsChunk(line{"seq=1 short", true}, line{orig, true}, line{"seq=3 short", true},
		line{strings.Repeat("seq=4 ", 6000), false})
	if code := in.Flush(chunk, []byte("tag")); code != OK {
		t.Fatal(code)
	}
	in.Close()
	got := srv.Logs()
	if len(got) != 5 { // 3 lines, 2 parts of the incomplete one
		t.Fatalf("%d logs, want 5", len(got))
	}
	msg, _ := got[1]["message"].(string)
	var a, b any
	if err := json.Unmarshal([]byte(msg), &a); err != nil || json.Unmarshal([]byte(orig), &b) != nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("joined message does not parse as the original (%d bytes): %v", len(msg), err)
	}
	for _, k := range []string{"partial_message", "partial_id", "partial_ordinal", "partial_last", join.IncompleteKey} {
		if _, ok := got[1][k]; ok {
			t.Errorf("joined log has %s", k)
		}
	}
	if !strings.Contains(fmt.Sprint(got[1]["ddtags"]), "task_arn:") || got[1]["source"] != "stdout" {
		t.Errorf("joined log lost the first part's attributes: %v", got[1]["ddtags"])
	}
	for _, l := range got[3:] {
		if l[join.IncompleteKey] != true || l["partial_id"] == nil {
			t.Errorf("incomplete part not marked: %v", l[join.IncompleteKey])
		}
	}
	s := in.Stats.Snapshot()
	if s.PartialJoined != 1 || s.Incomplete != 2 || s.RecordsIn != 5 || s.RecordsOut != 5 {
		t.Errorf("counters %+v", s)
	}
	if !strings.Contains(logs.String(), "2 part(s) of container lines split at 16 KB sent on their own") ||
		!strings.Contains(logs.String(), "partial_joined=1 partial_incomplete=2") {
		t.Errorf("log:\n%s", logs)
	}
}

// When one payload of a chunk of joined logs fails, Fluent Bit's retry of
// the same chunk delivers the rest and nothing twice: the same bytes give
// the same logs.
func TestFlushPartsRetriedOnce(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n == 2 {
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	in, _ := newInstance(t, srv, map[string]string{"max_batch_entries": "3", "max_retries": "0"})
	var lines []line
	for i := 1; i <= 10; i++ {
		lines = append(lines, line{bigJSON(i, 40_000), true})
	}
	chunk := partsChunk(lines...)
	if code := in.Flush(chunk, nil); code != Retry {
		t.Fatalf("first flush %v, want Retry", code)
	}
	if code := in.Flush(chunk, nil); code != OK {
		t.Fatalf("retry %v", code)
	}
	in.Close()
	seqs := srv.Seqs()
	for i := 1; i <= 10; i++ {
		if seqs[i] != 1 {
			t.Errorf("line %d delivered %d times", i, seqs[i])
		}
	}
	if len(seqs) != 10 || srv.Stats().Entries != 10 {
		t.Errorf("%d distinct lines, %d entries", len(seqs), srv.Stats().Entries)
	}
}

// A 400 caused by one joined log costs that log only: the marker is cut
// across two parts, so only the joined log holds it.
func TestFlushJoinedRejectedAlone(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{RejectMarker: "REJECT-ME"})
	in, _ := newInstance(t, srv, nil)
	bad := strings.Repeat("x", 16*1024-6) + "REJECT-ME seq=99" + strings.Repeat("y", 10_000)
	chunk := partsChunk(line{bigJSON(1, 30_000), true}, line{bad, true}, line{bigJSON(3, 30_000), true})
	if code := in.Flush(chunk, nil); code != OK {
		t.Fatal(code)
	}
	in.Close()
	seqs := srv.Seqs()
	if len(seqs) != 2 || seqs[1] != 1 || seqs[3] != 1 || in.Stats.DropRejected.Load() != 1 {
		t.Errorf("seqs %v, rejected %d", seqs, in.Stats.DropRejected.Load())
	}
}

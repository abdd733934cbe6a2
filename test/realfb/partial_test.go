package realfb

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// dockerParts splits line at 16 KB into the records moby's fluentd log
// driver sends for it (daemon/logger/fluentd/fluentd.go: every value a
// string; daemon/logger/copier.go: ordinals from 1, the same ID on every
// part, partial_last "true" on the last). The driver's record is a Go map,
// so the key order changes from part to part; so it does here.
func dockerParts(line, id string, c fbtest.Container) [][]byte {
	const size = 16 * 1024
	n := (len(line) + size - 1) / size
	var out [][]byte
	for o := 1; o <= n; o++ {
		kv := [][2]string{
			{"container_id", c.ID}, {"container_name", c.Name}, {"source", "stdout"},
			{"log", line[(o-1)*size : min(o*size, len(line))]},
			{"partial_message", "true"}, {"partial_id", id},
			{"partial_ordinal", strconv.Itoa(o)}, {"partial_last", strconv.FormatBool(o == n)},
		}
		b := msgp.AppendMapHeader(nil, uint32(len(kv)))
		for i := range kv {
			p := kv[(i+o)%len(kv)]
			b = msgp.AppendString(msgp.AppendString(b, p[0]), p[1])
		}
		out = append(out, b)
	}
	return out
}

// startRouter runs the FireLens router of the seed task, with the seed's
// datadog_go options against a new intake, on Fluent Bit v; edit, when set,
// changes the config first.
func startRouter(t *testing.T, v string, edit func(*fbtest.FireLens)) (*intaketest.Server, fbtest.FireLens, *fbtest.Process) {
	t.Helper()
	fbtest.Require(t, v)
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
	dir := t.TempDir()
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	fl.Options = fbtest.SeedOptions(srv.URL, apiKey)
	if edit != nil {
		edit(&fl)
	}
	return srv, fl, fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
}

// TestSplitLineJoined: a forward sender delivers a 100 KB JSON line split
// into 16 KB parts, between short lines, through the FireLens router; the
// intake gets it as one log whose message parses as the original JSON,
// with the first part's attributes and tags and no partial_* field.
func TestSplitLineJoined(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, fl, p := startRouter(t, v, nil)

			orig, _ := json.Marshal(map[string]any{
				"msg": "seq=1 order accepted", "level": "info",
				"items": strings.Split(strings.Repeat("sku-0123456789,", 6600), ","),
			})
			if len(orig) < 100_000 {
				t.Fatalf("line of %d bytes", len(orig))
			}
			short := fbtest.Records(3, 7, fbtest.DefaultContainer) // seq=0, 1, 2
			records := [][]byte{short[0]}
			records = append(records, dockerParts(string(orig), fmt.Sprintf("%064x", 42), fbtest.DefaultContainer)...)
			records = append(records, short[2])
			send(t, fl.Socket, fl.Tag(), records)

			if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= 3 }) {
				t.Fatalf("%d entries arrived in 30 s, want 3", srv.Stats().Entries)
			}
			time.Sleep(300 * time.Millisecond)
			logs := srv.Logs()
			if len(logs) != 3 {
				t.Fatalf("%d entries, want 3 (two short lines and the joined one)", len(logs))
			}
			var joined map[string]any
			for _, l := range logs {
				if msg, _ := l["message"].(string); strings.Contains(msg, "order accepted") {
					joined = l
				}
			}
			if joined == nil {
				t.Fatal("no joined log")
			}
			var got, want any
			msg := joined["message"].(string)
			if err := json.Unmarshal([]byte(msg), &got); err != nil {
				t.Fatalf("joined message (%d bytes) does not parse: %v", len(msg), err)
			}
			_ = json.Unmarshal(orig, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("joined message differs from the original line")
			}
			for k := range joined {
				if strings.HasPrefix(k, "partial_") || k == "ddgo_partial_incomplete" {
					t.Errorf("joined log has %s", k)
				}
			}
			if joined["source"] != "stdout" || !strings.Contains(joined["ddtags"].(string), "task_arn:") {
				t.Errorf("joined log lacks the first part's attributes or the ECS tags: %v", joined)
			}
			if !p.Stop(20 * time.Second) {
				t.Fatal("fluent-bit did not exit on SIGTERM in 20 s")
			}
			if !strings.Contains(p.Log(), "records_out=3 ") || !strings.Contains(p.Log(), "partial_joined=1 partial_incomplete=0") {
				t.Errorf("exit counters:\n%s", fbtest.Tail(p.Log(), 2000))
			}
		})
	}
}

// TestSplitLineAcrossChunks: the parts of a line reach Fluent Bit in two
// flush intervals, so they are in two chunks. The plugin cannot join them
// (it may not keep the first chunk's records): every part arrives on its
// own, marked and counted. Fluent Bit's multiline filter in partial_message
// mode, set on the router as docs/log-format.md shows, joins them before the
// output. Flush 1 makes the one-second pause cross a chunk boundary on every
// line (1.9.10's default flush is longer).
func TestSplitLineAcrossChunks(t *testing.T) {
	t.Parallel()
	const filter = "[FILTER]\n    Name multiline\n    Match *\n    multiline.key_content log\n    mode partial_message\n"
	for _, v := range fbtest.Lines {
		for _, withFilter := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/multiline-filter=%v", v, withFilter), func(t *testing.T) {
				t.Parallel()
				srv, fl, p := startRouter(t, v, func(fl *fbtest.FireLens) {
					fl.Service = []string{"Flush 1"}
					if withFilter {
						fl.Extra = filter
					}
				})

				orig, _ := json.Marshal(map[string]any{"msg": "seq=5 split", "data": strings.Repeat("abcdefgh", 12_000)})
				parts := dockerParts(string(orig), fmt.Sprintf("%064x", 7), fbtest.DefaultContainer)
				send(t, fl.Socket, fl.Tag(), parts[:3])
				time.Sleep(1500 * time.Millisecond)
				send(t, fl.Socket, fl.Tag(), parts[3:])

				want := len(parts)
				if withFilter {
					want = 1
				}
				if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= want }) {
					t.Fatalf("%d entries arrived in 30 s, want %d", srv.Stats().Entries, want)
				}
				time.Sleep(2500 * time.Millisecond) // the filter's flush_ms: anything it still held
				logs := srv.Logs()
				if len(logs) != want {
					t.Fatalf("%d entries, want %d", len(logs), want)
				}
				if withFilter {
					if logs[0]["message"] != string(orig) {
						t.Errorf("the filter's joined message differs from the line (%d bytes)", len(fmt.Sprint(logs[0]["message"])))
					}
				} else {
					var joined strings.Builder
					for _, l := range logs {
						if l["ddgo_partial_incomplete"] != true || l["partial_id"] == nil {
							t.Errorf("part not marked: %v", l["ddgo_partial_incomplete"])
						}
						joined.WriteString(l["message"].(string))
					}
					if joined.String() != string(orig) {
						t.Errorf("the parts do not make the line")
					}
				}
				if !p.Stop(20 * time.Second) {
					t.Fatal("fluent-bit did not exit on SIGTERM in 20 s")
				}
				wantLine := fmt.Sprintf("partial_joined=0 partial_incomplete=%d ", len(parts))
				if withFilter {
					wantLine = "partial_joined=0 partial_incomplete=0 "
				}
				if !strings.Contains(p.Log(), wantLine) {
					t.Errorf("exit counters lack %q:\n%s", wantLine, fbtest.Tail(p.Log(), 2000))
				}
			})
		}
	}
}

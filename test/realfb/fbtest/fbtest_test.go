package fbtest

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

func TestFindHonoursEnvAndSaysWhere(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-fluent-bit")
	t.Setenv("FLUENT_BIT_19", missing)
	_, err := Find(V19)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "FLUENT_BIT_19") {
		t.Fatalf("Find with a missing binary: %v", err)
	}
	if _, err := Find("2.0.0"); err == nil {
		t.Fatal("an unknown version was accepted")
	}
}

func TestFireLensConfig(t *testing.T) {
	fl := SeedTask("/tmp/x/fluent.sock")
	fl.Options = []string{"Name datadog_go", "apikey k"}
	conf := fl.Config()
	for _, want := range []string{
		"Name forward\n    unix_path /tmp/x/fluent.sock\n",
		"Name record_modifier\n    Match *\n    Record ecs_cluster web-cluster\n",
		"Record ecs_task_definition web:42\n",
		"[OUTPUT]\n    Name datadog_go\n    apikey k\n    Match app-firelens*\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "[SERVICE]") {
		t.Errorf("FireLens writes no [SERVICE] section:\n%s", conf)
	}
	if got, want := fl.Tag(), "app-firelens-0123456789abcdef0123456789abcdef"; got != want {
		t.Errorf("Tag() = %q, want %q", got, want)
	}
}

// TestForwardMessage decodes what Send writes: [tag, [[EventTime, record]...], {chunk}]
// and answers the ack the way in_forward does.
func TestForwardMessage(t *testing.T) {
	client, server := net.Pipe()
	f := &Forwarder{conn: client, r: msgp.NewReader(client), w: nil, Ack: true}
	f.w = newWriter(client)
	recs := Records(3, 1, DefaultContainer)
	errc := make(chan error, 1)
	go func() {
		errc <- SendRecords(f, "app-firelens-1", recs, 2)
	}()
	r := msgp.NewReader(server)
	for msg := 0; msg < 2; msg++ {
		if n, err := r.ReadArrayHeader(); err != nil || n != 3 {
			t.Fatalf("message header %d, %v", n, err)
		}
		if tag, _ := r.ReadString(); tag != "app-firelens-1" {
			t.Fatalf("tag %q", tag)
		}
		events, _ := r.ReadArrayHeader()
		if want := []uint32{2, 1}[msg]; events != want {
			t.Fatalf("message %d has %d events, want %d", msg, events, want)
		}
		for i := uint32(0); i < events; i++ {
			if n, _ := r.ReadArrayHeader(); n != 2 {
				t.Fatalf("event of %d elements", n)
			}
			typ, raw, err := r.ReadExtensionRaw()
			if err != nil || typ != 0 || len(raw) != 8 {
				t.Fatalf("event time: type %d, %d bytes, %v", typ, len(raw), err)
			}
			m := map[string]any{}
			if err := r.ReadMapStrIntf(m); err != nil {
				t.Fatal(err)
			}
			if m["container_name"] != DefaultContainer.Name || !strings.Contains(m["log"].(string), "seq=") {
				t.Fatalf("record %v", m)
			}
		}
		opt := map[string]any{}
		if err := r.ReadMapStrIntf(opt); err != nil {
			t.Fatal(err)
		}
		w := msgp.NewWriter(server)
		_ = w.WriteMapHeader(1)
		_ = w.WriteString("ack")
		_ = w.WriteString(opt["chunk"].(string))
		_ = w.Flush()
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SendRecords did not return after the acks")
	}
}

package realfb

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestTwoInstancesTwoKeys: a task with two app containers, each with its own
// datadog_go output (FireLens writes one [OUTPUT] per container), different
// API keys and services, workers 4 on both. Each intake, accepting only its
// key, gets exactly its container's records, and the second output's own
// limits and encoding apply to it alone (compress none, max_batch_entries
// 100: the same as the C host's TestTwoInstances).
func TestTwoInstancesTwoKeys(t *testing.T) {
	const keyB = "fedcba9876543210fedcba9876543210"
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			fbtest.Require(t, v)
			srvA := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
			srvB := intaketest.StartT(t, intaketest.Options{APIKey: keyB})
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = fbtest.SeedOptions(srvA.URL, apiKey)
			b := fl
			b.Container = "worker"
			fl.Extra = "[OUTPUT]\n    Name datadog_go\n    Match worker-firelens*\n    endpoint " + srvB.URL +
				"\n    apikey " + keyB + "\n    dd_service jobs\n    provider ecs\n    workers 2\n    compress none\n    max_batch_entries 100\n"
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})

			const nA, nB = 6000, 4000
			workerC := fbtest.Container{ID: "b2b2", Name: "/ecs-web-42-worker-aa11"}
			errB := make(chan error, 1)
			go func() { // both containers write at once, as in a task
				errB <- sendRecords(fl.Socket, b.Tag(), fbtest.Records(nB, 5, workerC))
			}()
			send(t, fl.Socket, fl.Tag(), fbtest.Records(nA, 4, fbtest.DefaultContainer))
			if err := <-errB; err != nil {
				t.Fatal(err)
			}
			checkDelivered(t, srvA, p, nA)
			checkDelivered(t, srvB, p, nB)
			for _, l := range srvB.Logs() {
				if l["service"] != "jobs" || !strings.Contains(l["ddtags"].(string), "ecs_container_name:worker") {
					t.Fatalf("intake B got %v", l)
				}
			}
			if st := srvB.Stats(); st.MaxEntries > 100 || st.ByEncoding[""] != st.Accepted {
				t.Errorf("output B's limits/encoding not applied: %+v", st)
			}
			if st := srvA.Stats(); st.ByEncoding["zstd"] != st.Accepted {
				t.Errorf("output A not zstd (the default): %+v", st)
			}
			for _, l := range srvA.Logs() {
				if l["service"] != "singsong" {
					t.Fatalf("intake A got %v", l)
				}
			}
			if strings.Contains(p.Log(), keyB) {
				t.Errorf("key B appears in Fluent Bit's log")
			}
			// The stop: 4.x and 5.x exit cleanly. 1.9.10's Go proxy destroys the
			// shared plugin at each output's exit (flb_proxy_cb_exit,
			// src/flb_plugin_proxy.c), so with two outputs it reads freed
			// memory and aborts after both have exited (docs/delivery.md,
			// Stopping); recorded here, not asserted.
			if !p.Stop(20 * time.Second) {
				t.Fatal("Fluent Bit did not exit on SIGTERM")
			}
			switch code := p.ExitCode(); {
			case v == fbtest.V19:
				t.Logf("Fluent Bit 1.9.10 with two Go outputs ended: %v (status %d)", p.Cmd.ProcessState, code)
			case code != 0:
				t.Errorf("exit status %d:\n%s", code, fbtest.Tail(p.Log(), 2000))
			}
		})
	}
}

// TestBadKeyFailsStartUp: a bad value, a misspelt key or a key of the
// built-in output that means nothing to ours makes Fluent Bit's start-up
// fail, with a non-zero status and the plugin's error naming the key, on
// every line; the same table as the C host's TestBadConfig
// (fbtest.BadConfigs). Each message is logged as the user sees it.
func TestBadKeyFailsStartUp(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		for _, c := range fbtest.BadConfigs {
			t.Run(v+"/"+c.Key, func(t *testing.T) {
				t.Parallel()
				bin := fbtest.Require(t, v)
				dir := t.TempDir()
				fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
				for _, o := range append([]string{c.Line}, fbtest.SeedOptions("http://127.0.0.1:9", apiKey)...) {
					if c.Key == "site" && strings.HasPrefix(o, "endpoint ") {
						continue
					}
					fl.Options = append(fl.Options, o)
				}
				p, err := fbtest.Launch(fbtest.Options{Binary: bin, Config: fl.Config(), Dir: dir})
				if err == nil {
					p.Stop(10 * time.Second)
					t.Fatalf("Fluent Bit started with %q", c.Line)
				}
				if p == nil || !p.Exited() {
					t.Fatalf("start-up did not fail by exiting: %v", err)
				}
				if p.ExitCode() == 0 {
					t.Errorf("exit status 0 after a failed start-up")
				}
				if !strings.Contains(p.Log(), "configuration error: "+c.Key+":") {
					t.Errorf("no error naming %q:\n%s", c.Key, fbtest.Tail(p.Log(), 2000))
				}
				t.Logf("%s", logLine(p.Log(), "configuration error"))
			})
		}
	}
}

// TestFaultMatrixExactlyOnce: the C host's fault matrix (fbtest.FaultMatrix,
// the same options) under real Fluent Bit with the seed task definition's
// workers 4 and Retry_Limit no_limits: every record arrives exactly once.
// Fluent Bit's own retries are made quick (scheduler.base 1, cap 2).
func TestFaultMatrixExactlyOnce(t *testing.T) {
	eachLine(t, fbtest.Lines, func(t *testing.T, v string) {
		srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: fbtest.FaultMatrix})
		dir := t.TempDir()
		fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
		fl.Options = append(append([]string{}, fbtest.FaultMatrixOptions...), fbtest.SeedOptions(srv.URL, apiKey)...)
		fl.Service = []string{"scheduler.base 1", "scheduler.cap 2"}
		p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
		const n = 20000
		send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 9, fbtest.DefaultContainer))
		checkDelivered(t, srv, p, n)
		if st := srv.Stats(); st.Faults < 10 {
			t.Errorf("only %d faults injected", st.Faults)
		}
	})
}

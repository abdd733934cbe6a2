package realfb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The configuration mistakes users make moving from the built-in output,
// under real Fluent Bit (the C host's TestConfigLeftovers and
// TestBadConfig cover the logic).

// logLine is the first line of log holding s ("" when none).
func logLine(log, s string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// The built-in's destination keys left in a migrated section (Host of the
// EU intake, Port 443, TLS on) and no site: Fluent Bit starts (4.2.8 used to
// refuse `TLS on`: "does not support TLS"), and the plugin sends to the EU
// site, saying so.
func TestMigratedHostPicksSite(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = []string{"Name datadog_go", "dd_service web", "provider ecs", "apikey " + apiKey,
				"Host http-intake.logs.datadoghq.eu", "Port 443", "TLS on", "workers 2"}
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
			ready := logLine(p.Log(), "ready: url=")
			if !strings.Contains(ready, "url=https://http-intake.logs.datadoghq.eu/api/v2/logs") {
				t.Errorf("start-up line: %s", ready)
			}
			warn := logLine(p.Log(), "left from the built-in output")
			if !strings.Contains(warn, "sending to site datadoghq.eu") || strings.Contains(p.Log(), "support TLS") {
				t.Errorf("log:\n%s", fbtest.Tail(p.Log(), 3000))
			}
			t.Logf("%s", warn)
		})
	}
}

// A typo in the files as aws-for-fluent-bit's init image lays them out (its
// main config @INCLUDEs the one FireLens writes), and in a YAML config
// (Fluent Bit 2.0's schema and on): start-up fails naming the key and the
// nearest one.
func TestTypoInIncludedAndYAMLConfigs(t *testing.T) {
	t.Parallel()
	typo := "configuration error: dd_sevice: unknown key ("
	for _, v := range fbtest.Lines {
		t.Run(v+"/include", func(t *testing.T) {
			t.Parallel()
			bin := fbtest.Require(t, v)
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = append([]string{"dd_sevice web"}, fbtest.SeedOptions("http://127.0.0.1:9", apiKey)...)
			if err := os.WriteFile(filepath.Join(dir, "firelens.conf"), []byte(fl.Config()), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := fbtest.Launch(fbtest.Options{Binary: bin, Dir: dir, ConfigName: "fluent-bit-init.conf",
				Config: "[SERVICE]\n    Flush 1\n@INCLUDE firelens.conf\n"})
			checkFailed(t, p, err, typo+filepath.Join(dir, "firelens.conf"))
		})
	}
	for _, v := range linesPast19 {
		t.Run(v+"/yaml", func(t *testing.T) {
			t.Parallel()
			bin := fbtest.Require(t, v)
			dir := t.TempDir()
			p, err := fbtest.Launch(fbtest.Options{Binary: bin, Dir: dir, ConfigName: "fluent-bit.yaml", Config: `pipeline:
  inputs:
    - name: dummy
  outputs:
    - name: datadog_go
      match: '*'
      endpoint: http://127.0.0.1:9
      apikey: ` + apiKey + `
      dd_sevice: web
`})
			checkFailed(t, p, err, typo+filepath.Join(dir, "fluent-bit.yaml"))
		})
	}
}

func checkFailed(t *testing.T, p *fbtest.Process, err error, want string) {
	t.Helper()
	if err == nil {
		p.Stop(5 * time.Second)
		t.Fatalf("Fluent Bit started")
	}
	if p == nil || !p.Exited() || p.ExitCode() == 0 {
		t.Fatalf("start-up did not fail with a non-zero status: %v", err)
	}
	line := logLine(p.Log(), "configuration error")
	if !strings.Contains(line, want) || !strings.Contains(line, "did you mean dd_service?") {
		t.Errorf("want %q ... did you mean dd_service?, got:\n%s", want, fbtest.Tail(p.Log(), 2000))
	}
	t.Logf("%s", line)
}

// Two outputs, the seed's with workers 4 and one without: the one without
// warns once, at its first flush, that it flushes on the engine thread; the
// other says nothing.
func TestNoWorkersWarns(t *testing.T) {
	t.Parallel()
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = fbtest.SeedOptions(srv.URL, apiKey)
			fl.Service = []string{"Flush 1"}
			fl.Extra = "[OUTPUT]\n    Name datadog_go\n    Match worker-firelens*\n    endpoint " + srv.URL + "\n    apikey " + apiKey + "\n"
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
			b := fl
			b.Container = "worker"
			for i := 0; i < 2; i++ { // two flushes each: one warning
				send(t, fl.Socket, fl.Tag(), fbtest.Records(10, uint64(i), fbtest.DefaultContainer))
				send(t, fl.Socket, b.Tag(), fbtest.Records(10, uint64(i), fbtest.DefaultContainer))
				if !fbtest.WaitFor(20*time.Second, func() bool { return srv.Stats().Entries >= 20*(i+1) }) {
					t.Fatalf("%d of %d records arrived", srv.Stats().Entries, 20*(i+1))
				}
			}
			log := p.Log()
			warning := "flushes on Fluent Bit's engine thread (it has no workers)"
			if strings.Count(log, warning) != 1 || !strings.Contains(logLine(log, warning), "datadog_go.1]") {
				t.Errorf("want one warning, from datadog_go.1:\n%s", fbtest.Tail(log, 3000))
			}
			t.Logf("%s", logLine(log, warning))
		})
	}
}

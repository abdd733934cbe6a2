package realfb

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestFallingBehindWarning (docs/operations.md, "Falling behind"): a
// FireLens router with one worker, an intake answering every request after
// 1.5 s, and an app writing under three tags (three chunks a flush cycle):
// the worker is busy all the time, and within the plugin's 30 s window
// the log says so, naming one worker and the fix, two. Worker threads are
// Fluent Bit's on every line, so every line runs it.
func TestFallingBehindWarning(t *testing.T) {
	eachLine(t, fbtest.Lines, func(t *testing.T, v string) {
		srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey,
			Fault: func(int) intaketest.Fault { return intaketest.Fault{Delay: 1500 * time.Millisecond} }})
		dir := t.TempDir()
		fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
		fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "workers 1")
		fl.Service = []string{"Flush 1", "Grace 2"}
		p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
		f := dialAcked(t, fl.Socket)
		recs := fbtest.Records(3000, 5, fbtest.DefaultContainer)
		const want = "falling behind: 1 worker(s) busy flushing"
		deadline := time.Now().Add(70 * time.Second)
		for i := 0; !strings.Contains(p.Log(), want) && time.Now().Before(deadline); i++ {
			tag := fl.Tag() + "-" + string(rune('a'+i%3))
			batch := recs[(2*i)%len(recs) : (2*i)%len(recs)+2]
			if err := fbtest.SendRecords(f, tag, batch, 2); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond)
		}
		log := p.Log()
		if !strings.Contains(log, want) {
			t.Fatalf("no falling-behind warning in 70 s:\n%s", fbtest.Tail(log, 3000))
		}
		line := log[strings.Index(log, want):]
		line = line[:strings.IndexByte(line, '\n')]
		for _, part := range []string{"mostly wait on the intake: set `workers 2` on the [OUTPUT]", "(docs/operations.md, Falling behind)"} {
			if !strings.Contains(line, part) {
				t.Errorf("warning lacks %q:\n%s", part, line)
			}
		}
		t.Logf("%s", line)
	})
}

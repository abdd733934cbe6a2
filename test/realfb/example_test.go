package realfb

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestExampleConfig runs the repository's fluent-bit.conf (README's
// "working example") under real Fluent Bit, on every line. The only edits:
// the intake (site → a local endpoint; no network here), the listen port and
// the storage.path (a temporary directory). Records sent over forward
// arrive once.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	root, err := fbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "fluent-bit.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
			port := freePort(t)
			conf := replaceOnce(t, string(raw), `(?m)^(\s*)site(\s+)datadoghq\.com$`, "${1}endpoint${2}"+srv.URL)
			conf = replaceOnce(t, conf, `(?m)^(\s*Port\s+)24224$`, "${1}"+strconv.Itoa(port))
			conf = replaceOnce(t, conf, `(?m)^(\s*storage\.path\s+)\S+$`, "${1}"+filepath.Join(t.TempDir(), "storage"))
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: conf, Env: []string{"DD_API_KEY=" + apiKey}})
			f, err := fbtest.DialForward("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			const n = 1000
			if err := fbtest.SendRecords(f, "app", fbtest.Records(n, 7, fbtest.DefaultContainer), 100); err != nil {
				t.Fatal(err)
			}
			checkDelivered(t, srv, p, n)
			if !p.Stop(20 * time.Second) {
				t.Error("fluent-bit did not exit on SIGTERM")
			}
		})
	}
}

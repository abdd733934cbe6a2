package realfb

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestZstdRefusedByRelay: the seed task definition's section (zstd by
// default) sending through a relay that does not speak zstd and answers
// 415. The output switches to gzip for good and says so once in Fluent
// Bit's log; every record arrives once, the refused payloads included,
// and nothing after the switch is sent in zstd. On every line: the answer
// goes through each one's Go proxy and logger.
func TestZstdRefusedByRelay(t *testing.T) {
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Unsupported: []string{"zstd"}, UnsupportedStatus: http.StatusUnsupportedMediaType})
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = fbtest.SeedOptions(srv.URL, apiKey)
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})

			const n = 6000
			send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 7, fbtest.DefaultContainer))
			checkDelivered(t, srv, p, n)
			st := srv.Stats()
			if st.Unsupported == 0 || st.ByEncoding["zstd"] != 0 || st.ByEncoding["gzip"] != st.Accepted {
				t.Errorf("intake saw %d zstd payloads refused, accepted %v", st.Unsupported, st.ByEncoding)
			}
			if got := strings.Count(p.Log(), "refused zstd payloads"); got != 1 {
				t.Errorf("the switch to gzip logged %d times:\n%s", got, fbtest.Tail(p.Log(), 3000))
			}
		})
	}
}

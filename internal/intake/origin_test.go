package intake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/version"
)

// Every request names its sender in DD-EVP-ORIGIN and DD-EVP-ORIGIN-VERSION,
// as Fluent Bit's built-in output (plugins/out_datadog/datadog.c: "Fluent-Bit"
// and FLB_VERSION_STR) and Vector's datadog_logs sink
// (src/sinks/datadog/logs/service.rs: "vector" and its version) do, and a
// `header` cannot change them (Vector sets them last too).
func TestOriginHeaders(t *testing.T) {
	var got atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Clone())
		w.WriteHeader(202)
	}))
	defer ts.Close()
	codec, _ := compress.New("gzip", 0)
	c, err := New(Options{URL: ts.URL + "/api/v2/logs", APIKey: key, Codec: codec, UserAgent: "ua/1",
		Headers: http.Header{"Dd-Evp-Origin": {"spoofed"}, "X-Team": {"web"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Deliver(context.Background(), payload(1), nil); err != nil {
		t.Fatal(err)
	}
	h := got.Load().(http.Header)
	if h.Get("DD-EVP-ORIGIN") != "out_datadog_go" || h.Get("DD-EVP-ORIGIN-VERSION") != version.Version || h.Get("X-Team") != "web" {
		t.Errorf("DD-EVP-ORIGIN %q, DD-EVP-ORIGIN-VERSION %q (want out_datadog_go, %q), X-Team %q",
			h.Values("DD-EVP-ORIGIN"), h.Get("DD-EVP-ORIGIN-VERSION"), version.Version, h.Get("X-Team"))
	}
}

// Package ecstest serves ECS task metadata documents (internal/ecs/testdata
// or any other) from a local endpoint, for the tests of the packages that
// tag and shape records from them.
package ecstest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// Doc returns internal/ecs/testdata/name.
func Doc(tb testing.TB, name string) []byte {
	tb.Helper()
	_, self, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// URL serves body as the task document (GET <URL>/task, as the v4
// endpoint) until the test ends.
func URL(tb testing.TB, body []byte) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// Client serves body and returns a metadata client that has read it.
func Client(tb testing.TB, body []byte) *ecs.Client {
	tb.Helper()
	md := ecs.NewClient(URL(tb, body), time.Hour, 5*time.Second, logging.Discard(), nil)
	tb.Cleanup(md.Close)
	if md.Document() == nil {
		tb.Fatal("ecstest: the task document was not read")
	}
	return md
}

// WithLabel returns doc with label set to value on its container named
// container.
func WithLabel(tb testing.TB, doc []byte, container, label, value string) []byte {
	tb.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		tb.Fatal(err)
	}
	cs, _ := d["Containers"].([]any)
	for _, c := range cs {
		if c := c.(map[string]any); c["Name"] == container {
			labels, _ := c["Labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
				c["Labels"] = labels
			}
			labels[label] = value
			out, err := json.Marshal(d)
			if err != nil {
				tb.Fatal(err)
			}
			return out
		}
	}
	tb.Fatalf("ecstest: no container %q", container)
	return nil
}

// NonLoopback is an IPv4 address of this machine that is not a loopback
// one, to serve the endpoint where Go's proxy rules apply (net/http never
// proxies a loopback address); the test is skipped when there is none.
func NonLoopback(tb testing.TB) string {
	tb.Helper()
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	tb.Skip("skipped: this machine has no non-loopback IPv4 address to serve the task metadata endpoint on")
	return ""
}

// URLOn is URL served on host (NonLoopback's, say) rather than loopback.
func URLOn(tb testing.TB, host string, body []byte) string {
	tb.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		tb.Skipf("skipped: cannot listen on %s: %v", host, err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })}}
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv.URL
}

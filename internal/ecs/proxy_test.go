package ecs_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// The task metadata endpoint is never asked through a proxy, though
// HTTP_PROXY names one that net/http would use for its address: the
// endpoint is served on a non-loopback address (Go never proxies a
// loopback one), and the proxy answers a different document.
func TestMetadataNeverProxied(t *testing.T) {
	proxied := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied++
		_, _ = w.Write([]byte(`{"TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/from-the-proxy","Containers":[]}`))
	}))
	defer proxy.Close()
	meta := ecstest.URLOn(t, ecstest.NonLoopback(t), []byte(`{"TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/direct","Containers":[]}`))
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	req, _ := http.NewRequest(http.MethodGet, meta+"/v4/x/task", nil)
	if u, _ := http.ProxyFromEnvironment(req); u == nil {
		t.Fatal("net/http does not see HTTP_PROXY for the endpoint (its environment was read before): this test would prove nothing")
	}
	c := ecs.NewClient(meta+"/v4/x", time.Hour, 2*time.Second, logging.Discard(), nil)
	defer c.Close()
	if doc := c.Document(); doc == nil || !strings.HasSuffix(doc.TaskARN, "/direct") || proxied != 0 {
		t.Errorf("document %+v, %d request(s) through the proxy", doc, proxied)
	}
}

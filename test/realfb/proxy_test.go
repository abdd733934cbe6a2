package realfb

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs/ecstest"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// proxy is a forward (plain http) and CONNECT (https) proxy that asks for
// Basic credentials and reaches hosts only through routes (host:port as the
// client names it → the address it dials).
type proxy struct {
	*httptest.Server
	user, pass string
	routes     map[string]string
	forwarded  atomic.Int32
	mu         sync.Mutex
	asked      []string // every host:port asked for
}

func startProxy(t *testing.T, user, pass string, routes map[string]string) *proxy {
	p := &proxy{user: user, pass: pass, routes: routes}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.asked = append(p.asked, r.Host)
	p.mu.Unlock()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
	if r.Header.Get("Proxy-Authorization") != want {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	}
	to, ok := p.routes[r.Host]
	if !ok {
		http.Error(w, "no route to "+r.Host, http.StatusBadGateway)
		return
	}
	if r.Method == http.MethodConnect {
		up, err := net.Dial("tcp", to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { _, _ = io.Copy(up, conn); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
		return
	}
	out, _ := http.NewRequest(r.Method, "http://"+to+r.URL.RequestURI(), r.Body)
	for k, vs := range r.Header {
		if !strings.HasPrefix(k, "Proxy-") {
			out.Header[k] = vs
		}
	}
	out.ContentLength = r.ContentLength
	resp, err := (&http.Transport{}).RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	p.forwarded.Add(1)
}

// TestProxyFromEnvironment (issue 31): the intake is reachable only
// through a proxy that HTTP_PROXY names, credentials included (its host,
// intake.invalid, resolves nowhere: only the proxy routes it). Every record
// arrives through the proxy; the task metadata endpoint, served on a
// non-loopback address (Go never proxies a loopback one), is read directly
// (the proxy is never asked for it, and the label it serves applies); the
// start-up line names the proxy with its credentials masked, and the
// password appears nowhere in Fluent Bit's log. The plugin reads its
// process's environment, which Fluent Bit's version takes no part in: run
// on the line aws-for-fluent-bit 3.x ships.
func TestProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	fbtest.Require(t, fbtest.V4)
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
	intakeAddr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(intakeAddr)
	const pass = "pr0xy-s3cret-pw"
	px := startProxy(t, "router", pass, map[string]string{"intake.invalid:" + port: intakeAddr})

	meta := ecstest.URLOn(t, ecstest.NonLoopback(t), ecstest.Doc(t, "fargate-service-task.json"))
	metaURI, metaHost := meta+"/v4/users", strings.TrimPrefix(meta, "http://")
	dir := t.TempDir()
	fl := fbtest.FireLens{
		Socket: filepath.Join(dir, "fluent.sock"), Container: "app",
		Cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/prod", TaskARN: "arn:aws:ecs:us-east-1:123456789012:task/prod/5f1a2b3c4d5e6f708192a3b4c5d6e7f8",
		TaskDefinition: "users:17",
		Options: []string{"Name datadog_go", "dd_message_key log", "provider ecs", "endpoint http://intake.invalid:" + port,
			"apikey " + apiKey, "workers 2", "Retry_Limit no_limits"},
	}
	proxyURL := "http://router:" + pass + "@" + strings.TrimPrefix(px.URL, "http://")
	p := fbtest.Start(t, fbtest.Options{Version: fbtest.V4, Config: fl.Config(), Dir: dir,
		Env: []string{"HTTP_PROXY=" + proxyURL, "NO_PROXY=", "ECS_CONTAINER_METADATA_URI_V4=" + metaURI}})
	time.Sleep(300 * time.Millisecond) // the task document is read in the background
	const n = 300
	records := make([][]byte, n)
	for i := range records {
		records[i] = lineRecord("5f1a2b3c4d5e6f708192a3b4c5d6e7f8-1234567890", "app", "stdout", "GET /api/v1/users/7 200 seq="+strconv.Itoa(i))
	}
	send(t, fl.Socket, fl.Tag(), records)
	if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= n }) {
		t.Fatalf("%d of %d records arrived in 30 s", srv.Stats().Entries, n)
	}
	if !p.Stop(20 * time.Second) {
		t.Fatal("fluent-bit did not exit on SIGTERM in 20 s")
	}
	seqs := srv.Seqs()
	if len(seqs) != n || px.forwarded.Load() == 0 || int(px.forwarded.Load()) != srv.Stats().Requests {
		t.Errorf("%d records, %d requests through the proxy, %d at the intake", len(seqs), px.forwarded.Load(), srv.Stats().Requests)
	}
	px.mu.Lock()
	for _, h := range px.asked {
		if h == metaHost {
			t.Errorf("the task metadata endpoint was asked through the proxy")
		}
	}
	px.mu.Unlock()
	for _, l := range srv.Logs() {
		if l["ddsource"] != "python" { // fargate-service-task.json's label, read directly
			t.Fatalf("ddsource %v: the task metadata was not read", l["ddsource"])
		}
	}
	log := p.Log()
	if !strings.Contains(log, "proxy=http://****@"+strings.TrimPrefix(px.URL, "http://")+" proxy_from=HTTP_PROXY") || strings.Contains(log, pass) {
		t.Errorf("start-up line:\n%s", fbtest.Tail(log, 3000))
	}
}

package realfb

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The delivery promises of docs/delivery.md through real Fluent Bit, on
// every line, each a case that broke before the per-chunk progress memory
// (issue: identical logs dropped, 400 dropping everything, redirects
// followed, oversize records dropped, unbounded outage buffering).

// fastRetry makes Fluent Bit's scheduler retry a chunk within 1-2 s.
var fastRetry = []string{"Flush 1", "Grace 2", "scheduler.base 1", "scheduler.cap 2"}

// seedRouter starts the FireLens router of the seed task on Fluent Bit v,
// sending to srv with the seed's options plus extra, retrying chunks fast.
func seedRouter(t *testing.T, v string, srv *intaketest.Server, extra ...string) (fbtest.FireLens, *fbtest.Process) {
	dir := t.TempDir()
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), extra...)
	fl.Service = fastRetry
	return fl, fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
}

// faultyIntake answers every request with fault while on is set, then
// normally.
func faultyIntake(t *testing.T, on *atomic.Bool, fault intaketest.Fault) *intaketest.Server {
	on.Store(true)
	return intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: func(int) intaketest.Fault {
		if on.Load() {
			return fault
		}
		return intaketest.Fault{}
	}})
}

// A dummy input emitting the same record 100 times at 20/s with
// json_date_key false: payloads of different chunks are byte-identical, and
// every record still arrives. (Before: 40 of 100 arrived.)
func TestIdenticalRecordsAllArrive(t *testing.T) { eachLine(t, fbtest.Lines, identicalRecords) }

func identicalRecords(t *testing.T, v string) {
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
	conf := fmt.Sprintf(`[SERVICE]
    Flush 1
    Grace 2
[INPUT]
    Name dummy
    Tag app
    Dummy {"log":"same line, same bytes"}
    Rate 20
    Samples 100
[OUTPUT]
    Name datadog_go
    Match *
    endpoint %s
    apikey %s
    json_date_key false
    workers 2
`, srv.URL, apiKey)
	p := fbtest.Start(t, fbtest.Options{Version: v, Config: conf})
	if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= 100 }) {
		t.Fatalf("%d of 100 identical records arrived", srv.Stats().Entries)
	}
	time.Sleep(1500 * time.Millisecond)
	if st := srv.Stats(); st.Entries != 100 || st.Accepted < 3 {
		t.Errorf("intake got %d entries in %d payloads, want 100 in several", st.Entries, st.Accepted)
	}
	p.Stop(20 * time.Second)
}

// A relay answering 400 to everything for a while: nothing is dropped,
// chunks go back to Fluent Bit, and once it accepts again every record
// arrives once. (Before: every record dropped as refused, FLB_OK.)
func TestRelay400LosesNothing(t *testing.T) { eachLine(t, fbtest.Lines, relay400) }

func relay400(t *testing.T, v string) {
	var refuse atomic.Bool
	srv := faultyIntake(t, &refuse, intaketest.Fault{Status: 400})
	fl, p := seedRouter(t, v, srv)
	const n = 3000
	send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 3, fbtest.DefaultContainer))
	if !p.WaitLog("intake or relay fault", 20*time.Second) {
		t.Fatal("no fault logged while the relay refused everything")
	}
	time.Sleep(2 * time.Second) // a few more retries under the refusal
	refused := srv.Stats().Requests
	refuse.Store(false)
	checkDelivered(t, srv, p, n)
	p.Stop(20 * time.Second)
	if strings.Contains(p.Log(), "refused alone twice") || !strings.Contains(p.Log(), "drop_rejected=0") {
		t.Errorf("records dropped as refused:\n%s", fbtest.Tail(p.Log(), 3000))
	}
	t.Logf("%d requests refused before the relay recovered", refused)
}

// A 302 (and 307) to another host: the target never sees a request, the
// chunk is kept, and after the endpoint answers again every record
// arrives once. (Before: Go's client followed the redirect; on 302 a
// bodiless GET's 200 counted as delivered, on 307 the key went along.)
func TestRedirectNotFollowed(t *testing.T) { eachLine(t, fbtest.Lines, redirectNotFollowed) }

func redirectNotFollowed(t *testing.T, v string) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	defer target.Close()
	var redirect atomic.Int32
	redirect.Store(302)
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: func(int) intaketest.Fault {
		if s := redirect.Load(); s != 0 {
			return intaketest.Fault{Status: int(s), Location: target.URL + "/api/v2/logs"}
		}
		return intaketest.Fault{}
	}})
	fl, p := seedRouter(t, v, srv)
	const n = 2000
	send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 4, fbtest.DefaultContainer))
	if !p.WaitLog("redirects are not followed", 20*time.Second) {
		t.Fatal("no redirect error logged")
	}
	redirect.Store(307)
	time.Sleep(2500 * time.Millisecond)
	redirect.Store(0)
	checkDelivered(t, srv, p, n)
	p.Stop(20 * time.Second)
	if hits.Load() != 0 {
		t.Errorf("the redirect target got %d requests", hits.Load())
	}
	if !strings.Contains(p.Log(), target.URL) {
		t.Errorf("the error does not name the Location %s", target.URL)
	}
}

// A 150 KB stack trace with max_batch_bytes 100K arrives cut to fit, with
// the truncation marker, next to the records around it. (Before: dropped.)
func TestOversizeRecordArrivesCut(t *testing.T) { eachLine(t, fbtest.Lines, oversizeRecord) }

func oversizeRecord(t *testing.T, v string) {
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
	fl, p := seedRouter(t, v, srv, "max_batch_bytes 100K")
	trace := "java.lang.IllegalStateException: boom seq=1\n" + strings.Repeat("\tat com.example.orders.Handler.process(Handler.java:42)\n", 2800)
	if len(trace) < 150_000 {
		t.Fatalf("trace of %d bytes", len(trace))
	}
	rec := func(msg string) []byte {
		b := msgp.AppendMapHeader(nil, 2)
		b = msgp.AppendString(msgp.AppendString(b, "log"), msg)
		return msgp.AppendString(msgp.AppendString(b, "source"), "stderr")
	}
	send(t, fl.Socket, fl.Tag(), [][]byte{rec("before seq=0"), rec(trace), rec("after seq=2")})
	if !fbtest.WaitFor(20*time.Second, func() bool { return srv.Stats().Entries >= 3 }) {
		t.Fatalf("%d of 3 records arrived:\n%s", srv.Stats().Entries, fbtest.Tail(p.Log(), 3000))
	}
	var cut map[string]any
	for _, l := range srv.Logs() {
		if strings.Contains(l["message"].(string), "boom seq=1") {
			cut = l
		}
	}
	if cut == nil || cut[shape.TruncatedKey] != float64(len(trace)) || len(cut["message"].(string)) < 80_000 {
		t.Errorf("the stack trace arrived as %.300v", cut)
	}
	if st := srv.Stats(); st.MaxRawBytes > 100_000 {
		t.Errorf("a payload of %d bytes with max_batch_bytes 100K", st.MaxRawBytes)
	}
	p.Stop(20 * time.Second)
	if !strings.Contains(p.Log(), "truncated=1") {
		t.Errorf("truncation not counted:\n%s", fbtest.Tail(p.Log(), 2000))
	}
}

// The bounded outage setup docs/delivery.md recommends: filesystem buffering
// with storage.total_limit_size. An intake outage, a SIGTERM to Fluent Bit
// during it, and a restart on the same storage.path deliver every record
// exactly once.
func TestOutageRestartFilesystemBuffer(t *testing.T) { eachLine(t, fbtest.Lines, outageRestart) }

func outageRestart(t *testing.T, v string) {
	var down atomic.Bool
	srv := faultyIntake(t, &down, intaketest.Fault{Status: 503})
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	fl.Options = append(fbtest.SeedOptions(srv.URL, apiKey), "storage.total_limit_size 64M", "retry_budget 3s", "max_retries 1")
	fl.Service = append(append([]string{}, fastRetry...), "storage.path "+storage, "storage.sync normal", "storage.backlog.mem_limit 16M")
	conf := strings.Replace(fl.Config(), "    unix_path ", "    storage.type filesystem\n    unix_path ", 1)
	p := fbtest.Start(t, fbtest.Options{Version: v, Config: conf, Dir: dir})
	const n = 5000
	send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 5, fbtest.DefaultContainer))
	if !p.WaitLog("handed back to Fluent Bit for retry", 20*time.Second) {
		t.Fatal("no flush failed during the outage")
	}
	if !p.Stop(30 * time.Second) {
		t.Fatal("fluent-bit did not exit on SIGTERM during the outage")
	}
	if st := srv.Stats(); st.Accepted != 0 {
		t.Fatalf("%d payloads accepted during the outage", st.Accepted)
	}
	first := p.Log()
	files, _ := filepath.Glob(filepath.Join(storage, "*", "*.flb"))
	if len(files) == 0 {
		t.Fatalf("no chunk left in %s after the SIGTERM:\n%s", storage, fbtest.Tail(first, 3000))
	}
	down.Store(false)
	// Same config and storage.path: the backlog is loaded and delivered.
	p2 := fbtest.Start(t, fbtest.Options{Version: v, Config: conf, Dir: dir})
	checkDelivered(t, srv, p2, n)
	p2.Stop(20 * time.Second)
	if !regexp.MustCompile(`exit: records_in=\d+ records_out=5000 `).MatchString(p2.Log()) {
		t.Errorf("restarted router's exit counters:\n%s", fbtest.Tail(p2.Log(), 2000))
	}
	t.Logf("%d chunk file(s) survived the SIGTERM", len(files))
}

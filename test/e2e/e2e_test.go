// Package e2e drives the real out_datadog_go.so through test/flbhost, a C
// program that loads it exactly as Fluent Bit's Go proxy does, against the
// intake stand-in. FLB_SO and FLB_HOST name prebuilt artifacts (make test
// sets them); without them TestMain builds both.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

var soPath, hostPath string

func TestMain(m *testing.M) {
	soPath, hostPath = os.Getenv("FLB_SO"), os.Getenv("FLB_HOST")
	if soPath == "" || hostPath == "" {
		dir, err := os.MkdirTemp("", "e2e-build")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		soPath, hostPath = filepath.Join(dir, "out_datadog_go.so"), filepath.Join(dir, "flbhost")
		for _, cmd := range [][]string{
			{"go", "build", "-buildmode=c-shared", "-o", soPath, "./plugin"},
			{"cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-rdynamic", "-o", hostPath, "test/flbhost/flbhost.c", "-ldl", "-lpthread"},
		} {
			c := exec.Command(cmd[0], cmd[1:]...)
			c.Dir = "../.."
			if out, err := c.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "%v: %v\n%s", cmd, err, out)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// Summary is flbhost's JSON line.
type Summary struct {
	Chunks     int     `json:"chunks"`
	Calls      int     `json:"calls"`
	OK         int     `json:"ok"`
	Retry      int     `json:"retry"`
	Error      int     `json:"error"`
	Other      int     `json:"other"`
	Dropped    int     `json:"dropped"`
	GaveUp     int     `json:"gave_up"`
	InitFailed int     `json:"init_failed"`
	FlushMS    float64 `json:"flush_ms"`
	ExitMS     float64 `json:"exit_ms"`
}

const apiKey = "5b2e9f0c7a1d4e6b8c3f2a9d0e7b1c4a" // not the FireLens task ID of the records: a log line naming their tag must not look like a leak

// seedConf is the seed write-up's FireLens options, with endpoint for Host/TLS.
func seedConf(endpoint string, extra ...string) string {
	lines := []string{
		"Name datadog_go", "Match *", "endpoint " + endpoint, "apikey " + apiKey,
		"dd_service singsong", "dd_source httpd", "dd_tags env:prod", "dd_message_key log",
		"provider ecs", "Host ignored.example", "TLS on", "workers 2", "stats_interval 0",
	}
	// Extra lines go first: the property lookup takes the first match.
	return strings.Join(append(extra, lines...), "\n") + "\n"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeChunks(t *testing.T, chunks [][]byte) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, c := range chunks {
		p := filepath.Join(dir, fmt.Sprintf("chunk-%04d.msgpack", i))
		if err := os.WriteFile(p, c, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func runHost(t *testing.T, args ...string) (Summary, string) {
	t.Helper()
	cmd := exec.Command(hostPath, append([]string{"-so", soPath}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var s Summary
	if jerr := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &s); jerr != nil {
		t.Fatalf("host output %q (err %v): %v\nstderr:\n%s", stdout.String(), err, jerr, tail(stderr.String()))
	}
	if strings.Contains(stderr.String(), apiKey) {
		t.Errorf("the API key appears in the plugin's log")
	}
	return s, stderr.String()
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

func checkContract(t *testing.T, srv *intaketest.Server) {
	t.Helper()
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("contract violations: %v", v)
	}
	st := srv.Stats()
	if st.MaxEntries > 1000 || st.MaxRawBytes > 5_000_000 {
		t.Errorf("payload over the limits: %d entries, %d bytes", st.MaxEntries, st.MaxRawBytes)
	}
}

func checkExactlyOnce(t *testing.T, srv *intaketest.Server, n int) {
	t.Helper()
	seqs := srv.Seqs()
	missing, dup := 0, 0
	for i := 0; i < n; i++ {
		switch c := seqs[i]; {
		case c == 0:
			missing++
		case c > 1:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(seqs) != n {
		t.Errorf("exactly-once broken: %d missing, %d duplicated, %d distinct of %d", missing, dup, len(seqs), n)
	}
}

// The chunks captured from real Fluent Bit 4.2.8, through the seed's config.
func TestRealChunks(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})
	conf := writeFile(t, "a.conf", seedConf(srv.URL))
	files := []string{"firelens-forward-3000.msgpack", "tail-raw-lines.msgpack", "dummy-typed-a.msgpack", "dummy-typed-b.msgpack"}
	var args []string
	for _, f := range files {
		args = append(args, filepath.Join("..", "..", "testdata", f))
	}
	s, stderr := runHost(t, append([]string{"-conf", conf, "-workers", "2"}, args...)...)
	if s.OK != 4 || s.Retry != 0 || s.Error != 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	checkContract(t, srv)
	logs := srv.Logs()
	if len(logs) != 3000+4+2+1 {
		t.Fatalf("intake got %d logs, want 3007", len(logs))
	}
	truncated := 0
	for _, l := range logs {
		for _, k := range []string{"ddsource", "service", "ddtags"} {
			if _, ok := l[k].(string); !ok {
				t.Fatalf("log without %s: %v", k, l)
			}
		}
		if l["service"] != "singsong" || l["ddsource"] != "httpd" || !strings.Contains(l["ddtags"].(string), "env:prod") {
			t.Fatalf("config not applied: %v", l)
		}
		if _, ok := l["ddgo_truncated_from"]; ok {
			truncated++
			if n := len(l["message"].(string)); n > 1_000_000 {
				t.Errorf("truncated message still %d bytes", n)
			}
		}
	}
	if truncated != 1 {
		t.Errorf("%d truncated logs, want 1 (the 1.5 MB line)", truncated)
	}
	// A FireLens record: message from `log`, FireLens fields moved into ddtags.
	var fl map[string]any
	for _, l := range logs {
		if strings.Contains(fmt.Sprint(l["message"]), "GET /api/v1/items/1 ") {
			fl = l
		}
	}
	if fl == nil {
		t.Fatal("access log line not found")
	}
	tags := fl["ddtags"].(string)
	for _, want := range []string{"ecs_cluster_name:prod", "cluster_arn:arn:aws:ecs:us-east-1:123456789012:cluster/prod", "task_family:web", "task_version:42", "container_name:ecs-web-42-app-e4d2c3b1a0",
		"region:us-east-1", "aws_account:123456789012", "task_arn:arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"} {
		if !strings.Contains(","+tags+",", ","+want+",") {
			t.Errorf("ddtags %q lacks %s", tags, want)
		}
	}
	if _, ok := fl["container_id"]; ok {
		t.Errorf("FireLens field kept as attribute with provider ecs: %v", fl)
	}
	if fl["source"] != "stdout" || fl["timestamp"] == nil {
		t.Errorf("attributes: %v", fl)
	}
}

// Generated FireLens chunks in every layout, two workers: exactly once.
func TestGeneratedLayoutsExactlyOnce(t *testing.T) {
	for _, c := range []struct {
		name   string
		layout chunkgen.Layout
		abi    string
	}{{"v2-groups", chunkgen.V2, "4"}, {"v1-fluentbit-1.9", chunkgen.V1, "1.9"}, {"v1-int", chunkgen.V1Int, "4"}, {"v1-float", chunkgen.V1Float, "4"}} {
		t.Run(c.name, func(t *testing.T) {
			srv := intaketest.StartT(t, intaketest.Options{})
			g := chunkgen.New(42)
			g.Layout = c.layout
			const n = 12000
			paths := writeChunks(t, g.Chunks(n, 512<<10))
			s, stderr := runHost(t, append([]string{"-conf", writeFile(t, "c.conf", seedConf(srv.URL, "compress zstd")), "-workers", "2", "-abi", c.abi}, paths...)...)
			if s.OK != len(paths) || s.Error+s.Retry != 0 {
				t.Fatalf("summary %+v\n%s", s, tail(stderr))
			}
			checkContract(t, srv)
			checkExactlyOnce(t, srv, n)
		})
	}
}

// Two [OUTPUT] instances of the plugin are independent.
func TestTwoInstances(t *testing.T) {
	a := intaketest.StartT(t, intaketest.Options{})
	b := intaketest.StartT(t, intaketest.Options{})
	confA := writeFile(t, "a.conf", seedConf(a.URL, "dd_service alpha"))
	confB := writeFile(t, "b.conf", seedConf(b.URL, "dd_service beta", "compress none", "max_batch_entries 100"))
	g := chunkgen.New(3)
	paths := writeChunks(t, g.Chunks(3000, 256<<10))
	s, stderr := runHost(t, append([]string{"-conf", confA, "-conf", confB, "-workers", "2"}, paths...)...)
	if s.OK != 2*len(paths) {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	for srv, svc := range map[*intaketest.Server]string{a: "alpha", b: "beta"} {
		checkExactlyOnce(t, srv, 3000)
		for _, l := range srv.Logs() {
			if l["service"] != svc {
				t.Fatalf("instance mixed up: service %v, want %s", l["service"], svc)
			}
		}
	}
	if st := b.Stats(); st.MaxEntries > 100 || st.ByEncoding[""] == 0 {
		t.Errorf("instance b's limits/encoding not applied: %+v", st)
	}
}

// A malformed chunk is dropped with FLB_ERROR; the host survives.
func TestMalformedChunk(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{})
	good := chunkgen.New(1).Chunks(10, 1<<20)[0]
	bad := append(append([]byte{}, good[:len(good)/2]...), 0xc1, 0xc1)
	paths := writeChunks(t, [][]byte{bad, {0xc1}, good})
	s, stderr := runHost(t, append([]string{"-conf", writeFile(t, "c.conf", seedConf(srv.URL))}, paths...)...)
	if s.Error != 2 || s.OK != 1 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	if !strings.Contains(stderr, "malformed chunk") {
		t.Errorf("no log line about the malformed chunk:\n%s", tail(stderr))
	}
}

// An intake that fails, then recovers: FLB_RETRY until it does, then every
// record exactly once.
func TestOutageThenRecovery(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(n int) intaketest.Fault {
		if n <= 6 {
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	paths := writeChunks(t, chunkgen.New(5).Chunks(2000, 1<<20))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "max_retries 0"))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-retry-limit", "20", "-retry-wait-ms", "10"}, paths...)...)
	if s.Retry == 0 || s.OK != len(paths) || s.GaveUp != 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	checkExactlyOnce(t, srv, 2000)
}

// The fault matrix of the "nothing lost, nothing twice" promise (fbtest.FaultMatrix,
// also run under real Fluent Bit by test/realfb): 503 every
// 3rd request, 429 every 5th, connection resets, a stall past the timeout
// and a truncated response, with two workers and retries: every record
// exactly once.
func TestFaultMatrixExactlyOnce(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: fbtest.FaultMatrix})
	const n = 20000
	paths := writeChunks(t, chunkgen.New(9).Chunks(n, 512<<10))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, fbtest.FaultMatrixOptions...))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-workers", "2", "-retry-limit", "-1", "-retry-wait-ms", "10"}, paths...)...)
	if s.OK != len(paths) || s.GaveUp+s.Error != 0 {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	checkContract(t, srv)
	checkExactlyOnce(t, srv, n)
	if t.Failed() {
		t.Logf("intake %+v\nhost log:\n%s", srv.Stats(), tail(stderr))
	}
	if st := srv.Stats(); st.Faults < 10 {
		t.Errorf("only %d faults injected", st.Faults)
	}
}

// A record the intake refuses (400) costs that record only.
func TestBadRecordIsolated(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{RejectMarker: `seq=777"`})
	g := chunkgen.New(11)
	g.Shapes = []chunkgen.Shape{chunkgen.Access}
	paths := writeChunks(t, g.Chunks(2000, 1<<20))
	s, stderr := runHost(t, append([]string{"-conf", writeFile(t, "c.conf", seedConf(srv.URL))}, paths...)...)
	if s.OK != len(paths) {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	seqs := srv.Seqs()
	if len(seqs) != 1999 || seqs[777] != 0 {
		t.Errorf("got %d distinct records, seq 777 delivered %d times", len(seqs), seqs[777])
	}
	for k, v := range seqs {
		if v != 1 {
			t.Errorf("seq %d delivered %d times", k, v)
		}
	}
	if !strings.Contains(stderr, "HTTP 400") {
		t.Errorf("no log line for the refused record:\n%s", tail(stderr))
	}
}

// A bad configuration fails init with a message naming the key (the same
// table as test/realfb's TestBadKeyFailsStartUp under real Fluent Bit). The
// file is named with -c, as Fluent Bit's, and is an [OUTPUT] section: the
// plugin reads it for the keys Fluent Bit does not pass (unknown ones, Host).
func TestBadConfig(t *testing.T) {
	for _, c := range fbtest.BadConfigs {
		lines := strings.Replace(seedConf("http://127.0.0.1:1", c.Line), "Host ignored.example\nTLS on\n", "", 1)
		if c.Key == "site" {
			lines = strings.Replace(seedConf("", c.Line), "endpoint \n", "", 1)
		}
		conf := writeFile(t, "bad.conf", "[OUTPUT]\n"+lines)
		s, stderr := runHost(t, "-c", conf, filepath.Join("..", "..", "testdata", "dummy-typed-b.msgpack"))
		if s.InitFailed != 1 || s.Calls != 0 {
			t.Errorf("%s: summary %+v", c.Key, s)
		}
		if !strings.Contains(stderr, "configuration error: "+c.Key+":") {
			t.Errorf("%s: init error does not name the key:\n%s", c.Key, tail(stderr))
		}
	}
}

// With the intake down for good the plugin hands every chunk back
// (FLB_RETRY), never claims delivery, and exits promptly.
func TestIntakeDownNothingClaimed(t *testing.T) {
	srv := intaketest.StartT(t, intaketest.Options{Fault: func(int) intaketest.Fault { return intaketest.Fault{Status: 500} }})
	paths := writeChunks(t, chunkgen.New(2).Chunks(500, 1<<20))
	conf := writeFile(t, "c.conf", seedConf(srv.URL, "max_retries 1", "retry_budget 2s"))
	s, stderr := runHost(t, append([]string{"-conf", conf, "-retry-limit", "1"}, paths...)...)
	if s.OK != 0 || s.GaveUp != len(paths) {
		t.Fatalf("summary %+v\n%s", s, tail(stderr))
	}
	if s.ExitMS > 3000 {
		t.Errorf("exit took %.0f ms", s.ExitMS)
	}
}

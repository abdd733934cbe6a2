// Package intaketest is a stand-in for the Datadog logs intake, for tests,
// the demo and the benchmarks. It checks every request against the intake's
// contract (path, headers, encoding, JSON shape, limits), answers like the
// intake would, records what it accepted so tests can assert exactly-once
// delivery, and can inject faults: status sequences, Retry-After, latency,
// stalls, connection resets and truncated responses.
package intaketest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
)

// The limits the stand-in enforces: the intake's (package limits).
const (
	MaxEntries = limits.MaxEntries
	MaxBytes   = limits.MaxBytes
)

// Fault is what the stand-in does to one request instead of answering normally.
type Fault struct {
	Status     int           // answer this status (the payload is not accepted)
	RetryAfter string        // Retry-After header with Status
	Location   string        // Location header with Status (a 3xx redirect)
	Delay      time.Duration // wait before answering (a stall when longer than the client's timeout)
	Reset      bool          // close the connection with a TCP reset, no answer
	Truncate   bool          // accept, then send a response cut short
	// Answers that are not HTTP request-response; each holds the
	// connection open until the client closes it (or the server's Close),
	// and the payload is not accepted.
	Upgrade bool // 101 Switching Protocols, then silence
	Info    int  // this 1xx (102, 199...) and never a final answer
	Hijack  bool // the connection taken over, never a byte written
	Endless bool // 503 with a chunked body that never ends (a byte every 50 ms)
}

// Options configure a Server.
type Options struct {
	APIKey string // when set, any other DD-API-KEY gets 403
	// Discard counts entries and bytes without keeping the logs (benchmarks).
	Discard bool
	// Fault, when set, is asked for each request (numbered from 1).
	Fault func(n int) Fault
	// RejectMarker: a payload holding an entry with this text gets 400, as
	// the intake answers a payload it cannot take.
	RejectMarker string
	// MaxBytes above which a payload gets 413 (default MaxBytes).
	MaxBytes int
	// Addr to listen on (default 127.0.0.1:0).
	Addr string
	// Lenient accepts payloads over MaxEntries (the violation is still
	// recorded): Fluent Bit's built-in datadog output sends a whole chunk in
	// one request, and the benchmark compares with it.
	Lenient bool
	// RefGzip also compresses each accepted payload with compress/gzip at
	// its default level and counts the bytes (benchmarks compare the wire
	// size with it).
	RefGzip bool
}

// Stats are the stand-in's counters.
type Stats struct {
	Requests      int            `json:"requests"`
	Accepted      int            `json:"accepted_payloads"`
	Entries       int            `json:"entries"`
	RawBytes      int64          `json:"raw_bytes"`
	WireBytes     int64          `json:"wire_bytes"`
	MaxEntries    int            `json:"max_entries_per_payload"`
	MaxRawBytes   int            `json:"max_raw_bytes_per_payload"`
	MaxEntryBytes int            `json:"max_entry_bytes"`
	Faults        int            `json:"faults"`
	Rejected      int            `json:"rejected_payloads"`
	Violations    int            `json:"violations"`
	ByEncoding    map[string]int `json:"by_encoding"`
	// ByOrigin counts payloads by their DD-EVP-ORIGIN and
	// DD-EVP-ORIGIN-VERSION headers ("name version").
	ByOrigin     map[string]int `json:"by_origin"`
	RefGzipBytes int64          `json:"ref_gzip_bytes,omitempty"`
}

// Server is an intake stand-in on a loopback port.
type Server struct {
	URL string // base URL, e.g. http://127.0.0.1:PORT
	o   Options
	srv *http.Server
	ln  net.Listener

	done chan struct{} // closed by Close: ends held connections

	mu         sync.Mutex
	n          int
	stats      Stats
	logs       []map[string]any
	seqs       map[int]int
	violations []string
	zdec       *zstd.Decoder
	header     http.Header // of the last request
}

var seqRe = regexp.MustCompile(`seq=(\d+)`)

// Start listens and serves until Close.
func Start(o Options) (*Server, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = MaxBytes
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	zdec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	s := &Server{URL: "http://" + ln.Addr().String(), o: o, ln: ln, seqs: map[int]int{}, zdec: zdec, done: make(chan struct{})}
	s.stats.ByEncoding = map[string]int{}
	s.stats.ByOrigin = map[string]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v2/logs", s.handleLogs)
	mux.HandleFunc("/_stats", s.handleStats)
	mux.HandleFunc("/_logs", s.handleRecent)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// StartT is Start for tests: it fails the test when the server cannot
// start and closes it at cleanup.
func StartT(t testing.TB, o Options) *Server {
	t.Helper()
	srv, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// Close stops the server.
func (s *Server) Close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	_ = s.srv.Close()
	s.zdec.Close()
}

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
	s.stats.Violations++
}

func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.stats.Requests++
	s.header = r.Header.Clone()
	s.mu.Unlock()

	var f Fault
	if s.o.Fault != nil {
		f = s.o.Fault(n)
	}
	if f.Delay > 0 {
		// Read the body first so the server notices when the client gives
		// up, then stall; a request whose client is gone is not accepted.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			s.count(func() { s.stats.Faults++ })
			return
		}
	}
	if f.Reset {
		s.count(func() { s.stats.Faults++ })
		hijackReset(w)
		return
	}
	if f.Upgrade || f.Info != 0 || f.Hijack || f.Endless {
		_, _ = io.Copy(io.Discard, r.Body)
		s.count(func() { s.stats.Faults++ })
		s.hold(w, f)
		return
	}
	if f.Status != 0 {
		_, _ = io.Copy(io.Discard, r.Body)
		s.count(func() { s.stats.Faults++ })
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Location != "" {
			w.Header().Set("Location", f.Location)
		}
		http.Error(w, fmt.Sprintf(`{"errors":[{"status":"%d","title":"injected"}]}`, f.Status), f.Status)
		return
	}

	status, msg := s.accept(r)
	if f.Truncate && status == http.StatusAccepted {
		hijackTruncated(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func (s *Server) count(fn func()) {
	s.mu.Lock()
	fn()
	s.mu.Unlock()
}

// accept checks one request against the contract and records it. The
// checks (decompressing, parsing every entry) run outside the lock, as a
// real intake handles requests in parallel: under the lock, concurrent
// payloads queued behind each other on a loaded machine and timed out.
func (s *Server) accept(r *http.Request) (int, string) {
	v := s.check(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, msg := range v.violations {
		s.violate("%s", msg)
	}
	if v.encoding {
		s.stats.ByEncoding[v.enc]++
		s.stats.ByOrigin[v.origin]++
	}
	if v.rejected {
		s.stats.Rejected++
	}
	if v.status != http.StatusAccepted {
		return v.status, v.msg
	}
	if r.Context().Err() != nil {
		// The client gave up while this request was checked (a loaded
		// machine): not accepted, as with a stall. An intake that commits
		// such a request makes any client send it twice; docs/delivery.md says
		// so, and the tests stay about the plugin.
		s.stats.Faults++
		return http.StatusServiceUnavailable, `{"errors":["client gone"]}`
	}
	for _, m := range v.parsed {
		s.logs = append(s.logs, m)
		if msg, ok := m["message"].(string); ok {
			if sm := seqRe.FindStringSubmatch(msg); sm != nil {
				n, _ := strconv.Atoi(sm[1])
				s.seqs[n]++
			}
		}
	}
	st := &s.stats
	st.RefGzipBytes += v.refGzip
	st.Accepted++
	st.Entries += v.entries
	st.RawBytes += int64(v.raw)
	st.WireBytes += int64(v.wire)
	st.MaxEntries = max(st.MaxEntries, v.entries)
	st.MaxRawBytes = max(st.MaxRawBytes, v.raw)
	st.MaxEntryBytes = max(st.MaxEntryBytes, v.maxEntry)
	return http.StatusAccepted, `{}`
}

// verdict is what check found of one request, for accept to record.
type verdict struct {
	status     int
	msg        string
	violations []string
	encoding   bool // the body was decoded: enc and origin are counted
	enc        string
	origin     string
	rejected   bool // refused for RejectMarker
	parsed     []map[string]any
	entries    int
	raw, wire  int
	maxEntry   int
	refGzip    int64
}

// check applies the contract to one request without touching the
// server's state (s.o and s.zdec are safe for concurrent use).
func (s *Server) check(r *http.Request) (v verdict) {
	violate := func(format string, args ...any) { v.violations = append(v.violations, fmt.Sprintf(format, args...)) }
	refuse := func(status int, msg string) verdict { v.status, v.msg = status, msg; return v }
	if r.Method != http.MethodPost {
		violate("method %s", r.Method)
		return refuse(http.StatusMethodNotAllowed, `{}`)
	}
	key := r.Header.Get("DD-API-KEY")
	if key == "" {
		violate("no DD-API-KEY header")
		return refuse(http.StatusUnauthorized, `{"errors":["API key missing"]}`)
	}
	if s.o.APIKey != "" && key != s.o.APIKey {
		return refuse(http.StatusForbidden, `{"errors":["Forbidden"]}`)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		violate("Content-Type %q", ct)
	}
	if r.Header.Get("User-Agent") == "" {
		violate("no User-Agent")
	}
	wire, err := io.ReadAll(r.Body)
	if err != nil {
		return refuse(http.StatusBadRequest, `{"errors":["body read"]}`)
	}
	enc := r.Header.Get("Content-Encoding")
	raw, err := s.decode(enc, wire)
	if err != nil {
		violate("Content-Encoding %q: %v", enc, err)
		return refuse(http.StatusBadRequest, `{"errors":["bad encoding"]}`)
	}
	v.encoding, v.enc = true, enc
	v.origin = r.Header.Get("DD-EVP-ORIGIN") + " " + r.Header.Get("DD-EVP-ORIGIN-VERSION")
	if len(raw) > s.o.MaxBytes {
		return refuse(http.StatusRequestEntityTooLarge, `{"errors":["payload too large"]}`)
	}
	if !utf8.Valid(raw) {
		violate("payload is not valid UTF-8")
		return refuse(http.StatusBadRequest, `{"errors":["invalid UTF-8"]}`)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		violate("payload is not a JSON array: %v", err)
		return refuse(http.StatusBadRequest, `{"errors":["bad JSON"]}`)
	}
	if len(entries) > MaxEntries {
		violate("%d entries in one payload", len(entries))
		if !s.o.Lenient {
			return refuse(http.StatusBadRequest, `{"errors":["too many entries"]}`)
		}
	}
	if s.o.RejectMarker != "" && bytes.Contains(raw, []byte(s.o.RejectMarker)) {
		v.rejected = true
		return refuse(http.StatusBadRequest, `{"errors":[{"status":"400","title":"Bad Request","detail":"invalid log entry"}]}`)
	}
	for _, e := range entries {
		if len(e) == 0 || e[0] != '{' {
			violate("entry is not an object: %.80s", e)
			return refuse(http.StatusBadRequest, `{"errors":["entry not an object"]}`)
		}
		v.maxEntry = max(v.maxEntry, len(e))
		if !s.o.Discard {
			var m map[string]any
			if err := json.Unmarshal(e, &m); err != nil {
				violate("entry: %v", err)
				continue
			}
			if why := schemaViolation(m); why != "" {
				violate("entry: %s: %.80s", why, e)
			}
			v.parsed = append(v.parsed, m)
		}
	}
	if s.o.RefGzip {
		var ref countWriter
		zw, _ := gzip.NewWriterLevel(&ref, gzip.DefaultCompression)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		v.refGzip = int64(ref)
	}
	v.status, v.entries, v.raw, v.wire = http.StatusAccepted, len(entries), len(raw), len(wire)
	return v
}

func (s *Server) decode(enc string, wire []byte) ([]byte, error) {
	switch enc {
	case "", "identity":
		return wire, nil
	case "gzip":
		r, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	case "deflate":
		r, err := zlib.NewReader(bytes.NewReader(wire))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	case "zstd":
		return s.zdec.DecodeAll(wire, nil)
	}
	return nil, fmt.Errorf("unsupported encoding")
}

// hijack takes the connection of w over; ok is false when it cannot.
func hijack(w http.ResponseWriter) (conn net.Conn, buf *bufio.ReadWriter, ok bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, false
	}
	conn, buf, err := hj.Hijack()
	return conn, buf, err == nil
}

func hijackReset(w http.ResponseWriter) {
	conn, _, ok := hijack(w)
	if !ok {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func hijackTruncated(w http.ResponseWriter) {
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"partial\":")
	_ = buf.Flush()
	_ = conn.Close()
}

// hold takes the connection over, writes what f says (if anything) and
// keeps it open until the client closes it or the server is closed.
func (s *Server) hold(w http.ResponseWriter, f Fault) {
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	defer conn.Close()
	switch {
	case f.Upgrade:
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	case f.Info != 0:
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n\r\n", f.Info, http.StatusText(f.Info))
	case f.Endless:
		_, _ = buf.WriteString("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
	}
	_ = buf.Flush()
	gone := make(chan struct{})
	go func() { // the client closing the connection ends the read
		defer close(gone)
		_, _ = io.Copy(io.Discard, conn)
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-gone:
			return
		case <-s.done:
			return
		case <-tick.C:
			if f.Endless {
				if _, err := conn.Write([]byte("1\r\nx\r\n")); err != nil {
					return
				}
			}
		}
	}
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Stats())
}

func (s *Server) handleRecent(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 {
		n = 10
	}
	logs := s.Logs()
	if len(logs) > n {
		logs = logs[len(logs)-n:]
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(logs)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByEncoding = map[string]int{}
	for k, v := range s.stats.ByEncoding {
		st.ByEncoding[k] = v
	}
	st.ByOrigin = map[string]int{}
	for k, v := range s.stats.ByOrigin {
		st.ByOrigin[k] = v
	}
	return st
}

// schemaViolation checks an entry's reserved attributes against the
// intake's schema (datadog-api-client-go HTTPLogItem: message required,
// ddsource, ddtags, hostname, message and service strings); "" when it
// conforms.
func schemaViolation(m map[string]any) string {
	if _, ok := m["message"]; !ok {
		return "no message"
	}
	for _, k := range [...]string{"message", "ddsource", "ddtags", "hostname", "service"} {
		if v, ok := m[k]; ok {
			if _, str := v.(string); !str {
				return fmt.Sprintf("%s is %T, not a string", k, v)
			}
		}
	}
	return ""
}

// Logs returns the accepted logs (not in Discard mode).
func (s *Server) Logs() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.logs...)
}

// Seqs returns how many times each seq=N marker was accepted.
func (s *Server) Seqs() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.seqs))
	for k, v := range s.seqs {
		out[k] = v
	}
	return out
}

// LastHeader is the header of the last request received (nil before the
// first): the plugin's `header` lines arrive there.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header.Clone()
}

// Violations lists contract violations seen.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

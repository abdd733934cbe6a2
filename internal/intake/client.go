// Package intake sends payloads to the Datadog logs intake and applies its
// contract: what to retry, what to split, what to drop, and how long to
// wait. Compare Vector's datadog_logs sink and the Datadog Agent's HTTP
// logs sender, which make the same choices.
//
//	2xx                      accepted
//	400, 413                 isolate the refused entries (delivery.go); drop one only
//	                         when refused alone twice while the intake accepts others
//	1xx final (101...)       not HTTP request-response: an error, retried like a network one
//	401 / 403                API key or site wrong: keep the chunk (retryable), log loudly
//	3xx                      never followed: keep the chunk, log the Location loudly
//	408, 429, 5xx, network   back off (exponential, full jitter, Retry-After) and retry
//	other 4xx                unknown: keep the chunk (retryable), log loudly
package intake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/budget"
	"github.com/out-datadog-go/out_datadog_go/internal/health"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/redact"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
	"github.com/out-datadog-go/out_datadog_go/internal/version"
)

// Compressor encodes request bodies (*compress.Codec in production).
type Compressor interface {
	Compress(dst, src []byte) ([]byte, error)
	ContentEncoding() string
}

// Options configure a Client.
type Options struct {
	URL         string
	APIKey      string // sent as DD-API-KEY; never logged, never in an error
	Codec       Compressor
	Timeout     time.Duration // per request
	TLSVerify   bool
	TLSCAFile   string
	Proxy       string      // explicit proxy URL; environment proxies are not read
	Headers     http.Header // extra headers of every request (`header`), set after the plugin's own
	MaxRetries  int
	BackoffBase time.Duration // default 250ms
	BackoffMax  time.Duration // default 10s
	UserAgent   string
	Logger      *logging.Logger
	Stats       *stats.Counters
	Concurrency int // requests in flight at once (sizes the idle pool)
	// Health is the output's shared view of the intake, and its clock: every
	// request takes a turn of it and reports its outcome to it; nothing is
	// retried while the intake is down. Nil: a health of the client's own,
	// as pipeline.New builds it with the default retry_budget (tests).
	Health *health.Health
}

// Error is a delivery failure. The chunk stays with Fluent Bit.
type Error struct {
	Status int  // last HTTP status, 0 for a network error
	Auth   bool // 401/403
	Err    error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("intake answered HTTP %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("intake unreachable: %v", e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Client is safe for concurrent use.
type Client struct {
	o    Options
	hc   *http.Client
	host string
	bufs sync.Pool // *[]byte for compressed bodies
	// secrets are scrubbed from every answer and error.
	secrets *redact.Secrets
	clock   health.Clock // the health's: backoffs, a delivery's start
	// rng draws backoff jitter and probe positions; mu keeps it race-free.
	mu    sync.Mutex
	rng   *rand.Rand
	conns *conns // for Fluent Bit's upstream connection gauges
}

// New builds a Client with one keep-alive transport.
func New(o Options) (*Client, error) {
	if o.BackoffBase <= 0 {
		o.BackoffBase = 250 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Stats == nil {
		o.Stats = &stats.Counters{}
	}
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	if o.Health == nil {
		o.Health = health.New(health.Options{OpenAfter: defaultDownAfter, ProbeEvery: budget.ProbeEvery, Log: o.Logger})
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad intake URL %q", redact.URL(o.URL))
	}
	var values []string
	for _, vs := range o.Headers {
		values = append(values, vs...)
	}
	secrets := redact.Of(o.APIKey, []string{o.URL, o.Proxy}, values)
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !o.TLSVerify} //nolint:gosec // tls_verify off is the user's explicit choice
	if o.TLSCAFile != "" {
		pem, err := os.ReadFile(o.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls_ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca_file: no PEM certificate in %s", o.TLSCAFile)
		}
		tlsConf.RootCAs = pool
	}
	cs := &conns{c: &o.Stats.Conns}
	tr := &http.Transport{
		DialContext:         cs.dial(&net.Dialer{}),
		TLSClientConfig:     tlsConf,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4 * o.Concurrency,
		MaxIdleConnsPerHost: 4 * o.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if o.Proxy != "" {
		pu, err := url.Parse(o.Proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy: %q is not a URL", redact.URL(o.Proxy))
		}
		tr.Proxy = http.ProxyURL(pu)
	}
	return &Client{
		o: o,
		hc: &http.Client{Transport: tr, Timeout: o.Timeout,
			// A redirect is answered to the caller (send), never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		host:    u.Host,
		secrets: secrets,
		clock:   o.Health.Clock(),
		conns:   cs,
		rng:     rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15)),
	}, nil
}

// defaultDownAfter is config's default retry_budget, for a client built
// without a health.
const defaultDownAfter = 4 * time.Second

// Close drops idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Deliver sends one payload. When the intake refuses it (400, 413) the
// refused entries are isolated (see isolate). A nil error means every entry
// was accepted, or refused alone and handed to d for Confirm; an error means
// some entries must be retried: those that are done have been reported to
// d.Done.
func (c *Client) Deliver(ctx context.Context, b *batch.Batch, d *Delivery) error {
	if d == nil {
		d = c.NewDelivery(nil, false, 0)
	}
	if b.Len() == 0 {
		return nil
	}
	a, err := c.attempt(ctx, b, d)
	if err != nil {
		return err
	}
	if a.ok() {
		d.done(b)
		return nil
	}
	return c.isolate(ctx, b, a, d)
}

// attempt compresses and sends one payload with retries (send), and counts
// it when accepted.
func (c *Client) attempt(ctx context.Context, b *batch.Batch, d *Delivery) (answer, error) {
	raw := b.Bytes()
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer c.bufs.Put(bp)
	body, err := c.o.Codec.Compress(*bp, raw)
	if err != nil {
		return answer{}, &Error{Err: fmt.Errorf("compress: %w", err)}
	}
	if c.o.Codec.ContentEncoding() != "" {
		*bp = body // keep the grown buffer for the next payload
	}
	if err := d.wait(ctx); err != nil {
		return answer{}, err
	}
	a, err := c.send(ctx, body, b.Len(), d)
	if err == nil && a.ok() {
		s := c.o.Stats
		s.Payloads.Add(1)
		s.RecordsOut.Add(int64(b.Len()))
		s.BytesRaw.Add(int64(len(raw)))
		s.BytesWire.Add(int64(len(body)))
	}
	return a, err
}

// answer is what the intake said to one request.
type answer struct {
	status     int
	msg        string // a short, single-line, scrubbed excerpt of the body
	retryAfter time.Duration
	location   string // of a 3xx, scrubbed
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// send posts one compressed payload of d, retrying transient failures
// with backoff inside ctx. Each request takes a turn of the intake's
// health: while it is down, one probe at a time, and a chunk Fluent Bit
// retries gets one even between probes, until one of its own failed (its
// other payloads then go back with it). It returns the final answer (2xx,
// 400 or 413) or an *Error.
func (c *Client) send(ctx context.Context, body []byte, entries int, d *Delivery) (answer, error) {
	for attempt := 0; ; attempt++ {
		turn, err := c.o.Health.Turn(ctx, d.retried && !d.probeFailed.Load())
		if err != nil {
			return answer{}, &Error{Err: err}
		}
		probe := turn.Probe()
		a, final, failure := c.request(ctx, turn, body, entries)
		if final {
			return a, failure
		}
		if probe {
			d.probeFailed.Store(true)
		}
		if attempt >= c.o.MaxRetries || ctx.Err() != nil || probe || c.o.Health.Down() {
			return answer{}, failure
		}
		wait := c.backoff(attempt)
		dl, hasDeadline := ctx.Deadline()
		if a.retryAfter > wait {
			// Honoured in full within the flush's budget; without one
			// (tests), capped like the backoff.
			wait = a.retryAfter
			if !hasDeadline {
				wait = min(wait, c.o.BackoffMax)
			}
		}
		if hasDeadline && time.Until(dl) < wait {
			return answer{}, failure // would sleep past the flush's budget
		}
		c.o.Stats.Retries.Add(1)
		c.o.Logger.Debugf("retrying in %s after: %v", wait, failure)
		if !c.clock.Sleep(ctx, wait) {
			return answer{}, failure
		}
	}
}

// request makes one request in turn, reports its outcome to the health and
// the counters, and says whether it is final: an answer to return (2xx,
// 400, 413) or an error not to retry (401, 403, 3xx); otherwise failure
// may be retried.
func (c *Client) request(ctx context.Context, turn *health.Turn, body []byte, entries int) (a answer, final bool, failure error) {
	defer turn.Release() // a panic below must not leave a probe open
	start := time.Now()
	a, rerr := c.post(ctx, body)
	c.observe(a, rerr, entries, len(body), time.Since(start))
	s := c.o.Stats
	switch {
	case rerr != nil:
		failure = &Error{Err: rerr}
	case a.ok():
		s.LastAccepted.Store(turn.Accepted().UnixNano()) // the stats mirror the health's fact
		return a, true, nil
	case a.status == http.StatusBadRequest, a.status == http.StatusRequestEntityTooLarge:
		turn.Answered()
		return a, true, nil
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		c.failed()
		turn.Answered()
		c.o.Logger.Errorf("intake %s answered HTTP %d (%s): the API key is missing or invalid, or belongs to another Datadog site than %s; "+
			"chunk kept for retry", c.host, a.status, a.msg, c.host)
		return answer{}, true, &Error{Status: a.status, Auth: true, Err: errors.New(a.msg)}
	case a.status >= 300 && a.status < 400:
		// Go's client would re-send a POST as a bodiless GET on 301/302
		// (and count its 200 as delivered) and take DD-API-KEY to another
		// host on 307/308: redirects are refused (CheckRedirect) and
		// reported here, never followed.
		c.failed()
		turn.Answered()
		c.o.Logger.Errorf("intake %s answered HTTP %d redirecting to %q: redirects are not followed; "+
			"set endpoint (or site) to the intake's real address; chunk kept for retry", c.host, a.status, a.location)
		return answer{}, true, &Error{Status: a.status, Err: fmt.Errorf("redirect to %q not followed", a.location)}
	case a.status == http.StatusRequestTimeout, a.status == http.StatusTooManyRequests, a.status >= 500:
		failure = &Error{Status: a.status, Err: errors.New(a.msg)}
	default:
		c.o.Logger.Errorf("intake %s answered unexpected HTTP %d (%s); chunk kept for retry", c.host, a.status, a.msg)
		failure = &Error{Status: a.status, Err: errors.New(a.msg)}
	}
	c.failed()
	turn.Failed()
	return a, false, failure
}

// failed notes when a request last did not deliver (outcome="failed";
// observe counts it).
func (c *Client) failed() { c.o.Stats.LastFailed.Store(c.clock.Now().UnixNano()) }

// backoff is exponential with full jitter: uniform in [base, base*2^attempt],
// capped at BackoffMax.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.BackoffBase << min(attempt, 20)
	if d > c.o.BackoffMax || d <= 0 {
		d = c.o.BackoffMax
	}
	c.mu.Lock()
	j := time.Duration(c.rng.Int64N(int64(d-c.o.BackoffBase) + 1))
	c.mu.Unlock()
	return c.o.BackoffBase + j
}

// post makes one HTTP request. It ends by timeout or by ctx's deadline
// (what is left of the flush's budget), whichever comes first, reading the
// answer included.
func (c *Client) post(ctx context.Context, body []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	ctx, release := c.conns.busy(ctx)
	defer release()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.URL, bytes.NewReader(body))
	if err != nil {
		return answer{}, c.scrub(err)
	}
	h := req.Header
	h.Set("DD-API-KEY", c.o.APIKey)
	h.Set("Content-Type", "application/json")
	if enc := c.o.Codec.ContentEncoding(); enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("User-Agent", c.o.UserAgent)
	for name, vs := range c.o.Headers {
		h.Del(name) // replaced, not added to
		for _, v := range vs {
			h.Add(name, v)
		}
	}
	// The sender's name, as Fluent Bit's built-in output (plugins/out_datadog:
	// "Fluent-Bit" and its version) and Vector's sink ("vector") name
	// themselves; set last, as Vector does, so `header` cannot change them.
	h.Set("DD-EVP-ORIGIN", version.Origin)
	h.Set("DD-EVP-ORIGIN-VERSION", version.Version)
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, c.scrub(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 {
		// Go returns a 1xx as final only for 101 Switching Protocols, whose
		// body is the raw connection. Not an answer to the request: unread,
		// the connection closed, and send takes it as an unexpected status
		// (retried).
		return answer{status: resp.StatusCode, msg: http.StatusText(resp.StatusCode) + ", not an answer to a request; connection closed"}, nil
	}
	// Neither the request's context nor the client's Timeout ends a read
	// from a connection the answer took over: closing the body at the
	// deadline does.
	defer context.AfterFunc(ctx, func() { resp.Body.Close() })()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	a := answer{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	a.msg = strings.Join(strings.Fields(string(head)), " ")
	if a.msg == "" {
		a.msg = http.StatusText(resp.StatusCode)
	}
	a.msg = c.secrets.Scrub(a.msg)
	if loc := resp.Header.Get("Location"); loc != "" {
		a.location = c.secrets.Scrub(redact.URL(loc))
	}
	return a, nil
}

// scrub keeps the API key, header values and URL credentials out of an
// error (url.Error quotes the request URL).
func (c *Client) scrub(err error) error {
	s := err.Error()
	if scrubbed := c.secrets.Scrub(s); scrubbed != s {
		return errors.New(scrubbed)
	}
	return err
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// Package intake sends payloads to the Datadog logs intake and applies its
// contract: what to retry, what to split, what to drop, and how long to
// wait. Compare Vector's datadog_logs sink and the Datadog Agent's HTTP
// logs sender, which make the same choices.
//
//	2xx                      accepted
//	400                      split to isolate the refused entries; drop only those
//	413                      halve and resend
//	401 / 403                API key or site wrong: keep the chunk (retryable), log loudly
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
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/dedup"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
)

// Options configure a Client.
type Options struct {
	URL         string
	APIKey      string // sent as DD-API-KEY; never logged, never in an error
	Codec       *compress.Codec
	Timeout     time.Duration // per request
	TLSVerify   bool
	TLSCAFile   string
	Proxy       string // explicit proxy URL; environment proxies are not read
	Headers     []config.Header
	MaxRetries  int
	BackoffBase time.Duration // default 250ms
	BackoffMax  time.Duration // default 10s
	UserAgent   string
	Logger      *logging.Logger
	Stats       *stats.Counters
	Dedup       *dedup.Set // may be nil
	Concurrency int        // requests in flight at once (sizes the idle pool)
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

// IsRetryable reports whether err leaves the payload to be retried later
// (every delivery error does: nothing is dropped on a failure we do not
// understand).
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// IsAuth reports whether err is an authentication failure (401/403).
func IsAuth(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Auth
}

// Result counts the entries of one Deliver.
type Result struct {
	Accepted int // delivered (now or in an earlier try of the same chunk)
	Rejected int // refused by the intake (400) or too large (413) and dropped
}

// Client is safe for concurrent use.
type Client struct {
	o    Options
	hc   *http.Client
	host string
	bufs sync.Pool // *[]byte for compressed bodies
	// rng draws backoff jitter; mu keeps it race-free.
	mu  sync.Mutex
	rng *rand.Rand
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
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bad intake URL %q", o.URL)
	}
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
	tr := &http.Transport{
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
			return nil, fmt.Errorf("proxy: %w", err)
		}
		tr.Proxy = http.ProxyURL(pu)
	}
	return &Client{
		o:    o,
		hc:   &http.Client{Transport: tr, Timeout: o.Timeout},
		host: u.Host,
		rng:  rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15)),
	}, nil
}

// Close drops idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Deliver sends one payload, splitting it when the intake refuses part of
// it. A nil error means every entry was accepted or deliberately dropped
// (counted and logged); an error means some entries must be retried — the
// parts already accepted are remembered in Dedup and skipped next time.
func (c *Client) Deliver(ctx context.Context, b *batch.Batch) (Result, error) {
	if b.Len() == 0 {
		return Result{}, nil
	}
	raw := b.Bytes()
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer c.bufs.Put(bp)
	body, err := c.o.Codec.Compress(*bp, raw)
	if err != nil {
		return Result{}, &Error{Err: fmt.Errorf("compress: %w", err)}
	}
	if c.o.Codec.ContentEncoding() != "" {
		*bp = body // keep the grown buffer for the next payload
	}
	// The key is a hash of the wire bytes: compression is deterministic for
	// the instance's codec, so they identify the payload as well as the raw
	// JSON does, and are ~20x fewer bytes to hash.
	var key dedup.Key
	if c.o.Dedup != nil {
		key = c.o.Dedup.Hash(body)
		if c.o.Dedup.Seen(key) {
			c.o.Stats.DedupSkipped.Add(1)
			return Result{Accepted: b.Len()}, nil
		}
	}
	status, msg, err := c.send(ctx, body)
	if err != nil {
		return Result{}, err
	}
	switch {
	case status >= 200 && status < 300:
		c.o.Dedup.Add(key)
		s := c.o.Stats
		s.Payloads.Add(1)
		s.RecordsOut.Add(int64(b.Len()))
		s.BytesRaw.Add(int64(len(raw)))
		s.BytesWire.Add(int64(len(body)))
		return Result{Accepted: b.Len()}, nil
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		if b.Len() == 1 {
			c.o.Stats.DropRejected.Add(1)
			c.o.Dedup.Add(key) // a chunk retry must not resend it either
			c.o.Logger.Warnf("intake refused one log entry of %d bytes with HTTP %d (%s); dropped: resending the same bytes cannot succeed",
				len(raw)-2, status, msg)
			return Result{Rejected: 1}, nil
		}
		if status == http.StatusBadRequest {
			c.o.Logger.Debugf("HTTP 400 for a payload of %d entries (%s): splitting to isolate the refused entries", b.Len(), msg)
		} else {
			c.o.Logger.Warnf("HTTP 413 for a payload of %d entries, %d bytes: halving", b.Len(), len(raw))
		}
		half := b.Len() / 2
		var total Result
		var firstErr error
		for _, part := range []*batch.Batch{b.Slice(0, half), b.Slice(half, b.Len())} {
			r, err := c.Deliver(ctx, part)
			total.Accepted += r.Accepted
			total.Rejected += r.Rejected
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			c.o.Dedup.Add(key)
		}
		return total, firstErr
	}
	return Result{}, &Error{Status: status, Err: fmt.Errorf("unexpected answer: %s", msg)}
}

// send posts one compressed payload, retrying transient failures with
// backoff inside ctx. It returns the final status (2xx, 400 or 413) or an
// *Error.
func (c *Client) send(ctx context.Context, body []byte) (status int, msg string, err error) {
	for attempt := 0; ; attempt++ {
		status, msg, retryAfter, rerr := c.post(ctx, body)
		var failure *Error
		switch {
		case rerr != nil:
			failure = &Error{Err: rerr}
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			c.o.Logger.Errorf("intake %s answered HTTP %d (%s): the API key is missing or invalid, or belongs to another Datadog site than %s; "+
				"chunk kept for retry", c.host, status, msg, c.host)
			return 0, "", &Error{Status: status, Auth: true, Err: errors.New(msg)}
		case status >= 200 && status < 300, status == http.StatusBadRequest, status == http.StatusRequestEntityTooLarge:
			return status, msg, nil
		case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
			failure = &Error{Status: status, Err: errors.New(msg)}
		default:
			c.o.Logger.Errorf("intake %s answered unexpected HTTP %d (%s); chunk kept for retry", c.host, status, msg)
			failure = &Error{Status: status, Err: errors.New(msg)}
		}
		if attempt >= c.o.MaxRetries || ctx.Err() != nil {
			return 0, "", failure
		}
		wait := c.backoff(attempt)
		if retryAfter > wait {
			wait = min(retryAfter, c.o.BackoffMax)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return 0, "", failure // would sleep past the flush's budget
		}
		c.o.Stats.Retries.Add(1)
		c.o.Logger.Debugf("retrying in %s after: %v", wait, failure)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, "", failure
		case <-t.C:
		}
	}
}

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

// post makes one HTTP request. msg is a short, single-line excerpt of the
// response body for log lines.
func (c *Client) post(ctx context.Context, body []byte) (status int, msg string, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	h := req.Header
	h.Set("DD-API-KEY", c.o.APIKey)
	h.Set("Content-Type", "application/json")
	if enc := c.o.Codec.ContentEncoding(); enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("User-Agent", c.o.UserAgent)
	for _, x := range c.o.Headers {
		h.Set(x.Name, x.Value)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", 0, c.scrub(err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	msg = strings.Join(strings.Fields(string(head)), " ")
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return resp.StatusCode, c.scrubString(msg), parseRetryAfter(resp.Header.Get("Retry-After")), nil
}

// scrub makes sure the API key never travels in an error.
func (c *Client) scrub(err error) error {
	if c.o.APIKey != "" && strings.Contains(err.Error(), c.o.APIKey) {
		return errors.New(strings.ReplaceAll(err.Error(), c.o.APIKey, "****"))
	}
	return err
}

func (c *Client) scrubString(s string) string {
	if c.o.APIKey != "" {
		return strings.ReplaceAll(s, c.o.APIKey, "****")
	}
	return s
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

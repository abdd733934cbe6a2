package intake

import (
	"context"
	"net"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/stats"
)

// observe counts one request by its answer (stats.AnswerOf), adds its
// duration to the latency histogram and logs it at debug level: the one
// line per request that says what the intake answered. (The times of the
// last accepted and failed requests are request's: the health's facts.)
func (c *Client) observe(a answer, err error, entries, bytes int, took time.Duration) {
	s := c.o.Stats
	status := a.status
	if err != nil {
		status = 0
	}
	class := stats.AnswerOf(status)
	s.Request(class)
	s.Latency.Observe(took)
	ms := took.Milliseconds()
	if err != nil {
		c.o.Logger.Debugf("request: no answer (%v), %d entries, %d bytes, %d ms", err, entries, bytes, ms)
		return
	}
	c.o.Logger.Debugf("request: HTTP %d (%s), %d entries, %d bytes, %d ms", a.status, class, entries, bytes, ms)
}

// conns keeps Fluent Bit's upstream connection gauges for the client's
// transport: Open counts the connections dialled and not yet closed,
// Busy those carrying a request (with HTTP/2 one connection carries
// several; it counts once).
type conns struct {
	c  *stats.Conns
	mu sync.Mutex
	in map[net.Conn]int // requests in flight on each busy connection
}

// dial wraps d so that each connection is counted open until it closes.
func (cs *conns) dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cs.c.Open.Add(1)
		return &countedConn{Conn: conn, open: &cs.c.Open}, nil
	}
}

type countedConn struct {
	net.Conn
	once sync.Once
	open *atomic.Int64
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// busy returns ctx traced so that the connection the request gets counts
// as busy until release.
func (cs *conns) busy(ctx context.Context) (context.Context, func()) {
	var got net.Conn
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		mu.Lock()
		defer mu.Unlock()
		if got == nil {
			got = info.Conn
			cs.use(got, 1)
		}
	}}
	return httptrace.WithClientTrace(ctx, trace), func() {
		mu.Lock()
		defer mu.Unlock()
		if got != nil {
			cs.use(got, -1)
			got = nil
		}
	}
}

func (cs *conns) use(conn net.Conn, delta int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.in == nil {
		cs.in = map[net.Conn]int{}
	}
	n := cs.in[conn] + delta
	if n <= 0 {
		delete(cs.in, conn)
	} else {
		cs.in[conn] = n
	}
	cs.c.Busy.Store(int64(len(cs.in)))
}

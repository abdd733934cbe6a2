package intake

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/health"
)

// What a refusal (400, 413) costs and proves. The intake refuses a payload
// for one bad entry, a relay may refuse every payload (a fault, not bad
// records), and a load-balanced relay with one bad backend refuses payloads
// at random. So:
//
//   - Evidence first: a few entries picked across the refused payload are
//     sent alone until one is accepted. When none is, the intake is refusing
//     everything, whatever the records: nothing is dropped, the chunk goes
//     back to Fluent Bit, and the flush sends nothing more to isolate.
//     Positions are drawn at random each time, so bad records cannot make
//     that evidence on every try.
//   - Then bisection, level by level: both halves of every refused part,
//     until refused entries are alone. k refused entries among n cost about
//     2k·log2(n/k) requests, within the chunk's cap (MaxProbes); past it the
//     chunk goes back with what is accepted or isolated remembered, so the
//     cap spreads the work over Fluent Bit's tries.
//   - An entry refused alone is not dropped yet: Confirm sends it alone
//     again, a backoff later, once every payload of the chunk has its
//     outcome (or on the chunk's next try, when the flush's budget does not
//     allow the wait). It is dropped only when refused again while the
//     intake accepted another request during the flush, and not while the
//     intake shows it refuses payloads at random (a refused part both of
//     whose halves it accepted, in the last health.RandomHold).
const (
	// MaxProbes is the default cap on the requests one flush spends to
	// isolate refused entries (evidence and bisection; Confirm has as
	// many): 256 isolates a dozen bad records in a 1,000-entry payload.
	MaxProbes = 256
	// evidenceProbes is how many entries of a refused payload are sent
	// alone, at most, before it is taken as an intake fault: with the
	// payload itself, 7 requests a try for a relay that refuses everything.
	evidenceProbes = 6
)

// Ledger is where one try of a chunk keeps what became of each of its
// records (pipeline's ledger): the client reports every outcome to it, by
// record id, from the goroutines sending the chunk's payloads. It must be
// safe for concurrent use.
type Ledger interface {
	// Done: accepted, or refused alone twice and dropped: never sent again.
	Done(ids []int32)
	// Suspect: refused alone once; Confirm sends it alone again.
	Suspect(s Suspect)
	// Suspects takes the suspects not yet settled.
	Suspects() []Suspect
	// Held: refused alone once and not settled in this try; the chunk goes
	// back to Fluent Bit and its next try sends them alone again.
	Held(ids []int32)
}

// Suspect is an entry the intake refused alone once.
type Suspect struct {
	Entry *batch.Batch // the entry alone; the ledger's from now on
	At    time.Time    // when; zero for a refusal in an earlier try of the chunk
	a     answer
}

// Delivery is what the payloads of one try of a chunk share: the ledger
// their outcomes go to, when the try started, and its budget of isolation
// requests. Safe for concurrent use.
type Delivery struct {
	ledger      Ledger
	retried     bool            // the chunk came back from Fluent Bit: see health.Turn
	ready       <-chan struct{} // requests wait until it is closed (SendAfter); nil: no wait
	probeFailed atomic.Bool     // a probe of this try failed: its other requests are paced like a new chunk's
	start       time.Time
	probes      atomic.Int64
	confirms    atomic.Int64
	fault       atomic.Bool // the intake refused every entry of a payload sent alone
	faultLogged atomic.Bool
	capLogged   atomic.Bool
}

// NewDelivery returns the Delivery of a try starting now whose outcomes go
// to l (nil: nowhere), allowing maxProbes isolation requests and as many
// confirmations (MaxProbes when maxProbes <= 0). retried: Fluent Bit
// retries the chunk (an earlier flush handed it back), so its requests are
// sent while the intake is down (health.Turn).
func (c *Client) NewDelivery(l Ledger, retried bool, maxProbes int) *Delivery {
	if maxProbes <= 0 {
		maxProbes = MaxProbes
	}
	if l == nil {
		l = &discard{}
	}
	d := &Delivery{ledger: l, retried: retried, start: c.clock.Now()}
	d.probes.Store(int64(maxProbes))
	d.confirms.Store(int64(maxProbes))
	return d
}

// SendAfter makes d's requests wait until ready is closed (or their
// context ends): payloads are compressed as they come, and nothing goes to
// the intake before the caller has read what it must read first (Fluent
// Bit's chunk). Call it before the first Deliver.
func (d *Delivery) SendAfter(ready <-chan struct{}) { d.ready = ready }

// wait blocks until d's requests may go.
func (d *Delivery) wait(ctx context.Context) error {
	if d.ready == nil {
		return nil
	}
	select {
	case <-d.ready:
		return nil
	case <-ctx.Done():
		return &Error{Err: fmt.Errorf("not sent: %w", ctx.Err())}
	}
}

func (c *Client) suspect(d *Delivery, one *batch.Batch, a answer) {
	d.ledger.Suspect(Suspect{Entry: one, At: c.clock.Now(), a: a})
}

func (d *Delivery) done(b *batch.Batch) { d.ledger.Done(b.IDs()) }

// SuspectList is the part of a Ledger every ledger has alike: the
// suspects of a try, kept until Confirm takes them. Safe for concurrent
// use; the zero value is empty.
type SuspectList struct {
	mu sync.Mutex
	ss []Suspect
}

// Suspect keeps s.
func (l *SuspectList) Suspect(s Suspect) {
	l.mu.Lock()
	l.ss = append(l.ss, s)
	l.mu.Unlock()
}

// Suspects takes those kept.
func (l *SuspectList) Suspects() []Suspect {
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := l.ss
	l.ss = nil
	return ss
}

// discard is the ledger of a delivery nobody reads, but for the entries
// Confirm must still send.
type discard struct{ SuspectList }

func (*discard) Done([]int32) {}
func (*discard) Held([]int32) {}

// take spends one request of budget; false when none is left.
func take(budget *atomic.Int64) bool { return budget.Add(-1) >= 0 }

// isolate finds the entries of a payload the intake refused (400 or 413):
// evidence, then bisection (see the top of this file). A nil error means
// every entry is accepted or a suspect; an error sends the chunk back with
// the rest.
func (c *Client) isolate(ctx context.Context, b *batch.Batch, first answer, d *Delivery) error {
	if first.status == http.StatusBadRequest {
		c.o.Logger.Debugf("HTTP 400 for a payload of %d entries (%s): isolating the refused entries", b.Len(), first.msg)
	} else {
		c.o.Logger.Warnf("HTTP 413 for a payload of %d entries, %d bytes: halving", b.Len(), len(b.Bytes()))
	}
	if d.fault.Load() {
		return c.fault(d, b, first, "another payload of the chunk showed it refusing every entry")
	}
	if b.Len() == 1 {
		c.suspect(d, b.Slice(0, 1), first) // b goes back to the pool
		return nil
	}
	rest, refused, err := c.evidence(ctx, b, first, d)
	if err != nil {
		return err
	}
	alone, err := c.bisect(ctx, rest, first, d)
	if err == nil && refused+alone == 0 && first.status == http.StatusBadRequest {
		c.sawRandom(b.Len()) // refused whole, every entry accepted in parts
	}
	return err
}

// evidence sends entries of b picked across it, each alone, until the
// intake accepts one; when it accepts none, the refusal is an intake or
// relay fault and nothing is dropped. It returns b without the entries it
// sent (the accepted one is done, the refused ones are suspects), and how
// many were refused.
func (c *Client) evidence(ctx context.Context, b *batch.Batch, first answer, d *Delivery) (rest *batch.Batch, refusedAlone int, err error) {
	picks := c.picks(b.Len(), evidenceProbes)
	sent := make(map[int]bool, len(picks))
	var refused []Suspect
	accepted := false
	last := first
	for _, i := range picks {
		if !take(&d.probes) {
			return nil, 0, c.capped(d, first)
		}
		one := b.Slice(i, i+1)
		a, err := c.attempt(ctx, one, d)
		if err != nil {
			return nil, 0, err
		}
		sent[i] = true
		if a.ok() {
			d.done(one)
			accepted = true
			break
		}
		last = a
		refused = append(refused, Suspect{Entry: one, At: c.clock.Now(), a: a})
	}
	if !accepted {
		d.fault.Store(true)
		return nil, 0, c.fault(d, b, last, fmt.Sprintf("refused each of %d entries picked across it, sent alone", len(picks)))
	}
	for _, s := range refused {
		d.ledger.Suspect(s)
	}
	rest = &batch.Batch{}
	for i, id := range b.IDs() {
		if !sent[i] {
			rest.Append(id, b.Entry(i))
		}
	}
	return rest, len(refused), nil
}

// picks draws m distinct indexes of [0, n), one in each of m equal spans,
// in order.
func (c *Client) picks(n, m int) []int {
	m = min(m, n)
	out := make([]int, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	for j := range out {
		lo, hi := j*n/m, (j+1)*n/m
		out[j] = lo + c.rng.IntN(hi-lo)
	}
	return out
}

// bisect isolates the refused entries of rest (not sent as a whole) level
// by level: both halves of every refused part are sent; accepted ones are
// done, refused ones split again, refused single entries are suspects
// (alone counts them).
func (c *Client) bisect(ctx context.Context, rest *batch.Batch, first answer, d *Delivery) (alone int, err error) {
	var pending []*batch.Batch
	if rest.Len() > 0 {
		pending = []*batch.Batch{rest}
	}
	known := false // whether the parts of pending were sent and refused
	for len(pending) > 0 {
		var next []*batch.Batch
		for _, p := range pending {
			if d.fault.Load() {
				return alone, c.fault(d, p, first, "another payload of the chunk showed it refusing every entry")
			}
			parts := []*batch.Batch{p}
			if known || p.Len() > 1 {
				half := p.Len() / 2
				parts = []*batch.Batch{p.Slice(0, half), p.Slice(half, p.Len())}
			}
			refused := 0
			for _, part := range parts {
				if !take(&d.probes) {
					return alone, c.capped(d, first)
				}
				a, err := c.attempt(ctx, part, d)
				if err != nil {
					return alone, err
				}
				if a.ok() {
					d.done(part)
					continue
				}
				refused++
				if part.Len() == 1 {
					c.suspect(d, part, a)
					alone++
				} else {
					next = append(next, part)
				}
			}
			if known && refused == 0 && first.status == http.StatusBadRequest {
				c.sawRandom(p.Len())
			}
		}
		pending, known = next, true
	}
	return alone, nil
}

// sawRandom notes a part the intake refused with 400 and accepted in two
// halves: its 400s do not single out records, so none is dropped for a
// while (health.RandomHold).
func (c *Client) sawRandom(n int) {
	if c.o.Health.SawRandom() {
		c.o.Logger.Errorf("intake %s refused a part of %d entries with HTTP 400 and accepted both its halves: its 400s do not single out records "+
			"(a relay refusing at random, or limiting payloads below the intake's); no record is dropped for %s after this is seen, "+
			"records refused alone stay with Fluent Bit", c.host, n, health.RandomHold)
	}
}

// Confirm settles the entries refused alone once, by this try's payloads
// or by an earlier try of the chunk, once every payload of the chunk has
// its outcome: each is sent alone again, at least a backoff after its
// first refusal. Accepted, it is done; refused again while the health
// allows a drop (the intake accepted another request during this try and
// showed no random refusals lately), it is dropped: counted, logged, done.
// The entries still refused once (not sent again: no budget left, the
// intake failing, or no evidence) are held: the chunk goes back to Fluent
// Bit and its next try sends them alone. Nothing is sent when a payload of
// the try showed the intake refusing everything.
func (c *Client) Confirm(ctx context.Context, d *Delivery) {
	ss := d.ledger.Suspects()
	if len(ss) == 0 {
		return
	}
	slices.SortStableFunc(ss, func(x, y Suspect) int { return x.At.Compare(y.At) })
	var dropped []Suspect
	i := 0
	for ; i < len(ss) && !d.fault.Load(); i++ {
		s := ss[i]
		if !s.At.IsZero() && !c.sleepUntil(ctx, s.At.Add(c.backoff(1))) {
			break // no time left for the backoff: the next try confirms
		}
		if !take(&d.confirms) {
			break
		}
		a, err := c.attempt(ctx, s.Entry, d)
		if err != nil {
			break // failing now: the rest waits for the next try
		}
		switch {
		case a.ok():
			d.done(s.Entry)
		case c.o.Health.MayDrop(d.start):
			s.a = a
			dropped = append(dropped, s)
			d.done(s.Entry)
		default:
			d.ledger.Held(s.Entry.IDs())
		}
	}
	for _, s := range ss[i:] {
		d.ledger.Held(s.Entry.IDs())
	}
	if len(dropped) > 0 {
		c.o.Stats.DropRejected.Add(int64(len(dropped)))
		last := dropped[len(dropped)-1]
		c.o.Logger.Warnf("dropped %d record(s) the intake refused alone twice, a backoff apart, while accepting other requests (last: %d bytes, HTTP %d: %s): resending the same bytes cannot succeed",
			len(dropped), len(last.Entry.Entry(0)), last.a.status, last.a.msg)
	}
}

// sleepUntil waits until t on the client's clock; false, at once, when the
// wait would end past ctx's deadline, or when ctx ends first.
func (c *Client) sleepUntil(ctx context.Context, t time.Time) bool {
	wait := t.Sub(c.clock.Now())
	if dl, ok := ctx.Deadline(); ok && wait > 0 && time.Until(dl) < wait {
		return false
	}
	return c.clock.Sleep(ctx, wait)
}

// fault reports a refusal that no record explains: logged loudly once per
// chunk, nothing dropped, the payload kept for Fluent Bit's retry.
func (c *Client) fault(d *Delivery, b *batch.Batch, a answer, why string) error {
	if d.faultLogged.CompareAndSwap(false, true) {
		c.o.Logger.Errorf("intake %s answered HTTP %d (%s) to a payload of %d entries and %s: taken as an intake or relay fault, "+
			"nothing dropped, chunk kept for retry (Fluent Bit's Retry_Limit decides)", c.host, a.status, a.msg, b.Len(), why)
	}
	return &Error{Status: a.status, Err: fmt.Errorf("refusal singles out no record (%s): %s", why, a.msg)}
}

// capped reports the chunk's isolation budget spent: what is accepted or
// isolated so far is kept, the rest goes back to Fluent Bit.
func (c *Client) capped(d *Delivery, a answer) error {
	if d.capLogged.CompareAndSwap(false, true) {
		c.o.Logger.Warnf("isolating the entries the intake refused reached the cap of requests per try of a chunk: "+
			"what was accepted or refused alone is remembered, the rest goes back to Fluent Bit (HTTP %d: %s)", a.status, a.msg)
	}
	return &Error{Status: a.status, Err: fmt.Errorf("isolation stopped at its cap of requests per chunk: %s", a.msg)}
}

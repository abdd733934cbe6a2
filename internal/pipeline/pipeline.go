// Package pipeline is one [OUTPUT] instance of the plugin: it owns the
// configuration, the intake client and the counters, and runs the data path
// for each chunk Fluent Bit flushes, top to bottom:
//
//	decode (event) → shape (shape, tags) → batch → compress + send (intake)
//
// Flush is safe for concurrent use: Fluent Bit calls it from several output
// workers at once when the [OUTPUT] sets `workers N`.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/circuit"
	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/guard"
	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/partial"
	"github.com/out-datadog-go/out_datadog_go/internal/progress"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
	"github.com/out-datadog-go/out_datadog_go/internal/version"
)

// Code is what a flush tells Fluent Bit; the values are Fluent Bit's.
type Code int

const (
	Error Code = 0 // chunk dropped
	OK    Code = 1 // chunk delivered
	Retry Code = 2 // keep the chunk, Fluent Bit retries it later
)

func (c Code) String() string {
	switch c {
	case OK:
		return "FLB_OK"
	case Retry:
		return "FLB_RETRY"
	}
	return "FLB_ERROR"
}

// The bounds of the progress memory: Fluent Bit retries a few chunks at a
// time, each remembered as a handful of runs of record indexes (8 bytes
// each), so 1,024 chunks and 1M runs (8 MB at worst) hold every realistic
// backlog; past them the oldest entry is forgotten (counted, logged) and a
// retry of that chunk resends its delivered records: at least once.
const (
	progressChunks = 1024
	progressRuns   = 1 << 20
)

// exitGrace is how long Close lets in-flight flushes finish before it
// cancels them; Fluent Bit's own default Grace is 5 s, and it calls exit
// after its grace period, so this stays well inside it.
const exitGrace = 2 * time.Second

// mirrorEvery is how often Mirror copies the counters to Fluent Bit's
// metrics: finer than any scrape, and a few calls a second at most.
const mirrorEvery = time.Second

// Instance is one configured output. Create with New, release with Close.
type Instance struct {
	name   string
	cfg    *config.Config
	log    *logging.Logger
	Stats  *stats.Counters
	shaper *shape.Shaper
	codec  *compress.Codec
	client *intake.Client
	health *circuit.Breaker // the intake's health as this output's flushes saw it
	meta   *ecs.Client
	// progress remembers which records of a chunk handed back for retry
	// were delivered, so Fluent Bit's retry of it sends only the rest.
	progress   *progress.Memory
	handedBack *handedBack // chunks handed back, for the counters
	now        func() time.Time

	ctx      context.Context // cancelled by Close, or when Fluent Bit stops (Stopping): aborts in-flight requests
	cancel   context.CancelFunc
	stopping sync.Once

	mu       sync.Mutex // guards closed and the in-flight count's Add
	closed   bool
	inflight sync.WaitGroup

	batches   sync.Pool // *batch.Batch
	statsDone chan struct{}
	statsWG   sync.WaitGroup // the stats line's and the mirror's loops
	mirror    *stats.Mirror
}

// New builds an instance from a validated configuration. Nothing here
// blocks for long: the ECS metadata endpoint is asked with a short timeout
// and refreshed in the background.
func New(cfg *config.Config, name string, log *logging.Logger) (*Instance, error) {
	if log == nil {
		log = logging.Discard()
	}
	in := &Instance{name: name, cfg: cfg, log: log, Stats: &stats.Counters{}, now: time.Now, statsDone: make(chan struct{})}
	codec, err := compress.New(cfg.Compression, cfg.CompressionLevel)
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	in.codec = codec
	log.Redact(cfg.Secrets())
	in.progress = progress.New(progressChunks, progressRuns)
	in.handedBack = newHandedBack()
	// Open after one flush's budget of failures; then at most one probe per
	// budget, so the flushes Fluent Bit queues on a worker at exit each
	// cost nothing, or one bounded request.
	in.health = circuit.New(cfg.RetryBudget, cfg.RetryBudget, log)
	in.client, err = intake.New(intake.Options{
		URL:         cfg.URL,
		APIKey:      cfg.APIKey,
		Codec:       codec,
		Timeout:     cfg.Timeout,
		TLSVerify:   cfg.TLSVerify,
		TLSCAFile:   cfg.TLSCAFile,
		Proxy:       cfg.Proxy,
		Headers:     headers(cfg.Headers),
		MaxRetries:  cfg.MaxRetries,
		UserAgent:   version.UserAgent(),
		Logger:      log,
		Stats:       in.Stats,
		Concurrency: cfg.MaxConcurrency,
		Health:      in.health,
	})
	if err != nil {
		codec.Close()
		return nil, fmt.Errorf("intake client: %w", err)
	}
	if cfg.Provider == config.ProviderECS && cfg.ECSMetadataURI != "" {
		in.meta = ecs.NewClient(cfg.ECSMetadataURI, cfg.ECSRefresh, 2*time.Second, log, &in.Stats.Panics)
	}
	tagger := tags.NewTagger(tags.Options{
		ECS:           cfg.Provider == config.ProviderECS,
		Style:         cfg.ECSTagStyle,
		ConfigTags:    cfg.Tags,
		ConfigService: cfg.Service,
		ConfigSource:  cfg.Source, // issue 13: container labels rank above it
		Log:           log,        // issue 13: label problems, once per container
		Env:           cfg.Env,
		Service:       cfg.EnvService,
		Version:       cfg.Version,
		Metadata:      in.meta,
	})
	in.shaper = shape.New(shape.Options{
		MessageKey:    cfg.MessageKey,
		DateKey:       cfg.JSONDateKey,
		Source:        cfg.Source,
		Service:       cfg.Service,
		Hostname:      cfg.Hostname,
		IncludeTagKey: cfg.IncludeTagKey,
		TagKey:        cfg.TagKey,
		ECS:           cfg.Provider == config.ProviderECS,
		DetectStatus:  cfg.DetectStatus,
		StderrStatus:  cfg.StderrStatus,
		Tagger:        tagger,
	})
	in.ctx, in.cancel = context.WithCancel(context.Background())
	if cfg.StatsInterval > 0 {
		in.every(cfg.StatsInterval, "stats loop", in.logStats)
	}
	return in, nil
}

// headers are the configured extra request headers (`header`) as intake
// sends them: every line, two of one name as two values, as the built-in
// output's flb_http_add_header does.
func headers(hs []config.Header) http.Header {
	if len(hs) == 0 {
		return nil
	}
	h := make(http.Header, len(hs))
	for _, x := range hs {
		h.Add(x.Name, x.Value)
	}
	return h
}

// every runs fn each period on its own goroutine until Close. fn
// recovers its own panics; the loop recovers at its top too.
func (in *Instance) every(period time.Duration, what string, fn func()) {
	in.statsWG.Add(1)
	go func() {
		defer in.statsWG.Done()
		defer guard.Recover(in.log, &in.Stats.Panics, what, nil)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn()
			case <-in.statsDone:
				return
			}
		}
	}()
}

func (in *Instance) logStats() {
	defer guard.Recover(in.log, &in.Stats.Panics, "stats line", nil)
	in.log.Infof("stats %s", in.Stats.Snapshot())
}

// Logger is the instance's logger.
func (in *Instance) Logger() *logging.Logger { return in.log }

// Mirror copies the counters to sink (see stats.Mirror) at once, on the
// caller's thread, then every second and a last time at Close. Call it
// once, before the first Flush.
func (in *Instance) Mirror(sink stats.Sink) {
	in.mirror = stats.NewMirror(in.Stats, sink)
	in.syncMirror()
	in.every(mirrorEvery, "metrics mirror loop", in.syncMirror)
}

func (in *Instance) syncMirror() {
	defer guard.Recover(in.log, &in.Stats.Panics, "metrics mirror", nil)
	in.mirror.Sync()
}

func (in *Instance) getBatch() *batch.Batch {
	if b, ok := in.batches.Get().(*batch.Batch); ok {
		b.Reset()
		return b
	}
	return &batch.Batch{}
}

// flush is the state of one Flush call.
type flush struct {
	in       *Instance
	ctx      context.Context
	sem      chan struct{}
	wg       sync.WaitGroup
	d        *intake.Delivery
	failed   atomic.Int64 // payloads not delivered
	firstErr atomic.Pointer[error]

	mu   sync.Mutex
	done *progress.Ranges // records that must not be sent again
}

func (f *flush) markDone(ids []int32) {
	f.mu.Lock()
	f.done.AddIDs(ids)
	f.mu.Unlock()
}

func (f *flush) send(b *batch.Batch) {
	f.sem <- struct{}{}
	f.wg.Add(1)
	go f.deliver(b)
}

// deliver sends one payload and records its outcome; it releases the
// payload's concurrency slot and batch when done. A panic (in the encoder,
// the HTTP stack...) fails the payload, so the chunk goes back to Fluent
// Bit, and never reaches the process.
func (f *flush) deliver(b *batch.Batch) {
	defer func() {
		<-f.sem
		f.in.batches.Put(b)
		f.wg.Done()
	}()
	defer guard.Recover(f.in.log, &f.in.Stats.Panics, "payload delivery", func(p *guard.PanicError) {
		f.fail(p)
	})
	if err := f.in.client.Deliver(f.ctx, b, f.d); err != nil {
		f.fail(err)
	}
}

func (f *flush) fail(err error) {
	f.failed.Add(1)
	f.firstErr.CompareAndSwap(nil, &err)
}

// sendLast delivers a chunk's last payload on the calling goroutine, which
// would only wait for it otherwise: a chunk that fits one payload (the
// common case) starts no goroutine.
func (f *flush) sendLast(b *batch.Batch) {
	f.sem <- struct{}{}
	f.wg.Add(1)
	f.deliver(b)
}

// tally counts what one flush did with its records, for the counters and
// the log lines at its end.
type tally struct {
	records, skipped, tooOld, tooLarge, truncated, resumed, badType int64
	attrsCut                                                        int64 // entries whose attributes were cut or left out
	joined, incomplete                                              int64 // split lines (partial)
	excluded, masked                                                int64 // log_processing_rules
	firstSkip                                                       error
	retried                                                         bool // the chunk came back after a flush handed it back
}

// Flush delivers one chunk. chunk and tag are Fluent Bit's memory: they are
// read during the call only; everything sent is a copy.
//
// Records are numbered in chunk order. When an earlier try of the same
// chunk delivered part of it (see progress), those records are skipped,
// whatever the batching or tags are this time; when this try hands the chunk
// back again, what is now delivered is remembered for the next.
func (in *Instance) Flush(chunk, tag []byte) Code {
	in.mu.Lock()
	if in.closed || in.ctx.Err() != nil { // exit called, or Fluent Bit's stop allowance over
		in.mu.Unlock()
		return Retry
	}
	in.inflight.Add(1)
	in.mu.Unlock()
	defer in.inflight.Done()

	mode := in.health.Admit()
	if mode == circuit.Skip { // the intake is down and another flush probes it
		in.Stats.FlushRetry.Add(1)
		return Retry
	}
	defer in.health.Done(mode)

	// config.Parse bounds the budget, the concurrency and the batch limits.
	ctx, cancel := context.WithTimeout(in.ctx, in.cfg.RetryBudget)
	defer cancel()
	f := &flush{in: in, ctx: ctx, sem: make(chan struct{}, in.cfg.MaxConcurrency), done: &progress.Ranges{}}
	f.d = intake.NewDelivery(f.markDone, 0)

	// Only chunks handed back earlier are looked up; with none (the normal
	// case) the chunk is not even hashed.
	var key progress.Key
	var prev *progress.Progress // what earlier tries did; read-only
	keyed := false
	if !in.progress.Empty() {
		key, keyed = in.progress.Key(chunk, tag), true
		prev, _ = in.progress.Take(key)
	}
	fp := in.handedBack.fingerprint(chunk, tag)
	retried := in.handedBack.take(fp)

	t, streamErr := f.run(chunk, tag, prev)
	held := in.client.Confirm(ctx, f.d) // records refused alone once, not yet twice
	t.retried = retried
	in.report(tag, &t)

	if n := f.failed.Load(); n > 0 || len(held) > 0 {
		in.Stats.FlushRetry.Add(1)
		if n > 0 {
			err := *f.firstErr.Load()
			in.log.Warnf("%d payload(s) of a chunk of %d records not delivered, chunk handed back to Fluent Bit for retry: %v", n, t.records, err)
		}
		if len(held) > 0 {
			in.log.Warnf("%d record(s) of a chunk of %d refused alone by the intake once, not yet twice: chunk handed back to Fluent Bit, its retry sends them alone again", len(held), t.records)
		}
		next := &progress.Progress{Done: *f.done}
		if prev != nil {
			next.Done.Union(&prev.Done)
		}
		slices.Sort(held)
		next.Refused.AddIDs(held)
		if next.Len() > 0 {
			if !keyed {
				key = in.progress.Key(chunk, tag)
			}
			in.remember(key, next)
		}
		in.handedBack.put(fp)
		return Retry
	}
	if streamErr != nil {
		in.Stats.FlushError.Add(1)
		in.log.Errorf("dropping the rest of a malformed chunk (tag=%s, %d records before the damage delivered): %v", tag, t.records, streamErr)
		return Error
	}
	in.Stats.FlushOK.Add(1)
	return OK
}

// run reads the chunk's records, shapes each one prev does not hold as done
// into the payload being filled, and sends the payloads (package batch cuts
// them); a record prev holds as refused alone once goes to the Delivery, to
// be sent alone again (intake.Client.Confirm). It returns when every payload
// has its outcome. streamErr is set when the chunk's stream is damaged: the
// records before the damage were sent.
func (f *flush) run(chunk, tag []byte, prev *progress.Progress) (t tally, streamErr error) {
	in := f.in
	lim := batch.Limits{Entries: in.cfg.MaxBatchEntries, Bytes: in.cfg.MaxBatchBytes}
	oldest := in.now().Add(-limits.MaxLogAge).UnixMilli()
	// The container runtime's 16 KB parts of one line come out as one log
	// (partial); a chunk without parts costs one search of it.
	dec := partial.NewReader(chunk, in.cfg.MessageKey)
	var ev event.Event
	prevDone, prevRefused := prev.Cursors()
	b := in.getBatch()
	for {
		idx, err := dec.Next(&ev) // the log's index in the chunk, the same on a retry of the chunk
		if err != nil {
			if err == io.EOF {
				break
			}
			if errors.Is(err, event.ErrMalformed) {
				streamErr = err
				break
			}
			t.skip(err)
			continue
		}
		t.records++
		id := int32(idx)
		if prevDone.Contains(id) {
			t.resumed++
			continue
		}
		into := b
		if prevRefused.Contains(id) {
			into = &batch.Batch{}
		}
		info, fit, fits, err := in.shapeInto(into, &ev, tag, id, lim)
		if err != nil {
			t.skip(fmt.Errorf("record at byte %d: %w", dec.Offset(), err))
			continue
		}
		if info.Excluded { // the container's log_processing_rules: never sent
			t.excluded++
			continue
		}
		if !fits {
			t.tooLarge++
			continue
		}
		t.count(info, fit, oldest)
		if into != b {
			f.d.Refused(into)
			continue
		}
		b = lim.Cut(b, in.getBatch, f.send)
	}
	if b.Len() > 0 {
		f.sendLast(b)
	} else {
		in.batches.Put(b)
	}
	f.wg.Wait()
	t.joined, t.incomplete = int64(dec.Joined()), int64(dec.Incomplete())
	return t, streamErr
}

// remember keeps what was done of a chunk handed back for retry.
func (in *Instance) remember(key progress.Key, p *progress.Progress) {
	if lost := in.progress.Put(key, p); lost > 0 {
		in.Stats.Forgotten.Add(int64(lost))
		in.log.Warnf("forgot what was delivered of %d chunk(s) handed back for retry (memory bound): a retry of those sends their delivered records again", lost)
	}
}

// shapeInto writes record id as b's next entry, fitted to the per-log
// limit: the intake's 1 MB, or less when max_batch_bytes is smaller (see
// shape.Fitted). An entry that cannot fit (its reserved attributes alone
// are too large) is left out: fits is false.
func (in *Instance) shapeInto(b *batch.Batch, ev *event.Event, tag []byte, id int32, lim batch.Limits) (info shape.Info, fit shape.Fitted, fits bool, err error) {
	dst := b.Begin(id)
	start := len(dst)
	buf, info, err := in.shaper.Append(dst, ev, tag)
	if err != nil || info.Excluded {
		b.Abort()
		return info, fit, false, err
	}
	if limit := min(limits.MaxLogBytes, lim.Bytes-2); len(buf)-start > limit {
		var entry []byte
		if entry, fit, fits = in.shaper.Fit(buf[start:], limit); !fits {
			b.Abort()
			return info, fit, false, nil
		}
		buf = append(buf[:start], entry...)
	}
	b.End(buf)
	return info, fit, true, nil
}

func (t *tally) skip(err error) {
	t.skipped++
	if t.firstSkip == nil {
		t.firstSkip = err
	}
}

func (t *tally) count(info shape.Info, fit shape.Fitted, oldest int64) {
	if info.Truncated || fit != (shape.Fitted{}) {
		t.truncated++
	}
	if fit.Cut+fit.Dropped > 0 {
		t.attrsCut++
	}
	if info.UnixMilli < oldest {
		t.tooOld++
	}
	if info.BadType {
		t.badType++
	}
	if info.Masked {
		t.masked++
	}
}

// report adds a flush's tally to the counters and logs what needs a word.
func (in *Instance) report(tag []byte, t *tally) {
	s := in.Stats
	s.Resumed.Add(t.resumed)
	// Every record of a chunk is read and shaped at its first flush, so a
	// retry of the chunk counts nothing again (the log lines still say
	// what this try met).
	if !t.retried {
		s.RecordsIn.Add(t.records)
		s.Truncated.Add(t.truncated)
		s.TooOld.Add(t.tooOld)
		s.DropMalformed.Add(t.skipped)
		s.DropOversize.Add(t.tooLarge)
		s.BadType.Add(t.badType)
		s.Excluded.Add(t.excluded)
		s.Masked.Add(t.masked)
		s.PartialJoined.Add(t.joined)
		s.Incomplete.Add(t.incomplete)
	}
	if t.incomplete > 0 {
		in.log.Warnf("%d part(s) of container lines split at 16 KB sent on their own (attribute %s): their line was not complete in the chunk", t.incomplete, partial.IncompleteKey)
	}
	if t.truncated > 0 {
		in.log.Warnf("%d log(s) cut to fit the intake's 1 MB per-log limit, max_batch_bytes or a mask rule's bound, %d of them in their attributes "+
			"(attributes %s: the message's size; %s, %s: how many attributes were cut, left out)",
			t.truncated, t.attrsCut, shape.TruncatedKey, shape.CutAttributesKey, shape.DroppedAttributesKey)
	}
	if t.tooOld > 0 {
		in.log.Warnf("%d record(s) older than %s: the intake will not index them", t.tooOld, limits.MaxLogAge)
	}
	if t.skipped > 0 {
		in.log.Warnf("skipped %d malformed record(s) in chunk tag=%s: %v", t.skipped, tag, t.firstSkip)
	}
	if t.tooLarge > 0 {
		in.log.Errorf("dropped %d record(s) whose reserved attributes (ddsource, service, hostname, ddtags, status) alone exceed the per-log limit or max_batch_bytes", t.tooLarge)
	}
	if t.badType > 0 {
		in.log.Warnf("%d record(s) with a service, ddsource, hostname, status or ddtags of a type the intake does not take for it: kept with a leading _ (_service, _ddtags, ...)", t.badType)
	}
	if t.resumed > 0 {
		in.log.Infof("retried chunk tag=%s: %d record(s) delivered by an earlier try not sent again", tag, t.resumed)
	}
}

// Stopping tells the instance that Fluent Bit is stopping (it caught
// SIGTERM or SIGINT). Fluent Bit waits for the flushes in flight, and those
// queued on its workers, before it calls the exit callback, and Fluent Bit
// 1.9 crashes at exit when a flush outlives its Grace: so flushes go on
// delivering for allowance (part of Grace) and are then cut, and later
// flushes hand their chunks back at once. What is cut reports Retry: the
// chunk stays with Fluent Bit (kept on disk with filesystem buffering).
func (in *Instance) Stopping(allowance time.Duration) {
	in.stopping.Do(func() {
		in.log.Infof("Fluent Bit is stopping: flushes end within %s; a chunk not delivered by then stays with Fluent Bit", allowance)
		time.AfterFunc(allowance, in.cancel)
	})
}

// Close stops the instance: in-flight flushes get a short grace to finish,
// then their requests are cancelled (they report Retry, never OK). It logs
// the final counters.
func (in *Instance) Close() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	in.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer guard.Recover(in.log, &in.Stats.Panics, "exit wait", nil)
		in.inflight.Wait()
	}()
	select {
	case <-done:
	case <-time.After(exitGrace):
		in.log.Warnf("cancelling in-flight flushes at exit; their chunks stay with Fluent Bit")
		in.cancel()
		<-done
	}
	in.cancel()
	close(in.statsDone)
	in.statsWG.Wait()
	if in.mirror != nil {
		in.syncMirror()
	}
	if in.meta != nil {
		in.meta.Close()
	}
	in.client.Close()
	in.codec.Close()
	in.log.Infof("exit: %s", in.Stats.Snapshot())
}

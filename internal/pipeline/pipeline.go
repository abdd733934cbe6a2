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
	"sync"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/budget"
	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/guard"
	"github.com/out-datadog-go/out_datadog_go/internal/health"
	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/join"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
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

// The bounds of the progress memory: it holds an entry for every chunk
// handed back for retry, most of them empty (an outage) and the others a
// handful of runs of record indexes (8 bytes each), so 4,096 chunks and 1M
// runs (8 MB at worst) hold every realistic backlog; past them the oldest
// entry is forgotten (counted and logged when it held runs) and a retry
// of that chunk resends its delivered records: at least once.
const (
	progressChunks = 4096
	progressRuns   = 1 << 20
)

// mirrorEvery is how often Mirror copies the counters to Fluent Bit's
// metrics: finer than any scrape, and a few calls a second at most.
const mirrorEvery = time.Second

// Instance is one configured output. Create with New, release with Close.
type Instance struct {
	name   string
	cfg    *config.Config
	budget budget.Budget
	log    *logging.Logger
	Stats  *stats.Counters
	shaper *shape.Shaper
	codec  *compress.Codec
	client *intake.Client
	health *health.Health // the intake as this output's flushes see it, and the clock
	meta   *ecs.Client
	// progress remembers every chunk handed back for retry, and which of
	// its records are done, so Fluent Bit's retry of it sends only the
	// rest and counts nothing again.
	progress *progress.Memory
	joins    join.Options // split lines and multi-line logs (streams.go)
	pace     *pace        // warns when flushes fall behind

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

// New builds an instance from a validated configuration and its budget
// (budget.New of its retry_budget and Fluent Bit's Grace). Nothing here
// blocks for long: the ECS metadata endpoint is asked with a short timeout
// and refreshed in the background.
func New(cfg *config.Config, b budget.Budget, name string, log *logging.Logger) (*Instance, error) {
	return build(cfg, b, name, log, overrides{})
}

// overrides are what tests change of an instance New builds: its clock,
// its intake client's options.
type overrides struct {
	clock  health.Clock
	client func(*intake.Options)
}

func build(cfg *config.Config, b budget.Budget, name string, log *logging.Logger, ov overrides) (*Instance, error) {
	if log == nil {
		log = logging.Discard()
	}
	in := &Instance{name: name, cfg: cfg, budget: b, log: log, Stats: &stats.Counters{}, statsDone: make(chan struct{})}
	codec, err := compress.New(cfg.Compression, cfg.CompressionLevel)
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	in.codec = codec
	log.Redact(cfg.Secrets())
	in.progress = progress.New(progressChunks, progressRuns)
	in.health = health.New(health.Options{OpenAfter: b.DownAfter, ProbeEvery: b.ProbeEvery, Clock: ov.clock, Log: log})
	in.pace = newPace(log, in.Stats, in.health.Clock().Now)
	var fallback intake.Compressor // gzip where the path refuses zstd
	if fb := codec.Fallback(); fb != nil {
		fallback = fb
	}
	o := intake.Options{
		URL:         cfg.URL,
		APIKey:      cfg.APIKey,
		Codec:       codec,
		Fallback:    fallback,
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
	}
	if ov.client != nil {
		ov.client(&o)
	}
	in.client, err = intake.New(o)
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
	in.joins = joinOptions(cfg, tagger)
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

// Flush delivers one chunk. chunk and tag are Fluent Bit's memory, and
// Fluent Bit 1.9 frees a chunk at shutdown while a flush of it may still
// run: they are read only until the chunk is shaped into payloads, before
// the first request or wait; everything sent or remembered is a copy.
//
// Records are numbered in chunk order. When an earlier try of the same
// chunk delivered part of it (see progress), those records are skipped,
// whatever the batching or tags are this time; when this try hands the
// chunk back again, what is now done is remembered for the next.
func (in *Instance) Flush(chunk, tag []byte) (code Code) {
	if !in.enter() { // exit called, or Fluent Bit's stop allowance over
		return Retry
	}
	defer in.inflight.Done()
	defer in.pace.end(in.pace.begin())
	ctx, cancel := context.WithTimeout(in.ctx, in.budget.Flush)
	defer cancel()
	f := in.begin(ctx, cancel, chunk, tag)
	if !in.health.Admit(f.l.retried) { // a new chunk, the intake down and probed less than a second ago
		f.l.fail(health.ErrDown)
		return f.finish(nil, nil)
	}
	defer guard.Recover(in.log, &in.Stats.Panics, "flush", func(p *guard.PanicError) { code = f.crashed(p) })
	t, streamErr := f.run(chunk)
	return f.finish(&t, streamErr)
}

// tally counts what one flush did with its records, for the counters and
// the log lines at its end.
type tally struct {
	records, skipped, tooOld, tooLarge, truncated, resumed, badType int64
	attrsCut                                                        int64 // entries whose attributes were cut or left out
	joined, incomplete                                              int64 // split lines
	multiLine, linesJoined                                          int64 // multi-line logs
	excluded, masked                                                int64 // log_processing_rules
	firstSkip                                                       error
	counted                                                         bool // an earlier try counted the chunk's records in
}

// enter counts a flush in, unless the instance is closed or stopped.
func (in *Instance) enter() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || in.ctx.Err() != nil {
		return false
	}
	in.inflight.Add(1)
	return true
}

// flush is one Flush call: its ledger, and the payloads it sends.
type flush struct {
	in     *Instance
	ctx    context.Context
	cancel context.CancelFunc
	l      *ledger
	d      *intake.Delivery
	read   chan struct{} // closed once the chunk is read: requests go from then on
	sem    chan struct{} // a slot per payload being compressed or sent
	wg     sync.WaitGroup
}

// begin starts a try of chunk: its key (a hash of its bytes) and a copy of
// its tag are taken here, and what an earlier try did with it.
func (in *Instance) begin(ctx context.Context, cancel context.CancelFunc, chunk, tag []byte) *flush {
	l := &ledger{tag: string(tag)}
	l.key = in.progress.Key(chunk, l.tag)
	l.prev, l.retried = in.progress.Take(l.key)
	f := &flush{in: in, ctx: ctx, cancel: cancel, l: l, d: in.client.NewDelivery(l, l.retried, 0),
		read: make(chan struct{}), sem: make(chan struct{}, in.cfg.MaxConcurrency)}
	f.d.SendAfter(f.read)
	return f
}

// run reads the chunk's records, shapes each one an earlier try did not
// finish into the payload being filled (package batch cuts them), and
// hands the payloads to senders, max_concurrency at a time; a record an
// earlier try had refused alone once goes to the ledger as a suspect, to
// be sent alone again (intake.Client.Confirm). Reading the chunk waits on
// nothing, and the senders compress their payloads meanwhile but make no
// request before it is read whole: nothing of Fluent Bit's memory is read
// once the flush waits. run returns when every record has its outcome for
// this try. streamErr is set when the chunk's stream is damaged: the
// records before the damage were sent.
func (f *flush) run(chunk []byte) (t tally, streamErr error) {
	in := f.in
	lim := batch.Limits{Entries: in.cfg.MaxBatchEntries, Bytes: in.cfg.MaxBatchBytes}
	oldest := in.health.Clock().Now().Add(-limits.MaxLogAge).UnixMilli()
	// The container runtime's 16 KB parts of one line, and the lines of one
	// multi-line log, come out as one log (join); a chunk without parts,
	// when no stream groups lines, costs one search of it. A joined log's
	// other records are done with it (ledger.Done).
	dec := join.NewReader(chunk, &in.joins, f.l.prev.DoneRanges())
	f.l.members = dec.Members()
	var ev event.Event
	prevDone, prevRefused := f.l.prev.Cursors()
	tag := []byte(f.l.tag)
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
			f.l.Suspect(intake.Suspect{Entry: into})
			continue
		}
		b = lim.Cut(b, in.getBatch, f.send)
	}
	c := dec.Counts()
	t.joined, t.incomplete = int64(c.SplitJoined), int64(c.Incomplete)
	t.multiLine, t.linesJoined = int64(c.MultiLine), int64(c.LinesJoined)
	close(f.read) // the chunk is read: from here on, requests and waits
	if b.Len() > 0 {
		// The last on this goroutine, which would only wait for it: a
		// chunk of one payload (the common case) starts no goroutine.
		f.wg.Add(1)
		f.sem <- struct{}{}
		f.deliver(b)
	} else {
		in.batches.Put(b)
	}
	f.wg.Wait()
	in.client.Confirm(f.ctx, f.d) // records refused alone once, this try or an earlier one
	return t, streamErr
}

// send hands a full payload to a sender of its own, which waits for a
// slot: the chunk's reading goes on meanwhile.
func (f *flush) send(b *batch.Batch) {
	f.wg.Add(1)
	go func() {
		f.sem <- struct{}{}
		f.deliver(b)
	}()
}

// deliver sends one payload, holding a slot, and records its outcome; it
// releases the slot and the batch when done. A panic (in the encoder, the
// HTTP stack...) fails the payload, so the chunk goes back to Fluent Bit,
// and never reaches the process.
func (f *flush) deliver(b *batch.Batch) {
	defer func() {
		<-f.sem
		f.in.batches.Put(b)
		f.wg.Done()
	}()
	defer guard.Recover(f.in.log, &f.in.Stats.Panics, "payload delivery", func(p *guard.PanicError) {
		f.l.fail(p)
	})
	if err := f.in.client.Deliver(f.ctx, b, f.d); err != nil {
		f.l.fail(err)
	}
}

// crashed ends a flush that panicked (a bug in decoding, shaping or
// confirming): its payloads not sent yet are not, those in flight end, and
// the chunk goes back to Fluent Bit with what the intake accepted
// remembered, so its retry does not send that again.
func (f *flush) crashed(p *guard.PanicError) Code {
	f.cancel()
	f.wg.Wait()
	f.l.fail(p)
	return f.finish(nil, nil)
}

// finish ends the try: the counters and log lines of what it met, the
// ledger remembered when the chunk goes back, and what Fluent Bit is told.
// A nil t is a try that has nothing to count (handed back unread, or
// cut by a panic): the chunk goes back, known as handed back (so its
// retry is sent even while the intake is down), its records counted by
// the try that reads it whole.
func (f *flush) finish(t *tally, streamErr error) Code {
	in, l := f.in, f.l
	read := t != nil
	if read {
		t.counted = l.counted()
		in.report(l.tag, t)
	} else {
		t = &tally{}
	}
	if l.failed > 0 || len(l.held) > 0 {
		in.Stats.FlushRetry.Add(1)
		if l.failed > 0 && !errors.Is(l.firstErr, health.ErrDown) { // a down intake said so once (health)
			in.log.Warnf("%d payload(s) of a chunk of %d records not delivered, chunk handed back to Fluent Bit for retry: %v", l.failed, t.records, l.firstErr)
		}
		if len(l.held) > 0 {
			in.log.Warnf("%d record(s) of a chunk of %d refused alone by the intake once, not yet twice: chunk handed back to Fluent Bit, its retry sends them alone again", len(l.held), t.records)
		}
		if lost := in.progress.Put(l.key, l.next(read)); lost > 0 {
			in.Stats.Forgotten.Add(int64(lost))
			in.log.Warnf("forgot what was delivered of %d chunk(s) handed back for retry (memory bound): a retry of those sends their delivered records again", lost)
		}
		return Retry
	}
	if streamErr != nil {
		in.Stats.FlushError.Add(1)
		in.log.Errorf("dropping the rest of a malformed chunk (tag=%s, %d records before the damage delivered): %v", l.tag, t.records, streamErr)
		return Error
	}
	in.Stats.FlushOK.Add(1)
	return OK
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
func (in *Instance) report(tag string, t *tally) {
	s := in.Stats
	s.Resumed.Add(t.resumed)
	// Every record of a chunk is read and shaped at its first flush, so a
	// retry of the chunk counts nothing again (the log lines still say
	// what this try met).
	if !t.counted {
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
		s.MultiLine.Add(t.multiLine)
		s.LinesJoined.Add(t.linesJoined)
	}
	if t.incomplete > 0 {
		in.log.Warnf("%d part(s) of container lines split at 16 KB sent on their own (attribute %s): their line was not complete in the chunk", t.incomplete, join.IncompleteKey)
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
// delivering for the budget's Stop (part of Grace) and are then cut, and
// later flushes hand their chunks back at once. What is cut reports Retry:
// the chunk stays with Fluent Bit (kept on disk with filesystem
// buffering). With no Stop (Grace negative or unknown) nothing is cut.
func (in *Instance) Stopping() {
	if in.budget.Stop <= 0 {
		return
	}
	in.stopping.Do(func() {
		in.log.Infof("Fluent Bit is stopping: flushes end within %s; a chunk not delivered by then stays with Fluent Bit", in.budget.Stop)
		time.AfterFunc(in.budget.Stop, in.cancel)
	})
}

// Close stops the instance: in-flight flushes get the budget's Exit to
// finish, then their requests are cancelled (they report Retry, never OK). It logs
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
	case <-time.After(in.budget.Exit):
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

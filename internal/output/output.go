// Package output is one [OUTPUT] instance of the plugin: it owns the
// configuration, the intake client and the counters, and runs the data path
// for each chunk Fluent Bit flushes, top to bottom:
//
//	decode (event) → shape (shape, tags) → batch → compress + send (intake)
//
// Flush is safe for concurrent use: Fluent Bit calls it from several output
// workers at once when the [OUTPUT] sets `workers N`.
package output

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/compress"
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/dedup"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/intake"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
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

// MaxLogAge is how old a log may be for the intake to keep it.
const MaxLogAge = 18 * time.Hour

// exitGrace is how long Close lets in-flight flushes finish before it
// cancels them; Fluent Bit's own default Grace is 5 s, and it calls exit
// after its grace period, so this stays well inside it.
const exitGrace = 2 * time.Second

// Instance is one configured output. Create with New, release with Close.
type Instance struct {
	name   string
	cfg    *config.Config
	log    *logging.Logger
	Stats  *stats.Counters
	shaper *shape.Shaper
	codec  *compress.Codec
	client *intake.Client
	meta   *ecs.Client
	dedup  *dedup.Set
	now    func() time.Time

	ctx    context.Context // cancelled by Close: aborts in-flight requests
	cancel context.CancelFunc

	mu       sync.Mutex // guards closed and the in-flight count's Add
	closed   bool
	inflight sync.WaitGroup

	batches   sync.Pool // *batch.Batch
	statsDone chan struct{}
	statsWG   sync.WaitGroup
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
	// Payloads of a chunk retried within 30 min are recognised; 4096 keys
	// cover ~4M records of retried chunks at a few hundred KB of memory.
	in.dedup = dedup.New(4096, 30*time.Minute)
	in.client, err = intake.New(intake.Options{
		URL:         cfg.URL,
		APIKey:      cfg.APIKey,
		Codec:       codec,
		Timeout:     cfg.Timeout,
		TLSVerify:   cfg.TLSVerify,
		TLSCAFile:   cfg.TLSCAFile,
		Proxy:       cfg.Proxy,
		Headers:     cfg.Headers,
		MaxRetries:  cfg.MaxRetries,
		UserAgent:   version.UserAgent(),
		Logger:      log,
		Stats:       in.Stats,
		Dedup:       in.dedup,
		Concurrency: cfg.MaxConcurrency,
	})
	if err != nil {
		codec.Close()
		return nil, fmt.Errorf("intake client: %w", err)
	}
	if cfg.Provider == "ecs" && cfg.ECSMetadataURI != "" {
		in.meta = ecs.NewClient(cfg.ECSMetadataURI, cfg.ECSRefresh, 2*time.Second, log)
	}
	tagger := tags.NewTagger(tags.Options{
		Provider:      cfg.Provider,
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
		ECS:           cfg.Provider == "ecs",
		DetectStatus:  cfg.DetectStatus,
		StderrStatus:  cfg.StderrStatus,
		Tagger:        tagger,
	})
	in.ctx, in.cancel = context.WithCancel(context.Background())
	if cfg.StatsInterval > 0 {
		in.statsWG.Add(1)
		go in.statsLoop(cfg.StatsInterval)
	}
	return in, nil
}

func (in *Instance) statsLoop(every time.Duration) {
	defer in.statsWG.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			in.log.Infof("stats %s", in.Stats.Snapshot())
		case <-in.statsDone:
			return
		}
	}
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
	failed   atomic.Int64 // payloads not delivered
	firstErr atomic.Pointer[error]
}

func (f *flush) send(b *batch.Batch) {
	f.sem <- struct{}{}
	f.wg.Add(1)
	go f.deliver(b)
}

// deliver sends one payload and records its outcome; it releases the
// payload's concurrency slot and batch when done.
func (f *flush) deliver(b *batch.Batch) {
	defer func() {
		<-f.sem
		f.in.batches.Put(b)
		f.wg.Done()
	}()
	if _, err := f.in.client.Deliver(f.ctx, b); err != nil {
		f.failed.Add(1)
		f.firstErr.CompareAndSwap(nil, &err)
	}
}

// sendLast delivers a chunk's last payload on the calling goroutine, which
// would only wait for it otherwise: a chunk that fits one payload (the
// common case) starts no goroutine.
func (f *flush) sendLast(b *batch.Batch) {
	f.sem <- struct{}{}
	f.wg.Add(1)
	f.deliver(b)
}

// Flush delivers one chunk. chunk and tag are Fluent Bit's memory: they are
// read during the call only; everything sent is a copy.
func (in *Instance) Flush(chunk, tag []byte) Code {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return Retry
	}
	in.inflight.Add(1)
	in.mu.Unlock()
	defer in.inflight.Done()

	budget := in.cfg.RetryBudget
	if budget <= 0 {
		budget = time.Minute
	}
	ctx, cancel := context.WithTimeout(in.ctx, budget)
	defer cancel()
	conc := in.cfg.MaxConcurrency
	if conc < 1 {
		conc = 1
	}
	f := &flush{in: in, ctx: ctx, sem: make(chan struct{}, conc)}

	maxEntries, maxBytes := in.cfg.MaxBatchEntries, in.cfg.MaxBatchBytes
	if maxEntries <= 0 || maxEntries > batch.IntakeMaxEntries {
		maxEntries = batch.IntakeMaxEntries
	}
	if maxBytes <= 0 || maxBytes > batch.IntakeMaxBytes {
		maxBytes = batch.IntakeMaxBytes
	}
	oldest := in.now().Add(-MaxLogAge).UnixMilli()
	var (
		dec                                = event.NewDecoder(chunk)
		ev                                 event.Event
		streamErr                          error
		records, skipped, tooOld, tooLarge int64
		truncated                          int64
		excluded, masked                   int64 // issue 13: log_processing_rules
		firstSkip                          error
	)
	b := in.getBatch()
	for {
		err := dec.Next(&ev)
		if err != nil {
			if event.IsEnd(err) {
				break
			}
			if errors.Is(err, event.ErrMalformed) {
				streamErr = err
				break
			}
			skipped++
			if firstSkip == nil {
				firstSkip = err
			}
			continue
		}
		records++
		buf := b.Begin()
		buf, info, err := in.shaper.Append(buf, &ev, tag)
		if err != nil {
			b.Abort()
			skipped++
			if firstSkip == nil {
				firstSkip = fmt.Errorf("record at byte %d: %w", dec.Offset(), err)
			}
			continue
		}
		// issue 13: a record the container's log_processing_rules exclude
		// writes nothing; it is done, counted, never sent.
		if info.Excluded {
			b.Abort()
			excluded++
			continue
		}
		if info.Masked {
			masked++
		}
		b.End(buf)
		if info.Truncated {
			truncated++
		}
		if info.UnixMilli < oldest {
			tooOld++
		}
		if b.LastEntrySize()+2 > maxBytes {
			b.Abort()
			tooLarge++
			continue
		}
		if b.Size() > maxBytes { // the new entry starts the next payload
			nb := in.getBatch()
			nb.Append(b.Entry(b.Len() - 1))
			b.Abort()
			f.send(b)
			b = nb
		}
		if b.Len() >= maxEntries {
			f.send(b)
			b = in.getBatch()
		}
	}
	if b.Len() > 0 {
		f.sendLast(b)
	} else {
		in.batches.Put(b)
	}
	f.wg.Wait()

	s := in.Stats
	s.RecordsIn.Add(records)
	s.Truncated.Add(truncated)
	s.DropTooOld.Add(tooOld)
	s.DropMalformed.Add(skipped + tooLarge)
	s.Excluded.Add(excluded) // issue 13
	s.Masked.Add(masked)     // issue 13
	if truncated > 0 {
		in.log.Warnf("%d message(s) over the intake's 1 MB per-log limit truncated (attribute %s holds the original size)", truncated, shape.TruncatedKey)
	}
	if tooOld > 0 {
		in.log.Warnf("%d record(s) older than %s: the intake will not index them", tooOld, MaxLogAge)
	}
	if skipped > 0 {
		in.log.Warnf("skipped %d malformed record(s) in chunk tag=%s: %v", skipped, tag, firstSkip)
	}
	if tooLarge > 0 {
		in.log.Errorf("dropped %d record(s) larger than the %d-byte payload limit even after truncation", tooLarge, maxBytes)
	}

	if n := f.failed.Load(); n > 0 {
		s.FlushRetry.Add(1)
		err := *f.firstErr.Load()
		in.log.Warnf("%d payload(s) of a chunk of %d records not delivered, chunk handed back to Fluent Bit for retry: %v", n, records, err)
		return Retry
	}
	if streamErr != nil {
		s.FlushError.Add(1)
		in.log.Errorf("dropping the rest of a malformed chunk (tag=%s, %d records before the damage delivered): %v", tag, records, streamErr)
		return Error
	}
	s.FlushOK.Add(1)
	return OK
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
	go func() { in.inflight.Wait(); close(done) }()
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
	if in.meta != nil {
		in.meta.Close()
	}
	in.client.Close()
	in.codec.Close()
	in.log.Infof("exit: %s", in.Stats.Snapshot())
}

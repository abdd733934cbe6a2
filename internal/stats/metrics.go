package stats

import "time"

// Kind is how a metric is typed on Fluent Bit's metrics endpoints.
type Kind int

const (
	Counter   Kind = iota // only grows; the name ends in _total
	Gauge                 // a value that can go down
	Histogram             // observations in buckets (Latency); see Metric.Hist
)

// Namespace and Subsystem start every metric's full name:
// fluentbit_datadog_go_<Name>, next to Fluent Bit's own fluentbit_output_*.
const (
	Namespace = "fluentbit"
	Subsystem = "datadog_go"
)

// Metric is one metric of an instance on Fluent Bit's metrics endpoints,
// labelled name="<instance name or Alias>" and by Labels, whose values
// each series gives.
type Metric struct {
	Name   string
	Help   string
	Kind   Kind
	Labels []string
	Series []Series
	// Hist reads a Histogram metric's one series (Series holds one entry
	// without Read).
	Hist func(*Counters) *Latency
	// FluentBit marks a series Fluent Bit creates for every output
	// (fluentbit_output_<Name>, src/flb_output.c) that it leaves at 0 for a
	// Go output: the plugin fills it instead of creating a metric.
	FluentBit bool
}

// FullName is the metric's name on the endpoints.
func (m Metric) FullName() string {
	if m.FluentBit {
		return Namespace + "_output_" + m.Name
	}
	return Namespace + "_" + Subsystem + "_" + m.Name
}

// Series is one value of a metric: Values are its Labels' values.
type Series struct {
	Values []string
	Read   func(*Counters) float64
}

// one is the single series of a metric without a label.
func one(read func(*Counters) float64) []Series { return []Series{{Read: read}} }

// by is a series of a metric with one label.
func by(value string, read func(*Counters) float64) Series {
	return Series{Values: []string{value}, Read: read}
}

// Metrics is every metric of an instance. To add one: a Counters field and
// a row here (docs/operations.md says what each means).
var Metrics = []Metric{
	{Name: "records_received_total", Kind: Counter, Help: "Log records Fluent Bit handed to the output, each counted once (a chunk Fluent Bit retries is not counted again).",
		Series: one(func(c *Counters) float64 { return float64(c.RecordsIn.Load()) })},
	{Name: "records_delivered_total", Kind: Counter, Help: "Log records the Datadog intake accepted.",
		Series: one(func(c *Counters) float64 { return float64(c.RecordsOut.Load()) })},
	{Name: "records_dropped_total", Kind: Counter, Labels: []string{"reason"}, Help: "Log records the output dropped, by reason: refused (the intake refused the record alone with 400/413), oversize (its reserved attributes alone exceed the 1 MB per-log limit or max_batch_bytes), malformed (undecodable), excluded (a log_processing_rules exclusion).",
		Series: []Series{
			by("refused", func(c *Counters) float64 { return float64(c.DropRejected.Load()) }),
			by("oversize", func(c *Counters) float64 { return float64(c.DropOversize.Load()) }),
			by("malformed", func(c *Counters) float64 { return float64(c.DropMalformed.Load()) }),
			by("excluded", func(c *Counters) float64 { return float64(c.Excluded.Load()) }),
		}},
	{Name: "records_too_old_total", Kind: Counter, Help: "Log records sent although older than the intake indexes (18 h): accepted, never searchable.",
		Series: one(func(c *Counters) float64 { return float64(c.TooOld.Load()) })},
	{Name: "requests_total", Kind: Counter, Labels: []string{"outcome", "answer"}, Help: "HTTP requests to the intake by outcome and answer: accepted (answer 2xx), refused (400, 413: the payload's content), failed (401/403: the API key or site; 408, 429, 5xx, network: the intake or the way to it; other: 1xx, 3xx, other 4xx), each retried in the flush or by Fluent Bit.",
		Series: answerSeries()},
	{Name: "retries_total", Kind: Counter, Help: "Requests retried inside a flush after a failure (backoff; Fluent Bit's own retries of a chunk are fluentbit_output_retries_total).",
		Series: one(func(c *Counters) float64 { return float64(c.Retries.Load()) })},
	{Name: "raw_bytes_total", Kind: Counter, Help: "Uncompressed JSON bytes the intake accepted.",
		Series: one(func(c *Counters) float64 { return float64(c.BytesRaw.Load()) })},
	{Name: "wire_bytes_total", Kind: Counter, Help: "Request body bytes (compressed) the intake accepted.",
		Series: one(func(c *Counters) float64 { return float64(c.BytesWire.Load()) })},
	{Name: "messages_truncated_total", Kind: Counter, Help: "Messages cut to fit the intake's 1 MB per-log limit or max_batch_bytes (sent, marked ddgo_truncated_from).",
		Series: one(func(c *Counters) float64 { return float64(c.Truncated.Load()) })},
	{Name: "split_lines_total", Kind: Counter, Labels: []string{"result"}, Help: "Container lines split at 16 KB by the runtime: joined (its parts sent as one log), incomplete (parts sent on their own, the line not complete in the chunk).",
		Series: []Series{
			by("joined", func(c *Counters) float64 { return float64(c.PartialJoined.Load()) }),
			by("incomplete", func(c *Counters) float64 { return float64(c.Incomplete.Load()) }),
		}},
	{Name: "multiline_logs_total", Kind: Counter, Help: "Logs made of several container lines, such as a stack trace (a container's multi_line rule, or auto_multiline).",
		Series: one(func(c *Counters) float64 { return float64(c.MultiLine.Load()) })},
	{Name: "lines_joined_total", Kind: Counter, Help: "Container lines sent inside a multi-line log, after its first line, rather than as logs of their own (a trace of 12 lines counts 11).",
		Series: one(func(c *Counters) float64 { return float64(c.LinesJoined.Load()) })},
	{Name: "panics_total", Kind: Counter, Help: "Panics in the plugin's Go code, recovered (Fluent Bit went on; a flush they hit returned FLB_RETRY).",
		Series: one(func(c *Counters) float64 { return float64(c.Panics.Load()) })},
	{Name: "last_accepted_timestamp_seconds", Kind: Gauge, Help: "Unix time of the last request the intake accepted (0: none since start).",
		Series: one(func(c *Counters) float64 { return seconds(c.LastAccepted.Load()) })},
	{Name: "last_failed_timestamp_seconds", Kind: Gauge, Help: "Unix time of the last request that failed (see requests_total; 0: none since start).",
		Series: one(func(c *Counters) float64 { return seconds(c.LastFailed.Load()) })},
	{Name: "records_pending", Kind: Gauge, Help: "Records received and neither delivered nor dropped by the output: in a flush now, handed back to Fluent Bit for retry, or dropped by Fluent Bit's Retry_Limit (fluentbit_output_dropped_records_total).",
		Series: one(func(c *Counters) float64 { return float64(c.Snapshot().Pending()) })},
	{Name: "request_duration_seconds", Kind: Histogram, Help: "Time from sending a request to the intake to reading its answer (or its failure), every request.",
		Series: []Series{{}}, Hist: func(c *Counters) *Latency { return &c.Latency }},
	{Name: "upstream_total_connections", Kind: Gauge, FluentBit: true, Help: "Connections open to the intake (or proxy).",
		Series: one(func(c *Counters) float64 { return float64(c.Conns.Open.Load()) })},
	{Name: "upstream_busy_connections", Kind: Gauge, FluentBit: true, Help: "Connections carrying a request now.",
		Series: one(func(c *Counters) float64 { return float64(c.Conns.Busy.Load()) })},
}

// answerSeries are requests_total's series: one per Answer, with its outcome.
func answerSeries() []Series {
	out := make([]Series, 0, NumAnswers)
	for a := range NumAnswers {
		out = append(out, Series{Values: []string{a.Outcome(), a.String()}, Read: func(c *Counters) float64 { return float64(c.Answers[a].Load()) }})
	}
	return out
}

func seconds(unixNano int64) float64 {
	if unixNano == 0 {
		return 0
	}
	return float64(unixNano) / float64(time.Second)
}

// Sink receives the values a Mirror copies: series i is in Metrics order
// (metric by metric, series by series).
type Sink interface {
	Set(i int, v float64)                  // a counter's or gauge's series
	SetHistogram(i int, h LatencySnapshot) // a Histogram's series
}

// SinkFunc is a Sink of counters and gauges only: histograms are not set.
type SinkFunc func(i int, v float64)

func (f SinkFunc) Set(i int, v float64)            { f(i, v) }
func (SinkFunc) SetHistogram(int, LatencySnapshot) {}

// Mirror copies the counters into an external registry (Fluent Bit's
// cmetrics) through a Sink. Only values that changed since the last Sync
// are set. Not safe for concurrent use: one goroutine syncs.
type Mirror struct {
	c     *Counters
	sink  Sink
	last  []float64
	count []uint64 // a histogram's last count, by series
}

// NewMirror returns a Mirror of c; its first Sync sets every series.
func NewMirror(c *Counters, sink Sink) *Mirror {
	m := &Mirror{c: c, sink: sink}
	for _, mt := range Metrics {
		for range mt.Series {
			m.last = append(m.last, -1)
			m.count = append(m.count, ^uint64(0))
		}
	}
	return m
}

// Sync sets the series whose value changed.
func (m *Mirror) Sync() {
	i := 0
	for _, mt := range Metrics {
		for _, s := range mt.Series {
			if mt.Hist != nil {
				if h := mt.Hist(m.c).Snapshot(); h.Count != m.count[i] {
					m.sink.SetHistogram(i, h)
					m.count[i] = h.Count
				}
			} else if v := s.Read(m.c); v != m.last[i] {
				m.sink.Set(i, v)
				m.last[i] = v
			}
			i++
		}
	}
}

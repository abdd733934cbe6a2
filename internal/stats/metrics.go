package stats

import "time"

// Kind is how a metric is typed on Fluent Bit's metrics endpoints.
type Kind int

const (
	Counter Kind = iota // only grows; the name ends in _total
	Gauge               // a value that can go down
)

// Namespace and Subsystem start every metric's full name:
// fluentbit_datadog_go_<Name>, next to Fluent Bit's own fluentbit_output_*.
const (
	Namespace = "fluentbit"
	Subsystem = "datadog_go"
)

// Metric is one metric of an instance on Fluent Bit's metrics endpoints,
// labelled name="<instance name or Alias>" and, when Label is set,
// Label="<the series' Value>".
type Metric struct {
	Name   string
	Help   string
	Kind   Kind
	Label  string
	Series []Series
}

// Series is one value of a metric: Value is its Label's value ("" when
// the metric has no Label).
type Series struct {
	Value string
	Read  func(*Counters) float64
}

// one is the single series of a metric without a label.
func one(read func(*Counters) float64) []Series { return []Series{{Read: read}} }

// Metrics is every metric of an instance. To add one: a Counters field and
// a row here (docs/operations.md says what each means).
var Metrics = []Metric{
	{Name: "records_received_total", Kind: Counter, Help: "Log records Fluent Bit handed to the output, each counted once (a chunk Fluent Bit retries is not counted again).",
		Series: one(func(c *Counters) float64 { return float64(c.RecordsIn.Load()) })},
	{Name: "records_delivered_total", Kind: Counter, Help: "Log records the Datadog intake accepted.",
		Series: one(func(c *Counters) float64 { return float64(c.RecordsOut.Load()) })},
	{Name: "records_dropped_total", Kind: Counter, Label: "reason", Help: "Log records the output dropped, by reason: refused (the intake refused the record alone with 400/413), oversize (its reserved attributes alone exceed the 1 MB per-log limit or max_batch_bytes), malformed (undecodable), excluded (a log_processing_rules exclusion).",
		Series: []Series{
			{"refused", func(c *Counters) float64 { return float64(c.DropRejected.Load()) }},
			{"oversize", func(c *Counters) float64 { return float64(c.DropOversize.Load()) }},
			{"malformed", func(c *Counters) float64 { return float64(c.DropMalformed.Load()) }},
			{"excluded", func(c *Counters) float64 { return float64(c.Excluded.Load()) }},
		}},
	{Name: "records_too_old_total", Kind: Counter, Help: "Log records sent although older than the intake indexes (18 h): accepted, never searchable.",
		Series: one(func(c *Counters) float64 { return float64(c.TooOld.Load()) })},
	{Name: "requests_total", Kind: Counter, Label: "outcome", Help: "HTTP requests to the intake by outcome: accepted (2xx), refused (400/413, the payload's content), failed (network error, timeout, 401/403, 408, 429, 5xx, 3xx: the payload is retried in the flush or by Fluent Bit).",
		Series: []Series{
			{"accepted", func(c *Counters) float64 { return float64(c.RequestsAccepted.Load()) }},
			{"refused", func(c *Counters) float64 { return float64(c.RequestsRefused.Load()) }},
			{"failed", func(c *Counters) float64 { return float64(c.RequestsFailed.Load()) }},
		}},
	{Name: "retries_total", Kind: Counter, Help: "Requests retried inside a flush after a failure (backoff; Fluent Bit's own retries of a chunk are fluentbit_output_retries_total).",
		Series: one(func(c *Counters) float64 { return float64(c.Retries.Load()) })},
	{Name: "raw_bytes_total", Kind: Counter, Help: "Uncompressed JSON bytes the intake accepted.",
		Series: one(func(c *Counters) float64 { return float64(c.BytesRaw.Load()) })},
	{Name: "wire_bytes_total", Kind: Counter, Help: "Request body bytes (compressed) the intake accepted.",
		Series: one(func(c *Counters) float64 { return float64(c.BytesWire.Load()) })},
	{Name: "messages_truncated_total", Kind: Counter, Help: "Messages cut to fit the intake's 1 MB per-log limit or max_batch_bytes (sent, marked ddgo_truncated_from).",
		Series: one(func(c *Counters) float64 { return float64(c.Truncated.Load()) })},
	{Name: "split_lines_total", Kind: Counter, Label: "result", Help: "Container lines split at 16 KB by the runtime: joined (its parts sent as one log), incomplete (parts sent on their own, the line not complete in the chunk).",
		Series: []Series{
			{"joined", func(c *Counters) float64 { return float64(c.PartialJoined.Load()) }},
			{"incomplete", func(c *Counters) float64 { return float64(c.Incomplete.Load()) }},
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
}

func seconds(unixNano int64) float64 {
	if unixNano == 0 {
		return 0
	}
	return float64(unixNano) / float64(time.Second)
}

// Mirror copies the counters into an external registry (Fluent Bit's
// cmetrics) through set, which gets a series' index in Metrics order
// (metric by metric, series by series) and its value. Only values that
// changed since the last Sync are set. Not safe for concurrent use: one
// goroutine syncs.
type Mirror struct {
	c    *Counters
	set  func(i int, v float64)
	last []float64
}

// NewMirror returns a Mirror of c; its first Sync sets every series.
func NewMirror(c *Counters, set func(i int, v float64)) *Mirror {
	m := &Mirror{c: c, set: set}
	for _, mt := range Metrics {
		for range mt.Series {
			m.last = append(m.last, -1)
		}
	}
	return m
}

// Sync sets the series whose value changed.
func (m *Mirror) Sync() {
	i := 0
	for _, mt := range Metrics {
		for _, s := range mt.Series {
			if v := s.Read(m.c); v != m.last[i] {
				m.set(i, v)
				m.last[i] = v
			}
			i++
		}
	}
}

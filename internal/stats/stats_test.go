package stats

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The table follows Prometheus' conventions (counters end in _total, gauges
// do not; lower-case names) and names each series once, so Fluent Bit's
// endpoints show every metric with one help line and distinct labels.
func TestMetricsTable(t *testing.T) {
	name := regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	seen := map[string]bool{}
	for _, m := range Metrics {
		if !name.MatchString(m.Name) || seen[m.Name] || m.Help == "" || len(m.Series) == 0 {
			t.Errorf("%q: bad name, repeated, no help or no series", m.Name)
		}
		seen[m.Name] = true
		if (m.Kind == Counter) != strings.HasSuffix(m.Name, "_total") {
			t.Errorf("%q: a counter's name ends in _total, a gauge's does not", m.Name)
		}
		if (m.Kind == Histogram) != (m.Hist != nil) || m.Kind == Histogram && (len(m.Series) != 1 || m.Series[0].Read != nil || len(m.Labels) > 0) {
			t.Errorf("%q: a histogram, and only one, has Hist and one series without labels", m.Name)
		}
		values := map[string]bool{}
		for _, s := range m.Series {
			key := strings.Join(s.Values, ",")
			if len(s.Values) != len(m.Labels) || values[key] || (s.Read == nil) != (m.Hist != nil) {
				t.Errorf("%q: series %q: labels %q", m.Name, s.Values, m.Labels)
			}
			values[key] = true
		}
	}
}

// A Mirror sets every series once, then only those that changed, with the
// value of the counter behind it.
func TestMirrorSetsChanges(t *testing.T) {
	var c Counters
	got := map[int]float64{}
	calls := 0
	m := NewMirror(&c, SinkFunc(func(i int, v float64) { got[i] = v; calls++ }))
	m.Sync()
	series := 0
	for _, mt := range Metrics {
		if mt.Hist == nil {
			series += len(mt.Series)
		}
	}
	if calls != series {
		t.Fatalf("first sync set %d series of %d", calls, series)
	}
	calls = 0
	m.Sync()
	if calls != 0 {
		t.Fatalf("an unchanged sync set %d series", calls)
	}
	c.RecordsOut.Add(7)
	c.DropOversize.Add(2)
	c.LastAccepted.Store(time.Unix(1700000000, 500_000_000).UnixNano())
	c.Request(Answer401403)
	c.Conns.Open.Add(2)
	m.Sync()
	want := map[string]float64{"records_delivered_total": 7, "records_dropped_total/oversize": 2, "last_accepted_timestamp_seconds": 1700000000.5,
		"requests_total/failed,401/403": 1, "upstream_total_connections": 2}
	i := 0
	for _, mt := range Metrics {
		for _, s := range mt.Series {
			key := mt.Name
			if len(s.Values) > 0 {
				key += "/" + strings.Join(s.Values, ",")
			}
			if w, ok := want[key]; ok && got[i] != w {
				t.Errorf("%s = %v, want %v", key, got[i], w)
			}
			i++
		}
	}
	if calls != len(want) {
		t.Errorf("%d series set, want %d", calls, len(want))
	}
}

// pending is what was received and is neither delivered nor dropped: the
// stats line's figure for chunks Fluent Bit still holds or dropped.
func TestPending(t *testing.T) {
	s := Snapshot{RecordsIn: 100, RecordsOut: 90, DropRejected: 1, DropMalformed: 2, DropOversize: 3, Excluded: 1}
	if s.Pending() != 3 || !strings.Contains(s.String(), "records_in=100 records_out=90 pending=3 ") {
		t.Errorf("pending %d: %s", s.Pending(), s)
	}
	if (Snapshot{RecordsOut: 5}).Pending() != 0 {
		t.Error("pending below zero while a flush is counted")
	}
}

// Each status lands in one class of the bounded set, with the outcome the
// older label gave it.
func TestAnswerOf(t *testing.T) {
	for _, c := range []struct {
		status          int
		answer, outcome string
	}{
		{0, "network", "failed"}, {101, "other", "failed"}, {200, "2xx", "accepted"}, {202, "2xx", "accepted"},
		{301, "other", "failed"}, {400, "400", "refused"}, {401, "401/403", "failed"}, {403, "401/403", "failed"},
		{404, "other", "failed"}, {408, "408", "failed"}, {413, "413", "refused"}, {429, "429", "failed"},
		{500, "5xx", "failed"}, {503, "5xx", "failed"}, {599, "5xx", "failed"}, {600, "other", "failed"},
	} {
		if a := AnswerOf(c.status); a.String() != c.answer || a.Outcome() != c.outcome {
			t.Errorf("HTTP %d: %s/%s, want %s/%s", c.status, a.Outcome(), a, c.outcome, c.answer)
		}
	}
	var c Counters
	for _, st := range []int{200, 200, 400, 413, 401, 0, 503} {
		c.Request(AnswerOf(st))
	}
	if s := c.Snapshot(); s.RequestsAccepted != 2 || s.RequestsRefused != 2 || s.RequestsFailed != 3 {
		t.Errorf("by outcome: %+v", s)
	}
}

// The histogram is cumulative as Prometheus shows it: a value on a bound
// is in that bound's bucket, one above every bound only in +Inf.
func TestLatency(t *testing.T) {
	var l Latency
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 6 * time.Millisecond, 2 * time.Second, time.Minute} {
		l.Observe(d)
	}
	s := l.Snapshot()
	want := map[float64]uint64{0.005: 2, 0.01: 3, 1: 3, 2.5: 4, 30: 4}
	for i, b := range LatencyBounds {
		if w, ok := want[b]; ok && s.Cumulative[i] != w {
			t.Errorf("le=%v: %d, want %d", b, s.Cumulative[i], w)
		}
	}
	if s.Count != 5 || s.Cumulative[len(LatencyBounds)] != 5 || s.Sum < 62.01 || s.Sum > 62.013 {
		t.Errorf("count %d, +Inf %d, sum %v", s.Count, s.Cumulative[len(LatencyBounds)], s.Sum)
	}
}

// A Mirror sets a histogram when it saw new observations, and only then.
func TestMirrorSetsHistogram(t *testing.T) {
	var c Counters
	var got []LatencySnapshot
	m := NewMirror(&c, histSink{&got})
	m.Sync()
	m.Sync()
	c.Latency.Observe(30 * time.Millisecond)
	m.Sync()
	if len(got) != 2 || got[0].Count != 0 || got[1].Count != 1 {
		t.Errorf("histogram sets: %+v", got)
	}
}

type histSink struct{ got *[]LatencySnapshot }

func (histSink) Set(int, float64)                        {}
func (h histSink) SetHistogram(_ int, s LatencySnapshot) { *h.got = append(*h.got, s) }

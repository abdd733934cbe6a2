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
		values := map[string]bool{}
		for _, s := range m.Series {
			if (m.Label == "") != (s.Value == "") || values[s.Value] || s.Read == nil {
				t.Errorf("%q: series %q: label %q", m.Name, s.Value, m.Label)
			}
			values[s.Value] = true
		}
	}
}

// A Mirror sets every series once, then only those that changed, with the
// value of the counter behind it.
func TestMirrorSetsChanges(t *testing.T) {
	var c Counters
	got := map[int]float64{}
	calls := 0
	m := NewMirror(&c, func(i int, v float64) { got[i] = v; calls++ })
	m.Sync()
	series := 0
	for _, mt := range Metrics {
		series += len(mt.Series)
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
	m.Sync()
	want := map[string]float64{"records_delivered_total": 7, "records_dropped_total/oversize": 2, "last_accepted_timestamp_seconds": 1700000000.5}
	i := 0
	for _, mt := range Metrics {
		for _, s := range mt.Series {
			key := mt.Name
			if s.Value != "" {
				key += "/" + s.Value
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

package main

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "fluentbit.h"
*/
import "C"

import (
	"strconv"
	"unsafe"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/pipeline"
	"github.com/out-datadog-go/out_datadog_go/internal/stats"
)

// fluentBit is what the Fluent Bit running the plugin offers one [OUTPUT]
// instance (fluentbit.c): its name, its logger at the instance's level,
// its metrics context. Each is absent in a host that is not Fluent Bit.
type fluentBit struct {
	name  string        // "" when unknown
	log   bool          // Fluent Bit's logger takes the lines
	level logging.Level // the instance's level, when log
	cmt   unsafe.Pointer
	noCmt string // why cmt is nil
}

// openFluentBit asks the host about the instance FLBPluginInit got. It
// runs on the thread Fluent Bit initialises outputs on.
func openFluentBit(plugin unsafe.Pointer) fluentBit {
	C.ddgo_open()
	var h fluentBit
	if name := C.ddgo_instance_name(plugin); name != nil {
		h.name = C.GoString(name)
	}
	if lv := C.ddgo_log_level(plugin); C.ddgo_log_ready() != 0 && lv >= 0 {
		h.log, h.level = true, levelOf(lv)
	}
	var why *C.char
	h.cmt = C.ddgo_instance_cmt(plugin, &why)
	if h.cmt == nil && why != nil {
		h.noCmt = C.GoString(why)
	}
	return h
}

// levelOf is the lowest logging.Level a Fluent Bit log level lets through.
func levelOf(flb C.int) logging.Level {
	switch flb {
	case C.DDGO_LOG_OFF:
		return logging.Off
	case C.DDGO_LOG_ERROR:
		return logging.Error
	case C.DDGO_LOG_WARN:
		return logging.Warn
	case C.DDGO_LOG_INFO:
		return logging.Info
	}
	return logging.Debug
}

var flbLevel = [...]C.int{logging.Debug: C.DDGO_LOG_DEBUG, logging.Info: C.DDGO_LOG_INFO, logging.Warn: C.DDGO_LOG_WARN, logging.Error: C.DDGO_LOG_ERROR}

// flbMaxLine is the longest line Fluent Bit's logger keeps whole: its
// messages hold 4,096 bytes with the time and level (src/flb_log.c).
const flbMaxLine = 3900

// fluentBitLog is the logging.Sink of Fluent Bit's logger.
type fluentBitLog struct{}

func (fluentBitLog) Print(lv logging.Level, name, msg string) {
	prefix := logging.Prefix(name)
	for _, p := range logging.Pieces(msg, flbMaxLine-len(prefix)) {
		line := C.CString(prefix + p)
		C.ddgo_log(flbLevel[lv], line)
		C.free(unsafe.Pointer(line))
	}
}

// metrics are one instance's series in Fluent Bit's metrics context, in
// stats.Metrics order, with their label values in C memory.
type metrics struct {
	series []series
	mem    []unsafe.Pointer // what free releases
}

type series struct {
	handle unsafe.Pointer // cmt_counter, cmt_gauge or cmt_histogram; nil when its creation failed
	kind   stats.Kind
	n      C.int
	labels **C.char
	// A histogram on a Fluent Bit whose endpoints show none (1.9): its
	// buckets, sum and count as counters (handle unused).
	buckets, sum, count unsafe.Pointer
	bucketLabels        []**C.char // name and le of each bucket, +Inf last
}

// newMetrics creates stats.Metrics in the cmetrics context cmt, labelled
// name="<instance>": Fluent Bit's endpoints then show them next to its own
// fluentbit_output_* series of the instance, some of which (FluentBit) it
// fills instead of creating. A histogram becomes the three counters of its
// Prometheus form where Fluent Bit shows no histograms (1.9). It reports
// how many metrics could not be created.
func newMetrics(cmt unsafe.Pointer, instance string) (m *metrics, failed int) {
	m = &metrics{}
	cstr := func(s string) *C.char {
		p := C.CString(s)
		m.mem = append(m.mem, unsafe.Pointer(p))
		return p
	}
	array := func(ss ...*C.char) **C.char {
		p := C.malloc(C.size_t(len(ss)) * C.size_t(unsafe.Sizeof((*C.char)(nil))))
		m.mem = append(m.mem, p)
		copy(unsafe.Slice((**C.char)(p), len(ss)), ss)
		return (**C.char)(p)
	}
	ns, sub, nameKey, nameVal := cstr(stats.Namespace), cstr(stats.Subsystem), cstr("name"), cstr(instance)
	counter := func(name, help string, keys ...*C.char) unsafe.Pointer {
		return C.ddgo_metric_create(cmt, 0, ns, sub, cstr(name), cstr(help), C.int(len(keys)), array(keys...))
	}
	for _, mt := range stats.Metrics {
		keys := []*C.char{nameKey}
		for _, l := range mt.Labels {
			keys = append(keys, cstr(l))
		}
		var h unsafe.Pointer
		s := series{kind: mt.Kind}
		switch {
		case mt.FluentBit:
			// Every output has these from 2.0 on (the line whose endpoints
			// show histograms); 1.9 has none: nothing to fill, no failure.
			h = C.ddgo_find_gauge(cmt, cstr(mt.FullName()))
			failed += btoi(h == nil && C.ddgo_histograms_shown() != 0)
		case mt.Kind == stats.Histogram && C.ddgo_histograms_shown() != 0:
			b := (*C.double)(C.malloc(C.size_t(len(stats.LatencyBounds)) * C.size_t(unsafe.Sizeof(C.double(0)))))
			m.mem = append(m.mem, unsafe.Pointer(b))
			copy(unsafe.Slice((*float64)(unsafe.Pointer(b)), len(stats.LatencyBounds)), stats.LatencyBounds[:])
			h = C.ddgo_histogram_create(cmt, ns, sub, cstr(mt.Name), cstr(mt.Help), b, C.int(len(stats.LatencyBounds)), C.int(len(keys)), array(keys...))
			failed += btoi(h == nil)
		case mt.Kind == stats.Histogram:
			s.buckets = counter(mt.Name+"_bucket", mt.Help+" Cumulative buckets.", nameKey, cstr("le"))
			s.sum = counter(mt.Name+"_sum", mt.Help+" Sum of the durations.", nameKey)
			s.count = counter(mt.Name+"_count", mt.Help+" Number of requests.", nameKey)
			failed += btoi(s.buckets == nil || s.sum == nil || s.count == nil)
			for _, b := range stats.LatencyBounds {
				s.bucketLabels = append(s.bucketLabels, array(nameVal, cstr(strconv.FormatFloat(b, 'g', -1, 64))))
			}
			s.bucketLabels = append(s.bucketLabels, array(nameVal, cstr("+Inf")))
		default:
			h = C.ddgo_metric_create(cmt, C.int(btoi(mt.Kind == stats.Gauge)), ns, sub, cstr(mt.Name), cstr(mt.Help), C.int(len(keys)), array(keys...))
			failed += btoi(h == nil)
		}
		s.handle = h
		for _, sr := range mt.Series {
			vals := []*C.char{nameVal}
			for _, v := range sr.Values {
				vals = append(vals, cstr(v))
			}
			s.n, s.labels = C.int(len(vals)), array(vals...)
			m.series = append(m.series, s)
		}
	}
	return m, failed
}

// btoi is 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Set is the stats.Mirror's call for a counter or gauge: one call into
// cmetrics, whose values are atomics (Fluent Bit's HTTP server reads them
// from its own thread).
func (m *metrics) Set(i int, v float64) {
	if s := m.series[i]; s.handle != nil {
		C.ddgo_metric_set(s.handle, C.int(btoi(s.kind == stats.Gauge)), C.double(v), s.n, s.labels)
	}
}

// SetHistogram is the stats.Mirror's call for a histogram.
func (m *metrics) SetHistogram(i int, h stats.LatencySnapshot) {
	s := m.series[i]
	if s.handle != nil {
		cum := (*C.ulonglong)(unsafe.Pointer(&h.Cumulative[0])) // read during the call only
		C.ddgo_histogram_set(s.handle, cum, C.double(h.Sum), C.ulonglong(h.Count), s.n, s.labels)
		return
	}
	for b, labels := range s.bucketLabels {
		if s.buckets != nil {
			C.ddgo_metric_set(s.buckets, 0, C.double(h.Cumulative[b]), 2, labels)
		}
	}
	if s.sum != nil && s.count != nil {
		C.ddgo_metric_set(s.sum, 0, C.double(h.Sum), s.n, s.labels)
		C.ddgo_metric_set(s.count, 0, C.double(h.Count), s.n, s.labels)
	}
}

func (m *metrics) free() {
	for _, p := range m.mem {
		C.free(p)
	}
	m.mem, m.series = nil, nil
}

// mirrorMetrics shows the instance's counters on Fluent Bit's metrics
// endpoints when the host has a metrics context for it, and says once
// why not otherwise (a warning in Fluent Bit, a debug line elsewhere). It
// returns the series to free at the instance's exit, nil for none.
func mirrorMetrics(inst *pipeline.Instance, h fluentBit, name string) *metrics {
	log := inst.Logger()
	if h.cmt == nil {
		say := log.Debugf
		if h.log {
			say = log.Warnf
		}
		say("counters not on Fluent Bit's metrics endpoints (%s): the stats line has them", h.noCmt)
		return nil
	}
	m, failed := newMetrics(h.cmt, name)
	if failed > 0 {
		log.Warnf("%d of %d metrics could not be created in Fluent Bit's metrics context", failed, len(stats.Metrics))
	}
	inst.Mirror(m)
	return m
}

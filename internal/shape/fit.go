package shape

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

// The attributes Fit sets on an entry it cut: how many attributes had
// their values cut, and how many were left out.
const (
	CutAttributesKey     = "ddgo_truncated_attributes"
	DroppedAttributesKey = "ddgo_dropped_attributes"
)

// minCut is the size Fit cuts a value to, at the least, before it leaves
// attributes out.
const minCut = 256

// Fitted says what Fit did to an entry.
type Fitted struct {
	Cut, Dropped int  // attributes whose values were cut, left out
	Message      bool // the message was cut
}

// field is one name/value pair of an entry.
type field struct {
	key  []byte // as JSON, quotes included
	name string
	val  []byte // as JSON
	// fixed: the intake's reserved attributes and the markers, never cut;
	// text: the value's text when it can be cut (message, attributes).
	fixed bool
	text  []byte
	drop  bool
}

func (m *field) size() int { return len(m.key) + 1 + len(m.val) }

// Fit makes entry, one JSON object as Append wrote it, at most limit bytes:
// the intake's per-log limit, or what a payload (max_batch_bytes) holds.
// The largest values give way first, the message's and the attributes'
// alike: cut to a common size (no smaller than minCut), a non-string value
// becoming the text of its JSON, cut; the message is marked with
// TruncatedKey (its full size), the attributes counted in CutAttributesKey.
// When that is not enough (thousands of attributes, or a huge key), the
// largest attributes are left out (DroppedAttributesKey), then the message
// is cut further. The reserved attributes (ddsource, service, hostname,
// ddtags, status, the date and tag keys) are never cut: ok is false when
// they alone do not fit, and the record cannot be sent. entry is returned
// as is when it fits.
func (s *Shaper) Fit(entry []byte, limit int) (out []byte, f Fitted, ok bool) {
	if len(entry) <= limit {
		return entry, f, true
	}
	ms, msg, ok := s.members(entry)
	if !ok {
		return nil, f, false
	}
	// Room for the markers, whatever their values.
	room := limit - len(`,"`+CutAttributesKey+`":1000000,"`+DroppedAttributesKey+`":1000000,"`+TruncatedKey+`":1000000000`)
	total := func() int {
		n := 1 // '{' and '}', less one comma
		for i := range ms {
			if !ms[i].drop {
				n += ms[i].size() + 1
			}
		}
		return n
	}
	var cuttable []*field
	for i := range ms {
		if ms[i].text != nil {
			cuttable = append(cuttable, &ms[i])
		}
	}
	// The common size c: the largest with which the cut values fit.
	over := total() - room
	saved := func(c int) int {
		n := 0
		for _, m := range cuttable {
			n += max(0, len(m.val)-c)
		}
		return n
	}
	c, longest := minCut, 0
	for _, m := range cuttable {
		longest = max(longest, len(m.val))
	}
	if saved(minCut) >= over {
		lo, hi := minCut, longest+1 // saved(lo) >= over > saved(hi) = 0
		for lo+1 < hi {
			if mid := (lo + hi) / 2; saved(mid) >= over {
				lo = mid
			} else {
				hi = mid
			}
		}
		c = lo
	}
	for _, m := range cuttable {
		if len(m.val) > c {
			m.val, _ = transcode.AppendStringLimit(nil, m.text, c-2)
			if m == msg {
				f.Message = true
			} else {
				f.Cut++
			}
		}
	}
	// Then the largest attributes go, until the rest fits.
	if over = total() - room; over > 0 {
		var attrs []*field
		for i := range ms {
			if !ms[i].fixed && &ms[i] != msg {
				attrs = append(attrs, &ms[i])
			}
		}
		slices.SortStableFunc(attrs, func(a, b *field) int { return b.size() - a.size() })
		for _, m := range attrs {
			if over <= 0 {
				break
			}
			m.drop, over = true, over-m.size()-1
			f.Dropped++
		}
	}
	// Then the message gives what is still missing.
	if over > 0 && msg != nil {
		if c = len(msg.val) - over; c < 2 {
			return nil, f, false
		}
		msg.val, _ = transcode.AppendStringLimit(nil, msg.text, c-2)
		f.Message = true
	}
	if over > 0 && msg == nil {
		return nil, f, false
	}
	return s.write(entry[:0:0], ms, msg, f), f, true
}

// members parses entry's name/value pairs; msg is the message's, if any.
//
// encoding/json rather than json-iterator (the guide's chosen library), as
// in labels and ecs, because a benchmark shows it pays: no record's path
// reads JSON (Fit runs for an entry over the per-log limit, labels once
// per container), encoding/json is linked anyway, and json-iterator with
// reflect2 only added to the .so (9.7 MB against 9.3) and to every idle
// router: 0.3-0.4 MB resident on each line, and 158 KB allocated by the
// package initialisation at dlopen against 136 (its time within the runs'
// spread; `make bench BENCHFLAGS="-only realfb -idleso ..."`, both builds
// side by side in the same runs, medians of 3). BenchmarkFit on a 2 MB
// entry: 38-46 ms either way (json-iterator 41-44), half the bytes
// allocated (18.5 MB against 35.4), 190 allocations against 166.
func (s *Shaper) members(entry []byte) (ms []field, msg *field, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(entry))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		name, isName := t.(string)
		if err != nil || !isName {
			return nil, nil, false
		}
		var val json.RawMessage
		if dec.Decode(&val) != nil {
			return nil, nil, false
		}
		m := field{key: transcode.AppendString(nil, []byte(name)), name: name, val: val}
		switch name {
		case "ddsource", "service", "hostname", "ddtags", "status", TruncatedKey, s.o.DateKey:
			m.fixed = true
		default:
			m.fixed = s.tagKeyJSON != nil && name == s.o.TagKey
		}
		if !m.fixed {
			m.text = m.val
			var str string
			if len(m.val) > 0 && m.val[0] == '"' && json.Unmarshal(m.val, &str) == nil {
				m.text = []byte(str)
			}
		}
		ms = append(ms, m)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || len(ms) == 0 {
		return nil, nil, false
	}
	for i := range ms {
		if ms[i].name == "message" {
			msg = &ms[i]
			break
		}
	}
	return ms, msg, true
}

// write renders the members kept, in order, and the markers f calls for.
func (s *Shaper) write(dst []byte, ms []field, msg *field, f Fitted) []byte {
	dst = append(dst, '{')
	open := len(dst)
	hasTruncated := false
	for i := range ms {
		m := &ms[i]
		hasTruncated = hasTruncated || m.name == TruncatedKey
		if !m.drop {
			dst = append(comma(dst, open), m.key...)
			dst = append(append(dst, ':'), m.val...)
		}
	}
	if f.Message && !hasTruncated {
		dst = strconv.AppendInt(member(dst, open, TruncatedKey), int64(len(msg.text)), 10)
	}
	if f.Cut > 0 {
		dst = strconv.AppendInt(member(dst, open, CutAttributesKey), int64(f.Cut), 10)
	}
	if f.Dropped > 0 {
		dst = strconv.AppendInt(member(dst, open, DroppedAttributesKey), int64(f.Dropped), 10)
	}
	return append(dst, '}')
}

// Package shape turns one Fluent Bit record (a msgpack map) into one Datadog
// log entry (a JSON object), appending to the payload being built.
//
// The entry carries the intake's reserved attributes first (message,
// ddsource, service, hostname, ddtags, status, the date key), then every other
// record key as an attribute, nested values as JSON. Precedence follows
// Fluent Bit's built-in datadog output and the Datadog Agent: values the
// record carries (service, ddsource, hostname, status) win over the
// configuration.
package shape

import (
	"strconv"
	"unsafe"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/status"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

// TruncatedKey is the attribute set on an entry whose message was cut to the
// per-log limit; its value is the original message size in bytes.
const TruncatedKey = "ddgo_truncated_from"

// DefaultMaxMessageBytes keeps a message, once JSON-escaped, under the
// intake's per-log limit with room for the entry's other attributes.
const DefaultMaxMessageBytes = limits.MaxLogBytes - 16*1024

// Options configure a Shaper. Zero values mean "not set".
type Options struct {
	MessageKey      string // dd_message_key; "" = "log", else "message"
	DateKey         string // json_date_key; "" = no date attribute
	Source          string // dd_source
	Service         string // dd_service (used when the Tagger gives none)
	Hostname        string // dd_hostname
	IncludeTagKey   bool
	TagKey          string
	ECS             bool          // provider ecs: FireLens fields become tags
	DetectStatus    bool          // detect a leading level word in plain-text messages
	StderrStatus    status.Status // status for stderr records without a level
	MaxMessageBytes int           // 0 = DefaultMaxMessageBytes
	Tagger          *tags.Tagger
}

// Shaper is immutable after New and safe for concurrent use.
type Shaper struct {
	o           Options
	srcJSON     []byte // `"ddsource":"…"` precomputed
	hostJSON    []byte
	dateKeyJSON []byte // `"timestamp":`
	tagKeyJSON  []byte
}

// New prepares a Shaper.
func New(o Options) *Shaper {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s := &Shaper{o: o}
	if o.Source != "" {
		s.srcJSON = appendField(nil, "ddsource", o.Source)
	}
	if o.Hostname != "" {
		s.hostJSON = appendField(nil, "hostname", o.Hostname)
	}
	if o.DateKey != "" {
		s.dateKeyJSON = append(transcode.AppendString(nil, []byte(o.DateKey)), ':')
	}
	if o.IncludeTagKey {
		k := o.TagKey
		if k == "" {
			k = "tagkey"
		}
		s.tagKeyJSON = append(transcode.AppendString(nil, []byte(k)), ':')
	}
	return s
}

func appendField(dst []byte, k, v string) []byte {
	dst = transcode.AppendString(dst, []byte(k))
	dst = append(dst, ':')
	return transcode.AppendString(dst, []byte(v))
}

// Info describes the entry just written.
type Info struct {
	Truncated    bool
	UnixMilli    int64
	MessageBytes int // the message's JSON-escaped length as written
	// BadType: a record value for a reserved attribute was of a type the
	// intake does not take for it (an object, array or null service,
	// ddsource, hostname or status; a ddtags neither a string nor an array
	// of strings): kept with a leading "_" (_service, ...).
	BadType bool
	// Excluded: the container's log_processing_rules exclude the record
	// (exclude_at_match matched, or include_at_match did not). Nothing was
	// written: dst is returned as it came, and the caller drops the entry.
	Excluded bool
	// Masked: a mask_sequences rule rewrote the message.
	Masked bool
}

// found is what the first pass learns of a record: the values with a
// meaning, each the raw msgpack value (nil when absent).
type found struct {
	msg, msgAlt                          []byte // message value (dd_message_key / log), "message"
	service, ddsource, hostname, ddtags  []byte
	statusVal, level, severity, logLevel []byte
	source, ddService, ddEnv, ddVersion  []byte
	msgStr, tagsStr                      []byte    // msg when a string; ddtags as a string (an array's joined)
	bad                                  [4][]byte // values kept as "_"+key (see typeReserved)
	fireLens                             ecs.View
	hasFireLens                          bool
}

// pair is one key/value of a record: key is the string/binary key's bytes
// (nil for other key types), keyRaw and val the raw msgpack.
type pair struct{ key, keyRaw, val []byte }

// strVal returns the bytes of a msgpack str/bin value, or nil.
func strVal(v []byte) []byte {
	if v == nil {
		return nil
	}
	t := msgp.NextType(v)
	if t != msgp.StrType && t != msgp.BinType {
		return nil
	}
	s, _, err := transcode.ReadKey(v)
	if err != nil {
		return nil
	}
	return s
}

// Append writes ev's record as one JSON object to dst. tag is the Fluent
// Bit tag of the chunk. On error dst may hold a partial entry: the caller
// discards it (batch.Abort).
func (s *Shaper) Append(dst []byte, ev *event.Event, tag []byte) ([]byte, Info, error) {
	return s.AppendLimit(dst, ev, tag, s.o.MaxMessageBytes)
}

// AppendLimit is Append with the message cut to maxMsg JSON-escaped bytes:
// the flush uses it to fit a record into a payload smaller than the
// intake's per-log limit (max_batch_bytes).
func (s *Shaper) AppendLimit(dst []byte, ev *event.Event, tag []byte, maxMsg int) ([]byte, Info, error) {
	info := Info{UnixMilli: ev.UnixMilli()}
	// Pass 1: the record's pairs (on the stack for typical records, so
	// pass 2 need not parse again) and the keys with a meaning.
	var f found
	var pairsBuf [16]pair
	pairs, err := s.scan(ev.Record, pairsBuf[:0], &f)
	if err != nil {
		return dst, info, err
	}
	st, stFromStatusKey := s.status(&f)
	res := s.lookup(&f)
	msgText, err := messageText(&f)
	if err != nil {
		return dst, info, err
	}
	// The container's log_processing_rules; containers without rules run
	// none (res.Rules is nil). A mask that reached its bound cut the
	// message: marked with the size it had.
	fullLen, maskCut := len(msgText), false
	if res != nil && res.Rules != nil && !isNil(f.msg) {
		out, excluded, masked, cut := res.Rules.Apply(msgText)
		if excluded {
			info.Excluded = true
			return dst, info, nil
		}
		msgText, info.Masked, maskCut = out, masked, cut
		if !cut {
			fullLen = len(msgText)
		}
	}

	// Pass 2: write the reserved attributes, then every other key.
	dst = append(dst, '{')
	open := len(dst)
	dst = member(dst, open, "message") // always: the intake's schema requires it
	mark := len(dst)
	dst, info.Truncated = transcode.AppendStringLimit(dst, msgText, maxMsg)
	info.Truncated = info.Truncated || maskCut
	info.MessageBytes = len(dst) - mark - 2
	if dst, err = s.appendSource(dst, open, &f, res); err != nil {
		return dst, info, err
	}
	if dst, err = s.appendService(dst, open, &f, res); err != nil {
		return dst, info, err
	}
	if f.hostname != nil {
		if dst, err = appendText(member(dst, open, "hostname"), f.hostname); err != nil {
			return dst, info, err
		}
	} else if s.hostJSON != nil {
		dst = append(comma(dst, open), s.hostJSON...)
	}
	dst = s.appendDDTags(dst, open, &f, res)
	if st != "" {
		dst = member(dst, open, "status")
		dst = append(dst, '"')
		dst = append(dst, st...)
		dst = append(dst, '"')
	}
	if s.dateKeyJSON != nil {
		dst = append(comma(dst, open), s.dateKeyJSON...)
		dst = strconv.AppendInt(dst, info.UnixMilli, 10)
	}
	if s.tagKeyJSON != nil {
		dst = append(comma(dst, open), s.tagKeyJSON...)
		dst = transcode.AppendString(dst, tag)
	}
	if dst, err = s.appendAttributes(dst, open, pairs, &f, st != "", stFromStatusKey, &info); err != nil {
		return dst, info, err
	}
	if info.Truncated {
		dst = member(dst, open, TruncatedKey)
		dst = strconv.AppendInt(dst, int64(fullLen), 10)
	}
	dst = append(dst, '}')
	return dst, info, nil
}

// scan splits rec, a msgpack map, into its key/value pairs, appended to
// pairs, and fills f with the values of the keys that have a meaning.
func (s *Shaper) scan(rec []byte, pairs []pair, f *found) ([]pair, error) {
	n, rest, err := msgp.ReadMapHeaderBytes(rec)
	if err != nil {
		return pairs, err
	}
	if n > uint32(cap(pairs)) {
		if int(n) > len(rest) { // each pair takes at least 2 bytes
			return pairs, msgp.ErrShortBytes
		}
		pairs = make([]pair, 0, n)
	}
	msgKey := s.o.MessageKey
	for i := uint32(0); i < n; i++ {
		var k, v []byte
		keyRaw := rest
		if t := msgp.NextType(rest); t == msgp.StrType || t == msgp.BinType {
			if k, rest, err = transcode.ReadKey(rest); err != nil {
				return pairs, err
			}
		} else if rest, err = event.Skip(rest); err != nil { // non-string key: plain attribute
			return pairs, err
		}
		keyRaw = keyRaw[:len(keyRaw)-len(rest)]
		v = rest
		if rest, err = event.Skip(rest); err != nil {
			return pairs, err
		}
		v = v[:len(v)-len(rest)]
		pairs = append(pairs, pair{key: k, keyRaw: keyRaw, val: v})
		if k == nil {
			continue
		}
		if msgKey != "" && string(k) == msgKey {
			f.msg = v
			continue
		}
		switch string(k) {
		case "log":
			if msgKey == "" {
				f.msg = v
			}
		case "message":
			f.msgAlt = v
		case "service":
			f.service = v
		case "ddsource":
			f.ddsource = v
		case "hostname":
			f.hostname = v
		case "ddtags":
			f.ddtags = v
		case "status":
			f.statusVal = v
		case "level":
			f.level = v
		case "severity":
			f.severity = v
		case "log.level":
			f.logLevel = v
		case "source":
			f.source = v
		case "dd.service":
			f.ddService = v
		case "dd.env":
			f.ddEnv = v
		case "dd.version":
			f.ddVersion = v
		default:
			// The first value wins: FireLens' record_modifier appends its
			// own task's fields to every record, also to one another
			// task's router forwarded with that task's fields.
			if p := f.fireLens.Field(k); p != nil && *p == nil {
				*p, f.hasFireLens = strVal(v), true
			}
		}
	}
	if isNil(f.msg) && f.msgAlt != nil {
		f.msg, f.msgAlt = f.msgAlt, nil // no message key, or a null one: "message" is the message
	}
	f.msgStr = strVal(f.msg)
	f.typeReserved()
	return pairs, nil
}

// typeReserved applies the types the intake's schema gives the reserved
// attributes (datadog-api-client-go HTTPLogItem: ddsource, ddtags,
// hostname, message and service are strings) to the record's values:
// service, ddsource and hostname may be a string, a number or a bool
// (written as its text, appendText); an object, array or null is set
// aside in bad, kept as "_"+key, and the attribute comes from the next
// source (container, configuration). ddtags is a string or an array of
// strings, joined with commas as Vector's datadog_logs sink joins it
// (src/sinks/datadog/logs/sink.rs normalize_event); anything else is bad.
// A status that is an object, array or null is bad too (other statuses
// are levels, or attributes: see status).
func (f *found) typeReserved() {
	n := 0
	for _, p := range [...]*[]byte{&f.service, &f.ddsource, &f.hostname, &f.statusVal} {
		if *p != nil && !scalar(*p) {
			f.bad[n], *p = *p, nil
			n++
		}
	}
	f.tagsStr = strVal(f.ddtags)
	if f.tagsStr == nil && f.ddtags != nil {
		f.tagsStr = joinStrings(f.ddtags) // nil when not an array of strings: kept as _ddtags
	}
}

// isBad reports whether v is a value typeReserved set aside.
func (f *found) isBad(v []byte) bool {
	for _, b := range f.bad {
		if sameSlice(v, b) {
			return true
		}
	}
	return false
}

// stringAttr reports whether k names a reserved attribute the intake types
// as a string.
func stringAttr(k []byte) bool {
	switch string(k) {
	case "message", "service", "ddsource", "hostname", "ddtags":
		return true
	}
	return false
}

// isNil reports whether v is absent or msgpack nil.
func isNil(v []byte) bool { return v == nil || msgp.NextType(v) == msgp.NilType }

// scalar reports whether v is a string, binary, number or bool.
func scalar(v []byte) bool {
	switch msgp.NextType(v) {
	case msgp.StrType, msgp.BinType, msgp.IntType, msgp.UintType, msgp.Float32Type, msgp.Float64Type, msgp.BoolType:
		return true
	}
	return false
}

// joinStrings joins v, a msgpack array of strings, with commas; nil when v
// is not one (an empty array joins to an empty, non-nil slice).
func joinStrings(v []byte) []byte {
	n, rest, err := msgp.ReadArrayHeaderBytes(v)
	if err != nil || int(n) > len(rest) {
		return nil
	}
	out := make([]byte, 0, len(rest))
	for i := uint32(0); i < n; i++ {
		t := msgp.NextType(rest)
		if t != msgp.StrType && t != msgp.BinType {
			return nil
		}
		var s []byte
		if s, rest, err = transcode.ReadKey(rest); err != nil {
			return nil
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, s...)
	}
	return out
}

// appendText writes v, a scalar, as a JSON string: a string as is, a
// number or bool as its JSON text ("123", "1.5", "true").
func appendText(dst, v []byte) ([]byte, error) {
	if t := msgp.NextType(v); t == msgp.StrType || t == msgp.BinType {
		return transcode.AppendString(dst, strVal(v)), nil
	}
	dst = append(dst, '"')
	dst, _, err := transcode.AppendValue(dst, v) // a number or bool: nothing to escape
	return append(dst, '"'), err
}

// status is the record's status: its own level (status, then level,
// severity, log.level), else one detected in the message, else the stderr
// default. fromKey: it came from the record's status key.
func (s *Shaper) status(f *found) (st status.Status, fromKey bool) {
	if v := strVal(f.statusVal); v != nil {
		st, fromKey = status.FromValue(v)
	}
	for _, lv := range [...][]byte{f.level, f.severity, f.logLevel} {
		if st != "" {
			break
		}
		if v := strVal(lv); v != nil {
			st, _ = status.FromValue(v)
		} else if lv != nil && (msgp.NextType(lv) == msgp.IntType || msgp.NextType(lv) == msgp.UintType) {
			st = statusFromNumber(lv)
		}
	}
	if st == "" && s.o.DetectStatus && f.msgStr != nil {
		st, _ = status.FromMessage(f.msgStr)
	}
	if st == "" && s.o.StderrStatus != "" && string(strVal(f.source)) == "stderr" {
		st = s.o.StderrStatus
	}
	return st, fromKey
}

// lookup is the record's container's tags, source, service and rules; nil
// without a Tagger.
func (s *Shaper) lookup(f *found) *tags.Result {
	if s.o.Tagger == nil {
		return nil
	}
	if s.o.ECS && f.hasFireLens {
		return s.o.Tagger.Lookup(&f.fireLens)
	}
	return s.o.Tagger.Lookup(&tags.Fields{})
}

// messageText is the message as text: a string as is, another value as
// its JSON; empty when the record has no message or a null one.
func messageText(f *found) ([]byte, error) {
	if isNil(f.msg) || f.msgStr != nil {
		return f.msgStr, nil
	}
	text, _, err := transcode.AppendValue(nil, f.msg)
	if err != nil {
		return nil, err
	}
	if msgp.NextType(f.msg) == msgp.ExtensionType && len(text) >= 2 && text[0] == '"' {
		// An ext value's JSON is a base64 string (no escapes in it):
		// the message is its content, not the quoted string.
		text = text[1 : len(text)-1]
	}
	return text, nil
}

// appendSource writes ddsource: the record's, else the container's, else
// dd_source.
func (s *Shaper) appendSource(dst []byte, open int, f *found, res *tags.Result) ([]byte, error) {
	switch {
	case f.ddsource != nil:
		return appendText(member(dst, open, "ddsource"), f.ddsource)
	case res != nil && res.Source != "":
		dst = member(dst, open, "ddsource")
		return transcode.AppendString(dst, bytesOf(res.Source)), nil
	case s.srcJSON != nil:
		return append(comma(dst, open), s.srcJSON...), nil
	}
	return dst, nil
}

// appendService writes service: the record's (see typeReserved), else its
// dd.service string, else the container's, else dd_service.
func (s *Shaper) appendService(dst []byte, open int, f *found, res *tags.Result) ([]byte, error) {
	if f.service != nil {
		return appendText(member(dst, open, "service"), f.service)
	}
	var svc []byte
	switch {
	case strVal(f.ddService) != nil:
		svc = strVal(f.ddService)
	case res != nil && res.Service != "":
		svc = bytesOf(res.Service)
	case s.o.Service != "":
		svc = bytesOf(s.o.Service)
	default:
		return dst, nil
	}
	return transcode.AppendString(member(dst, open, "service"), svc), nil
}

// appendDDTags writes ddtags: the configuration's and the container's tags
// with the record's dd.env and dd.version, then the record's own ddtags.
func (s *Shaper) appendDDTags(dst []byte, open int, f *found, res *tags.Result) []byte {
	var tagStr string
	var tagJSON []byte // tagStr as a JSON string when already escaped
	if res != nil {
		tagStr, tagJSON = res.Tags, res.TagsJSON
		if f.ddEnv != nil || f.ddVersion != nil {
			tagStr, tagJSON = s.o.Tagger.WithRecord(res, strVal(f.ddEnv), strVal(f.ddVersion)), nil
		}
	}
	if tagStr == "" && len(f.tagsStr) == 0 {
		return dst
	}
	dst = member(dst, open, "ddtags")
	if tagJSON != nil {
		dst = append(dst, tagJSON...)
	} else {
		dst = transcode.AppendString(dst, bytesOf(tagStr))
	}
	if len(f.tagsStr) > 0 {
		dst = continueString(dst, tagStr != "", f.tagsStr)
	}
	return dst
}

// continueString appends s, escaped, inside the JSON string that ends dst,
// after a comma when sep is set.
func continueString(dst []byte, sep bool, s []byte) []byte {
	dst = dst[:len(dst)-1] // closing quote
	if sep {
		dst = append(dst, ',')
	}
	mark := len(dst)
	dst = transcode.AppendString(dst, s)
	copy(dst[mark:], dst[mark+1:]) // drop the second opening quote
	return dst[:len(dst)-1]
}

// appendAttributes writes every other key of the record as an attribute.
// Keys that would collide with a reserved attribute written before are
// prefixed with "_". hasStatus: a status was written; stFromStatusKey: it
// is the record's status key's.
func (s *Shaper) appendAttributes(dst []byte, open int, pairs []pair, f *found, hasStatus, stFromStatusKey bool, info *Info) ([]byte, error) {
	var err error
	for _, p := range pairs {
		k, v := p.key, p.val
		rename := false
		if k != nil {
			if sameSlice(v, f.msg) || sameSlice(v, f.service) || sameSlice(v, f.ddsource) ||
				sameSlice(v, f.hostname) || (sameSlice(v, f.ddtags) && f.tagsStr != nil) {
				continue
			}
			if sameSlice(v, f.statusVal) && stFromStatusKey {
				continue
			}
			if s.o.ECS && ecs.IsKey(k) {
				continue
			}
			switch {
			case f.isBad(v), sameSlice(v, f.ddtags): // a type the intake does not take for it
				rename, info.BadType = true, true
			case stringAttr(k): // another value of a key written above (the message always is)
				rename = true
			case string(k) == "status" && hasStatus:
				rename = true
			case s.o.DateKey != "" && string(k) == s.o.DateKey:
				rename = true
			case s.tagKeyJSON != nil && string(k) == s.o.TagKey:
				rename = true
			}
		}
		dst = comma(dst, open)
		if rename {
			dst = append(dst, `"_`...)
			q := transcode.AppendString(nil, k)
			dst = append(dst, q[1:]...)
		} else if dst, _, err = transcode.AppendKey(dst, p.keyRaw); err != nil {
			return dst, err
		}
		dst = append(dst, ':')
		if dst, _, err = transcode.AppendValue(dst, v); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// member starts the object member name after a comma if one is due.
func member(dst []byte, open int, name string) []byte {
	dst = comma(dst, open)
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// sameSlice reports whether a and b are the same value of the record (the
// same bytes of the chunk), not merely equal.
func sameSlice(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// comma separates a new member from the previous one, if any, of the
// object opened at open.
func comma(dst []byte, open int) []byte {
	if len(dst) != open {
		return append(dst, ',')
	}
	return dst
}

// bytesOf views a string's bytes without copying; callers only read them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// statusFromNumber maps a syslog severity number (0-7) to a status.
func statusFromNumber(v []byte) status.Status {
	n, _, err := msgp.ReadInt64Bytes(v)
	if err != nil {
		return ""
	}
	st, _ := status.FromValue(strconv.AppendInt(nil, n, 10))
	return st
}

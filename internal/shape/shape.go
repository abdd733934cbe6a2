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
	MessageBytes int  // the message's JSON-escaped length as written
	BadDDTags    bool // the record's ddtags was not a string: kept as _ddtags
	// Excluded: the container's log_processing_rules exclude the record
	// (exclude_at_match matched, or include_at_match did not). Nothing was
	// written: dst is returned as it came, and the caller drops the entry.
	Excluded bool
	// Masked: a mask_sequences rule rewrote the message.
	Masked bool
}

// fields found in the first pass over a record: each is the raw msgpack
// value (nil when absent) and, for strings, its bytes.
type found struct {
	msg, msgAlt                                         []byte // message value (dd_message_key / log), "message"
	service, ddsource, hostname, ddtags, statusVal      []byte
	level, severity, logLevel, source, ddEnv, ddVersion []byte
	ddService                                           []byte
	hasDate                                             bool
	ecs                                                 tags.Fields
	ecsAny                                              bool
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
	n, body, err := msgp.ReadMapHeaderBytes(ev.Record)
	if err != nil {
		return dst, info, err
	}

	// Pass 1: split the record into key/value pairs (kept on the stack for
	// typical records, so pass 2 need not parse again) and find the keys
	// with a meaning.
	var f found
	var pairsBuf [16]pair
	pairs := pairsBuf[:0]
	if n > uint32(len(pairsBuf)) {
		if int(n) > len(body) { // each pair takes at least 2 bytes
			return dst, info, msgp.ErrShortBytes
		}
		pairs = make([]pair, 0, n)
	}
	msgKey := s.o.MessageKey
	rest := body
	for i := uint32(0); i < n; i++ {
		var k, v []byte
		keyRaw := rest
		if t := msgp.NextType(rest); t == msgp.StrType || t == msgp.BinType {
			if k, rest, err = transcode.ReadKey(rest); err != nil {
				return dst, info, err
			}
		} else if rest, err = event.Skip(rest); err != nil { // non-string key: plain attribute
			return dst, info, err
		}
		keyRaw = keyRaw[:len(keyRaw)-len(rest)]
		v = rest
		if rest, err = event.Skip(rest); err != nil {
			return dst, info, err
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
		case "container_id":
			f.ecs.ContainerID, f.ecsAny = strVal(v), true
		case "container_name":
			f.ecs.ContainerName, f.ecsAny = strVal(v), true
		case "ecs_cluster":
			f.ecs.Cluster, f.ecsAny = strVal(v), true
		case "ecs_task_arn":
			f.ecs.TaskARN, f.ecsAny = strVal(v), true
		case "ecs_task_definition":
			f.ecs.TaskDefinition, f.ecsAny = strVal(v), true
		}
		if s.o.DateKey != "" && string(k) == s.o.DateKey {
			f.hasDate = true
		}
	}
	if msgKey == "" && f.msg == nil {
		f.msg, f.msgAlt = f.msgAlt, nil // no "log": "message" is the message
	}
	f.ecs.Source = strVal(f.source)

	// Status: the record's own level, else detection, else the stderr default.
	var st status.Status
	stFromStatusKey := false
	if v := strVal(f.statusVal); v != nil {
		st, stFromStatusKey = status.FromValue(v)
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
	msgStr := strVal(f.msg)
	if st == "" && s.o.DetectStatus && msgStr != nil {
		st, _ = status.FromMessage(msgStr)
	}
	if st == "" && s.o.StderrStatus != "" && string(f.ecs.Source) == "stderr" {
		st = s.o.StderrStatus
	}

	var res *tags.Result
	if s.o.Tagger != nil {
		var fl *tags.Fields
		if s.o.ECS && f.ecsAny {
			fl = &f.ecs
		} else {
			fl = &tags.Fields{Source: f.ecs.Source}
		}
		res = s.o.Tagger.Lookup(fl)
	}

	// The message text: a string as is, a structured value as its JSON.
	msgText := msgStr
	if f.msg != nil && msgStr == nil {
		if msgText, _, err = transcode.AppendValue(nil, f.msg); err != nil {
			return dst, info, err
		}
		if msgp.NextType(f.msg) == msgp.ExtensionType && len(msgText) >= 2 && msgText[0] == '"' {
			// An ext value's JSON is a base64 string (no escapes in it):
			// the message is its content, not the quoted string.
			msgText = msgText[1 : len(msgText)-1]
		}
	}
	// The container's log_processing_rules; containers without rules run
	// none (res.Rules is nil).
	if res != nil && res.Rules != nil && f.msg != nil {
		out, excluded, masked := res.Rules.Apply(msgText)
		if excluded {
			info.Excluded = true
			return dst, info, nil
		}
		msgText, info.Masked = out, masked
	}

	// Pass 2: write.
	dst = append(dst, '{')
	open := len(dst)
	if f.msg != nil {
		dst = comma(dst, open)
		dst = append(dst, `"message":`...)
		mark := len(dst)
		dst, info.Truncated = transcode.AppendStringLimit(dst, msgText, maxMsg)
		info.MessageBytes = len(dst) - mark - 2
	}
	if f.ddsource != nil {
		dst = comma(dst, open)
		dst = append(dst, `"ddsource":`...)
		if dst, _, err = transcode.AppendValue(dst, f.ddsource); err != nil {
			return dst, info, err
		}
	} else if res != nil && res.Source != "" {
		dst = comma(dst, open)
		dst = append(dst, `"ddsource":`...)
		dst = transcode.AppendString(dst, bytesOf(res.Source))
	} else if s.srcJSON != nil {
		dst = comma(dst, open)
		dst = append(dst, s.srcJSON...)
	}

	switch {
	case f.service != nil:
		dst = comma(dst, open)
		dst = append(dst, `"service":`...)
		if dst, _, err = transcode.AppendValue(dst, f.service); err != nil {
			return dst, info, err
		}
	case strVal(f.ddService) != nil:
		dst = comma(dst, open)
		dst = append(dst, `"service":`...)
		dst = transcode.AppendString(dst, strVal(f.ddService))
	case res != nil && res.Service != "":
		dst = comma(dst, open)
		dst = append(dst, `"service":`...)
		dst = transcode.AppendString(dst, bytesOf(res.Service))
	case s.o.Service != "":
		dst = comma(dst, open)
		dst = append(dst, `"service":`...)
		dst = transcode.AppendString(dst, bytesOf(s.o.Service))
	}
	if f.hostname != nil {
		dst = comma(dst, open)
		dst = append(dst, `"hostname":`...)
		if dst, _, err = transcode.AppendValue(dst, f.hostname); err != nil {
			return dst, info, err
		}
	} else if s.hostJSON != nil {
		dst = comma(dst, open)
		dst = append(dst, s.hostJSON...)
	}

	// ddtags: configuration and container tags, record-level env/version,
	// then the record's own ddtags.
	var tagStr string
	var tagJSON []byte // tagStr as a JSON string when already escaped
	if res != nil {
		tagStr, tagJSON = res.Tags, res.TagsJSON
		if f.ddEnv != nil || f.ddVersion != nil {
			tagStr, tagJSON = s.o.Tagger.WithRecord(res, strVal(f.ddEnv), strVal(f.ddVersion)), nil
		}
	}
	recTags := strVal(f.ddtags)
	if tagStr != "" || len(recTags) > 0 {
		dst = comma(dst, open)
		dst = append(dst, `"ddtags":`...)
		if tagJSON != nil {
			dst = append(dst, tagJSON...)
		} else {
			dst = transcode.AppendString(dst, bytesOf(tagStr))
		}
		if len(recTags) > 0 { // continue the same JSON string
			dst = dst[:len(dst)-1] // closing quote
			if tagStr != "" {
				dst = append(dst, ',')
			}
			mark := len(dst)
			dst = transcode.AppendString(dst, recTags)
			copy(dst[mark:], dst[mark+1:]) // drop the second opening quote
			dst = dst[:len(dst)-1]
		}
	}
	if st != "" {
		dst = comma(dst, open)
		dst = append(dst, `"status":"`...)
		dst = append(dst, st...)
		dst = append(dst, '"')
	}
	if s.dateKeyJSON != nil {
		dst = comma(dst, open)
		dst = append(dst, s.dateKeyJSON...)
		dst = strconv.AppendInt(dst, info.UnixMilli, 10)
	}
	if s.tagKeyJSON != nil {
		dst = comma(dst, open)
		dst = append(dst, s.tagKeyJSON...)
		dst = transcode.AppendString(dst, tag)
	}

	// Every other key, as an attribute. Keys that would collide with a
	// reserved attribute written above are prefixed with "_".
	for _, p := range pairs {
		k, v := p.key, p.val
		rename := false
		if k != nil {
			if sameSlice(v, f.msg) || sameSlice(v, f.service) || sameSlice(v, f.ddsource) ||
				sameSlice(v, f.hostname) || (sameSlice(v, f.ddtags) && recTags != nil) {
				continue
			}
			if sameSlice(v, f.statusVal) && stFromStatusKey {
				continue
			}
			if s.o.ECS && isFireLensKey(k) {
				continue
			}
			switch {
			case string(k) == "message" && f.msg != nil:
				rename = true
			case string(k) == "status" && st != "":
				rename = true
			case s.o.DateKey != "" && string(k) == s.o.DateKey:
				rename = true
			case s.tagKeyJSON != nil && string(k) == s.o.TagKey:
				rename = true
			case sameSlice(v, f.ddtags): // not a string: the intake wants one
				rename, info.BadDDTags = true, true
			}
		}
		dst = comma(dst, open)
		if rename {
			dst = append(dst, `"_`...)
			q := transcode.AppendString(nil, k)
			dst = append(dst, q[1:]...)
		} else if dst, _, err = transcode.AppendKey(dst, p.keyRaw); err != nil {
			return dst, info, err
		}
		dst = append(dst, ':')
		if dst, _, err = transcode.AppendValue(dst, v); err != nil {
			return dst, info, err
		}
	}
	if info.Truncated {
		dst = comma(dst, open)
		dst = append(dst, `"`+TruncatedKey+`":`...)
		dst = strconv.AppendInt(dst, int64(len(msgText)), 10)
	}
	dst = append(dst, '}')
	return dst, info, nil
}

// sameSlice reports whether a and b are the same value of the record (the
// same bytes of the chunk), not merely equal.
func sameSlice(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

func isFireLensKey(k []byte) bool {
	switch string(k) {
	case "container_id", "container_name", "ecs_cluster", "ecs_task_arn", "ecs_task_definition":
		return true
	}
	return false
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

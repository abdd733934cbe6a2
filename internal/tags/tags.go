// Package tags builds the ddtags string of each log: the configuration's
// dd_tags, the container's ECS tags (with the Datadog Agent's names) and the
// unified service tags env and version, normalised and deduplicated the way
// Datadog would, and cached per container (a bounded least-recently-used
// cache, see cache.go) so the per-record cost is one map lookup with no
// allocation, and a container seen for the first time costs one build
// whatever the number of containers already seen.
package tags

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/labels"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
	"github.com/out-datadog-go/out_datadog_go/internal/rules"
	"github.com/out-datadog-go/out_datadog_go/internal/transcode"
)

// MaxTagLength is Datadog's limit for one tag.
const MaxTagLength = 200

// maxReported bounds the label problems remembered as logged (labels come
// from the router's own task, whose containers are few).
const maxReported = 4096

// Fields are one record's FireLens values: slices into Fluent Bit's chunk,
// valid only during the call. The Tagger copies what it keeps.
type Fields = ecs.View

// Options configure a Tagger.
type Options struct {
	ECS           bool         // provider ecs: FireLens fields become tags
	Style         ecs.TagStyle // ecs.StyleAgent (default), ecs.StyleBuiltin, ecs.StyleBoth
	ConfigTags    string       // dd_tags
	ConfigService string       // dd_service
	ConfigSource  string       // dd_source
	// The log router's DD_ENV / DD_SERVICE / DD_VERSION.
	Env, Service, Version string
	// Metadata, when set, adds the task metadata endpoint's tags and labels.
	Metadata *ecs.Client
	// Log receives label problems (once per container); nil discards them.
	Log *logging.Logger
}

// Result is the cached outcome for one container.
type Result struct {
	Tags string // normalised, deduplicated, comma-joined
	// TagsJSON is Tags as a JSON string, quotes included, escaped once
	// here: the shaper copies it into every record instead of escaping the
	// hundreds of bytes of ECS tags again per record (BenchmarkShapeFireLens
	// measures it; benchmarks/README.md).
	TagsJSON []byte
	Service  string // for the reserved service attribute ("" = none)
	Source   string // for the reserved ddsource attribute ("" = none)
	// Rules are the container's log_processing_rules; nil when it has
	// none, so records of such containers run no regexp.
	Rules *rules.Set
	// MultiLine is the container's multi_line rule (package join applies
	// it); nil when none.
	MultiLine *regexp.Regexp
	// AutoMultiLine is the label's auto_multi_line_detection, which wins
	// over the auto_multiline key; nil when the label does not set it.
	AutoMultiLine *bool
	gen           uint64 // metadata generation it was built from
	tagList       []string
}

// size is roughly what r holds in memory beyond its fixed fields. Rules
// and MultiLine are left out: only the router's own task's containers have
// labels, a handful of entries.
func (r *Result) size() int {
	return len(r.Tags) + len(r.TagsJSON) + 16*len(r.tagList) + len(r.Service) + len(r.Source)
}

// Tagger is safe for concurrent use.
type Tagger struct {
	o     Options
	base  []string // config tags, normalised, without env/version/service
	env   string   // router env > config tags env
	vers  string
	svc   string
	cache *cache
	none  atomic.Pointer[Result] // result for records without FireLens fields
	// evicting is set once the cache first forgets a container (logged once).
	evicting atomic.Bool
	// groups caches GroupsLines for the metadata generation it read.
	groups atomic.Pointer[groupsAt]
	// reported holds the label problems already logged (at most maxReported).
	reported  sync.Map
	nReported atomic.Int64
}

// NewTagger prepares a Tagger.
func NewTagger(o Options) *Tagger {
	if o.Style == "" {
		o.Style = ecs.StyleAgent
	}
	t := &Tagger{o: o}
	var cfgEnv, cfgVers, cfgSvc string
	for _, raw := range strings.Split(o.ConfigTags, ",") {
		tag := Normalize(raw)
		if tag == "" {
			continue
		}
		k, v, _ := strings.Cut(tag, ":")
		switch k {
		case "env":
			cfgEnv = first(cfgEnv, v)
		case "version":
			cfgVers = first(cfgVers, v)
		case "service":
			cfgSvc = first(cfgSvc, strings.TrimSpace(raw[strings.IndexByte(raw, ':')+1:]))
		default:
			t.base = append(t.base, tag)
		}
	}
	t.env = first(o.Env, cfgEnv)
	t.vers = first(o.Version, cfgVers)
	t.svc = first(o.Service, o.ConfigService, cfgSvc)
	t.cache = newCache(cacheEntries, cacheBytes)
	return t
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Lookup returns the Result for a record's container. It never blocks on
// the network and allocates only when it builds a container's Result: the
// first time it sees the container, after a metadata refresh, or when the
// container comes back after the cache forgot it.
func (t *Tagger) Lookup(f *Fields) *Result {
	gen := t.o.Metadata.Generation()
	if !t.o.ECS || f == nil || f.Empty() {
		if r := t.none.Load(); r != nil && r.gen == gen {
			return r
		}
		r := t.build(ecs.FireLens{}, gen)
		t.none.Store(r)
		return r
	}
	// The key is the fields, each after its length: two containers never
	// share one, whatever bytes their fields hold.
	var kb [512]byte
	key := kb[:0]
	for _, p := range [...][]byte{f.ContainerID, f.ContainerName, f.TaskARN, f.Cluster, f.TaskDefinition} {
		key = binary.AppendUvarint(key, uint64(len(p)))
		key = append(key, p...)
	}
	if r := t.cache.get(key); r != nil && r.gen == gen {
		return r
	}
	r := t.build(ecs.Copy(f), gen)
	if t.cache.put(key, r) > 0 && !t.evicting.Swap(true) && t.o.Log != nil {
		t.o.Log.Infof("the tags cache is full (%d containers or %d MB): the least recently seen containers' tags are forgotten, and built again if their logs come back",
			t.cache.maxEntries, t.cache.maxBytes>>20)
	}
	return r
}

// build computes a container's tags, and its log source, service and
// processing rules. Precedence for env/version: container labels (task
// metadata) > the router's DD_* > configuration. Service: the
// com.datadoghq.ad.logs label > com.datadoghq.tags.service > DD_SERVICE >
// dd_service > the image's short name; source: the ad.logs label >
// dd_source > the image's short name, as the Agent defaults a container's
// logs (pkg/logs/launchers/container/tailerfactory/defaults.go). A record's
// own values win over all of these (package shape). The ad.logs label's
// source category and tags come last, as the Agent appends them
// (pkg/logs/message/origin.go).
func (t *Tagger) build(f ecs.FireLens, gen uint64) *Result {
	env, vers, svc, src := t.env, t.vers, t.svc, t.o.ConfigSource
	var fire, meta, fromLabels [][2]string
	var logTags []string // the ad.logs label's, as written
	var rs *rules.Set
	var ml *regexp.Regexp
	var auto *bool
	// A record without FireLens fields names no task or container: it gets
	// no ECS tag, whatever the router's own task is.
	if t.o.ECS && !f.Empty() {
		fire = ecs.Tags(f, t.o.Style)
		if md := t.o.Metadata; md != nil {
			c := md.Container(f)
			meta = c.Tags
			l := c.Labels
			env = first(l[labels.Env], env)
			vers = first(l[labels.Version], vers)
			var err error
			fromLabels, err = labels.Tags(l)
			t.reportOnce(f, err)
			lc, _, err := labels.Logs(l)
			t.reportOnce(f, err)
			var skipped []string
			rs, ml, skipped = rules.Compile(lc.Rules)
			auto = lc.AutoMultiLine
			for _, msg := range skipped {
				t.reportOnce(f, fmt.Errorf("label %s: %s", labels.ADLogs, msg))
			}
			if lc.SourceCategory != "" {
				logTags = append(logTags, "sourcecategory:"+lc.SourceCategory)
			}
			logTags = append(logTags, lc.Tags...)
			svc = first(lc.Service, l[labels.Service], svc, c.ShortImage)
			src = first(lc.Source, src, c.ShortImage)
		}
	}
	j := joiner{buf: make([]byte, 0, 1024), ends: make([]int, 0, 32)}
	for _, tag := range t.base {
		j.add(tag, "", "")
	}
	if env != "" {
		j.add("env:", env, "")
	}
	if vers != "" {
		j.add("version:", vers, "")
	}
	// The task metadata's value of a tag wins over the one parsed from
	// FireLens fields, so a tag never carries two values (ecs_container_name
	// from the task definition vs from an EC2 Docker name).
	for _, kv := range fire {
		if !hasKey(meta, kv[0]) {
			j.add(kv[0], ":", kv[1])
		}
	}
	for _, kv := range meta {
		j.add(kv[0], ":", kv[1])
	}
	for _, kv := range fromLabels {
		j.add(kv[0], ":", kv[1])
	}
	for _, tag := range logTags {
		j.add(tag, "", "")
	}
	r := &Result{Tags: string(j.buf), Service: svc, Source: src, Rules: rs, MultiLine: ml, AutoMultiLine: auto, gen: gen}
	r.TagsJSON = transcode.AppendString(make([]byte, 0, len(j.buf)+2), j.buf)
	r.tagList = make([]string, len(j.ends))
	start := 0
	for i, end := range j.ends {
		r.tagList[i] = r.Tags[start:end]
		start = end + 1
	}
	return r
}

func hasKey(kvs [][2]string, k string) bool {
	for _, kv := range kvs {
		if kv[0] == k {
			return true
		}
	}
	return false
}

// joiner builds a container's comma-joined tags in one buffer, normalising
// each tag into it and dropping empty tags and repeats: no string per tag
// and no map for the usual dozen or two (BenchmarkBuild).
type joiner struct {
	buf  []byte
	ends []int               // where each tag ends in buf
	seen map[string]struct{} // the tags, once there are more than linearMax
}

// linearMax is how many tags are compared one by one before a map takes
// over (labels may give a container many).
const linearMax = 32

// add appends the tag a+b+c, normalised, unless it is empty or already in.
func (j *joiner) add(a, b, c string) {
	mark := len(j.buf)
	if mark > 0 {
		j.buf = append(j.buf, ',')
	}
	start := len(j.buf)
	j.buf = appendNormalized(j.buf, a, b, c)
	tag := j.buf[start:]
	if len(tag) == 0 || j.has(tag) {
		j.buf = j.buf[:mark]
		return
	}
	j.ends = append(j.ends, len(j.buf))
	if j.seen != nil {
		j.seen[string(tag)] = struct{}{}
	} else if len(j.ends) > linearMax {
		j.seen = make(map[string]struct{}, 2*len(j.ends))
		start := 0
		for _, end := range j.ends {
			j.seen[string(j.buf[start:end])] = struct{}{}
			start = end + 1
		}
	}
}

// has reports whether tag is one of the tags already in.
func (j *joiner) has(tag []byte) bool {
	if j.seen != nil {
		_, ok := j.seen[string(tag)]
		return ok
	}
	start := 0
	for _, end := range j.ends {
		if string(j.buf[start:end]) == string(tag) {
			return true
		}
		start = end + 1
	}
	return false
}

// GroupsLines reports whether some container of the task metadata asks
// for its lines to be grouped (a multi_line rule, or
// auto_multi_line_detection true in its com.datadoghq.ad.logs label): only
// the router's own task's containers get labels. It reads the labels once
// per metadata generation.
func (t *Tagger) GroupsLines() bool {
	gen := t.o.Metadata.Generation()
	if g := t.groups.Load(); g != nil && g.gen == gen {
		return g.any
	}
	g := &groupsAt{gen: gen}
	if doc := t.o.Metadata.Document(); t.o.ECS && doc != nil {
		for _, c := range doc.Containers {
			lc, _, _ := labels.Logs(c.Labels)
			if lc.AutoMultiLine != nil && *lc.AutoMultiLine {
				g.any = true
			}
			for _, r := range lc.Rules {
				g.any = g.any || r.Type == rules.MultiLine
			}
		}
	}
	t.groups.Store(g)
	return g.any
}

// groupsAt is GroupsLines' answer for one metadata generation.
type groupsAt struct {
	gen uint64
	any bool
}

// reportOnce logs a label problem once per container and message: the tags
// are rebuilt at every metadata refresh, the warning is not repeated.
func (t *Tagger) reportOnce(f ecs.FireLens, err error) {
	if err == nil || t.o.Log == nil {
		return
	}
	if t.nReported.Load() >= maxReported { // hostile churn: stop remembering (and logging)
		return
	}
	key := f.ContainerID + "\x00" + f.ContainerName + "\x00" + err.Error()
	if _, dup := t.reported.LoadOrStore(key, true); !dup {
		t.nReported.Add(1)
		t.o.Log.Warnf("container %s%s: %v; its logs are delivered", f.ContainerName, shortID(f.ContainerID), err)
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}

// WithRecord returns r's tags with env and version taken from the record
// itself (dd.env / dd.version), which win over every other source. Records
// rarely carry them; this path may allocate.
func (t *Tagger) WithRecord(r *Result, env, version []byte) string {
	if len(env) == 0 && len(version) == 0 {
		return r.Tags
	}
	out := make([]string, 0, len(r.tagList)+2)
	for _, tag := range r.tagList {
		if (len(env) > 0 && strings.HasPrefix(tag, "env:")) || (len(version) > 0 && strings.HasPrefix(tag, "version:")) {
			continue
		}
		out = append(out, tag)
	}
	if len(env) > 0 {
		out = append(out, Normalize("env:"+string(env)))
	}
	if len(version) > 0 {
		out = append(out, Normalize("version:"+string(version)))
	}
	return strings.Join(out, ",")
}

// Normalize rewrites a tag the way Datadog does on intake: lower case;
// letters, digits and _ - : . / kept, anything else becomes _ (runs of _
// collapse); it must start with a letter (leading other characters are
// dropped); trailing _ removed; at most MaxTagLength characters (not
// bytes: a tag of non-ASCII letters keeps its 200 characters).
func Normalize(tag string) string {
	return string(appendNormalized(nil, tag, "", ""))
}

// appendNormalized appends Normalize(a+b+c) to dst without building the
// concatenation: byte by byte for ASCII (every ECS tag), by runes
// (normalizeRunes) once a byte is not.
func appendNormalized(dst []byte, a, b, c string) []byte {
	start := len(dst)
	n := 0 // characters written
	lastUnderscore := false
	for _, s := range [3]string{a, b, c} {
		for i := 0; i < len(s); i++ {
			m := asciiNorm[s[i]]
			switch {
			case m == 0: // not ASCII
				return append(dst[:start], normalizeRunes(a+b+c)...)
			case len(dst) == start && m&letterBit == 0: // a tag starts with a letter
				continue
			case m&^letterBit == '_':
				if lastUnderscore {
					continue
				}
				lastUnderscore = true
			default:
				lastUnderscore = false
			}
			if n == MaxTagLength {
				return trimUnderscores(dst, start)
			}
			dst = append(dst, m&^letterBit)
			n++
		}
	}
	return trimUnderscores(dst, start)
}

// asciiNorm maps each ASCII byte to what a tag keeps of it (letters lower
// cased and marked with letterBit; digits and - : . / as they are;
// anything else '_'), and every other byte to 0.
var asciiNorm = func() (t [256]byte) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z':
			t[c] = byte(c|0x20) | letterBit
		case '0' <= c && c <= '9', c == '-', c == ':', c == '.', c == '/':
			t[c] = byte(c)
		default:
			t[c] = '_'
		}
	}
	return t
}()

// letterBit marks letters in asciiNorm (ASCII leaves the top bit free).
const letterBit = 0x80

func trimUnderscores(dst []byte, start int) []byte {
	for len(dst) > start && dst[len(dst)-1] == '_' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// normalizeRunes is Normalize for any UTF-8 text.
func normalizeRunes(tag string) string {
	tag = strings.TrimSpace(tag)
	var b strings.Builder
	b.Grow(len(tag))
	lastUnderscore := false
	n := 0 // characters written
	for _, r := range tag {
		if b.Len() == 0 && !unicode.IsLetter(r) {
			continue
		}
		r = unicode.ToLower(r)
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == ':' || r == '.' || r == '/':
			lastUnderscore = false
		case r == '_':
			if lastUnderscore {
				continue
			}
			lastUnderscore = true
		default:
			if lastUnderscore {
				continue
			}
			r, lastUnderscore = '_', true
		}
		if n == MaxTagLength {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(b.String(), "_")
}

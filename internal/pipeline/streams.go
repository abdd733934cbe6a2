package pipeline

import (
	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/limits"
	"github.com/out-datadog-go/out_datadog_go/internal/join"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
	"github.com/out-datadog-go/out_datadog_go/internal/tags"
)

// joinOptions are the instance's options of package join: the message
// key, the size a multi-line log's message may reach so that the shaper
// never cuts it (the per-log limit, or max_batch_bytes when smaller, less
// room for the entry's other attributes), and how streams group lines.
func joinOptions(cfg *config.Config, tagger *tags.Tagger) join.Options {
	entry := min(limits.MaxLogBytes, cfg.MaxBatchBytes-2)
	return join.Options{
		MessageKey: cfg.MessageKey,
		MaxBytes:   min(shape.DefaultMaxMessageBytes, max(entry-16*1024, entry/2)),
		Streams:    &streams{tagger: tagger, auto: cfg.AutoMultiline},
	}
}

// streams tells package join how a container stream's lines group: by the
// container's multi_line rule, else by auto_multiline (the key, unless the
// container's com.datadoghq.ad.logs label sets auto_multi_line_detection).
type streams struct {
	tagger *tags.Tagger
	auto   bool
}

func (s *streams) Any() bool { return s.auto || s.tagger.GroupsLines() }

func (s *streams) Grouping(f *ecs.View) join.Grouping {
	r := s.tagger.Lookup(f)
	g := join.Grouping{Pattern: r.MultiLine, Auto: s.auto}
	if r.AutoMultiLine != nil {
		g.Auto = *r.AutoMultiLine
	}
	return g
}

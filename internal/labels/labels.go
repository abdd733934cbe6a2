// Package labels reads the Docker labels the Datadog Agent is configured
// with per container (ECS task definitions set them with dockerLabels and
// the task metadata endpoint returns them), so a team moving from the
// Agent's log collection to FireLens keeps them working.
package labels

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	jsoniter "github.com/json-iterator/go"

	"github.com/out-datadog-go/out_datadog_go/internal/rules"
)

// Label names.
const (
	Env     = "com.datadoghq.tags.env"
	Version = "com.datadoghq.tags.version"
	Service = "com.datadoghq.tags.service"
	ADTags  = "com.datadoghq.ad.tags"
	ADLogs  = "com.datadoghq.ad.logs"
	// OCI image annotations the Agent turns into source-code-integration tags.
	OCIRevision = "org.opencontainers.image.revision"
	OCISource   = "org.opencontainers.image.source"
)

// Tags returns the tags the Agent derives from a container's labels
// (comp/core/tagger/collectors/workloadmeta_extract.go, labelsToTags):
// service from com.datadoghq.tags.service (a standard tag; env and version,
// which records may override, are ranked by the caller), git.commit.sha and
// git.repository_url from the OCI labels, and each "key:value" of the
// com.datadoghq.ad.tags JSON list (entries not of that form are skipped, as
// the Agent does). err reports an ad.tags value that is not a JSON list of
// strings; the other tags are still returned.
func Tags(l map[string]string) (tags [][2]string, err error) {
	add := func(k, v string) {
		if v != "" {
			tags = append(tags, [2]string{k, v})
		}
	}
	add("service", l[Service])
	add("git.commit.sha", l[OCIRevision])
	add("git.repository_url", l[OCISource])
	if v, ok := l[ADTags]; ok {
		var list []string
		if e := jsoniter.ConfigCompatibleWithStandardLibrary.UnmarshalFromString(v, &list); e != nil {
			return tags, fmt.Errorf("label %s is not a JSON list of strings, ignored: %w", ADTags, e)
		}
		for _, t := range list {
			if parts := strings.Split(t, ":"); len(parts) == 2 {
				add(parts[0], parts[1])
			}
		}
	}
	return tags, nil
}

// LogConfig is the part of com.datadoghq.ad.logs an output can honour.
type LogConfig struct {
	Source  string `json:"source"`
	Service string `json:"service"`
	// SourceCategory and Tags are added to the container's tags, as the
	// Agent adds them to its logs: "sourcecategory:" + SourceCategory, then
	// each entry of Tags as written (pkg/logs/message/origin.go,
	// tagsToStringArray).
	SourceCategory string       `json:"sourcecategory"`
	Tags           []string     `json:"tags"`
	Rules          []rules.Spec `json:"log_processing_rules"`
	// AutoMultiLine turns auto_multiline on or off for the container's
	// logs whatever the output's key says, as the Agent's per-source
	// switch does (pkg/logs/config/integration_config.go); nil: unset.
	AutoMultiLine *bool `json:"auto_multi_line_detection"`
}

// entry is one configuration of the label as written. The Agent reads a
// label's JSON into its LogsConfig with Go's encoding/json
// (comp/logs/agent/config/parser.go ParseJSON, integration_config.go): its
// SourceCategory field has no json tag, so the key it takes is
// "sourcecategory", in any case. "source_category", the name of its YAML
// configurations, is taken too.
type entry struct {
	LogConfig
	SourceCategoryYAML string `json:"source_category"`
}

// honoured are the keys of a log configuration the plugin applies (lower
// case: the Agent's decoding matches keys case-insensitively).
var honoured = map[string]bool{"source": true, "service": true, "sourcecategory": true, "source_category": true,
	"tags": true, "log_processing_rules": true, "auto_multi_line_detection": true}

// maxListed bounds the keys named in one report.
const maxListed = 8

// Logs parses com.datadoghq.ad.logs, a JSON list of log configurations
// (`[{"source": "python", "service": "users-api", "tags": ["team:x"],
// "log_processing_rules": [...]}]`). ok is false when the label is absent.
// The first entry is the container's configuration. err reports a value
// that does not parse (nothing of it applies, as with the Agent, whose
// ParseJSON fails on it), and what of a parsed one is ignored: extra
// entries and keys an output cannot honour (paths, the Agent's
// auto_multi_line settings, ...); the rest of such a configuration applies.
func Logs(l map[string]string) (c LogConfig, ok bool, err error) {
	v, ok := l[ADLogs]
	if !ok {
		return c, false, nil
	}
	var list []entry
	if e := jsoniter.ConfigCompatibleWithStandardLibrary.UnmarshalFromString(v, &list); e != nil {
		return c, true, fmt.Errorf("label %s is not a JSON list of log configurations, ignored: %w", ADLogs, e)
	}
	if len(list) == 0 {
		return c, true, nil
	}
	c = list[0].LogConfig
	if c.SourceCategory == "" {
		c.SourceCategory = list[0].SourceCategoryYAML
	}
	var problems []string
	if len(list) > 1 {
		problems = append(problems, fmt.Sprintf("label %s has %d configurations; only the first applies to a FireLens container's logs", ADLogs, len(list)))
	}
	if keys := ignoredKeys(v); len(keys) > 0 {
		problems = append(problems, keys)
	}
	if len(problems) > 0 {
		err = errors.New(strings.Join(problems, "; "))
	}
	return c, true, err
}

// ignoredKeys describes the keys of the label's first configuration that
// the plugin does not apply, "" when there are none.
func ignoredKeys(v string) string {
	var list []map[string]jsoniter.RawMessage
	if jsoniter.ConfigCompatibleWithStandardLibrary.UnmarshalFromString(v, &list) != nil || len(list) == 0 {
		return ""
	}
	var keys []string
	multiline := false
	for k := range list[0] {
		lk := strings.ToLower(k)
		if !honoured[lk] {
			keys = append(keys, strconv.Quote(k))
			multiline = multiline || strings.HasPrefix(lk, "auto_multi_line")
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	if len(keys) > maxListed {
		keys = append(keys[:maxListed], fmt.Sprintf("and %d more", len(keys)-maxListed))
	}
	msg := fmt.Sprintf("label %s: %s not applied by an output, ignored", ADLogs, strings.Join(keys, ", "))
	if multiline {
		msg += " (auto_multi_line_detection turns the plugin's detection on or off; it has no other setting)"
	}
	return msg
}

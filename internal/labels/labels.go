// Package labels reads the Docker labels the Datadog Agent is configured
// with per container (ECS task definitions set them with dockerLabels and
// the task metadata endpoint returns them), so a team moving from the
// Agent's log collection to FireLens keeps them working.
package labels

import (
	"fmt"
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
	Source  string       `json:"source"`
	Service string       `json:"service"`
	Rules   []rules.Spec `json:"log_processing_rules"`
}

// Logs parses com.datadoghq.ad.logs, a JSON list of log configurations
// (`[{"source": "python", "service": "users-api", "log_processing_rules":
// [...]}]`). ok is false when the label is absent. The first entry is the
// container's configuration; err reports a value that does not parse, or
// extra entries, which are ignored.
func Logs(l map[string]string) (c LogConfig, ok bool, err error) {
	v, ok := l[ADLogs]
	if !ok {
		return c, false, nil
	}
	var list []LogConfig
	if e := jsoniter.ConfigCompatibleWithStandardLibrary.UnmarshalFromString(v, &list); e != nil {
		return c, true, fmt.Errorf("label %s is not a JSON list of log configurations, ignored: %w", ADLogs, e)
	}
	if len(list) == 0 {
		return c, true, nil
	}
	if len(list) > 1 {
		err = fmt.Errorf("label %s has %d configurations; only the first applies to a FireLens container's logs", ADLogs, len(list))
	}
	return list[0], true, err
}

package flbconf

import (
	"path/filepath"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// parseYAML reads Fluent Bit's YAML format (4.x and 5.x,
// src/config_format/flb_cf_yaml.c): env, includes, service, and pipeline's
// inputs, filters and outputs (lists of maps). A list of scalars is the
// key set once per item (configure_plugins_type sets each entry of a
// CFL_VARIANT_ARRAY); maps (processors) are not properties and are left
// out. An unparsable file is one Fluent Bit refused: nothing is taken from
// it.
func (r *reader) parseYAML(path string, b []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		val := top.Content[i+1]
		switch strings.ToLower(top.Content[i].Value) {
		case "env":
			r.yamlEnv(val)
		case "includes":
			for _, inc := range val.Content {
				if inc.Kind == yaml.ScalarNode {
					r.include(inc.Value, filepath.Dir(path))
				}
			}
		case "service":
			r.sections = append(r.sections, yamlSection("service", path, val))
		case "pipeline":
			for j := 0; j+1 < len(val.Content); j += 2 {
				kind := sectionKind(val.Content[j].Value)
				for _, entry := range val.Content[j+1].Content {
					r.sections = append(r.sections, yamlSection(kind, path, entry))
				}
			}
		}
	}
}

// yamlEnv reads env: a map of name to value, or (5.x) a list of maps with
// name and value, or uri (a file:// reference Fluent Bit's env reads).
func (r *reader) yamlEnv(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode {
				r.env = append(r.env, [2]string{n.Content[i].Value, v.Value})
			}
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			var name, value, uri string
			for i := 0; e.Kind == yaml.MappingNode && i+1 < len(e.Content); i += 2 {
				switch strings.ToLower(e.Content[i].Value) {
				case "name":
					name = e.Content[i+1].Value
				case "value":
					value = e.Content[i+1].Value
				case "uri":
					uri = e.Content[i+1].Value
				}
			}
			if uri != "" { // flb_env_set_extended reads the uri, not the value
				value = uri
			}
			if name != "" {
				r.env = append(r.env, [2]string{name, value})
			}
		}
	}
}

func yamlSection(kind, path string, m *yaml.Node) Section {
	s := Section{Kind: kind, Where: where(path, m.Line)}
	if m.Kind != yaml.MappingNode {
		return s
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, v := yamlKey(m.Content[i].Value), m.Content[i+1]
		switch v.Kind {
		case yaml.ScalarNode:
			s.Props = append(s.Props, Property{Key: key, Raw: strings.TrimSpace(v.Value)})
		case yaml.SequenceNode:
			for _, item := range v.Content {
				if item.Kind == yaml.ScalarNode {
					s.Props = append(s.Props, Property{Key: key, Raw: strings.TrimSpace(item.Value)})
				}
			}
		}
	}
	return s
}

// yamlKey is a YAML key as flb_cf_key_translate gives it: one starting with
// a lower-case letter and holding no '_' is camelCase, made snake_case
// (retryLimit: retry_limit); any other is kept.
func yamlKey(k string) string {
	if k == "" || !unicode.IsLower(rune(k[0])) || strings.Contains(k, "_") {
		return k
	}
	var b strings.Builder
	for i, c := range k {
		if unicode.IsUpper(c) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

package flbconf

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYAML reads Fluent Bit's YAML format (4.x): service, pipeline's
// inputs, filters and outputs (lists of maps), and includes. Values that
// are not scalars (processors) are not properties and are left out.
func (c *Config) parseYAML(path string, b []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil
	}
	var includes []string
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := strings.ToLower(top.Content[i].Value), top.Content[i+1]
		switch key {
		case "service":
			c.Sections = append(c.Sections, yamlSection("service", path, val))
		case "includes":
			for _, inc := range val.Content {
				if inc.Kind == yaml.ScalarNode {
					includes = append(includes, inc.Value)
				}
			}
		case "pipeline":
			for j := 0; j+1 < len(val.Content); j += 2 {
				kind := strings.TrimSuffix(strings.ToLower(val.Content[j].Value), "s") // inputs → input
				for _, entry := range val.Content[j+1].Content {
					c.Sections = append(c.Sections, yamlSection(kind, path, entry))
				}
			}
		}
	}
	return includes, nil
}

func yamlSection(kind, path string, m *yaml.Node) Section {
	s := Section{Kind: kind, Where: fmt.Sprintf("%s:%d", path, m.Line)}
	if m.Kind != yaml.MappingNode {
		return s
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := m.Content[i+1]; v.Kind == yaml.ScalarNode {
			s.Props = append(s.Props, Property{m.Content[i].Value, v.Value})
		}
	}
	return s
}

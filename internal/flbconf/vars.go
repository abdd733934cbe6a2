package flbconf

import "strings"

// Vars are Fluent Bit's configuration variables: the plugin (plugin/
// fluentbit.c) backs them with the running Fluent Bit's own struct flb_env
// (flb_env_create, flb_env_set, flb_env_var_translate in src/flb_env.c), so
// a value expands exactly as that version expands it: the process
// environment, ${HOSTNAME}, file:// values (4.x and later), ${NAME:-default}
// (4.2.5 and 5.0.6 on; 1.9.10 reads "NAME:-default" as a name, unset), and
// the quirks of its scanner. Without Fluent Bit (another host, unit
// tests) there are none, and a value holding ${...} stays unresolved.
type Vars interface {
	// Set defines a variable, as a YAML env entry or @SET does
	// (flb_env_set).
	Set(name, value string)
	// Expand is value with its variables expanded (flb_env_var_translate).
	Expand(value string) string
}

// expand sets the YAML env entries, then the @SET ones (the order
// flb_config_load_config_format applies them in, before any section is
// configured), and expands every value.
func (c *Config) expand(vars Vars, env, sets [][2]string) {
	c.Vars = vars != nil
	if vars != nil {
		for _, kv := range append(env, sets...) {
			vars.Set(kv[0], kv[1])
		}
	}
	for i := range c.Sections {
		for j := range c.Sections[i].Props {
			p := &c.Sections[i].Props[j]
			p.Value = p.Raw
			if !strings.Contains(p.Raw, "${") {
				continue
			}
			if vars == nil {
				p.Unresolved = true
			} else {
				p.Value = vars.Expand(p.Raw)
			}
		}
	}
}

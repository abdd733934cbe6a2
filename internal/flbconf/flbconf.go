// Package flbconf reads the configuration of the Fluent Bit process the
// plugin is loaded in, as Fluent Bit's own reader reads it.
//
// Fluent Bit's Go proxy lets a plugin ask for a key of its own [OUTPUT]
// section (output_get_property, the first value of the key) but not list
// them, and it keeps Host, Port, TLS, tls.*, workers, Retry_Limit... and the
// service's Grace to itself. To tell a user about a misspelt key, to apply a
// Host left over from the built-in output, to send every `header` line and to
// end flushes inside Grace, the plugin reads the files named on the command
// line (/proc/self/cmdline's -c), and the -o/-p options, with Fluent Bit's
// rules (src/config_format/flb_cf_fluentbit.c and flb_cf_yaml.c, at v1.9.10,
// v4.2.8 and v5.1.1, the same where this package relies on them):
//
//   - the format is the main file's (".yaml"/".yml": YAML, else classic),
//     and every file it includes is read in it;
//   - classic @INCLUDE of a path looks in the working directory first, then
//     beside the main file (read_config: stat, then root_path, the main
//     file's directory after realpath); an @INCLUDE with '*' is a glob from
//     the main file's directory (read_glob); YAML includes are read from the
//     including file's directory;
//   - variables (${NAME}) are expanded by Fluent Bit's own code (Vars), after
//     every YAML env entry and then every @SET, wherever they appear, have
//     been set (flb_config_load_config_format, 1.9's service_configure);
//   - keys match without regard to case (prop_key_check), and YAML's
//     camelCase keys are Fluent Bit's snake_case (flb_cf_key_translate).
//
// A file Fluent Bit read that the plugin cannot read again (a named pipe, a
// file since removed) is not an error: Config.Unread says so, and the
// checks that depend on it take the choice that loses nothing.
package flbconf

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Property is one "key value" of a section.
type Property struct {
	Key   string // as written
	Raw   string // the value as written (trimmed, as Fluent Bit trims it)
	Value string // as Fluent Bit passes it on: variables expanded; Raw when Unresolved
	// Unresolved: Raw holds ${...} and there was no Vars to expand it.
	Unresolved bool
}

// Section is one [SERVICE], [INPUT], [FILTER], [OUTPUT]... of the
// configuration (or an entry of a YAML file, or -o with its -p).
type Section struct {
	Kind  string // "service", "input", "filter", "output"... (Fluent Bit's section types)
	Where string // file:line, or "command line"
	Props []Property
}

// Get returns the first value of key (case-insensitive, as Fluent Bit
// matches keys).
func (s *Section) Get(key string) (string, bool) {
	for _, p := range s.Props {
		if strings.EqualFold(p.Key, key) {
			return p.Value, true
		}
	}
	return "", false
}

// Values are every value of key, in order: a key Fluent Bit takes several
// times (header) gives several.
func (s *Section) Values(key string) []string {
	var vs []string
	for _, p := range s.Props {
		if strings.EqualFold(p.Key, key) {
			vs = append(vs, p.Value)
		}
	}
	return vs
}

// Keys are the section's keys as written, in order.
func (s *Section) Keys() []string {
	ks := make([]string, len(s.Props))
	for i, p := range s.Props {
		ks[i] = p.Key
	}
	return ks
}

// Config is what was read.
type Config struct {
	Files    []string // the files read, the main one first
	Sections []Section
	// Unread are the files Fluent Bit read that the plugin could not, each
	// "path: why". Anything they set (a Grace, a variable, a section) is
	// unknown to the plugin.
	Unread []string
	// Vars: variables were expanded with Fluent Bit's code. When false,
	// values holding ${...} are Unresolved.
	Vars bool
	// err is why no configuration was read at all (Grace reports it).
	err error
}

// Outputs are the output sections whose Name is name (none of a nil
// Config).
func (c *Config) Outputs(name string) []Section {
	if c == nil {
		return nil
	}
	var out []Section
	for _, s := range c.Sections {
		if n, _ := s.Get("name"); s.Kind == "output" && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, s)
		}
	}
	return out
}

// Self reads the configuration of the running process, expanding
// variables with vars (nil: no expansion, see Config.Vars).
func Self(vars Vars) *Config {
	b, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		return &Config{err: err}
	}
	dir, err := os.Getwd()
	if err != nil {
		return &Config{err: err}
	}
	return Load(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), dir, vars)
}

// Load reads the configuration of a Fluent Bit started with args (argv,
// the program first) in the working directory dir: the file of -c (the
// last one, as getopt leaves it), then the outputs of -o with their -p.
// Fluent Bit changes to -w's directory before it reads the file: dir is
// that directory (the process's working directory, as Self gives it).
func Load(args []string, dir string, vars Vars) *Config {
	var file string
	var cli []Section
	for i := 1; i < len(args); i++ {
		opt, val, next := option(args, i)
		i = next
		switch opt {
		case "c", "config":
			file = val
		case "o", "output", "i", "input", "F", "filter":
			kind := map[string]string{"o": "output", "output": "output", "i": "input", "input": "input"}[opt]
			if kind == "" {
				kind = "filter"
			}
			cli = append(cli, Section{Kind: kind, Where: "command line", Props: []Property{{Key: "name", Raw: val}}})
		case "p", "prop":
			if len(cli) > 0 {
				k, v, _ := strings.Cut(val, "=")
				cli[len(cli)-1].Props = append(cli[len(cli)-1].Props, Property{Key: strings.TrimSpace(k), Raw: strings.TrimSpace(v)})
			}
		}
	}
	if file == "" && len(cli) == 0 {
		return &Config{err: errors.New("no configuration on the command line (-c or -o): not Fluent Bit's command line")}
	}
	r := newReader(dir)
	if file != "" {
		r.main(file)
	}
	r.sections = append(r.sections, cli...)
	c := &Config{Files: r.files, Sections: r.sections, Unread: r.unread}
	c.expand(vars, r.env, r.sets)
	return c
}

// withArg are Fluent Bit's options that take an argument (1.9, 4.x and
// 5.x), short and long.
var withArg = map[string]bool{
	"b": true, "c": true, "f": true, "C": true, "i": true, "m": true, "M": true, "o": true, "R": true, "r": true,
	"F": true, "p": true, "e": true, "t": true, "T": true, "l": true, "w": true, "L": true, "P": true, "s": true,
	"storage_path": true, "config": true, "flush": true, "log_file": true, "port": true, "custom": true,
	"input": true, "processor": true, "filter": true, "output": true, "match": true, "parser": true,
	"prop": true, "plugin": true, "tag": true, "sp-task": true, "workdir": true, "coro_stack_size": true,
	"http_listen": true, "http_port": true, "windows_maxstdio": true, "trace": true, "trace-input": true,
	"trace-output": true, "trace-output-property": true,
}

// option reads the option at args[i] as getopt_long does: "-c X", "-cX",
// "--config X", "--config=X". It returns the option's name (without
// dashes; "" for anything else), its argument and the index of the last
// argument it used.
func option(args []string, i int) (name, val string, last int) {
	a := args[i]
	switch {
	case strings.HasPrefix(a, "--") && len(a) > 2:
		name, val, hasVal := strings.Cut(a[2:], "=")
		if !withArg[name] || hasVal {
			return name, val, i
		}
		if i+1 < len(args) {
			return name, args[i+1], i + 1
		}
		return name, "", i
	case strings.HasPrefix(a, "-") && len(a) >= 2:
		// Flags without argument may be grouped ("-vq"); the first that
		// takes one ends the group.
		for j := 1; j < len(a); j++ {
			o := a[j : j+1]
			if !withArg[o] {
				continue
			}
			if j+1 < len(a) {
				return o, a[j+1:], i
			}
			if i+1 < len(args) {
				return o, args[i+1], i + 1
			}
			return o, "", i
		}
	}
	return "", "", i
}

// sectionKind is Fluent Bit's type of a section named name
// (get_section_type in src/config_format/flb_config_format.c): the first
// type whose name starts with name, without regard to case ("[OUT]" is an
// output), else "other".
func sectionKind(name string) string {
	if name == "" {
		return "other"
	}
	for _, k := range [...]struct{ kind, name string }{
		{"service", "service"}, {"parser", "parser"}, {"multiline_parser", "multiline_parser"},
		{"stream_processor", "stream_processor"}, {"plugins", "plugins"}, {"upstream_servers", "upstream_servers"},
		{"custom", "custom"}, {"custom", "customs"}, {"input", "input"}, {"input", "inputs"},
		{"filter", "filter"}, {"filter", "filters"}, {"output", "output"}, {"output", "outputs"},
	} {
		if len(name) <= len(k.name) && strings.EqualFold(name, k.name[:len(name)]) {
			return k.kind
		}
	}
	return "other"
}

// where is "path:line".
func where(path string, line int) string { return fmt.Sprintf("%s:%d", path, line) }

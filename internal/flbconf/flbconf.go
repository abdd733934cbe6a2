// Package flbconf reads the configuration of the Fluent Bit process the
// plugin is loaded in, as Fluent Bit's own files and command line give it.
//
// Fluent Bit's Go proxy lets a plugin ask for a key of its own [OUTPUT]
// section (output_get_property) but not list them, and it keeps Host, Port,
// TLS, tls.*, workers... to itself. To tell a user about a misspelt key, or
// a Host left over from the built-in output, the plugin reads the files
// named on the command line (/proc/self/cmdline's -c), following @INCLUDE
// (classic format) and includes (YAML), and the -o/-p options. Nothing here
// is trusted on its own: package config only reports a key that Fluent Bit
// confirms, through output_get_property, is set on the instance.
package flbconf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Property is one "key value" of a section, the key as written.
type Property struct {
	Key, Value string
}

// Section is one [SERVICE], [INPUT], [FILTER], [OUTPUT]... of the
// configuration (or a pipeline entry of a YAML file, or -o with its -p).
type Section struct {
	Kind  string // "service", "input", "filter", "output"... in lower case
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

// Config is what was read.
type Config struct {
	Files    []string // the files read, the main one first
	Sections []Section
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

// Grace is the service's Grace (Fluent Bit's default, 5 s, when not set or
// not a number, or c is nil). Negative means "wait for every flush"
// (Fluent Bit 4).
func (c *Config) Grace() time.Duration {
	grace := 5 * time.Second
	if c == nil {
		return grace
	}
	for _, s := range c.Sections {
		if v, ok := s.Get("grace"); s.Kind == "service" && ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				grace = time.Duration(n) * time.Second
			}
		}
	}
	return grace
}

// maxFiles bounds the files one configuration may include.
const maxFiles = 256

// Self reads the configuration of the running process.
func Self() (*Config, error) {
	b, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		return nil, err
	}
	dir, err := os.Readlink("/proc/self/cwd")
	if err != nil {
		return nil, err
	}
	return Load(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), dir)
}

// Load reads the configuration of a Fluent Bit started with args (argv,
// the program first) in the working directory dir: the file of -c (the
// last one, as getopt leaves it), then the outputs of -o with their -p.
func Load(args []string, dir string) (*Config, error) {
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
			cli = append(cli, Section{Kind: kind, Where: "command line", Props: []Property{{"name", val}}})
		case "p", "prop":
			if len(cli) > 0 {
				k, v, _ := strings.Cut(val, "=")
				cli[len(cli)-1].Props = append(cli[len(cli)-1].Props, Property{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	c := &Config{}
	if file != "" {
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if err := c.read(file, filepath.Dir(file)); err != nil {
			return c, err
		}
	}
	c.Sections = append(c.Sections, cli...)
	if file == "" && len(cli) == 0 {
		return c, errors.New("no configuration on the command line (-c or -o)")
	}
	return c, nil
}

// withArg are Fluent Bit's options that take an argument (1.9 and 4.x),
// short and long.
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

// read reads one file (classic or YAML) and what it includes; root is the
// main file's directory. Relative includes are read from root in the
// classic format (src/config_format/flb_cf_fluentbit.c, read_glob) and from
// the including file's directory in YAML (flb_cf_yaml.c, read_config).
func (c *Config) read(path, root string) error {
	for _, f := range c.Files {
		if f == path {
			return nil // included twice (or in a loop)
		}
	}
	if len(c.Files) >= maxFiles {
		return fmt.Errorf("more than %d configuration files", maxFiles)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	c.Files = append(c.Files, path)
	var includes []string
	base := root
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		includes, err = c.parseYAML(path, b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		base = filepath.Dir(path)
	} else {
		includes = c.parseClassic(path, b)
	}
	for _, inc := range includes {
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(base, inc)
		}
		matches, err := filepath.Glob(inc)
		if err != nil || len(matches) == 0 {
			matches = []string{inc}
		}
		for _, m := range matches {
			if err := c.read(m, root); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseClassic reads Fluent Bit's classic format: [SECTION] headers,
// indented "key value" lines, # comments, @INCLUDE and @SET. It returns
// the files included, in order.
func (c *Config) parseClassic(path string, b []byte) []string {
	var includes []string
	var cur *Section
	for n, line := range bytes.Split(b, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if l == "" || l[0] == '#' {
			continue
		}
		if l[0] == '@' {
			directive, arg, _ := strings.Cut(l, " ")
			if strings.EqualFold(directive, "@INCLUDE") {
				includes = append(includes, strings.TrimSpace(arg))
			}
			continue
		}
		if l[0] == '[' {
			kind := strings.ToLower(strings.TrimSpace(strings.Trim(l, "[]")))
			c.Sections = append(c.Sections, Section{Kind: kind, Where: fmt.Sprintf("%s:%d", path, n+1)})
			cur = &c.Sections[len(c.Sections)-1]
			continue
		}
		if cur == nil {
			continue
		}
		key, val, _ := strings.Cut(l, " ")
		if i := strings.IndexByte(key, '\t'); i >= 0 {
			key, val = key[:i], key[i+1:]+" "+val
		}
		cur.Props = append(cur.Props, Property{key, strings.TrimSpace(val)})
	}
	return includes
}

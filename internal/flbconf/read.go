package flbconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Bounds of what one configuration may make the plugin read: Fluent Bit's
// own limit of files (FLB_CF_FILE_NUM_LIMIT, src/config_format/
// flb_cf_fluentbit.c, 4.x), and bytes, far above any real configuration.
const (
	maxFiles = 1000
	maxBytes = 32 << 20
)

// reader reads one configuration: the main file and what it includes.
type reader struct {
	cwd   string // the working directory: where Fluent Bit looked first
	root  string // the main file's directory, symbolic links resolved (classic root_path)
	yaml  bool   // the main file's format, which every included file is read in
	bytes int

	files    []string
	sections []Section
	unread   []string
	env      [][2]string // YAML env entries, in order
	sets     [][2]string // @SET name=value, in order
}

func newReader(cwd string) *reader { return &reader{cwd: cwd} }

// main reads the file of -c, as flb_cf_create_from_file picks its format:
// by what follows its last '.' (".yaml" or ".yml", any case: YAML).
func (r *reader) main(file string) {
	if i := strings.LastIndexByte(file, '.'); i >= 0 {
		ext := strings.ToLower(file[i:])
		r.yaml = ext == ".yaml" || ext == ".yml"
	}
	path := r.abs(file)
	r.root = filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(path); err == nil { // local_init's realpath
		r.root = filepath.Dir(real)
	}
	r.read(path)
}

func (r *reader) abs(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(r.cwd, path)
}

// read reads one file and, as it meets them, what it includes.
func (r *reader) read(path string) {
	if slices.Contains(r.files, path) {
		return // included twice: Fluent Bit refuses to start, or loops (1.9)
	}
	b, err := r.load(path)
	if err != nil {
		r.unread = append(r.unread, fmt.Sprintf("%s: %v", path, err))
		return
	}
	r.files = append(r.files, path)
	if r.yaml {
		r.parseYAML(path, b)
	} else {
		r.parseClassic(path, b)
	}
}

// load reads a file Fluent Bit read before, never blocking: a named pipe
// or a device gives its content once (to Fluent Bit), so the plugin opens
// it without waiting for a writer and does not read it. A directory reads
// as empty, as fopen and fgets give it to Fluent Bit.
func (r *reader) load(path string) ([]byte, error) {
	if len(r.files) >= maxFiles {
		return nil, fmt.Errorf("more than %d configuration files", maxFiles)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case st.IsDir():
		return nil, nil
	case !st.Mode().IsRegular():
		kind := "not a regular file"
		switch t := st.Mode().Type(); {
		case t&fs.ModeNamedPipe != 0:
			kind = "a named pipe"
		case t&fs.ModeDevice != 0:
			kind = "a device"
		case t&fs.ModeSocket != 0:
			kind = "a socket"
		}
		return nil, fmt.Errorf("%s, whose content went to Fluent Bit", kind)
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(maxBytes-r.bytes)+1))
	if err != nil {
		return nil, err
	}
	if r.bytes += len(b); r.bytes > maxBytes {
		return nil, fmt.Errorf("the configuration's files hold more than %d bytes", maxBytes)
	}
	return b, nil
}

// include reads an included path: from, the including file's directory,
// for YAML; the working directory, then the main file's, for classic. A
// path with '*' is a glob (read_glob): from the including file's directory
// (YAML) or the main file's (classic).
func (r *reader) include(path, from string) {
	if strings.Contains(path, "*") {
		base := r.root
		if r.yaml {
			base = from
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(base, path)
		}
		matches, err := glob(path)
		if err == nil && len(matches) == 0 {
			err = errors.New("matches no file") // Fluent Bit refuses to start then: it saw others
		}
		if err != nil {
			r.unread = append(r.unread, fmt.Sprintf("%s: %v", path, err))
		}
		for _, m := range matches {
			r.read(m)
		}
		return
	}
	switch {
	case filepath.IsAbs(path):
	case r.yaml:
		path = filepath.Join(from, path)
	default:
		p := filepath.Join(r.cwd, path)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			p = filepath.Join(r.root, path)
		}
		path = p
	}
	r.read(filepath.Clean(path))
}

// glob lists the paths matching pattern as glob(3) does for Fluent Bit
// (GLOB_NOSORT: in directory order; a name starting with '.' matches only
// a pattern starting with '.').
func glob(pattern string) ([]string, error) {
	paths := []string{"/"}
	for _, part := range strings.Split(strings.TrimPrefix(filepath.Clean(pattern), "/"), "/") {
		var next []string
		for _, dir := range paths {
			if !strings.ContainsAny(part, "*?[") {
				if p := filepath.Join(dir, part); exists(p) {
					next = append(next, p)
				}
				continue
			}
			d, err := os.Open(dir)
			if err != nil {
				continue
			}
			names, _ := d.Readdirnames(-1)
			d.Close()
			for _, n := range names {
				if strings.HasPrefix(n, ".") && !strings.HasPrefix(part, ".") {
					continue
				}
				ok, err := filepath.Match(part, n)
				if err != nil {
					return nil, err
				}
				if ok {
					next = append(next, filepath.Join(dir, n))
				}
			}
		}
		paths = next
	}
	return paths, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// parseClassic reads Fluent Bit's classic format as read_config does:
// lines from column 0 are @INCLUDE, @SET (any other @ directive is
// ignored), [SECTION] or # comments; inside a section, a line holds a key,
// a space and a value (both trimmed), and one indented past the section's
// first key belongs to a group ([group] lines, 4.x), not to the section.
func (r *reader) parseClassic(path string, b []byte) {
	cur := -1 // index of the current section in r.sections
	indent, inGroup := -1, false
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case line == "" || line[0] == '#':
			continue
		case len(line) > 9 && strings.EqualFold(line[:9], "@INCLUDE "):
			r.include(line[9:], filepath.Dir(path))
			continue
		case line[0] == '@':
			// flb_cf_meta_property_add: "@CMD params", both trimmed;
			// flb_meta_run's SET: "name=value", neither trimmed again.
			if cmd, params, ok := strings.Cut(line[1:], " "); ok && len(line) > 3 && strings.EqualFold(strings.TrimSpace(cmd), "SET") {
				if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok {
					r.sets = append(r.sets, [2]string{k, v})
				}
			}
			continue
		case line[0] == '[':
			if end := strings.IndexByte(line, ']'); end > 0 {
				r.sections = append(r.sections, Section{Kind: sectionKind(line[1:end]), Where: where(path, n+1)})
				cur, inGroup = len(r.sections)-1, false
			}
			continue
		}
		lead := len(line) - len(strings.TrimLeft(line, " \t"))
		if indent < 0 {
			indent = lead
		}
		rest := line[lead:]
		if lead > indent && inGroup || rest == "" || rest[0] == '#' {
			continue
		}
		inGroup = false
		key, val, ok := strings.Cut(rest, " ")
		if !ok || cur < 0 {
			continue // Fluent Bit refuses the file ("undefined value")
		}
		if key[0] == '[' {
			inGroup = true
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if val != "" {
			r.sections[cur].Props = append(r.sections[cur].Props, Property{Key: key, Raw: val})
		}
	}
}

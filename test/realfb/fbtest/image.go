package fbtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Image is the router image's file layout (docker/Dockerfile) laid out
// under Root, a directory standing for the image's "/", so that real Fluent
// Bit can run the configuration the image ships without a container engine.
type Image struct {
	Root string
}

// imagePath matches an absolute path of the image where a config names one:
// under /fluent-bit/ (AWS's tree and ours), /var/fluent-bit/ (the storage
// path) or /init/ (the init variant's files).
var imagePath = regexp.MustCompile(`(^|[\s"'=])/(fluent-bit|var/fluent-bit|init)/`)

// Rewrite maps the image's absolute paths in a config text to their place
// under Root: the only change made to the files the image ships.
func (im Image) Rewrite(conf string) string {
	return imagePath.ReplaceAllString(conf, "${1}"+filepath.ToSlash(im.Root)+"/${2}/")
}

// Path is where the image's absolute path p is on disk.
func (im Image) Path(p string) string { return filepath.Join(im.Root, p) }

// LayImage reads the COPY lines of the Dockerfile's last stage and lays
// their files out under root: files from the build context (root-relative
// to repo) are copied, config files (*.conf) through Rewrite, and the
// plugin the builder stage makes (COPY --from=builder) is a link to
// Plugin().
func LayImage(repo, dockerfile, root string) (Image, error) {
	im := Image{Root: root}
	copies, err := finalCopies(dockerfile)
	if err != nil {
		return im, err
	}
	if len(copies) == 0 {
		return im, fmt.Errorf("fbtest: %s: no COPY in its last stage", dockerfile)
	}
	for _, c := range copies {
		dst := im.Path(c.dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return im, err
		}
		if c.from != "" {
			if !strings.HasSuffix(c.src, ".so") {
				return im, fmt.Errorf("fbtest: %s: COPY --from=%s %s: only the plugin is known", dockerfile, c.from, c.src)
			}
			so, err := Plugin()
			if err == nil {
				so, err = filepath.Abs(so)
			}
			if err != nil {
				return im, err
			}
			if err := os.Symlink(so, dst); err != nil {
				return im, err
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(repo, c.src))
		if err != nil {
			return im, fmt.Errorf("fbtest: %s: %w", dockerfile, err)
		}
		if strings.HasSuffix(c.dst, ".conf") {
			b = []byte(im.Rewrite(string(b)))
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return im, err
		}
	}
	return im, nil
}

type copyLine struct{ from, src, dst string }

// finalCopies are the single-source COPY lines after the Dockerfile's last
// FROM (line continuations are not used there).
func finalCopies(dockerfile string) ([]copyLine, error) {
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		return nil, err
	}
	var last []string // the COPY lines of the stage read last
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
		case strings.EqualFold(f[0], "FROM"):
			last = last[:0]
		case strings.EqualFold(f[0], "COPY"):
			last = append(last, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []copyLine
	for _, line := range last {
		c := copyLine{}
		args := strings.Fields(line)[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") {
			if v, ok := strings.CutPrefix(args[0], "--from="); ok {
				c.from = v
			}
			args = args[1:]
		}
		if len(args) != 2 {
			return nil, fmt.Errorf("fbtest: %s: COPY with %d paths: %q", dockerfile, len(args), line)
		}
		c.src, c.dst = args[0], args[1]
		out = append(out, c)
	}
	return out, nil
}

package flbconf

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mapVars stands in for Fluent Bit's flb_env in these tests: ${NAME}
// from what was Set, else env. (Fluent Bit's own expansion, with its
// version's rules, runs in test/realfb.)
type mapVars struct {
	set map[string]string
	env map[string]string
}

func (m *mapVars) Set(name, value string) {
	if m.set == nil {
		m.set = map[string]string{}
	}
	m.set[name] = value
}

var varRe = regexp.MustCompile(`\$\{([^}]*)\}`)

func (m *mapVars) Expand(v string) string {
	return varRe.ReplaceAllStringFunc(v, func(s string) string {
		name := s[2 : len(s)-1]
		if x, ok := m.set[name]; ok {
			return x
		}
		return m.env[name]
	})
}

func props(s Section) map[string]string {
	m := map[string]string{}
	for _, p := range s.Props {
		m[p.Key] = p.Value
	}
	return m
}

// The aws-for-fluent-bit init variant: -c /init/fluent-bit-init.conf
// @INCLUDEs the FireLens config and the user's files (a glob, from the main
// file's directory), and a relative include that is not in the working
// directory is read beside the main file.
func TestClassicIncludes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "etc/fluent-bit.conf", "[INPUT]\n    Name forward\n    unix_path /var/run/fluent.sock\n\n"+
		"[OUTPUT]\n    Name  datadog_go\n    Match app-firelens*\n    dd_sevice web\n    Host http-intake.logs.datadoghq.eu\n    TLS\t on\n")
	write(t, dir, "init/extra/a.conf", "[SERVICE]\n    Grace 30\n")
	write(t, dir, "init/extra/b.conf", "# nothing\n[OUTPUT]\n    Name null\n    Match *\n")
	write(t, dir, "init/extra/.b.conf.swp", "[SERVICE]\n    Grace 1\n") // glob(3)'s * skips dot files
	write(t, dir, "init/beside.conf", "[FILTER]\n    Name grep\n")
	main := write(t, dir, "init/fluent-bit-init.conf", "@SET x=1\n@INCLUDE "+filepath.Join(dir, "etc/fluent-bit.conf")+
		"\n@INCLUDE extra/*.conf\n@INCLUDE beside.conf\n")
	c := Load([]string{"fluent-bit", "-e", "/fluent-bit/firehose.so", "-c", main}, "/", nil)
	if len(c.Files) != 5 || len(c.Unread) != 0 {
		t.Errorf("files read: %q, unread %q", c.Files, c.Unread)
	}
	outs := c.Outputs("datadog_go")
	if len(outs) != 1 {
		t.Fatalf("datadog_go outputs: %+v", c.Sections)
	}
	want := map[string]string{"Name": "datadog_go", "Match": "app-firelens*", "dd_sevice": "web", "Host": "http-intake.logs.datadoghq.eu", "TLS": "on"}
	if got := props(outs[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("props %q, want %q", got, want)
	}
	if v, _ := outs[0].Get("HOST"); v != "http-intake.logs.datadoghq.eu" {
		t.Errorf("Get is not case-insensitive: %q", v)
	}
	if g := c.Grace(); g != (Grace{Seconds: 30, Known: true, Where: filepath.Join(dir, "init/extra/a.conf") + ":1"}) {
		t.Errorf("Grace %+v, want 30 from a.conf", g)
	}
}

// read_config stats a relative @INCLUDE from the working directory first,
// and only when it is not there, beside the main file (root_path).
func TestIncludeSearchOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "work/out.conf", "[OUTPUT]\n    Name datadog_go\n    site datadoghq.eu\n")
	write(t, dir, "conf/out.conf", "[OUTPUT]\n    Name datadog_go\n    site us5.datadoghq.com\n")
	main := write(t, dir, "conf/fluent-bit.conf", "@INCLUDE out.conf\n")
	c := Load([]string{"fluent-bit", "-c", main}, filepath.Join(dir, "work"), nil)
	if outs := c.Outputs("datadog_go"); len(outs) != 1 || props(outs[0])["site"] != "datadoghq.eu" {
		t.Errorf("read %q: %+v", c.Files, outs)
	}
	c = Load([]string{"fluent-bit", "-c", main}, dir, nil)
	if outs := c.Outputs("datadog_go"); len(outs) != 1 || props(outs[0])["site"] != "us5.datadoghq.com" {
		t.Errorf("read %q: %+v", c.Files, outs)
	}
	// The main file through a symbolic link: root_path is realpath's.
	link := filepath.Join(dir, "fluent-bit.conf")
	if err := os.Symlink(main, link); err != nil {
		t.Fatal(err)
	}
	c = Load([]string{"fluent-bit", "-c", "fluent-bit.conf"}, dir, nil)
	if outs := c.Outputs("datadog_go"); len(outs) != 1 || props(outs[0])["site"] != "us5.datadoghq.com" {
		t.Errorf("through a link, read %q: %+v", c.Files, outs)
	}
}

// @SET and YAML env apply to every section, wherever they appear (Fluent
// Bit sets them all before it configures any section); values are
// expanded by Vars, and stay unresolved without.
func TestVariables(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "late.conf", "@SET SITE=datadoghq.eu\n@SET G = 7\n")
	main := write(t, dir, "fluent-bit.conf", "[SERVICE]\n    Grace ${G}\n[OUTPUT]\n    Name datadog_go\n    site ${SITE}\n    dd_service ${HOSTNAME}\n@INCLUDE late.conf\n")
	vars := &mapVars{env: map[string]string{"HOSTNAME": "box"}}
	c := Load([]string{"fluent-bit", "-c", main}, dir, vars)
	out := c.Outputs("datadog_go")[0]
	if v, _ := out.Get("site"); v != "datadoghq.eu" || !c.Vars {
		t.Errorf("site %q", v)
	}
	if v, _ := out.Get("dd_service"); v != "box" {
		t.Errorf("dd_service %q", v)
	}
	// meta_cmd_set splits at '=' and trims neither side: the variable is
	// "G " (with the space), so ${G} is unset and Grace reads "".
	if vars.set["G "] != " 7" || c.Grace() != (Grace{Seconds: 0, Known: true, Where: main + ":1"}) {
		t.Errorf("vars %q, Grace %+v", vars.set, c.Grace())
	}

	yml := write(t, dir, "fluent-bit.yaml", "env:\n  GRACE: 12\n  DDHOST: http-intake.logs.datadoghq.eu\nservice:\n  grace: ${GRACE}\n"+
		"pipeline:\n  outputs:\n    - name: datadog_go\n      host: ${DDHOST}\n")
	vars = &mapVars{}
	c = Load([]string{"fluent-bit", "-c", yml}, dir, vars)
	if v, _ := c.Outputs("datadog_go")[0].Get("host"); v != "http-intake.logs.datadoghq.eu" || c.Grace().Seconds != 12 {
		t.Errorf("host %q, Grace %+v", v, c.Grace())
	}
	// 5.x: env as a list of name/value (or uri) maps.
	yml = write(t, dir, "list.yaml", "env:\n  - name: GRACE\n    value: 9\n  - name: KEY\n    uri: file:///run/key\n"+
		"service:\n  grace: ${GRACE}\n")
	vars = &mapVars{}
	if c = Load([]string{"fluent-bit", "-c", yml}, dir, vars); c.Grace().Seconds != 9 || vars.set["KEY"] != "file:///run/key" {
		t.Errorf("Grace %+v, vars %q", c.Grace(), vars.set)
	}

	// Without Vars (not in Fluent Bit): unresolved, and Grace unknown.
	c = Load([]string{"fluent-bit", "-c", main}, dir, nil)
	out = c.Outputs("datadog_go")[0]
	if out.Props[1].Value != "${SITE}" || !out.Props[1].Unresolved || c.Grace().Known {
		t.Errorf("without vars: %+v, Grace %+v", out.Props, c.Grace())
	}
}

// Grace as flb_config_set_property reads it: atoi of the expanded value,
// the last one of the merged [SERVICE] sections.
func TestGraceNumbers(t *testing.T) {
	for v, want := range map[string]int{
		"30": 30, "30s": 30, "30.5": 30, " +7": 7, "-1": -1, "abc": 0, "": 0, "1e3": 1,
		"99999999999":          1215752191, // strtol's long, kept to the int's 32 bits
		"99999999999999999999": -1,         // clamped to LONG_MAX first
	} {
		if got := atoi(v); got != want {
			t.Errorf("atoi(%q) = %d, want %d", v, got, want)
		}
	}
	dir := t.TempDir()
	main := write(t, dir, "f.conf", "[SERVICE]\n    Grace 10\n    Flush 1\n[SERVICE]\n    grace 20s\n")
	if g := Load([]string{"fluent-bit", "-c", main}, dir, nil).Grace(); g.Seconds != 20 || !g.Known {
		t.Errorf("Grace %+v, want the last: 20", g)
	}
	if g := Load([]string{"flbhost", "-conf", main}, dir, nil).Grace(); g.Known {
		t.Errorf("no -c read, yet Grace %+v", g)
	}
	if g := Load([]string{"fluent-bit", "-i", "dummy", "-o", "datadog_go"}, dir, nil).Grace(); g != (Grace{Seconds: 5, Known: true}) {
		t.Errorf("command line only: Grace %+v, want Fluent Bit's default", g)
	}
	var none *Config
	if none.Grace().Known {
		t.Error("a nil Config knows Grace")
	}
}

// A file Fluent Bit read but the plugin cannot (a named pipe Fluent Bit
// emptied, a glob that now matches nothing): not waited on, said in
// Unread, and Grace is unknown.
func TestUnread(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "grace.conf")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	main := write(t, dir, "fluent-bit.conf", "@INCLUDE grace.conf\n@INCLUDE gone/*.conf\n[OUTPUT]\n    Name datadog_go\n")
	c := Load([]string{"fluent-bit", "-c", main}, dir, nil)
	if len(c.Unread) != 2 || !strings.Contains(c.Unread[0], fifo+": a named pipe, whose content went to Fluent Bit") || !strings.Contains(c.Unread[1], "matches no file") {
		t.Errorf("unread %q", c.Unread)
	}
	if g := c.Grace(); g.Known || len(c.Outputs("datadog_go")) != 1 {
		t.Errorf("Grace %+v, outputs %+v", g, c.Sections)
	}
}

func TestYAML(t *testing.T) {
	dir := t.TempDir()
	// A relative include is read from the including file's directory.
	write(t, dir, "conf.d/more.yaml", "includes:\n  - last.yaml\n")
	write(t, dir, "conf.d/last.yaml", "pipeline:\n  outputs:\n    - name: datadog_go\n      match: b\n      site: datadoghq.eu\n")
	write(t, dir, "last.yaml", "pipeline:\n  outputs:\n    - name: datadog_go\n      site: wrong\n")
	main := write(t, dir, "fluent-bit.yaml", `service:
  grace: 2
includes:
  - conf.d/more.yaml
pipeline:
  inputs:
    - name: dummy
  outputs:
    - name: datadog_go
      match: '*'
      dd_service: web
      retryLimit: no_limits
      header: [X-A a, X-B b]
      processors:
        logs:
          - name: content_modifier
`)
	c := Load([]string{"fluent-bit", "--config=fluent-bit.yaml"}, dir, nil)
	outs := c.Outputs("datadog_go")
	if len(outs) != 2 || c.Grace().Seconds != 2 {
		t.Fatalf("outputs %+v, grace %v (files %q, main %s)", outs, c.Grace(), c.Files, main)
	}
	// The include is read where it stands, before the pipeline.
	if v, _ := outs[0].Get("site"); v != "datadoghq.eu" {
		t.Errorf("included output %+v", outs[0])
	}
	if v, _ := outs[1].Get("retry_limit"); v != "no_limits" || len(outs[1].Props) != 6 {
		t.Errorf("main file's output %+v", outs[1])
	}
	if h := outs[1].Values("header"); !reflect.DeepEqual(h, []string{"X-A a", "X-B b"}) {
		t.Errorf("a list is the key once per item: %q", h)
	}
}

func TestYAMLKeys(t *testing.T) {
	for k, want := range map[string]string{"retryLimit": "retry_limit", "dd_service": "dd_service", "Grace": "Grace",
		"apikey": "apikey", "storage.totalLimitSize": "storage.total_limit_size", "ddTags": "dd_tags"} {
		if got := yamlKey(k); got != want {
			t.Errorf("%s: %s, want %s", k, got, want)
		}
	}
}

// get_section_type: a section name is its type's when it starts it.
func TestSectionKind(t *testing.T) {
	for name, want := range map[string]string{"SERVICE": "service", "Output": "output", "OUT": "output", "inputs": "input",
		"i": "input", "s": "service", "outputx": "other", "": "other", " OUTPUT": "other", "MULTILINE_PARSER": "multiline_parser"} {
		if got := sectionKind(name); got != want {
			t.Errorf("[%s]: %s, want %s", name, got, want)
		}
	}
}

// The classic format's lines as read_config takes them.
func TestClassicLines(t *testing.T) {
	dir := t.TempDir()
	main := write(t, dir, "f.conf", "[OUTPUT]\r\n    Name datadog_go\r\n    # a comment\r\n    dd_tags   a:b, c:d  \r\n"+
		"    [processors] logs\n        Name ignored\n    header X-A a\n    header X-B b\n    empty   \n    notab\tx\n"+
		"@set Y=1\n[FILTER]\n    Name grep\n")
	c := Load([]string{"fluent-bit", "-c", main}, dir, nil)
	out := c.Outputs("datadog_go")
	if len(out) != 1 || len(c.Sections) != 2 {
		t.Fatalf("%+v", c.Sections)
	}
	want := []string{"Name", "dd_tags", "header", "header"}
	if got := out[0].Keys(); !reflect.DeepEqual(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
	if v, _ := out[0].Get("dd_tags"); v != "a:b, c:d" {
		t.Errorf("dd_tags %q", v)
	}
}

// -o NAME with its -p KEY=VALUE, in getopt's forms.
func TestCommandLine(t *testing.T) {
	c := Load([]string{"fluent-bit", "-i", "dummy", "-odatadog_go", "-p", "dd_sevice=web", "--prop=site = datadoghq.eu", "-vq", "-f", "1"}, "/", nil)
	outs := c.Outputs("datadog_go")
	if len(outs) != 1 || !reflect.DeepEqual(props(outs[0]), map[string]string{"name": "datadog_go", "dd_sevice": "web", "site": "datadoghq.eu"}) {
		t.Errorf("outputs %+v", c.Sections)
	}
	var none *Config
	if none.Outputs("datadog_go") != nil {
		t.Error("a nil Config is not empty")
	}
}

// An include loop ends.
func TestIncludeLoop(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.conf", "@INCLUDE b.conf\n[OUTPUT]\n    Name datadog_go\n")
	write(t, dir, "b.conf", "@INCLUDE a.conf\n")
	if c := Load([]string{"fluent-bit", "-c", a}, "/", nil); len(c.Outputs("datadog_go")) != 1 {
		t.Fatalf("%+v", c)
	}
}

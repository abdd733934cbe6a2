package flbconf

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
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

// The aws-for-fluent-bit init variant: -c /init/fluent-bit-init.conf
// @INCLUDEs the FireLens config and the user's files (a glob), relative
// paths from the main file's directory.
func TestClassicIncludes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "etc/fluent-bit.conf", "[INPUT]\n    Name forward\n    unix_path /var/run/fluent.sock\n\n"+
		"[OUTPUT]\n    Name  datadog_go\n    Match app-firelens*\n    dd_sevice web\n    Host http-intake.logs.datadoghq.eu\n    TLS\ton\n")
	write(t, dir, "init/extra/a.conf", "[SERVICE]\n    Grace 30\n")
	write(t, dir, "init/extra/b.conf", "# nothing\n[OUTPUT]\n    Name null\n    Match *\n")
	main := write(t, dir, "init/fluent-bit-init.conf", "@SET x=1\n@INCLUDE "+filepath.Join(dir, "etc/fluent-bit.conf")+"\n@INCLUDE extra/*.conf\n")
	c, err := Load([]string{"fluent-bit", "-e", "/fluent-bit/firehose.so", "-c", main}, "/")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 4 {
		t.Errorf("files read: %q", c.Files)
	}
	outs := c.Outputs("datadog_go")
	if len(outs) != 1 {
		t.Fatalf("datadog_go outputs: %+v", c.Sections)
	}
	want := []Property{{"Name", "datadog_go"}, {"Match", "app-firelens*"}, {"dd_sevice", "web"}, {"Host", "http-intake.logs.datadoghq.eu"}, {"TLS", "on"}}
	if !reflect.DeepEqual(outs[0].Props, want) {
		t.Errorf("props %q, want %q", outs[0].Props, want)
	}
	if v, _ := outs[0].Get("HOST"); v != "http-intake.logs.datadoghq.eu" {
		t.Errorf("Get is not case-insensitive: %q", v)
	}
	if c.Grace() != 30*time.Second {
		t.Errorf("Grace %v, want 30s", c.Grace())
	}
}

func TestYAML(t *testing.T) {
	dir := t.TempDir()
	// A relative include is read from the including file's directory.
	write(t, dir, "conf.d/more.yaml", "includes:\n  - last.yaml\n")
	write(t, dir, "conf.d/last.yaml", "pipeline:\n  outputs:\n    - name: datadog_go\n      match: b\n      site: datadoghq.eu\n")
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
      processors:
        logs:
          - name: content_modifier
`)
	c, err := Load([]string{"fluent-bit", "--config=fluent-bit.yaml"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	outs := c.Outputs("datadog_go")
	if len(outs) != 2 || c.Grace() != 2*time.Second {
		t.Fatalf("outputs %+v, grace %v (files %q, main %s)", outs, c.Grace(), c.Files, main)
	}
	if v, _ := outs[0].Get("dd_service"); v != "web" || len(outs[0].Props) != 3 {
		t.Errorf("first output %+v", outs[0])
	}
	if v, _ := outs[1].Get("site"); v != "datadoghq.eu" {
		t.Errorf("included output %+v", outs[1])
	}
}

// -o NAME with its -p KEY=VALUE, in getopt's forms.
func TestCommandLine(t *testing.T) {
	c, err := Load([]string{"fluent-bit", "-i", "dummy", "-odatadog_go", "-p", "dd_sevice=web", "--prop=site = datadoghq.eu", "-vq", "-f", "1"}, "/")
	if err != nil {
		t.Fatal(err)
	}
	outs := c.Outputs("datadog_go")
	want := []Property{{"name", "datadog_go"}, {"dd_sevice", "web"}, {"site", "datadoghq.eu"}}
	if len(outs) != 1 || !reflect.DeepEqual(outs[0].Props, want) {
		t.Errorf("outputs %+v", c.Sections)
	}
	if c.Grace() != 5*time.Second {
		t.Errorf("default Grace %v", c.Grace())
	}
	if _, err := Load([]string{"flbhost", "-conf", "x"}, "/"); err == nil {
		t.Error("no error without -c or -o")
	}
	var none *Config
	if none.Outputs("datadog_go") != nil || none.Grace() != 5*time.Second {
		t.Error("a nil Config is not empty")
	}
}

// An include loop ends.
func TestIncludeLoop(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.conf", "@INCLUDE b.conf\n[OUTPUT]\n    Name datadog_go\n")
	write(t, dir, "b.conf", "@INCLUDE a.conf\n")
	c, err := Load([]string{"fluent-bit", "-c", a}, "/")
	if err != nil || len(c.Outputs("datadog_go")) != 1 {
		t.Fatalf("%v %+v", err, c)
	}
}

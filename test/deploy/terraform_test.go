// Package deploy checks the deploy kit's files (docker/ecs, and the built
// .so files) without AWS, Terraform's provider registry or a container
// engine: what can be checked here is checked, the rest is said in docs/deploy.md.
package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// Terraform itself cannot run here: `terraform validate` needs the
// hashicorp/aws provider, which only the Terraform (or OpenTofu) provider
// registry serves. These tests do what can be done with Terraform's own
// configuration language library: parse, format (hclwrite is what
// `terraform fmt` is built on), declared variables, the version pins, the
// variables' validation rules, and the task definition evaluated and
// compared with ../../docker/ecs/task-definition.json.

func terraformDir(t *testing.T) string {
	t.Helper()
	root, err := fbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "docker", "ecs", "terraform")
}

// module is the parsed .tf files of a directory.
type module struct {
	files map[string]*hclsyntax.Body
	src   map[string][]byte
}

func parseModule(t *testing.T, dir string) module {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	m := module{files: map[string]*hclsyntax.Body{}, src: map[string][]byte{}}
	p := hclparse.NewParser()
	for _, path := range paths {
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", path, diags)
		}
		m.files[filepath.Base(path)] = f.Body.(*hclsyntax.Body)
		m.src[filepath.Base(path)] = f.Bytes
	}
	return m
}

// blocks are the module's top-level blocks of a type, in file-name order.
func (m module) blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	names := make([]string, 0, len(m.files))
	for n := range m.files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, b := range m.files[n].Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

func (m module) block(t *testing.T, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	for _, b := range m.blocks(typ) {
		if slices.Equal(b.Labels, labels) {
			return b
		}
	}
	t.Fatalf("no %s %q block", typ, labels)
	return nil
}

func value(t *testing.T, expr hclsyntax.Expression, ctx *hcl.EvalContext) cty.Value {
	t.Helper()
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	return v
}

// functions are the Terraform functions the module uses.
var functions = map[string]function.Function{
	"jsonencode": stdlib.JSONEncodeFunc,
	"contains":   stdlib.ContainsFunc,
	"regex":      stdlib.RegexFunc,
	"can":        tryfunc.CanFunc,
}

func TestTerraformFormattedAndPinned(t *testing.T) {
	m := parseModule(t, terraformDir(t))
	for name, src := range m.src {
		if got := hclwrite.Format(src); !bytes.Equal(got, src) {
			t.Errorf("%s is not formatted as terraform fmt would write it", name)
		}
	}

	tf := m.block(t, "terraform")
	v, ok := tf.Body.Attributes["required_version"]
	if !ok {
		t.Fatal("terraform block has no required_version")
	}
	if s := value(t, v.Expr, nil).AsString(); !strings.HasPrefix(s, ">=") {
		t.Errorf("required_version %q: want a lower bound", s)
	}
	var rp *hclsyntax.Block
	for _, b := range tf.Body.Blocks {
		if b.Type == "required_providers" {
			rp = b
		}
	}
	if rp == nil {
		t.Fatal("terraform block has no required_providers")
	}
	aws, ok := rp.Body.Attributes["aws"]
	if !ok {
		t.Fatal("required_providers has no aws")
	}
	p := value(t, aws.Expr, nil).AsValueMap()
	if p["source"].AsString() != "hashicorp/aws" || !regexp.MustCompile(`>=.*,\s*<`).MatchString(p["version"].AsString()) {
		t.Errorf("aws provider %v: want source hashicorp/aws and a bounded version range", p)
	}

	declared := map[string]bool{}
	for _, b := range m.blocks("variable") {
		declared[b.Labels[0]] = true
	}
	for name, src := range m.src {
		for _, ref := range regexp.MustCompile(`\bvar\.([a-z_]+)`).FindAllSubmatch(src, -1) {
			if !declared[string(ref[1])] {
				t.Errorf("%s uses var.%s, which no variable block declares", name, ref[1])
			}
		}
	}
}

// taskJSON is docker/ecs/task-definition.json, decoded.
func taskJSON(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(terraformDir(t), "..", "task-definition.json"))
	if err != nil {
		t.Fatal(err)
	}
	var td map[string]any
	if err := json.Unmarshal(b, &td); err != nil {
		t.Fatal(err)
	}
	return td
}

// container is the JSON task definition's container of that name.
func container(t *testing.T, td map[string]any, name string) map[string]any {
	t.Helper()
	for _, c := range td["containerDefinitions"].([]any) {
		if c := c.(map[string]any); c["name"] == name {
			return c
		}
	}
	t.Fatalf("task-definition.json has no container %q", name)
	return nil
}

// evalContext holds the module's variables (defaults, and for the required
// ones the JSON example's values), its locals and the log group's name.
func evalContext(t *testing.T, m module, required map[string]string) *hcl.EvalContext {
	t.Helper()
	ctx := &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{}}
	vars := map[string]cty.Value{}
	for _, b := range m.blocks("variable") {
		name := b.Labels[0]
		if d, ok := b.Body.Attributes["default"]; ok {
			vars[name] = value(t, d.Expr, nil)
		} else if v, ok := required[name]; ok {
			vars[name] = cty.StringVal(v)
		} else {
			t.Fatalf("variable %s has no default and the test no example value", name)
		}
	}
	ctx.Variables["var"] = cty.ObjectVal(vars)
	locals := map[string]cty.Value{}
	for _, b := range m.blocks("locals") {
		for name, a := range b.Body.Attributes {
			locals[name] = value(t, a.Expr, ctx)
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	lg := m.block(t, "resource", "aws_cloudwatch_log_group", "task")
	ctx.Variables["aws_cloudwatch_log_group"] = cty.ObjectVal(map[string]cty.Value{
		"task": cty.ObjectVal(map[string]cty.Value{"name": value(t, lg.Body.Attributes["name"].Expr, ctx)}),
	})
	return ctx
}

// The Terraform task definition, evaluated with its defaults and the JSON
// example's ARNs and images, is the JSON task definition.
func TestTerraformIsTheJSONTaskDefinition(t *testing.T) {
	m := parseModule(t, terraformDir(t))
	td := taskJSON(t)
	app := container(t, td, "singsong-container")
	router := container(t, td, "log-router")
	secret := app["logConfiguration"].(map[string]any)["secretOptions"].([]any)[0].(map[string]any)["valueFrom"].(string)
	ctx := evalContext(t, m, map[string]string{
		"app_image":                  app["image"].(string),
		"log_router_image":           router["image"].(string),
		"execution_role_arn":         td["executionRoleArn"].(string),
		"datadog_api_key_secret_arn": secret,
	})

	res := m.block(t, "resource", "aws_ecs_task_definition", "singsong_ecs_task_definition").Body.Attributes
	top := map[string]string{"family": "family", "network_mode": "networkMode",
		"requires_compatibilities": "requiresCompatibilities", "cpu": "cpu", "memory": "memory",
		"execution_role_arn": "executionRoleArn"}
	for hclName, jsonName := range top {
		a, ok := res[hclName]
		if !ok {
			t.Errorf("terraform sets no %s", hclName)
			continue
		}
		if got := decode(t, value(t, a.Expr, ctx)); !reflect.DeepEqual(got, td[jsonName]) {
			t.Errorf("%s: terraform %v, JSON %v", hclName, got, td[jsonName])
		}
	}

	// The runtime platform, with var.cpu_architecture at its default, is
	// the JSON's (arm64 on Fargate is a variable away).
	var platform *hclsyntax.Block
	for _, b := range m.block(t, "resource", "aws_ecs_task_definition", "singsong_ecs_task_definition").Body.Blocks {
		if b.Type == "runtime_platform" {
			platform = b
		}
	}
	if platform == nil {
		t.Error("terraform sets no runtime_platform")
	} else {
		got := map[string]any{}
		for hclName, jsonName := range map[string]string{"operating_system_family": "operatingSystemFamily", "cpu_architecture": "cpuArchitecture"} {
			if a, ok := platform.Body.Attributes[hclName]; ok {
				got[jsonName] = decode(t, value(t, a.Expr, ctx))
			}
		}
		if want := td["runtimePlatform"]; !reflect.DeepEqual(got, want) {
			t.Errorf("runtime platform: terraform %v, JSON %v", got, want)
		}
	}

	var got []any
	if err := json.Unmarshal([]byte(value(t, res["container_definitions"].Expr, ctx).AsString()), &got); err != nil {
		t.Fatal(err)
	}
	want := td["containerDefinitions"].([]any)
	normalizeLabels(t, got)
	normalizeLabels(t, want)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("container definitions differ:\nterraform:\n%s\nJSON:\n%s", g, w)
	}
}

// normalizeLabels decodes docker label values that hold JSON (the Agent's
// Autodiscovery templates), whose key order jsonencode does not keep.
func normalizeLabels(t *testing.T, containers []any) {
	t.Helper()
	for _, c := range containers {
		labels, _ := c.(map[string]any)["dockerLabels"].(map[string]any)
		for k, v := range labels {
			var doc any
			if s, ok := v.(string); ok && json.Unmarshal([]byte(s), &doc) == nil {
				labels[k] = doc
			}
		}
	}
}

// decode turns a cty value into what encoding/json decodes the same JSON to.
func decode(t *testing.T, v cty.Value) any {
	t.Helper()
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Each validation rule accepts what it should and refuses a mistake; the
// site rule accepts exactly the sites the plugin's `site` key accepts.
func TestTerraformValidations(t *testing.T) {
	m := parseModule(t, terraformDir(t))
	cases := map[string]struct{ good, bad []string }{
		"datadog_site": {good: config.SiteNames(),
			bad: []string{"datadoghq", "app.datadoghq.com", "https://datadoghq.com", "datadoghq.org", ""}},
		"datadog_api_key_secret_arn": {
			good: []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:datadog-api-key-AbCdEf",
				"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:dd"},
			bad: []string{"datadog-api-key", "arn:aws:ssm:us-east-1:123456789012:parameter/dd", ""}},
		"cpu_architecture": {good: []string{"X86_64", "ARM64"}, bad: []string{"arm64", "x86_64", "AMD64", ""}},
	}
	for _, b := range m.blocks("variable") {
		name := b.Labels[0]
		for _, vb := range b.Body.Blocks {
			if vb.Type != "validation" {
				continue
			}
			c, ok := cases[name]
			if !ok {
				t.Errorf("variable %s has a validation rule this test does not exercise", name)
				continue
			}
			delete(cases, name)
			cond := vb.Body.Attributes["condition"].Expr
			check := func(v string) bool {
				ctx := &hcl.EvalContext{Functions: functions, Variables: map[string]cty.Value{
					"var": cty.ObjectVal(map[string]cty.Value{name: cty.StringVal(v)})}}
				return value(t, cond, ctx).True()
			}
			for _, v := range c.good {
				if !check(v) {
					t.Errorf("var.%s = %q refused", name, v)
				}
			}
			for _, v := range c.bad {
				if check(v) {
					t.Errorf("var.%s = %q accepted", name, v)
				}
			}
		}
	}
	for name := range cases {
		t.Errorf("variable %s has no validation rule", name)
	}
	// Every site the rule lists is one the plugin resolves (the rule is not
	// wider than the plugin).
	site := m.block(t, "variable", "datadog_site")
	for _, vb := range site.Body.Blocks {
		call, ok := vb.Body.Attributes["condition"].Expr.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "contains" {
			t.Fatalf("datadog_site's condition is not contains([...], var.datadog_site)")
		}
		for _, s := range value(t, call.Args[0], nil).AsValueSlice() {
			if _, err := config.SiteURL(s.AsString()); err != nil {
				t.Errorf("datadog_site's rule lists %q: %v", s.AsString(), err)
			}
		}
	}
}

package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The kit that follows AWS's releases (issue 32): Renovate's rules and the
// release workflow. Renovate and GitHub Actions cannot run here; what is
// checked is that their files say what the docs promise (actionlint checks
// the workflows' syntax in make test).

func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	root, err := fbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type renovate struct {
	EnabledManagers []string `json:"enabledManagers"`
	CustomManagers  []struct {
		CustomType          string   `json:"customType"`
		ManagerFilePatterns []string `json:"managerFilePatterns"`
		MatchStrings        []string `json:"matchStrings"`
		DepNameTemplate     string   `json:"depNameTemplate"`
		DatasourceTemplate  string   `json:"datasourceTemplate"`
	} `json:"customManagers"`
}

// Every version pinned in the Dockerfiles and the Makefile is one a
// Renovate rule reads (run here as Renovate runs it: its file pattern, its
// regular expression with named groups), under the dependency it is; Go
// modules and the workflows' actions are Renovate's own managers.
func TestRenovateFollowsEveryPin(t *testing.T) {
	var cfg renovate
	if err := json.Unmarshal(repoFile(t, ".github/renovate.json"), &cfg); err != nil {
		t.Fatalf(".github/renovate.json: %v", err)
	}
	for _, m := range []string{"custom.regex", "gomod", "github-actions"} {
		if !slices.Contains(cfg.EnabledManagers, m) {
			t.Errorf("manager %s not enabled", m)
		}
	}
	// file -> pinned ARG or variable -> the dependency it must be found as
	pins := map[string]map[string]string{
		"docker/Dockerfile": {
			"AWS_FOR_FLUENT_BIT_VERSION": "public.ecr.aws/aws-observability/aws-for-fluent-bit",
			"BUILDER_IMAGE":              "public.ecr.aws/amazonlinux/amazonlinux",
			"GO_VERSION":                 "go",
		},
		"docker/intake/Dockerfile": {"GO_VERSION": "go"},
		"Makefile":                 {"ACTIONLINT_VERSION": "github.com/rhysd/actionlint"},
	}
	for file, want := range pins {
		src := string(repoFile(t, file))
		found := map[string]string{}
		for _, m := range cfg.CustomManagers {
			applies := false
			for _, p := range m.ManagerFilePatterns {
				applies = applies || regexp.MustCompile(strings.Trim(p, "/")).MatchString(file)
			}
			if !applies || m.DatasourceTemplate == "" {
				continue
			}
			for _, ms := range m.MatchStrings {
				re := regexp.MustCompile(ms)
				for _, sub := range re.FindAllStringSubmatch(src, -1) {
					dep, value := m.DepNameTemplate, ""
					for i, name := range re.SubexpNames() {
						switch name {
						case "depName":
							dep = sub[i]
						case "currentValue":
							value = sub[i]
						}
					}
					arg := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(sub[0], "ARG "), "=", 2)[0])
					arg = strings.TrimSpace(strings.SplitN(arg, ":", 2)[0])
					if value == "" {
						t.Errorf("%s: %q matched without a current value", file, sub[0])
					}
					found[arg] = dep
				}
			}
		}
		for arg, dep := range want {
			if found[arg] != dep {
				t.Errorf("%s: %s is followed as %q, want %q", file, arg, found[arg], dep)
			}
		}
	}
	// The base image's rule names the image the runtime stage is FROM.
	if !strings.Contains(string(repoFile(t, "docker/Dockerfile")), "FROM public.ecr.aws/aws-observability/aws-for-fluent-bit:${AWS_FOR_FLUENT_BIT_VARIANT}${AWS_FOR_FLUENT_BIT_VERSION}") {
		t.Error("docker/Dockerfile's runtime stage is not the aws-for-fluent-bit the rule follows")
	}
}

// The release workflow runs on a version tag and builds and pushes both
// variants (standard and init) for linux/amd64 and linux/arm64 through
// make image.
func TestReleaseWorkflow(t *testing.T) {
	var wf struct {
		On struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct {
					Include []map[string]string `yaml:"include"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(repoFile(t, ".github/workflows/release.yml"), &wf); err != nil {
		t.Fatal(err)
	}
	if len(wf.On.Push.Tags) == 0 || !regexp.MustCompile(`^v`).MatchString(wf.On.Push.Tags[0]) {
		t.Errorf("not run on a version tag: %v", wf.On.Push.Tags)
	}
	job, ok := wf.Jobs["image"]
	if !ok {
		t.Fatal("no image job")
	}
	var variants []string
	for _, v := range job.Strategy.Matrix.Include {
		variants = append(variants, v["variant"])
	}
	slices.Sort(variants)
	if !slices.Equal(variants, []string{"init", "standard"}) {
		t.Errorf("variants %v, want init and standard", variants)
	}
	built, qemu := false, false
	for _, s := range job.Steps {
		qemu = qemu || strings.HasPrefix(s.Uses, "docker/setup-qemu-action@")
		if strings.TrimSpace(s.Run) == "make image" {
			built = s.Env["PUSH"] == "1" && s.Env["PLATFORMS"] == "linux/amd64,linux/arm64" && strings.Contains(s.Env["VARIANT"], "init")
		}
	}
	if !built || !qemu {
		t.Errorf("no step pushing make image for linux/amd64,linux/arm64 with the variant (built %v, QEMU %v)", built, qemu)
	}
}

// The example task: the Agent is not essential (a failing Agent probe
// must not stop the app), the runtime platform is said, and the Agent
// scrapes the router on the task's loopback, where the router listens.
func TestTaskDefinitionKit(t *testing.T) {
	td := taskJSON(t)
	if agent := container(t, td, "datadog-agent"); agent["essential"] != false {
		t.Errorf("the Agent container is essential: %v", agent["essential"])
	}
	if rp, _ := td["runtimePlatform"].(map[string]any); rp["operatingSystemFamily"] != "LINUX" || rp["cpuArchitecture"] != "X86_64" {
		t.Errorf("runtimePlatform %v", td["runtimePlatform"])
	}
	router := container(t, td, "log-router")
	label := router["dockerLabels"].(map[string]any)["com.datadoghq.ad.checks"].(string)
	if !strings.Contains(label, `"openmetrics_endpoint":"http://127.0.0.1:2020/`) {
		t.Errorf("the Agent's check does not scrape the task's loopback: %s", label)
	}
	if !regexp.MustCompile(`(?m)^\s*HTTP_Listen\s+127\.0\.0\.1\s*$`).Match(repoFile(t, "docker/router/out_datadog_go.conf")) {
		t.Error("the router's include does not bind Fluent Bit's HTTP server to loopback")
	}
}

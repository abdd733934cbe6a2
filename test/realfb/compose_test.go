package realfb

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestComposeFilesAsProcesses runs the compose stack's own files without a
// container engine: the router image's files laid out as docker/Dockerfile
// puts them, docker/local/fluent-bit.conf where compose mounts it (the
// stand-in for FireLens' generated config, which includes the image's
// out_datadog_go.conf), started with nothing loaded by -e as the image's
// command does; the task document of docker/metadata/ served at
// ECS_CONTAINER_METADATA_URI_V4; test/localintake as the intake; the
// router's environment as docker/compose.yaml sets it. The only edits are the
// image's absolute paths (under a temporary root), the listen address and
// port (0.0.0.0:24224 in the container; a free loopback port here) and the
// HTTP port. Records come as the app's fluentd log driver sends them: under
// its tag, with a 64-hex container ID Docker picks at run time (the
// document cannot know it) and the container name compose.yaml fixes.
func TestComposeFilesAsProcesses(t *testing.T) {
	t.Parallel()
	root, err := fbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	compose, err := os.ReadFile(filepath.Join(root, "docker", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	appName := submatch(t, compose, `(?m)^  app:\n(?:    .*\n)*?    container_name: (\S+)$`)
	tag := submatch(t, compose, `(?m)^        tag: (\S+)$`)
	mount := submatch(t, compose, `(?m)^      - \./local/fluent-bit\.conf:(\S+):ro$`)
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			intakeURL := startLocalIntake(t, root)

			doc, err := os.ReadFile(filepath.Join(root, "docker", "metadata", "v4", "local", "task"))
			if err != nil {
				t.Fatal(err)
			}
			metaURI, taskHits := serveTask(t, "/v4/local", doc)

			im, err := fbtest.LayImage(root, filepath.Join(root, "docker", "Dockerfile"), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			inc := im.Path("/fluent-bit/etc/out_datadog_go.conf")
			b, err := os.ReadFile(inc)
			if err != nil {
				t.Fatal(err)
			}
			edited := replaceOnce(t, string(b), `(?m)^(\s*HTTP_Port\s+)2020$`, "${1}"+strconv.Itoa(freePort(t)))
			if err := os.WriteFile(inc, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			conf, err := os.ReadFile(filepath.Join(root, "docker", "local", "fluent-bit.conf"))
			if err != nil {
				t.Fatal(err)
			}
			port := freePort(t)
			router := replaceOnce(t, im.Rewrite(string(conf)), `(?m)^(\s*Listen\s+)0\.0\.0\.0$`, "${1}127.0.0.1")
			router = replaceOnce(t, router, `(?m)^(\s*Port\s+)24224$`, "${1}"+strconv.Itoa(port))

			p := fbtest.Start(t, fbtest.Options{Version: v, Config: router, Dir: filepath.Dir(im.Path(mount)), Plugins: []string{},
				Env: []string{"DD_ENDPOINT=" + intakeURL, "DD_SITE=datadoghq.com", "DD_API_KEY=local-not-a-secret",
					"ECS_CONTAINER_METADATA_URI_V4=" + metaURI}})
			if filepath.Base(mount) != "fluent-bit.conf" || p.Conf != im.Path(mount) {
				t.Fatalf("compose mounts the config at %s; the test wrote %s", mount, p.Conf)
			}
			metadataRead(t, p, taskHits)

			f, err := fbtest.DialForward("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			const n = 2000
			id := fmt.Sprintf("%016x%016x%016x%016x", rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64())
			if err := fbtest.SendRecords(f, tag, fbtest.Records(n, 3, fbtest.Container{ID: id, Name: "/" + appName}), 100); err != nil {
				t.Fatal(err)
			}

			var st intaketest.Stats
			if !fbtest.WaitFor(30*time.Second, func() bool {
				getJSON(t, intakeURL+"/_stats", &st)
				return st.Entries >= n
			}) {
				t.Fatalf("%d of %d records reached localintake", st.Entries, n)
			}
			if st.Entries != n || st.Violations != 0 || st.MaxEntries > intaketest.MaxEntries {
				t.Errorf("localintake: %+v, want %d entries, no violations", st, n)
			}
			var logs []map[string]any
			getJSON(t, intakeURL+"/_logs?n=5", &logs)
			if len(logs) != 5 {
				t.Fatalf("localintake's /_logs?n=5 gave %d logs", len(logs))
			}
			for _, l := range logs {
				tags := strings.Split(l["ddtags"].(string), ",")
				// From the router config (dd_tags, provider ecs, record_modifier),
				// the records (the container's ID and name) and the metadata
				// document (image, zone, labels; the Agent sends no launch type
				// tag).
				for _, want := range []string{
					"env:local", "ecs_cluster_name:local", "task_family:local-demo", "task_version:1",
					"container_id:" + id, "container_name:" + appName, "ecs_container_name:app",
					"image_name:public.ecr.aws/docker/library/busybox", "short_image:busybox", "image_tag:1.37",
					"availability_zone:us-west-2a", "availability-zone:us-west-2a", "cluster_name:local",
					"service:local-demo", "version:1.0.0",
				} {
					if !contains(tags, want) {
						t.Errorf("ddtags %q lack %q", l["ddtags"], want)
					}
				}
				if l["service"] != "local-demo" || l["ddsource"] != "busybox" {
					t.Errorf("service/ddsource %v/%v, want local-demo/busybox", l["service"], l["ddsource"])
				}
			}
			if !p.Stop(20*time.Second) || p.ExitCode() != 0 {
				t.Errorf("router exit: status %d", p.ExitCode())
			}
		})
	}
}

// submatch is re's first group in b, failing when re does not match (the
// file changed under the test).
func submatch(t *testing.T, b []byte, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no match of %s", re)
	}
	return string(m[1])
}

// startLocalIntake builds and runs test/localintake on a free port and
// returns its base URL.
func startLocalIntake(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "localintake")
	build := exec.Command("go", "build", "-o", bin, "./test/localintake")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building localintake: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// "localintake: Datadog logs intake stand-in on http://127.0.0.1:P/api/v2/logs ..."
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		t.Fatalf("localintake: %v", err)
	}
	go func() { _, _ = bufio.NewReader(stderr).WriteTo(discard{}) }()
	m := regexp.MustCompile(`(http://\S+)/api/v2/logs`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("localintake's first line has no URL: %q", line)
	}
	return m[1]
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// replaceOnce replaces the single match of re, failing when the text no
// longer has exactly one (the file changed under the test).
func replaceOnce(t *testing.T, s, re, repl string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	if n := len(rx.FindAllStringIndex(s, -1)); n != 1 {
		t.Fatalf("%d matches of %s, want 1 in:\n%s", n, re, s)
	}
	return rx.ReplaceAllString(s, repl)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// Package fbtest runs real Fluent Bit as a process for tests and benchmarks:
// it finds the binaries (FLUENT_BIT_5, FLUENT_BIT, FLUENT_BIT_19, else
// <repo root>/../shared/fluent-bit/), writes a config, starts fluent-bit with
// the plugin loaded by -e, waits until the engine is up, stops it with
// SIGTERM and keeps its log and resource usage. forward.go speaks the
// forward protocol to it; firelens.go writes the config FireLens generates;
// image.go lays out the router image's files (docker/Dockerfile) so that
// Fluent Bit loads the plugin the way the image does, without -e.
//
// Tests use Require/Start (which skip or fail through testing.TB); programs
// such as the benchmark use Find/Launch. A test of the FireLens router:
//
//	srv := intaketest.StartT(t, intaketest.Options{})
//	dir := t.TempDir()
//	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
//	fl.Options = fbtest.SeedOptions(srv.URL, "key")
//	p := fbtest.Start(t, fbtest.Options{Version: fbtest.V19, Config: fl.Config(), Dir: dir})
//	f, _ := fbtest.DialForward("unix", fl.Socket)
//	f.Ack = true
//	_ = fbtest.SendRecords(f, fl.Tag(), fbtest.Records(1000, 1, fbtest.DefaultContainer), 200)
//	// wait for srv.Stats().Entries, then p.Stop(20*time.Second) and read p.Log()
//
// The plugin is FLB_SO when set, else built once per test binary.
package fbtest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/logging/logtest"
)

// The Fluent Bit lines the plugin supports.
const (
	V5  = "5.1.1"  // upstream's current line; newer aws-for-fluent-bit releases follow it
	V4  = "4.2.8"  // aws-for-fluent-bit 3.x
	V19 = "1.9.10" // aws-for-fluent-bit 2.x
)

// Lines is every supported line, newest first: what a scenario that does
// not depend on the version runs on.
var Lines = []string{V5, V4, V19}

// envVar names the variable that overrides where a version's binary is.
var envVar = map[string]string{V5: "FLUENT_BIT_5", V4: "FLUENT_BIT", V19: "FLUENT_BIT_19"}

// RepoRoot is the nearest directory above the working directory that holds
// go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("fbtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Find returns the path of the Fluent Bit binary of version (one of Lines):
// its environment variable when set, else
// <repo root>/../shared/fluent-bit/fluent-bit-<version>.
func Find(version string) (string, error) {
	name, ok := envVar[version]
	if !ok {
		return "", fmt.Errorf("fbtest: unknown Fluent Bit version %q (want one of %s)", version, strings.Join(Lines, ", "))
	}
	path := os.Getenv(name)
	if path == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		path = filepath.Join(root, "..", "shared", "fluent-bit", "fluent-bit-"+version)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("real Fluent Bit %s not found at %s (set %s)", version, path, name)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("fbtest: %s is not an executable", path)
	}
	return path, nil
}

// Require returns the binary of version, or skips the test with one line
// saying where it was looked for.
func Require(t testing.TB, version string) string {
	t.Helper()
	path, err := Find(version)
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	return path
}

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
)

// Plugin returns out_datadog_go.so: FLB_SO when set (make test builds it),
// else one built once per process into a temporary directory, so a test run
// by hand never loads a stale build/.
func Plugin() (string, error) {
	if p := os.Getenv("FLB_SO"); p != "" {
		return p, nil
	}
	pluginOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			pluginErr = err
			return
		}
		dir, err := os.MkdirTemp("", "fbtest-so")
		if err != nil {
			pluginErr = err
			return
		}
		out := filepath.Join(dir, "out_datadog_go.so")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./plugin")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			pluginErr = fmt.Errorf("fbtest: building the plugin: %v\n%s", err, b)
			return
		}
		pluginPath = out
	})
	return pluginPath, pluginErr
}

// ReadyLine is what every Fluent Bit line logs once inputs and outputs are
// initialised (the stream processor starts last).
const ReadyLine = "stream processor started"

// Options describe one fluent-bit process.
type Options struct {
	Version string // one of Lines (default V4)
	Binary  string // overrides Version's lookup
	Config  string // the config, written to Dir/fluent-bit.conf (or ConfigName)
	// ConfigName is the config's file name in Dir; Fluent Bit 4 reads a
	// name ending in .yaml as YAML. Default fluent-bit.conf.
	ConfigName string
	Env        []string // added to the process environment ("K=V")
	// Plugins are loaded with -e. Nil loads the plugin (Plugin()); an empty
	// non-nil slice loads none (built-in outputs only).
	Plugins []string
	CPUs    string // when set, the process runs under taskset -c CPUs
	LogFile string // the config's Log_File, if any: WaitLog reads it too
	// ReadyURL, when set, is asked instead of waiting for ReadyLine: the
	// HTTP_Server's address, for a Log_Level that hides the line (the
	// server starts once inputs and outputs are initialised).
	ReadyURL string
	Dir      string        // working directory and config location (default: a new temporary one)
	Ready    time.Duration // how long to wait for ReadyLine (default 20s)
}

// Process is a running (or exited) fluent-bit.
type Process struct {
	Cmd     *exec.Cmd
	Dir     string
	Conf    string // path of the config file
	LogFile string // Options.LogFile

	log  *logtest.Buffer
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// Usage is what the kernel counted for the process, read after it exited.
// Its peak memory is not here: the rusage maxrss of a child forked from a
// large Go process starts at the parent's; read VmHWM with Status instead.
type Usage struct {
	User, Sys time.Duration
}

// CPU is user plus system time.
func (u Usage) CPU() time.Duration { return u.User + u.Sys }

// Launch starts fluent-bit and waits until it logs ReadyLine or exits. A
// process that exits first is returned with an error holding its log (a
// configuration failing start-up is such a case).
func Launch(o Options) (*Process, error) {
	bin := o.Binary
	if bin == "" {
		if o.Version == "" {
			o.Version = V4
		}
		var err error
		if bin, err = Find(o.Version); err != nil {
			return nil, err
		}
	}
	plugins := o.Plugins
	if plugins == nil {
		so, err := Plugin()
		if err != nil {
			return nil, err
		}
		plugins = []string{so}
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "fbtest"); err != nil {
			return nil, err
		}
	}
	name := o.ConfigName
	if name == "" {
		name = "fluent-bit.conf"
	}
	conf := filepath.Join(dir, name)
	if err := os.WriteFile(conf, []byte(o.Config), 0o600); err != nil {
		return nil, err
	}
	args := []string{bin}
	for _, so := range plugins {
		args = append(args, "-e", so)
	}
	args = append(args, "-c", conf)
	if o.CPUs != "" {
		args = append([]string{"taskset", "-c", o.CPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), o.Env...)
	p := &Process{Cmd: cmd, Dir: dir, Conf: conf, LogFile: o.LogFile, log: &logtest.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fbtest: starting %s: %w", bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ready := o.Ready
	if ready == 0 {
		ready = 20 * time.Second
	}
	if o.ReadyURL != "" {
		c := http.Client{Timeout: time.Second}
		if WaitFor(ready, func() bool {
			resp, err := c.Get(o.ReadyURL)
			if err == nil {
				resp.Body.Close()
			}
			return err == nil || p.Exited()
		}) && !p.Exited() {
			return p, nil
		}
	} else if p.WaitLog(ReadyLine, ready) {
		return p, nil
	}
	if p.Exited() {
		return p, fmt.Errorf("fbtest: fluent-bit exited during start-up (%v):\n%s", p.err, p.Log())
	}
	p.Stop(5 * time.Second)
	return p, fmt.Errorf("fbtest: fluent-bit not ready after %v:\n%s", ready, p.Log())
}

// Start is Launch for tests: it skips when the binary is absent, fails the
// test when fluent-bit does not come up, and stops it at cleanup.
func Start(t testing.TB, o Options) *Process {
	t.Helper()
	if o.Binary == "" {
		if o.Version == "" {
			o.Version = V4
		}
		o.Binary = Require(t, o.Version)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	p, err := Launch(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.Exited() {
			p.Stop(10 * time.Second)
		}
		if t.Failed() {
			t.Logf("fluent-bit log:\n%s", Tail(p.Log(), 6000))
			if p.LogFile != "" {
				b, _ := os.ReadFile(p.LogFile)
				t.Logf("its Log_File:\n%s", Tail(string(b), 6000))
			}
		}
	})
	return p
}

// Pid is the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Log is everything fluent-bit wrote so far (stdout and stderr).
func (p *Process) Log() string { return p.log.String() }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitLog waits until the log (the output, or the LogFile when set)
// contains s; false after timeout or when the process exits without having
// written it.
func (p *Process) WaitLog(s string, timeout time.Duration) bool {
	has := func() bool {
		if strings.Contains(p.Log(), s) {
			return true
		}
		if p.LogFile == "" {
			return false
		}
		b, _ := os.ReadFile(p.LogFile)
		return strings.Contains(string(b), s)
	}
	WaitFor(timeout, func() bool { return p.Exited() || has() })
	// Exited or found: one last look, the final write may race with exit.
	return has()
}

// Wait waits up to timeout for the process to exit on its own; false
// when it is still running.
func (p *Process) Wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// ExitErr is the exit error of the exited process (nil for status 0).
func (p *Process) ExitErr() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// ExitCode is the exit status of the exited process (-1 while running or
// when killed by a signal).
func (p *Process) ExitCode() int {
	if !p.Exited() || p.Cmd.ProcessState == nil {
		return -1
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Stop sends SIGTERM and waits up to timeout (Fluent Bit's Grace plus
// margin) for the exit, then kills it. It reports whether the process
// exited on its own in time.
func (p *Process) Stop(timeout time.Duration) bool {
	if p.Exited() {
		return true
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if p.Wait(timeout) {
		return true
	}
	_ = p.Cmd.Process.Kill()
	<-p.done
	return false
}

// Usage is the CPU time of the exited process (zero while
// it runs).
func (p *Process) Usage() Usage {
	if !p.Exited() || p.Cmd.ProcessState == nil {
		return Usage{}
	}
	return Usage{User: p.Cmd.ProcessState.UserTime(), Sys: p.Cmd.ProcessState.SystemTime()}
}

// Status reads fields of /proc/<pid>/status of the running process, e.g.
// "VmHWM" (kB) and "Threads".
func (p *Process) Status(fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if k == f {
				n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				out[k] = n
			}
		}
	}
	return out, nil
}

// WaitFor polls cond every 20 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tail is the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

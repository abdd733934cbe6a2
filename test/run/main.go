// Command run is a newcomer's first contact (`make run`): one log, sent the
// way a FireLens log driver sends it, through real Fluent Bit with the
// plugin loaded, into the local intake stand-in, printed as it arrived. It
// needs no Docker, no API key and no root: Fluent Bit's storage and socket
// are in a temporary directory.
//
// Fluent Bit is -fluent-bit, else FLUENT_BIT, else the binaries beside the
// repository (../shared/fluent-bit/, as the tests find them: 4.2.8 first,
// the line aws-for-fluent-bit 3.x ships), else fluent-bit on PATH, else
// /opt/fluent-bit/bin/fluent-bit (where Fluent Bit's packages install it).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

func main() {
	so := flag.String("so", "build/out_datadog_go.so", "plugin shared library")
	bin := flag.String("fluent-bit", os.Getenv("FLUENT_BIT"), "Fluent Bit binary (default: found as the package comment says)")
	flag.Parse()
	if err := run(*so, *bin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

// Message is the log's text.
const Message = "hello from make run: one log through Fluent Bit and datadog_go"

// findFluentBit is the binary to run, or an error saying where it looked
// and how to get one.
func findFluentBit(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	for _, v := range []string{fbtest.V4, fbtest.V5, fbtest.V19} {
		if p, err := fbtest.Find(v); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("fluent-bit"); err == nil {
		return p, nil
	}
	if p := "/opt/fluent-bit/bin/fluent-bit"; isExec(p) {
		return p, nil
	}
	return "", errors.New("no Fluent Bit found (looked at FLUENT_BIT, ../shared/fluent-bit/, fluent-bit on PATH, /opt/fluent-bit/bin/fluent-bit): " +
		"install it from Fluent Bit's packages (https://docs.fluentbit.io/manual/installation/linux) or set FLUENT_BIT=/path/to/fluent-bit")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func run(so, bin string, out io.Writer) error {
	bin, err := findFluentBit(bin)
	if err != nil {
		return err
	}
	if so, err = filepath.Abs(so); err != nil {
		return err
	}
	if _, err := os.Stat(so); err != nil {
		return fmt.Errorf("%v (make build writes it)", err)
	}
	dir, err := os.MkdirTemp("", "out_datadog_go-run")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const key = "local-intake-key"
	srv, err := intaketest.Start(intaketest.Options{APIKey: key})
	if err != nil {
		return err
	}
	defer srv.Close()

	socket := filepath.Join(dir, "fluent.sock")
	conf := fmt.Sprintf(`[SERVICE]
    Flush        1
    Grace        2
    Log_Level    info
    storage.path %s

[INPUT]
    Name         forward
    unix_path    %s
    storage.type filesystem

[OUTPUT]
    Name           datadog_go
    Match          *
    endpoint       %s/api/v2/logs
    apikey         %s
    dd_service     first-contact
    dd_source      make-run
    dd_tags        env:local
    dd_message_key log
    workers        4
`, filepath.Join(dir, "storage"), socket, srv.URL, key)
	fmt.Fprintf(out, "Fluent Bit: %s\nplugin:     %s\nintake:     %s (the local stand-in, test/localintake)\n\n", bin, so, srv.URL)
	p, err := fbtest.Launch(fbtest.Options{Binary: bin, Plugins: []string{so}, Config: conf, Dir: dir})
	if err != nil {
		return err
	}
	defer p.Stop(10 * time.Second)

	f, err := fbtest.DialForward("unix", socket)
	if err != nil {
		return err
	}
	defer f.Close()
	f.Ack = true
	rec := msgp.AppendMapHeader(nil, 3)
	for _, kv := range [][2]string{{"log", Message}, {"source", "stdout"}, {"container_name", "/app"}} {
		rec = msgp.AppendString(msgp.AppendString(rec, kv[0]), kv[1])
	}
	if err := f.Send("app-firelens-0123", []fbtest.Event{{Time: time.Now(), Record: rec}}); err != nil {
		return fmt.Errorf("sending the log to Fluent Bit: %w", err)
	}
	if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= 1 }) {
		return fmt.Errorf("the log did not reach the intake in 30 s; Fluent Bit's log:\n%s", fbtest.Tail(p.Log(), 4000))
	}
	p.Stop(10 * time.Second)
	logs := srv.Logs()
	pretty, _ := json.MarshalIndent(logs[0], "", "  ")
	fmt.Fprintf(out, "The intake received %d log:\n%s\n\nThe plugin's lines in Fluent Bit's log:\n", len(logs), pretty)
	for _, line := range strings.Split(p.Log(), "\n") {
		if strings.Contains(line, "[output:datadog_go:") {
			fmt.Fprintln(out, line)
		}
	}
	fmt.Fprintf(out, "\nNext: the same with your Datadog site and key, `DD_API_KEY=... %s -e %s -c fluent-bit.conf` (README).\n", bin, so)
	return nil
}

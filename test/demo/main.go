// Command demo pushes FireLens-like records through test/flbhost (which
// loads out_datadog_go.so the way Fluent Bit does) into the built-in local
// intake stand-in — or to the real Datadog site when DD_API_KEY and DD_SITE
// are set — and prints what the intake received. `make demo` runs it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

func main() {
	so := flag.String("so", "build/out_datadog_go.so", "plugin shared library")
	host := flag.String("host", "build/flbhost", "C host")
	records := flag.Int("records", 20000, "records to send")
	workers := flag.Int("workers", 2, "Fluent Bit output workers")
	flag.Parse()
	if err := run(*so, *host, *records, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(so, host string, records, workers int) error {
	dir, err := os.MkdirTemp("", "out_datadog_go-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	apiKey, site := os.Getenv("DD_API_KEY"), os.Getenv("DD_SITE")
	var srv *intaketest.Server
	conf := []string{
		"Name datadog_go", "Match *", "dd_service demo-web", "dd_source httpd",
		"dd_tags env:demo,team:logs", "dd_message_key log", "provider ecs",
		"stats_interval 0", "workers " + fmt.Sprint(workers),
	}
	if apiKey != "" && site != "" {
		fmt.Printf("Sending %d records to the real Datadog site %s (key from DD_API_KEY).\n\n", records, site)
		conf = append(conf, "site "+site) // the key comes from DD_API_KEY in the environment
	} else {
		srv, err = intaketest.Start(intaketest.Options{})
		if err != nil {
			return err
		}
		defer srv.Close()
		fmt.Printf("No DD_API_KEY/DD_SITE: sending %d records to the built-in local intake at %s.\n\n", records, srv.URL)
		conf = append(conf, "endpoint "+srv.URL, "apikey demo-key-not-secret")
	}
	confPath := filepath.Join(dir, "output.conf")
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	g := chunkgen.New(2026)
	chunks := g.Chunks(records, 256<<10)
	args := []string{"-so", so, "-conf", confPath, "-workers", fmt.Sprint(workers), "-retry-limit", "3", "-cpu"}
	var in int
	for i, c := range chunks {
		p := filepath.Join(dir, fmt.Sprintf("chunk-%04d.msgpack", i))
		if err := os.WriteFile(p, c, 0o600); err != nil {
			return err
		}
		args = append(args, p)
		in += len(c)
	}
	fmt.Printf("Fluent Bit side: %d chunks, %.1f MB of msgpack (access logs, JSON app logs, stack traces, non-UTF-8 lines), v2 layout with group markers.\n",
		len(chunks), float64(in)/1e6)

	cmd := exec.Command(host, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	fmt.Printf("\nPlugin log (stderr):\n%s\n", indent(errb.String()))
	var sum map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &sum); err != nil {
		return fmt.Errorf("host: %v (%v)", runErr, err)
	}
	fmt.Printf("Flushes: %v chunks -> FLB_OK %v, FLB_RETRY %v, FLB_ERROR %v; host CPU %.2f s user + %.2f s sys, peak RSS %.0f MB\n",
		sum["chunks"], sum["ok"], sum["retry"], sum["error"], sum["cpu_user_s"], sum["cpu_sys_s"], sum["max_rss_kb"].(float64)/1024)
	if srv == nil {
		fmt.Println("\nSent to Datadog: look for service:demo-web in the Log Explorer.")
		return runErr
	}

	st := srv.Stats()
	fmt.Printf("\nThe intake received: %d logs in %d payloads (at most %d entries and %.2f MB uncompressed each; limits 1000 and 5 MB)\n",
		st.Entries, st.Accepted, st.MaxEntries, float64(st.MaxRawBytes)/1e6)
	fmt.Printf("  %.1f MB of JSON as %.2f MB gzip on the wire (%.1fx), contract violations: %d\n",
		float64(st.RawBytes)/1e6, float64(st.WireBytes)/1e6, float64(st.RawBytes)/float64(max(st.WireBytes, 1)), st.Violations)
	seqs := srv.Seqs()
	dups := 0
	for _, c := range seqs {
		if c > 1 {
			dups++
		}
	}
	fmt.Printf("  exactly once: %d of %d records present, %d duplicated\n", len(seqs), records, dups)
	logs := srv.Logs()
	if len(logs) == 0 {
		return fmt.Errorf("no logs received")
	}
	one := logs[1]
	pretty, _ := json.MarshalIndent(one, "  ", "  ")
	fmt.Printf("\nOne log as Datadog would store it:\n  %s\n", pretty)
	tags := strings.Split(fmt.Sprint(one["ddtags"]), ",")
	sort.Strings(tags)
	fmt.Printf("\nIts tags (%d):\n", len(tags))
	for _, t := range tags {
		fmt.Printf("  %s\n", t)
	}
	if len(seqs) != records || dups != 0 {
		return fmt.Errorf("delivery incomplete")
	}
	return runErr
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ")
}

// Command localintake runs the Datadog logs intake stand-in for people: the
// docker-compose stack and manual tests point the plugin's `endpoint` at
// it. It serves POST /api/v2/logs, GET /_stats (counters as JSON) and
// GET /_logs?n=N (the last N logs accepted), and prints a line per payload
// summary every few seconds.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (0.0.0.0:8080 inside a container)")
	apikey := flag.String("apikey", "", "accept only this DD-API-KEY (any non-empty key when unset)")
	every503 := flag.Int("fail-every", 0, "answer 503 to every Nth request (fault injection)")
	flag.Parse()

	o := intaketest.Options{Addr: *addr, APIKey: *apikey}
	if *every503 > 0 {
		n := *every503
		o.Fault = func(i int) intaketest.Fault {
			if i%n == 0 {
				return intaketest.Fault{Status: 503}
			}
			return intaketest.Fault{}
		}
	}
	srv, err := intaketest.Start(o)
	if err != nil {
		log.Fatalf("localintake: %v", err)
	}
	fmt.Fprintf(os.Stderr, "localintake: Datadog logs intake stand-in on %s/api/v2/logs (GET /_stats, /_logs?n=5)\n", srv.URL)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	tick := time.NewTicker(5 * time.Second)
	last := -1
	for {
		select {
		case <-stop:
			st := srv.Stats()
			fmt.Fprintf(os.Stderr, "localintake: %d logs in %d payloads, %d bytes raw, %d on the wire\n", st.Entries, st.Accepted, st.RawBytes, st.WireBytes)
			srv.Close()
			return
		case <-tick.C:
			if st := srv.Stats(); st.Entries != last {
				last = st.Entries
				fmt.Fprintf(os.Stderr, "localintake: %d logs in %d payloads (max %d entries, %d bytes raw per payload), %d contract violations\n",
					st.Entries, st.Accepted, st.MaxEntries, st.MaxRawBytes, st.Violations)
			}
		}
	}
}

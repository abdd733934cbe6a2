package realfb

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestOutageRetryLimitOne: with Fluent Bit's default Retry_Limit (1),
// which FireLens options usually leave in place, an intake answering 503
// for 15 s costs datadog_go no more records than the built-in datadog
// output, and once the intake has been healthy for a second datadog_go
// gives up no chunk: a healthy intake never looks down (docs/delivery.md,
// "Outages"). Both outputs run in one Fluent Bit, on the same records, each
// with its own intake failing over the same 15 s; the counts are records
// that arrived. (Before: the circuit handed chunks back without a request
// for up to retry_budget after the intake recovered, and Fluent Bit gave
// them up: 1,000 of 1,500 records against the built-in's 1,200.)
//
// Fluent Bit's scheduler draws each retry's time at random (5-10 s after
// a first failure by default), for each output apart, so with its defaults
// the two counts differ by chance by a chunk or two either way. Here
// scheduler.base and scheduler.cap are equal: Fluent Bit retries every
// chunk of both outputs exactly 3 s after it was handed back, and each
// chunk's fate under datadog_go is held to its fate under the built-in.
//
// On every line: the give-up rule and the scheduler are Fluent Bit's own.
// 1.9.10's built-in runs without provider ecs (it corrupts its heap with
// it, benchmarks/cmd/bench/realfb.go).
func TestOutageRetryLimitOne(t *testing.T) {
	for _, v := range fbtest.Lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			const (
				rate    = 100 // records a second, in 10 messages
				send    = 30 * time.Second
				outFrom = 5 * time.Second
				outage  = 15 * time.Second
			)
			var from, to atomic.Int64 // the outage, UnixNano; set when sending starts
			failing := func(int) intaketest.Fault {
				if now := time.Now().UnixNano(); now >= from.Load() && now < to.Load() {
					return intaketest.Fault{Status: 503}
				}
				return intaketest.Fault{}
			}
			from.Store(1 << 62)
			ours := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: failing})
			builtin := intaketest.StartT(t, intaketest.Options{Lenient: true, Fault: failing})
			host, port := hostPort(t, builtin.URL)

			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = slices.DeleteFunc(fbtest.SeedOptions(ours.URL, apiKey), func(o string) bool { return o == "Retry_Limit no_limits" })
			fl.Options = append(fl.Options, "Match *")
			builtinOpts := []string{"Name datadog", "Match *", "dd_message_key log", "dd_service singsong", "dd_source httpd", "dd_tags env:prod",
				"provider ecs", "apikey " + apiKey, "Host " + host, "Port " + strconv.Itoa(port), "TLS off", "workers 2"}
			if v == fbtest.V19 {
				builtinOpts = slices.DeleteFunc(builtinOpts, func(o string) bool { return o == "provider ecs" })
			}
			fl.Extra = "[OUTPUT]\n"
			for _, o := range builtinOpts {
				fl.Extra += "    " + o + "\n"
			}
			fl.Service = []string{"Flush 1", "scheduler.base 3", "scheduler.cap 3"}
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
			f := dialAcked(t, fl.Socket)

			n := int(send/time.Second) * rate
			recs := fbtest.Records(n, 28, fbtest.DefaultContainer)
			start := time.Now()
			from.Store(start.Add(outFrom).UnixNano())
			to.Store(start.Add(outFrom + outage).UnixNano())
			for i := 0; i < n; i += rate / 10 {
				if err := fbtest.SendRecords(f, fl.Tag(), recs[i:i+rate/10], rate/10); err != nil {
					t.Fatalf("%v\n%s", err, fbtest.Tail(p.Log(), 3000))
				}
				time.Sleep(time.Until(start.Add(time.Duration(i+rate/10) * time.Second / rate)))
			}
			// A chunk's only retry comes 3 s after its first try (which lasts
			// retry_budget at most): every chunk is delivered or given up by then.
			settled := func(s *intaketest.Server) int { return len(s.Seqs()) }
			fbtest.WaitFor(20*time.Second, func() bool { return settled(ours) == n && settled(builtin) == n })
			got, base := settled(ours), settled(builtin)
			healthy := time.Unix(0, to.Load()).Add(time.Second)
			late := givenUpAfter(p.Log(), "datadog_go", healthy)
			t.Logf("%d records, intake down %s-%s after the first: datadog_go delivered %d, the built-in %d; datadog_go gave up %d chunk(s) after the intake had been healthy for 1 s",
				n, outFrom, outFrom+outage, got, base, len(late))
			if got < base {
				t.Errorf("datadog_go delivered %d records, the built-in %d in the same outage", got, base)
			}
			if len(late) > 0 {
				t.Errorf("datadog_go gave up chunks once the intake had been healthy for 1 s (%s):\n%s", healthy.Format(time.TimeOnly), fmt.Sprint(late))
			}
			if t.Failed() {
				t.Logf("intake down %s to %s; Fluent Bit's log:\n%s", time.Unix(0, from.Load()).Format("15:04:05.000"),
					time.Unix(0, to.Load()).Format("15:04:05.000"), p.Log())
			}
		})
	}
}

// givenUp matches Fluent Bit's line for a chunk it gives up on at its
// Retry_Limit (src/flb_engine.c, the same words on every line; 4.x and 5.x
// time it to the nanosecond, 1.9.10 to the second).
var givenUp = regexp.MustCompile(`(?m)^\[(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\] \[ ?\w+\] \[engine\] chunk '[^']*' cannot be retried: .*> output=(\S+)`)

// givenUpAfter lists Fluent Bit's give-up lines for an output whose name
// starts with output, logged at or after at.
func givenUpAfter(log, output string, at time.Time) []string {
	var late []string
	for _, m := range givenUp.FindAllStringSubmatch(log, -1) {
		when, err := time.ParseInLocation("2006/01/02 15:04:05.999999999", m[1], time.Local)
		if err != nil || len(m[2]) < len(output) || m[2][:len(output)] != output {
			continue
		}
		if !when.Before(at) { // to the second: the line's second starts at or after at
			late = append(late, m[0])
		}
	}
	return late
}

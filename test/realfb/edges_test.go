package realfb

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// Delivery at the edges (docs/delivery.md) through real Fluent Bit, on
// every line: refused records spread through a chunk, identical chunks, and
// answers that are not HTTP request-response. Each case is its own process
// and ports, and all run at once (they wait, they do not compute): t.Run
// from goroutines, which -parallel does not throttle.
func TestDeliveryEdges(t *testing.T) {
	cases := map[string]func(t *testing.T, v string){
		"refused-spread": refusedSpread, "identical-chunks": identicalChunks,
	}
	for name, fault := range map[string]intaketest.Fault{
		"101": {Upgrade: true}, "102": {Info: 102}, "hijacked": {Hijack: true}, "endless-body": {Endless: true},
	} {
		cases["hostile-"+name] = func(t *testing.T, v string) { hostileAnswer(t, v, fault) }
	}
	var wg sync.WaitGroup
	for _, v := range fbtest.Lines {
		for name, run := range cases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run(v+"/"+name, func(t *testing.T) {
					fbtest.Require(t, v)
					run(t, v)
				})
			}()
		}
	}
	wg.Wait()
}

// edgeRouter starts the seed's FireLens router on Fluent Bit v against
// srv, with the seed's options, lines replacing those of the same key, and
// Fluent Bit's fast retry. Cases whose subject is not the budget set
// retry_budget 20s: the 4 s default can end a flush on a loaded machine.
func edgeRouter(t *testing.T, v string, srv *intaketest.Server, lines ...string) (fbtest.FireLens, *fbtest.Process) {
	t.Helper()
	dir := t.TempDir()
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	key := func(line string) string { k, _, _ := strings.Cut(line, " "); return strings.ToLower(k) }
	fl.Options = lines
	for _, o := range fbtest.SeedOptions(srv.URL, apiKey) {
		if !slices.ContainsFunc(lines, func(l string) bool { return key(l) == key(o) }) {
			fl.Options = append(fl.Options, o)
		}
	}
	fl.Service = fastRetry
	return fl, fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})
}

// markedRecords are n records as the log driver sends them, whose log
// reads "REFUSE-ME seq=i" for i in bad (the stand-in refuses a payload
// holding one with 400) and "line seq=i" otherwise.
func markedRecords(n int, bad map[int]bool) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		msg := fmt.Sprintf("GET /api/v1/items line seq=%d", i)
		if bad[i] {
			msg = fmt.Sprintf("REFUSE-ME seq=%d", i)
		}
		b := msgp.AppendMapHeader(nil, 4)
		b = msgp.AppendString(msgp.AppendString(b, "container_id"), fbtest.DefaultContainer.ID)
		b = msgp.AppendString(msgp.AppendString(b, "container_name"), fbtest.DefaultContainer.Name)
		b = msgp.AppendString(msgp.AppendString(b, "source"), "stdout")
		out[i] = msgp.AppendString(msgp.AppendString(b, "log"), msg)
	}
	return out
}

// Four refused records, one in each quarter of 1,000, with Fluent Bit's
// default Retry_Limit (1): the 996 others arrive once, the four are
// dropped, counted and logged. (Before: FLB_RETRY on every try, then
// "cannot be retried": all 1,000 lost.)
func refusedSpread(t *testing.T, v string) {
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, RejectMarker: "REFUSE-ME"})
	fl, p := edgeRouter(t, v, srv, "Retry_Limit 1", "retry_budget 20s")
	bad := map[int]bool{10: true, 260: true, 510: true, 760: true}
	send(t, fl.Socket, fl.Tag(), markedRecords(1000, bad))
	if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= 996 }) {
		t.Fatalf("%d of 996 records arrived:\n%s", srv.Stats().Entries, fbtest.Tail(p.Log(), 3000))
	}
	if !p.WaitLog("refused alone twice", 10*time.Second) {
		t.Error("no drop logged")
	}
	time.Sleep(300 * time.Millisecond)
	seqs := srv.Seqs()
	for i := 0; i < 1000; i++ {
		if want := map[bool]int{true: 0, false: 1}[bad[i]]; seqs[i] != want {
			t.Errorf("seq %d arrived %d times, want %d", i, seqs[i], want)
		}
	}
	p.Stop(20 * time.Second)
	if !strings.Contains(p.Log(), "drop_rejected=4 ") || strings.Contains(p.Log(), "cannot be retried") {
		t.Errorf("exit counters or retries:\n%s", fbtest.Tail(p.Log(), 3000))
	}
}

// Identical chunks: the same 300 records at the same times, sent four
// times a flush apart (four chunks with the same bytes and tag), through an
// intake failing every third request, with two workers: each record arrives
// exactly four times. (Before: a new chunk took the memory of one waiting
// for retry, and a second worker's entry overwrote the first's.)
func identicalChunks(t *testing.T, v string) {
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: func(n int) intaketest.Fault {
		if n%3 == 0 {
			return intaketest.Fault{Status: 503}
		}
		return intaketest.Fault{}
	}})
	fl, p := edgeRouter(t, v, srv, "max_retries 0", "max_batch_entries 100", "retry_budget 20s")
	records := fbtest.Records(300, 31, fbtest.DefaultContainer)
	at := time.Now().Truncate(time.Second)
	events := make([]fbtest.Event, len(records))
	for i, r := range records {
		events[i] = fbtest.Event{Time: at, Record: r}
	}
	const copies = 4
	f := dialAcked(t, fl.Socket)
	for c := 0; c < copies; c++ {
		if err := f.Send(fl.Tag(), events); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // the chunk is flushed: the next message starts another
	}
	if !fbtest.WaitFor(40*time.Second, func() bool { return srv.Stats().Entries >= copies*300 }) {
		t.Fatalf("%d of %d records arrived:\n%s", srv.Stats().Entries, copies*300, fbtest.Tail(p.Log(), 3000))
	}
	time.Sleep(1500 * time.Millisecond) // a duplicate, if any, arrives too
	seqs := srv.Seqs()
	for i := 0; i < 300; i++ {
		if seqs[i] != copies {
			t.Errorf("seq %d arrived %d times, want %d", i, seqs[i], copies)
			break
		}
	}
	p.Stop(20 * time.Second)
	if !strings.Contains(p.Log(), "handed back to Fluent Bit for retry") || strings.Contains(p.Log(), "resumed=0 ") {
		t.Errorf("no chunk was handed back half delivered:\n%s", fbtest.Tail(p.Log(), 3000))
	}
}

// Answers that are not HTTP request-response: a 101 upgrade, a 102 with
// no final answer, a connection taken over in silence, a 503 whose body
// never ends. Each request ends within the timeout (2 s; less risks a
// request the stand-in accepts after the client gave up on a loaded
// machine, delivered twice by any client): the records arrive once the
// intake answers again, and with it answering so, Fluent Bit exits within
// 10 s of SIGTERM (Grace 2, retry_budget 4s).
// (Before: a 101 hung the flush forever; Fluent Bit was still alive 60 s
// after SIGTERM.)
func hostileAnswer(t *testing.T, v string, fault intaketest.Fault) {
	var on atomic.Bool
	srv := faultyIntake(t, &on, fault)
	fl, p := edgeRouter(t, v, srv, "timeout 2s", "retry_budget 4s", "max_retries 1")
	const n = 300
	send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 32, fbtest.DefaultContainer))
	if !fbtest.WaitFor(20*time.Second, func() bool { return srv.Stats().Faults >= 2 }) {
		t.Fatalf("%d faults answered:\n%s", srv.Stats().Faults, fbtest.Tail(p.Log(), 3000))
	}
	on.Store(false)
	checkDelivered(t, srv, p, n)

	on.Store(true)
	faults := srv.Stats().Faults
	send(t, fl.Socket, fl.Tag(), fbtest.Records(50, 33, fbtest.DefaultContainer))
	if !fbtest.WaitFor(20*time.Second, func() bool { return srv.Stats().Faults > faults }) {
		t.Fatal("the second batch met no fault")
	}
	start := time.Now()
	if !p.Stop(25*time.Second) || time.Since(start) > 10*time.Second {
		t.Errorf("Fluent Bit exited %v after SIGTERM (retry_budget 4s, Grace 2)", time.Since(start))
	}
	t.Logf("exit %v after SIGTERM", time.Since(start).Round(100*time.Millisecond))
}

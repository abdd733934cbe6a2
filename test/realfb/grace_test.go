package realfb

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/fbtest"
	"github.com/out-datadog-go/out_datadog_go/internal/intaketest"
)

// TestExitWithFlushInFlight: SIGTERM while a flush waits on an intake that
// never answers. The chunk must go back as FLB_RETRY, never FLB_OK, and
// Fluent Bit must exit.
//
// Real Fluent Bit stops an output's worker threads (joining them, so waiting
// for the flush in flight) before it calls the plugin's exit callback
// (fluent-bit src/flb_output.c, flb_output_exit: flb_output_thread_pool_destroy
// comes before cb_exit). The plugin's exit-time cancellation (2 s) therefore
// cannot shorten a flush under workers here: the flush ends by its own
// timeout and retry_budget, and the exit takes that long whatever Grace
// says. The test sets a short budget and checks the exit follows it.
func TestExitWithFlushInFlight(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			fbtest.Require(t, v)
			srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: func(int) intaketest.Fault {
				return intaketest.Fault{Delay: 5 * time.Minute}
			}})
			dir := t.TempDir()
			fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
			fl.Options = append([]string{"timeout 2s", "retry_budget 4s"}, fbtest.SeedOptions(srv.URL, apiKey)...)
			fl.Service = []string{"Flush 1", "Grace 2"}
			p := fbtest.Start(t, fbtest.Options{Version: v, Config: fl.Config(), Dir: dir})

			const n = 3000
			send(t, fl.Socket, fl.Tag(), fbtest.Records(n, 1, fbtest.DefaultContainer))
			if !fbtest.WaitFor(15*time.Second, func() bool { return srv.Stats().Requests > 0 }) {
				t.Fatal("no request reached the intake")
			}
			t0 := time.Now()
			if !p.Stop(20 * time.Second) {
				t.Fatalf("fluent-bit still running 20 s after SIGTERM")
			}
			took := time.Since(t0)
			if st := srv.Stats(); st.Accepted != 0 {
				t.Fatalf("the stalled intake accepted %d payloads", st.Accepted)
			}
			exit := regexp.MustCompile(`exit: records_in=(\d+) .* flush_ok=(\d+) flush_retry=(\d+) flush_error=(\d+)`).FindStringSubmatch(p.Log())
			if exit == nil {
				t.Fatalf("no exit counters line")
			}
			in, ok, retry, ferr := atoi(exit[1]), atoi(exit[2]), atoi(exit[3]), atoi(exit[4])
			if in != n || ok != 0 || retry == 0 || ferr != 0 {
				t.Errorf("exit counters: records_in=%d flush_ok=%d flush_retry=%d flush_error=%d, want %d/0/>0/0", in, ok, retry, ferr, n)
			}
			t.Logf("exit %.1f s after SIGTERM (Grace 2, retry_budget 4s); status %d", took.Seconds(), p.ExitCode())
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestExitWithinStopTimeoutByDefault: the same SIGTERM with the seed's
// options and no retry_budget set. Fluent Bit holds its exit for the flush,
// so the default budget must end it inside ECS's default 30 s stopTimeout
// (with the former 60 s default the exit came after 60 s and ECS would have
// killed the router first).
func TestExitWithinStopTimeoutByDefault(t *testing.T) {
	fbtest.Require(t, fbtest.V4)
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey, Fault: func(int) intaketest.Fault {
		return intaketest.Fault{Delay: 5 * time.Minute}
	}})
	dir := t.TempDir()
	fl := fbtest.SeedTask(filepath.Join(dir, "fluent.sock"))
	fl.Options = fbtest.SeedOptions(srv.URL, apiKey)
	fl.Service = []string{"Flush 1", "Grace 5"}
	p := fbtest.Start(t, fbtest.Options{Config: fl.Config(), Dir: dir})
	send(t, fl.Socket, fl.Tag(), fbtest.Records(1000, 1, fbtest.DefaultContainer))
	if !fbtest.WaitFor(15*time.Second, func() bool { return srv.Stats().Requests > 0 }) {
		t.Fatal("no request reached the intake")
	}
	t0 := time.Now()
	if !p.Stop(29 * time.Second) {
		t.Fatalf("fluent-bit still running 29 s after SIGTERM: ECS's default stopTimeout would kill it")
	}
	if !regexp.MustCompile(`exit: records_in=1000 .* flush_ok=0 flush_retry=[1-9]`).MatchString(p.Log()) {
		t.Errorf("exit counters:\n%s", fbtest.Tail(p.Log(), 2000))
	}
	t.Logf("exit %.1f s after SIGTERM with the default retry_budget", time.Since(t0).Seconds())
}

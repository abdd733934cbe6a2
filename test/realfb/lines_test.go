package realfb

import (
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// TestMain runs up to 4 scenarios at once unless -parallel says otherwise.
// A scenario mostly waits (on Fluent Bit's flush interval, its retries, an
// outage, a stop), so the default of GOMAXPROCS (2 here) would run the
// tier one or two Fluent Bits at a time; each scenario has its own
// process, directory and free ports. With 8 the tier took 85-125 s instead
// of 150 s, but budgets of 3-4 s ran out against a healthy stand-in in
// about one run in two (make test runs test/e2e next to it, too).
//
// Not parallel, so they run first, each on its own: the scenarios that
// push ten thousand records and more through the stand-in intake with the
// seed's 4 s retry_budget (TestFireLensShape, TestTwoInstancesTwoKeys),
// and those that start fifteen Fluent Bits at once (TestDeliveryEdges,
// TestStopWithinGrace). The stand-in runs in this (race-instrumented)
// process; in the crowd it answered past the budget, and a payload it
// accepted as the client gave up arrived twice, as it would through any
// HTTP client. (TestFaultMatrixExactlyOnce's 5 s timeout and 20 s budget
// hold in the crowd.)
func TestMain(m *testing.M) {
	_ = flag.Set("test.parallel", "4") // before m.Run parses the command line, which wins
	os.Exit(m.Run())
}

// eachLine marks t parallel and runs scenario as a parallel subtest on
// each of lines (named by the version), skipping a line whose binary is
// absent.
func eachLine(t *testing.T, lines []string, scenario func(t *testing.T, v string)) {
	t.Parallel()
	for _, v := range lines {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			fbtest.Require(t, v)
			scenario(t, v)
		})
	}
}

// linesPast19 are fbtest.Lines without 1.9.10: the scenarios of what 1.9
// lacks run on these (YAML as the tests write it, 2.0's schema with
// pipeline: inputs and outputs as lists; 4.1's storage.inherit).
var linesPast19 = slices.DeleteFunc(slices.Clone(fbtest.Lines), func(v string) bool { return v == fbtest.V19 })

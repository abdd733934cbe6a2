package realfb

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/intake/intaketest"
	"github.com/out-datadog-go/out_datadog_go/test/realfb/fbtest"
)

// The aggregator's own task (the task metadata endpoint describes it) and
// the two tasks whose routers forward to it. Their container names collide
// with the aggregator's: app, log_router.
const (
	aggARN    = "arn:aws:ecs:us-east-1:123456789012:task/logs/cccccccccccccccccccccccccccccccc"
	aggAppID  = "cccccccccccccccccccccccccccccccc-1000000001"
	ordersARN = "arn:aws:ecs:us-east-1:123456789012:task/orders/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ordersID  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2000000001"
	billARN   = "arn:aws:ecs:eu-west-1:210987654321:task/billing/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	billID    = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-3000000001"
)

// aggregatorDoc is the aggregator task's v4 document: its app container
// excludes DEBUG lines (com.datadoghq.ad.logs) and has its own env, service
// and image.
func aggregatorDoc(t *testing.T) []byte {
	t.Helper()
	adLogs := `[{"source":"aggsrc","service":"agg-app","log_processing_rules":[{"type":"exclude_at_match","name":"no_debug","pattern":"DEBUG"}]}]`
	doc := map[string]any{
		"Cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/logs", "TaskARN": aggARN, "Family": "log-aggregator", "Revision": "5",
		"ServiceName": "Log-Aggregator", "AvailabilityZone": "us-east-1c", "LaunchType": "FARGATE",
		"Containers": []map[string]any{
			{"DockerId": aggAppID, "Name": "app", "DockerName": "app", "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/agg-app:1.0",
				"Labels": map[string]string{"com.datadoghq.ad.logs": adLogs, "com.datadoghq.tags.env": "agg-env"}},
			{"DockerId": "cccccccccccccccccccccccccccccccc-1000000002", "Name": "log_router", "DockerName": "log_router",
				"Image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// record builds a msgpack map from key/value pairs, in order (values as
// msgp.AppendIntf takes them).
func record(t *testing.T, pairs ...any) []byte {
	t.Helper()
	b := msgp.AppendMapHeader(nil, uint32(len(pairs)/2))
	for i := 0; i < len(pairs); i += 2 {
		var err error
		b = msgp.AppendString(b, pairs[i].(string))
		if b, err = msgp.AppendIntf(b, pairs[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// firelens are the pairs another task's router forwards with each record:
// the log driver's container fields, then its FireLens ECS fields.
func firelens(id, name, cluster, arn, taskDef string) []any {
	return []any{"container_id", id, "container_name", name, "source", "stdout",
		"ecs_cluster", cluster, "ecs_task_arn", arn, "ecs_task_definition", taskDef}
}

// TestAggregatorTagsEachTaskItsOwn (issue 20) runs the router as an
// aggregator: a forward input receives the records of two other tasks
// (orders, billing: each record with its own FireLens fields, container
// names app and log_router like the aggregator's own) and, under the same
// input, the aggregator task's own app container's lines; the task metadata
// endpoint describes the aggregator's task. Every record keeps its own
// task's tags (exactly what its FireLens fields give, nothing of the
// aggregator's task, labels, image, service or source), no other task's
// DEBUG line is excluded by the aggregator app's rule while that app's own
// DEBUG lines are, a record with no FireLens field gets no ECS tag, and
// record values of the wrong type go out as the intake's schema types them.
// Two shapes: a plain Fluent Bit aggregator, and a FireLens router with its
// record_modifier (which appends the aggregator task's fields to every
// record, forwarded ones included), on every line.
func TestAggregatorTagsEachTaskItsOwn(t *testing.T) {
	t.Parallel()
	for _, fireLens := range []bool{false, true} {
		t.Run(map[bool]string{false: "aggregator", true: "FireLens router"}[fireLens], func(t *testing.T) {
			eachLine(t, fbtest.Lines, func(t *testing.T, v string) { runAggregator(t, v, fireLens) })
		})
	}
}

func runAggregator(t *testing.T, version string, fireLens bool) {
	metaURI, taskHits := serveTask(t, "/v4/agg", aggregatorDoc(t))
	srv := intaketest.StartT(t, intaketest.Options{APIKey: apiKey})

	dir := t.TempDir()
	socket := filepath.Join(dir, "fluent.sock")
	options := []string{"Name datadog_go", "Match *", "dd_message_key log", "dd_service aggregated", "dd_source fwd",
		"dd_tags env:staging", "provider ecs", "endpoint " + srv.URL, "apikey " + apiKey, "workers 2", "Retry_Limit no_limits"}
	config := "[SERVICE]\n    Flush 1\n    Grace 2\n\n[INPUT]\n    Name forward\n    unix_path " + socket + "\n\n[OUTPUT]\n    " +
		strings.Join(options, "\n    ") + "\n"
	if fireLens {
		config = fbtest.FireLens{Socket: socket, Container: "app", Cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/logs",
			TaskARN: aggARN, TaskDefinition: "log-aggregator:5", Options: options, Service: []string{"Flush 1", "Grace 2"}}.Config()
	}
	p := fbtest.Start(t, fbtest.Options{Version: version, Config: config, Dir: dir,
		Env: []string{"ECS_CONTAINER_METADATA_URI_V4=" + metaURI}})
	metadataRead(t, p, taskHits)

	// seq numbers: orders 0-39, billing 100-119, bare 200-209, the
	// aggregator's app 300-319, odd types 400-405.
	var records [][]byte
	add := func(pairs ...any) { records = append(records, record(t, pairs...)) }
	orders := firelens(ordersID, "app", "orders", ordersARN, "orders:3")
	for i := 0; i < 40; i++ {
		add(append(orders, "log", []string{"DEBUG", "INFO"}[i%2]+" orders seq="+strconv.Itoa(i))...)
	}
	for i := 100; i < 120; i++ {
		add(append(firelens(billID, "log_router", "arn:aws:ecs:eu-west-1:210987654321:cluster/billing", billARN, "billing:8"),
			"log", "DEBUG billing seq="+strconv.Itoa(i))...)
	}
	for i := 200; i < 210; i++ {
		add("log", "bare seq="+strconv.Itoa(i))
	}
	for i := 300; i < 320; i++ { // as the aggregator's own log driver writes them
		add("container_id", aggAppID, "container_name", "app", "source", "stdout", "log", []string{"DEBUG", "INFO"}[i%2]+" agg seq="+strconv.Itoa(i))
	}
	odd := []any{123, map[string]any{"a": 1}, true, nil, []any{"x"}}
	for i, svc := range odd {
		add(append(orders, "service", svc, "log", "typed seq="+strconv.Itoa(400+i))...)
	}
	add(append(orders, "ddtags", []any{"team:orders", "tier:web"}, "log", nil, "message", "typed seq=405")...)

	f := dialAcked(t, socket)
	if err := fbtest.SendRecords(f, "forwarded", records, 50); err != nil {
		t.Fatal(err)
	}

	const want = 40 + 20 + 10 + 10 + 6 // the aggregator app's 10 DEBUG lines excluded
	if !fbtest.WaitFor(30*time.Second, func() bool { return srv.Stats().Entries >= want }) {
		t.Fatalf("%d of %d records arrived in 30 s", srv.Stats().Entries, want)
	}
	if !p.Stop(20*time.Second) || p.ExitCode() != 0 {
		t.Fatalf("fluent-bit exit: status %d", p.ExitCode())
	}
	if n := srv.Stats().Entries; n != want {
		t.Errorf("intake got %d entries, want %d", n, want)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("contract violations (the intake's schema): %q", v[:min(len(v), 5)])
	}
	if !strings.Contains(p.Log(), " excluded=10 ") {
		t.Errorf("exit counters lack excluded=10 (the aggregator app's DEBUG lines):\n%s", fbtest.Tail(p.Log(), 2000))
	}
	if !strings.Contains(p.Log(), " bad_type=3 ") {
		t.Errorf("exit counters lack bad_type=3 (service object, null, array):\n%s", fbtest.Tail(p.Log(), 2000))
	}
	origins := srv.Stats().ByOrigin
	if len(origins) != 1 || !hasPrefixKey(origins, "out_datadog_go ") {
		t.Errorf("DD-EVP-ORIGIN headers: %v", origins)
	}

	ordersTags := []string{"env:staging", "ecs_cluster_name:orders", "cluster_name:orders",
		"cluster_arn:arn:aws:ecs:us-east-1:123456789012:cluster/orders", "task_arn:" + ordersARN,
		"task_family:orders", "task_name:orders", "task_version:3",
		"task_definition_arn:arn:aws:ecs:us-east-1:123456789012:task-definition/orders:3",
		"region:us-east-1", "aws_account:123456789012", "container_id:" + ordersID, "container_name:app", "ecs_container_name:app"}
	billTags := []string{"env:staging", "ecs_cluster_name:billing", "cluster_name:billing",
		"cluster_arn:arn:aws:ecs:eu-west-1:210987654321:cluster/billing", "task_arn:" + billARN,
		"task_family:billing", "task_name:billing", "task_version:8",
		"task_definition_arn:arn:aws:ecs:eu-west-1:210987654321:task-definition/billing:8",
		"region:eu-west-1", "aws_account:210987654321", "container_id:" + billID, "container_name:log_router", "ecs_container_name:log_router"}
	aggTask := []string{"task_arn:" + aggARN, "task_family:log-aggregator", "ecs_service:log-aggregator", "availability_zone:us-east-1c"}
	seqRe := regexp.MustCompile(`seq=(\d+)`)
	seen := map[int]bool{}
	for _, l := range srv.Logs() {
		msg, _ := l["message"].(string)
		m := seqRe.FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("entry without seq: %v", l)
		}
		seq, _ := strconv.Atoi(m[1])
		seen[seq] = true
		tags := strings.Split(l["ddtags"].(string), ",")
		switch {
		case seq < 100 || seq >= 400: // orders, its DEBUG lines included
			if seq < 400 && (l["service"] != "aggregated" || l["ddsource"] != "fwd") {
				t.Errorf("orders seq=%d: service %v ddsource %v, want the configuration's", seq, l["service"], l["ddsource"])
			}
			want := ordersTags
			if seq == 405 {
				want = append(append([]string{}, ordersTags...), "team:orders", "tier:web") // its ddtags array, joined
			}
			sameTags(t, "orders seq="+m[1], tags, want)
		case seq < 200:
			sameTags(t, "billing seq="+m[1], tags, billTags)
		case seq < 300:
			if fireLens { // the router's record_modifier gave it the aggregator's task fields
				if !containsAll(tags, aggTask) || strings.Contains(l["ddtags"].(string), "container_") {
					t.Errorf("bare seq=%d through FireLens: %v", seq, tags)
				}
			} else {
				sameTags(t, "bare seq="+m[1], tags, []string{"env:staging"})
			}
		default: // the aggregator's own app: its task, labels and rules
			if strings.Contains(msg, "DEBUG") {
				t.Errorf("the aggregator app's DEBUG line was not excluded: %q", msg)
			}
			own := append([]string{"env:agg-env", "container_id:" + aggAppID, "short_image:agg-app", "ecs_container_name:app"}, aggTask...)
			if !containsAll(tags, own) || l["service"] != "agg-app" || l["ddsource"] != "aggsrc" {
				t.Errorf("aggregator app seq=%d: %v (service %v ddsource %v)", seq, tags, l["service"], l["ddsource"])
			}
		}
		switch seq {
		case 400, 402:
			if l["service"] != map[int]string{400: "123", 402: "true"}[seq] {
				t.Errorf("seq=%d: service %v", seq, l["service"])
			}
		case 401, 403, 404:
			if _, kept := l["_service"]; !kept || l["service"] != "aggregated" {
				t.Errorf("seq=%d: service %v, _service %v", seq, l["service"], l["_service"])
			}
		}
	}
	for _, g := range [][2]int{{0, 40}, {100, 120}, {200, 210}, {301, 320}, {400, 406}} {
		for i := g[0]; i < g[1]; i++ {
			if !seen[i] && (i < 300 || i >= 400 || i%2 == 1) {
				t.Errorf("seq=%d never arrived", i)
			}
		}
	}
}

// sameTags fails unless got is exactly want, in any order.
func sameTags(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := append([]string{}, got...), append([]string{}, want...)
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, ",") != strings.Join(w, ",") {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(g, ","), strings.Join(w, ","))
	}
}

func containsAll(list, want []string) bool {
	for _, w := range want {
		if !contains(list, w) {
			return false
		}
	}
	return true
}

func hasPrefixKey(m map[string]int, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

package tags

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// The ECS fields of testdata/firelens-forward-3000.msgpack.
var fl = Fields{
	Cluster:        []byte("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
	TaskARN:        []byte("arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"),
	TaskDefinition: []byte("web:42"),
	ContainerID:    []byte("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"),
	ContainerName:  []byte("/ecs-web-42-app-e4d2c3b1a0"),
}

func TestLookup(t *testing.T) {
	const ecsAgent = "ecs_cluster_name:prod,cluster_name:prod,cluster_arn:arn:aws:ecs:us-east-1:123456789012:cluster/prod," +
		"task_arn:arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef,task_family:web,task_name:web,task_version:42," +
		"task_definition_arn:arn:aws:ecs:us-east-1:123456789012:task-definition/web:42,region:us-east-1,aws_account:123456789012," +
		"container_id:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9,container_name:ecs-web-42-app-e4d2c3b1a0,ecs_container_name:app"
	cases := []struct {
		name        string
		o           Options
		f           *Fields
		wantTags    string
		wantService string
	}{
		{"seed config, agent style", Options{ECS: true, ConfigTags: "env:prod", ConfigService: "singsong"}, &fl,
			"env:prod," + ecsAgent, "singsong"},
		{"builtin style", Options{ECS: true, Style: ecs.StyleBuiltin, ConfigTags: "env:prod"}, &fl,
			"env:prod,container_id:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9,container_name:ecs-web-42-app-e4d2c3b1a0,cluster_name:prod," +
				"task_arn:arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef,region:us-east-1,task_id:0123456789abcdef0123456789abcdef," +
				"task_family:web,task_version:42", ""},
		{"both styles deduplicated", Options{ECS: true, Style: ecs.StyleBoth}, &fl,
			ecsAgent + ",task_id:0123456789abcdef0123456789abcdef", ""},
		{"router DD_* beat dd_tags", Options{ECS: true, ConfigTags: "env:prod,version:1,team:web", Env: "staging", Version: "2", Service: "router-svc", ConfigService: "cfg"}, &Fields{ContainerID: []byte("c1")},
			"team:web,env:staging,version:2,container_id:c1", "router-svc"},
		{"service tag in dd_tags is not a tag", Options{ConfigTags: "service:Billing API,Team:Web"}, nil,
			"team:web", "Billing API"},
		{"no provider: FireLens fields ignored", Options{ConfigTags: "a:b"}, &fl, "a:b", ""},
		{"normalisation", Options{ConfigTags: " Env:Prod , 9lives:yes, weird tag!!:v@lue ,, a:b,a:b"}, nil,
			"lives:yes,weird_tag_:v_lue,a:b,env:prod", ""},
		{"non-ASCII letters kept", Options{ConfigTags: "équipe:Größe,team:운영"}, nil,
			"équipe:größe,team:운영", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := NewTagger(c.o)
			r := tg.Lookup(c.f)
			if r.Tags != c.wantTags || r.Service != c.wantService {
				t.Errorf("\ngot  %s (service %q)\nwant %s (service %q)", r.Tags, r.Service, c.wantTags, c.wantService)
			}
			var fromJSON string
			if err := json.Unmarshal(r.TagsJSON, &fromJSON); err != nil || fromJSON != r.Tags {
				t.Errorf("TagsJSON %s does not decode to Tags (%v)", r.TagsJSON, err)
			}
			if again := tg.Lookup(c.f); again != r {
				t.Error("second lookup not served from the cache")
			}
		})
	}
}

func TestWithRecord(t *testing.T) {
	tg := NewTagger(Options{ConfigTags: "env:prod,version:1,team:web"})
	r := tg.Lookup(nil)
	if got := tg.WithRecord(r, []byte("dev"), nil); got != "team:web,version:1,env:dev" {
		t.Errorf("got %s", got)
	}
	if got := tg.WithRecord(r, nil, nil); got != r.Tags {
		t.Errorf("got %s", got)
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"Env:Prod":                      "env:prod",
		"__x":                           "x",
		"a  b":                          "a_b",
		"trail_":                        "trail",
		"région:Île":                    "région:île",
		"k:" + strings.Repeat("v", 300): "k:" + strings.Repeat("v", 198),
		"123":                           "",
		// 200 characters, not bytes: a tag of two-byte letters keeps 198 after "k:".
		"k:" + strings.Repeat("é", 300): "k:" + strings.Repeat("é", 198),
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookupNoAllocs(t *testing.T) {
	tg := NewTagger(Options{ECS: true, ConfigTags: "env:prod"})
	tg.Lookup(&fl)
	if n := testing.AllocsPerRun(100, func() { tg.Lookup(&fl) }); n != 0 {
		t.Errorf("cache hit allocates %v times", n)
	}
}

// Container labels from the task metadata win over the router's DD_*, and
// tags appear once the endpoint answers, without Lookup waiting on it.
func TestMetadataLabels(t *testing.T) {
	body, err := os.ReadFile("../ecs/testdata/fargate-task.json")
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-up:
			_, _ = w.Write(body)
		default:
			http.Error(w, "not yet", 503)
		}
	}))
	defer srv.Close()
	md := ecs.NewClient(srv.URL, time.Hour, time.Second, logging.Discard(), nil)
	defer md.Close()
	tg := NewTagger(Options{ECS: true, Env: "router-env", Service: "router-svc", Metadata: md})
	f := &Fields{ContainerID: []byte("e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603"), ContainerName: []byte("curl")}
	start := time.Now()
	r := tg.Lookup(f)
	if time.Since(start) > 100*time.Millisecond || strings.Contains(r.Tags, "availability_zone") || r.Service != "router-svc" {
		t.Fatalf("before metadata: %+v", r)
	}
	close(up)
	deadline := time.Now().Add(20 * time.Second)
	for md.Generation() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	r = tg.Lookup(f)
	for _, want := range []string{"env:staging", "version:1.4.2", "availability_zone:us-west-2a", "short_image:curltest", "ecs_container_name:curl"} {
		if !strings.Contains(","+r.Tags+",", ","+want+",") {
			t.Errorf("tags %s lack %s", r.Tags, want)
		}
	}
	if strings.Contains(r.Tags, "router-env") || r.Service != "curl-svc" {
		t.Errorf("labels did not win: %s service %s", r.Tags, r.Service)
	}
}

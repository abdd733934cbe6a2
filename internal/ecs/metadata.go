package ecs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jsoniter "github.com/json-iterator/go"

	"github.com/out-datadog-go/out_datadog_go/internal/guard"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// TaskMetadata is the part of the task metadata endpoint v4's
// `GET ${ECS_CONTAINER_METADATA_URI_V4}/task` document that tagging uses.
type TaskMetadata struct {
	Cluster          string              `json:"Cluster"`
	TaskARN          string              `json:"TaskARN"`
	Family           string              `json:"Family"`
	Revision         string              `json:"Revision"`
	ServiceName      string              `json:"ServiceName"`
	AvailabilityZone string              `json:"AvailabilityZone"`
	LaunchType       string              `json:"LaunchType"`
	Containers       []ContainerMetadata `json:"Containers"`
}

// ContainerMetadata is one container of the task document.
type ContainerMetadata struct {
	DockerID   string            `json:"DockerId"`
	Name       string            `json:"Name"`
	DockerName string            `json:"DockerName"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	Labels     map[string]string `json:"Labels"`
}

// Client keeps the task document fresh in the background. The flush path
// only reads the cached copy: it never waits on the endpoint.
type Client struct {
	uri     string
	hc      *http.Client
	log     *logging.Logger
	refresh time.Duration
	doc     atomic.Pointer[TaskMetadata]
	gen     atomic.Uint64
	failing atomic.Bool
	panics  *atomic.Int64 // the instance's panic counter (may be nil)
	stop    chan struct{}
	wg      sync.WaitGroup
}

// NewClient starts fetching uri+"/task": once now (at most timeout), then
// every refresh, and every few seconds while the endpoint fails. A failing
// endpoint is reported once and the plugin goes on with FireLens fields only.
//
// A panic while fetching or parsing is recovered, logged, counted in panics
// (when not nil) and taken as a failed fetch: it never reaches Fluent Bit.
//
// The endpoint is link-local (169.254.170.2): it is never asked through a
// proxy, whatever HTTPS_PROXY or HTTP_PROXY say (a proxy could not reach
// it, and ECS's own docs tell users to exempt it with NO_PROXY).
func NewClient(uri string, refresh, timeout time.Duration, log *logging.Logger, panics *atomic.Int64) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return newClient(uri, refresh, log, panics, &http.Client{Timeout: timeout, Transport: tr})
}

// newClient is NewClient with the HTTP client given (tests).
func newClient(uri string, refresh time.Duration, log *logging.Logger, panics *atomic.Int64, hc *http.Client) *Client {
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	c := &Client{uri: strings.TrimRight(uri, "/"), hc: hc, log: log, refresh: refresh,
		panics: panics, stop: make(chan struct{})}
	ok := c.fetch()
	c.wg.Add(1)
	go c.loop(ok)
	return c
}

func (c *Client) loop(ok bool) {
	defer c.wg.Done()
	// Each fetch recovers on its own and the loop goes on; this catches the
	// loop itself (the refresh then stops, logged and counted).
	defer guard.Recover(c.log, c.panics, "ECS task metadata loop", nil)
	retry := time.Second
	for {
		wait := c.refresh
		if !ok {
			wait = retry
			if retry < 30*time.Second {
				retry *= 2
			}
		} else {
			retry = time.Second
		}
		select {
		case <-c.stop:
			return
		case <-time.After(wait):
		}
		ok = c.fetch()
	}
}

func (c *Client) fetch() (ok bool) {
	defer guard.Recover(c.log, c.panics, "ECS task metadata refresh", nil) // ok stays false
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer guard.Recover(c.log, c.panics, "ECS task metadata refresh", nil)
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer cancel()
	doc, err := c.get(ctx)
	if err != nil {
		if c.failing.CompareAndSwap(false, true) {
			c.log.Warnf("ECS task metadata endpoint unavailable, tagging from FireLens fields only until it answers: %v", err)
		}
		return false
	}
	if c.failing.CompareAndSwap(true, false) {
		c.log.Infof("ECS task metadata endpoint answers again")
	}
	c.doc.Store(doc)
	c.gen.Add(1)
	return true
}

func (c *Client) get(ctx context.Context) (*TaskMetadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.uri+"/task", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/task: HTTP %d", c.uri, resp.StatusCode)
	}
	var doc TaskMetadata
	if err := jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET %s/task: bad JSON: %w", c.uri, err)
	}
	return &doc, nil
}

// Close stops the background refresh.
func (c *Client) Close() {
	if c == nil {
		return
	}
	close(c.stop)
	c.wg.Wait()
}

// Generation changes every time a new document is stored (0: none yet).
// A nil Client has generation 0.
func (c *Client) Generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// Document returns the cached task document, or nil.
func (c *Client) Document() *TaskMetadata {
	if c == nil {
		return nil
	}
	return c.doc.Load()
}

// Container is what the task metadata says about one record's container.
type Container struct {
	// Tags are the task- and container-level tags, the Datadog Agent's
	// names and values, label-derived tags excepted (see package labels).
	Tags [][2]string
	// Labels are the container's Docker labels (nil when the container is
	// not in the document).
	Labels map[string]string
	// ShortImage is the image's short name: the Agent's default source and
	// service of a container's logs.
	ShortImage string
	// Found is true when the container was found in the document.
	Found bool
}

// Container describes a record's container from the cached document, or
// returns the zero Container when there is none yet.
func (c *Client) Container(f FireLens) Container {
	doc := c.Document()
	if doc == nil {
		return Container{}
	}
	return Describe(doc, f)
}

// Owns reports whether a record with FireLens fields f belongs to the
// document's task: its ecs_task_arn is the document's TaskARN, or it names
// no task and its container_id is one of the task's containers. The
// Datadog Agent gives a task's tags only to the containers the task lists,
// joined on the container ID (comp/core/tagger/collectors/
// workloadmeta_extract.go handleECSTask; comp/core/workloadmeta/collectors/
// util/ecs_util.go ParseV4TaskContainers): a router that also receives
// other tasks' logs over forward must not give them its own task.
func (doc *TaskMetadata) Owns(f FireLens) bool {
	if f.TaskARN != "" {
		return f.TaskARN == doc.TaskARN
	}
	return f.ContainerID != "" && doc.container(f.ContainerID, "") != nil
}

// container finds the task's container with Docker ID id, else (name not
// empty) the one named name (task definition name or Docker name) whose
// Docker ID is not known yet or is id's: a container whose ID the document
// knows and differs is another container, whatever its name.
func (doc *TaskMetadata) container(id, name string) *ContainerMetadata {
	for i := range doc.Containers {
		if id != "" && doc.Containers[i].DockerID == id {
			return &doc.Containers[i]
		}
	}
	if name == "" {
		return nil
	}
	for i := range doc.Containers {
		ct := &doc.Containers[i]
		if (ct.DockerID == "" || id == "") && (ct.Name == name || strings.TrimPrefix(ct.DockerName, "/") == name) {
			return ct
		}
	}
	return nil
}

// Describe is Container on a given document. A record the document's task
// does not own (Owns) gets the zero Container: no tag, label, rule or image
// of another task. Inside the task the container is joined on its Docker
// ID, else on its name (see container); a container the document does not
// list gets the task-level tags only.
//
// Task-level tags follow the Agent's tagger for an ECS task
// (comp/core/tagger/collectors/workloadmeta_extract.go, handleECSTask) and
// the ECS collector that fills the task from the v4 document
// (comp/core/workloadmeta/collectors/util/ecs_util.go, ParseV4Task);
// container-level ones its handleContainer, with the image split as
// workloadmeta.NewContainerImage does.
func Describe(doc *TaskMetadata, f FireLens) Container {
	var out Container
	if !doc.Owns(f) {
		return out
	}
	add := func(k, v string) {
		if v != "" {
			out.Tags = append(out.Tags, [2]string{k, v})
		}
	}
	fargate := strings.EqualFold(doc.LaunchType, "FARGATE")
	task, _ := ParseTaskARN(doc.TaskARN)
	region, account := task.parsed.RegionAccount()
	cl := ParseCluster(doc.Cluster)
	if cl.ARN == "" && cl.Name != "" {
		cl.ARN = task.parsed.build("cluster/" + cl.Name)
	}

	add("task_name", doc.Family)
	add("task_family", doc.Family)
	add("task_version", doc.Revision)
	add("aws_account", account)
	add("region", region)
	if doc.ServiceName != "" && cl.Name != "" {
		add("service_arn", task.parsed.build("service/"+cl.Name+"/"+doc.ServiceName))
	}
	add("task_arn", doc.TaskARN)
	if doc.Family != "" && doc.Revision != "" {
		add("task_definition_arn", task.parsed.build("task-definition/"+doc.Family+":"+doc.Revision))
	}
	add("cluster_name", cl.Name)
	add("ecs_cluster_name", cl.Name)
	add("cluster_arn", cl.ARN)
	if fargate {
		add("availability_zone", doc.AvailabilityZone)
		add("availability-zone", doc.AvailabilityZone)
	}
	add("ecs_service", strings.ToLower(doc.ServiceName))

	ct := doc.container(f.ContainerID, strings.TrimPrefix(f.ContainerName, "/"))
	if ct == nil {
		return out
	}
	out.Found, out.Labels = true, ct.Labels
	add("container_name", strings.TrimPrefix(ct.DockerName, "/"))
	add("container_id", ct.DockerID)
	img := ParseImage(ct.Image)
	out.ShortImage = img.Short
	add("image_name", img.Name)
	add("short_image", img.Short)
	add("image_tag", img.Tag)
	add("image_id", ct.ImageID)
	if !fargate { // the Agent sends docker_image for the Docker runtime only
		add("docker_image", img.DockerImage())
	}
	add("ecs_container_name", ct.Name)
	return out
}

// Image is a container image reference split the way the Datadog Agent
// tags it (pkg/util/containers/image SplitImageName, then
// workloadmeta.NewContainerImage): Name is the reference without tag or
// @sha digest, Short its last path element, Tag the tag ("latest" when
// none is given, a digest-pinned image included). A "sha256:..." reference
// does not split: Name is the reference, Short and Tag are empty.
type Image struct{ Name, Short, Tag string }

// ParseImage splits "registry[:port]/path/name[:tag][@sha256:digest]".
func ParseImage(ref string) Image {
	if ref == "" {
		return Image{}
	}
	if strings.HasPrefix(ref, "sha256:") {
		return Image{Name: ref}
	}
	name := ref
	if i := strings.LastIndex(name, "@sha"); i > 0 {
		name = name[:i]
	}
	tag := ""
	slash := strings.LastIndexByte(name, '/')
	if i := strings.LastIndexByte(name, ':'); i > slash {
		name, tag = name[:i], name[i+1:]
	}
	if tag == "" {
		tag = "latest"
	}
	return Image{Name: name, Short: name[slash+1:], Tag: tag}
}

// DockerImage is the Agent's docker_image value: name:tag, never the
// digest; the name alone when there is no tag.
func (im Image) DockerImage() string {
	if im.Tag == "" {
		return im.Name
	}
	return im.Name + ":" + im.Tag
}

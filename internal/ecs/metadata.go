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
func NewClient(uri string, refresh, timeout time.Duration, log *logging.Logger, panics *atomic.Int64) *Client {
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	c := &Client{uri: strings.TrimRight(uri, "/"), hc: &http.Client{Timeout: timeout}, log: log, refresh: refresh,
		panics: panics, stop: make(chan struct{})}
	ok := c.fetch()
	c.wg.Add(1)
	go c.loop(ok)
	return c
}

func (c *Client) loop(ok bool) {
	defer c.wg.Done()
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

// ContainerTags returns the task- and container-level tags the metadata
// adds for a record's container (joined on the Docker ID, else the name),
// and that container's Docker labels.
func (c *Client) ContainerTags(containerID, containerName string) ([][2]string, map[string]string) {
	doc := c.Document()
	if doc == nil {
		return nil, nil
	}
	return MetadataTags(doc, containerID, containerName)
}

// MetadataTags is ContainerTags on a given document.
func MetadataTags(doc *TaskMetadata, containerID, containerName string) ([][2]string, map[string]string) {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	cl := ParseCluster(doc.Cluster)
	add("ecs_cluster_name", cl.Name)
	add("cluster_arn", cl.ARN)
	add("task_arn", doc.TaskARN)
	add("task_family", doc.Family)
	add("task_name", doc.Family)
	add("task_version", doc.Revision)
	if t, ok := ParseTaskARN(doc.TaskARN); ok {
		add("region", t.Region)
		add("aws_account", t.Account)
		if cl.ARN == "" && cl.Name != "" {
			add("cluster_arn", "arn:aws:ecs:"+t.Region+":"+t.Account+":cluster/"+cl.Name)
		}
	}
	add("availability_zone", doc.AvailabilityZone)
	add("ecs_launch_type", strings.ToLower(doc.LaunchType))

	name := strings.TrimPrefix(containerName, "/")
	var ct *ContainerMetadata
	for i := range doc.Containers {
		if containerID != "" && doc.Containers[i].DockerID == containerID {
			ct = &doc.Containers[i]
			break
		}
	}
	if ct == nil && name != "" {
		for i := range doc.Containers {
			if doc.Containers[i].Name == name || strings.TrimPrefix(doc.Containers[i].DockerName, "/") == name {
				ct = &doc.Containers[i]
				break
			}
		}
	}
	if ct == nil {
		return out, nil
	}
	add("ecs_container_name", ct.Name)
	if ct.Image != "" {
		img := ParseImage(ct.Image)
		add("docker_image", ct.Image)
		add("image_name", img.Name)
		add("short_image", img.Short)
		add("image_tag", img.Tag)
	}
	return out, ct.Labels
}

// Image is a container image reference split the way the Datadog Agent
// tags it: image_name is the reference without tag or digest, short_image
// its last path element, image_tag the tag ("latest" when none is given
// and no digest pins it).
type Image struct{ Name, Short, Tag string }

// ParseImage splits "registry[:port]/path/name[:tag][@digest]".
func ParseImage(ref string) Image {
	name := ref
	digest := false
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, digest = name[:i], true
	}
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i:], "/") {
		name, tag = name[:i], name[i+1:]
	}
	if tag == "" && !digest {
		tag = "latest"
	}
	short := name
	if i := strings.LastIndexByte(short, '/'); i >= 0 {
		short = short[i+1:]
	}
	return Image{Name: name, Short: short, Tag: tag}
}

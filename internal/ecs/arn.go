// Package ecs turns what ECS tells a FireLens log router about a container
// into the tags the Datadog Agent puts on the same container's metrics and
// traces, so a log can be pivoted to them.
package ecs

import "strings"

// ARN is a parsed Amazon Resource Name: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits an ARN; ok is false for anything that is not one.
func ParseARN(s string) (ARN, bool) {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, false
	}
	var a ARN
	for _, field := range [...]*string{&a.Partition, &a.Service, &a.Region, &a.Account} {
		if *field, rest, ok = strings.Cut(rest, ":"); !ok {
			return ARN{}, false
		}
	}
	if rest == "" {
		return ARN{}, false
	}
	a.Resource = rest
	return a, true
}

// RegionAccount returns the region and account an ARN names, each only when
// it passes the Datadog Agent's checks (ParseRegionAndAWSAccountID of its
// pkg/util/ecs): a known partition (aws, aws-cn, aws-us-gov),
// a region with at least two dashes, an account of 12 digits. A value that
// fails is left out rather than sent as a tag the Agent would not send.
func (a ARN) RegionAccount() (region, account string) {
	switch a.Partition {
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return "", ""
	}
	if strings.Count(a.Region, "-") >= 2 {
		region = a.Region
	}
	if len(a.Account) == 12 && strings.Trim(a.Account, "0123456789") == "" {
		account = a.Account
	}
	return region, account
}

// build returns the ARN of an ECS resource in the same partition, region
// and account as a, or "" when a lacks any of them: a China or GovCloud
// task gets aws-cn / aws-us-gov ARNs, never aws ones.
func (a ARN) build(resource string) string {
	if a.Partition == "" || a.Region == "" || a.Account == "" {
		return ""
	}
	return "arn:" + a.Partition + ":ecs:" + a.Region + ":" + a.Account + ":" + resource
}

// Task is what a task ARN says.
type Task struct {
	ARN, Region, Account, Cluster, ID string
	parsed                            ARN
}

// ParseTaskARN understands both formats ECS has used:
//
//	old: arn:aws:ecs:REGION:ACCOUNT:task/TASK_ID
//	new: arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER_NAME/TASK_ID
//
// (Fluent Bit's built-in output takes everything after "task/" as the ID,
// which gives "CLUSTER/ID" for new ARNs; the ID is the last segment.)
// Region and Account are the ARN's own fields, unchecked.
func ParseTaskARN(s string) (Task, bool) {
	a, ok := ParseARN(s)
	if !ok || !strings.HasPrefix(a.Resource, "task/") {
		return Task{}, false
	}
	t := Task{ARN: s, Region: a.Region, Account: a.Account, parsed: a}
	rest := strings.TrimPrefix(a.Resource, "task/")
	if cluster, id, found := strings.Cut(rest, "/"); found {
		t.Cluster, t.ID = cluster, id
	} else {
		t.ID = rest
	}
	return t, t.ID != ""
}

// Cluster is what an ecs_cluster value says: a name or a cluster ARN.
type Cluster struct {
	ARN, Name, Region, Account string
	parsed                     ARN
}

// ParseCluster accepts "name" or "arn:aws:ecs:REGION:ACCOUNT:cluster/NAME".
func ParseCluster(s string) Cluster {
	if a, ok := ParseARN(s); ok && strings.HasPrefix(a.Resource, "cluster/") {
		return Cluster{ARN: s, Name: strings.TrimPrefix(a.Resource, "cluster/"), Region: a.Region, Account: a.Account, parsed: a}
	}
	return Cluster{Name: s}
}

// ParseTaskDefinition splits "family:revision" (also the ARN form
// arn:...:task-definition/family:revision).
func ParseTaskDefinition(s string) (family, revision string) {
	if a, ok := ParseARN(s); ok {
		s = strings.TrimPrefix(a.Resource, "task-definition/")
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// ContainerName returns the name of the container in the task definition.
// On EC2 the Docker name ECS gives a container is
// "ecs-FAMILY-REVISION-NAME-RANDOMHEX"; on Fargate FireLens passes the task
// definition's name itself. Leading '/' (Docker's) is removed either way.
// The task metadata's Name is preferred when the endpoint answers: this
// parse is the fallback (see tags.Tagger).
func ContainerName(dockerName, family, revision string) string {
	n := strings.TrimPrefix(dockerName, "/")
	if family == "" || revision == "" {
		return n
	}
	prefix := "ecs-" + family + "-" + revision + "-"
	if !strings.HasPrefix(n, prefix) {
		return n
	}
	rest := strings.TrimPrefix(n, prefix)
	if i := strings.LastIndexByte(rest, '-'); i > 0 && isHex(rest[i+1:]) {
		return rest[:i]
	}
	return rest
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// TagStyle names the tags of a container (the ecs_tag_style key).
type TagStyle string

// Tag styles.
const (
	StyleAgent   TagStyle = "agent"   // the Datadog Agent's tag names
	StyleBuiltin TagStyle = "builtin" // Fluent Bit's built-in datadog output's names
	StyleBoth    TagStyle = "both"
)

// ParseTagStyle reads an ecs_tag_style value (lower case).
func ParseTagStyle(s string) (TagStyle, bool) {
	switch st := TagStyle(s); st {
	case StyleAgent, StyleBuiltin, StyleBoth:
		return st, true
	}
	return "", false
}

// Tags returns key:value tags for a container, in a stable order, with the
// Datadog Agent's names (StyleAgent), Fluent Bit's built-in output's names
// (StyleBuiltin), or both. Values are raw: the caller normalises them.
func Tags(f FireLens, style TagStyle) [][2]string {
	out := make([][2]string, 0, 24)
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	agent := style != StyleBuiltin
	builtin := style == StyleBuiltin || style == StyleBoth

	cl := ParseCluster(f.Cluster)
	task, taskOK := ParseTaskARN(f.TaskARN)
	family, rev := ParseTaskDefinition(f.TaskDefinition)
	// The task ARN names the region and account; a cluster ARN stands in
	// for it when FireLens gave no task ARN.
	src := cl.parsed
	if taskOK {
		src = task.parsed
	}
	if cl.Name == "" && taskOK {
		cl.Name = task.Cluster
	}
	if cl.ARN == "" && cl.Name != "" {
		cl.ARN = src.build("cluster/" + cl.Name)
	}
	name := strings.TrimPrefix(f.ContainerName, "/")

	if agent {
		region, account := src.RegionAccount()
		add("ecs_cluster_name", cl.Name)
		add("cluster_name", cl.Name)
		add("cluster_arn", cl.ARN)
		add("task_arn", f.TaskARN)
		add("task_family", family)
		add("task_name", family)
		add("task_version", rev)
		if family != "" && rev != "" {
			add("task_definition_arn", src.build("task-definition/"+family+":"+rev))
		}
		add("region", region)
		add("aws_account", account)
		add("container_id", f.ContainerID)
		add("container_name", name)
		add("ecs_container_name", ContainerName(f.ContainerName, family, rev))
	}
	if builtin {
		add("container_id", f.ContainerID)
		add("container_name", name)
		add("cluster_name", cl.Name)
		add("task_arn", f.TaskARN)
		add("region", src.Region) // the built-in output's value: the ARN's field as is
		if taskOK {
			add("task_id", task.ID)
		}
		add("task_family", family)
		add("task_version", rev)
	}
	return out
}

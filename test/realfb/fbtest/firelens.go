package fbtest

import (
	"fmt"
	"strings"
)

// FireLens is the Fluent Bit config ECS writes for a task whose app
// container logs with the awsfirelens driver, reduced to what a local run
// can have. Its shape follows the config FireLens generated in
// aws-samples/amazon-ecs-firelens-under-the-hood
// (generated-configs/fluent-bit/generated_by_firelens.conf):
//
//   - a forward input on the unix socket the log driver writes to
//     (unix_path /var/run/fluent.sock in the task; Socket here);
//   - with enable-ecs-log-metadata, a record_modifier filter on every
//     record adding ecs_cluster, ecs_task_arn and ecs_task_definition;
//   - one output per container, Match <container>-firelens*, whose keys are
//     the container's logConfiguration options in order (Name first).
//
// With config-file-type file, FireLens includes config-file-value after
// the filters, before the outputs (Include). FireLens also opens a forward
// input on TCP 24224 and a tcp health-check input on 8877 routed to null;
// those fixed ports are left out (other runs on the same machine use them).
// FireLens writes no [SERVICE] section; Service adds one when set.
type FireLens struct {
	Socket         string   // forward input's unix_path
	Container      string   // the app container's name in the task definition
	Cluster        string   // ecs_cluster as FireLens writes it (name or ARN)
	TaskARN        string   // ecs_task_arn
	TaskDefinition string   // ecs_task_definition, family:revision
	Include        string   // config-file-value, @INCLUDE'd before the outputs
	Options        []string // the output's "key value" lines
	Service        []string // [SERVICE] lines ("Grace 2"); none by default
	Extra          string   // appended verbatim (a second output, ...)
}

// Tag is the tag the log driver gives the container's records:
// <container>-firelens-<task id>.
func (f FireLens) Tag() string {
	id := f.TaskARN[strings.LastIndexByte(f.TaskARN, '/')+1:]
	return f.Container + "-firelens-" + id
}

// Config renders the classic-format config.
func (f FireLens) Config() string {
	var b strings.Builder
	if len(f.Service) > 0 {
		b.WriteString("[SERVICE]\n")
		for _, l := range f.Service {
			fmt.Fprintf(&b, "    %s\n", l)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[INPUT]\n    Name forward\n    unix_path %s\n\n", f.Socket)
	fmt.Fprintf(&b, "[FILTER]\n    Name record_modifier\n    Match *\n    Record ecs_cluster %s\n    Record ecs_task_arn %s\n    Record ecs_task_definition %s\n\n",
		f.Cluster, f.TaskARN, f.TaskDefinition)
	if f.Include != "" {
		fmt.Fprintf(&b, "@INCLUDE %s\n\n", f.Include)
	}
	fmt.Fprintf(&b, "[OUTPUT]\n")
	hasMatch := false
	for _, l := range f.Options {
		if k, _, _ := strings.Cut(l, " "); strings.EqualFold(k, "Match") {
			hasMatch = true
		}
		fmt.Fprintf(&b, "    %s\n", l)
	}
	if !hasMatch {
		fmt.Fprintf(&b, "    Match %s-firelens*\n", f.Container)
	}
	if f.Extra != "" {
		b.WriteString("\n" + f.Extra)
	}
	return b.String()
}

// SeedTask is the Fargate task of chunkgen.DefaultECS as FireLens writes
// it: the cluster by name, the task definition as family:revision.
func SeedTask(socket string) FireLens {
	return FireLens{
		Socket:         socket,
		Container:      "app",
		Cluster:        "web-cluster",
		TaskARN:        "arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef",
		TaskDefinition: "web:42",
	}
}

// SeedOptions are the seed task definition's logConfiguration options for
// datadog_go (docker/ecs/task-definition.json) with the intake at endpoint
// and the key given inline, less its auto_multiline: the delivery tests
// count one log a record (TestMultiLineCorpora runs it).
func SeedOptions(endpoint, apikey string) []string {
	return []string{
		"Name datadog_go", "dd_message_key log", "dd_service singsong", "dd_source httpd",
		"dd_tags env:prod", "provider ecs", "endpoint " + endpoint, "apikey " + apikey,
		"workers 4", "Retry_Limit no_limits",
	}
}

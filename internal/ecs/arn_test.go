package ecs

import (
	"strings"
	"testing"
)

func TestParseTaskARN(t *testing.T) {
	cases := []struct {
		in           string
		cluster, id  string
		region, acct string
		ok           bool
	}{
		{"arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef", "web-cluster", "0123456789abcdef0123456789abcdef", "us-east-1", "123456789012", true},
		{"arn:aws:ecs:eu-west-1:111122223333:task/9781c248-0edd-4cdb-9a93-f63cb662a5d3", "", "9781c248-0edd-4cdb-9a93-f63cb662a5d3", "eu-west-1", "111122223333", true},
		{"arn:aws:ecs:us-east-1:1:cluster/x", "", "", "", "", false},
		{"task/abc", "", "", "", "", false},
		{"", "", "", "", "", false},
	}
	for _, c := range cases {
		got, ok := ParseTaskARN(c.in)
		if ok != c.ok || got.Cluster != c.cluster || got.ID != c.id || got.Region != c.region || got.Account != c.acct {
			t.Errorf("ParseTaskARN(%q) = %+v,%v", c.in, got, ok)
		}
	}
}

// The Agent's checks (ParseRegionAndAWSAccountID of package pkg/util/ecs):
// the aws, aws-cn and aws-us-gov partitions; a region with at least two
// dashes; a 12-digit account. (The copy in
// comp/core/workloadmeta/collectors/util/ecs_util.go, in the versions read,
// accepts the aws partition only; the issue asks for China and GovCloud
// tasks to be tagged, as the package's version does.)
func TestRegionAccount(t *testing.T) {
	cases := []struct{ arn, region, account string }{
		{"arn:aws:ecs:us-east-1:123456789012:task/c/1", "us-east-1", "123456789012"},
		{"arn:aws-cn:ecs:cn-northwest-1:123456789012:task/c/1", "cn-northwest-1", "123456789012"},
		{"arn:aws-us-gov:ecs:us-gov-east-1:123456789012:task/c/1", "us-gov-east-1", "123456789012"},
		{"arn:aws-iso:ecs:us-iso-east-1:123456789012:task/c/1", "", ""},
		{"arn:aws:ecs:useast1:123456789012:task/c/1", "", "123456789012"},
		{"arn:aws:ecs:us-east-1:12345678901:task/c/1", "us-east-1", ""},
		{"arn:aws:ecs:us-east-1:12345678901x:task/c/1", "us-east-1", ""},
	}
	for _, c := range cases {
		a, _ := ParseARN(c.arn)
		if r, acct := a.RegionAccount(); r != c.region || acct != c.account {
			t.Errorf("%s: region %q account %q", c.arn, r, acct)
		}
	}
}

func TestContainerName(t *testing.T) {
	cases := []struct{ docker, family, rev, want string }{
		{"/ecs-web-42-app-e4d2c3b1a0", "web", "42", "app"},
		{"/ecs-web-42-my-app-e4d2c3b1a0f1", "web", "42", "my-app"},
		{"app", "web", "42", "app"}, // Fargate: the task definition's name
		{"/ecs-other-1-app-abc", "web", "42", "ecs-other-1-app-abc"},
		{"/x", "", "", "x"},
	}
	for _, c := range cases {
		if got := ContainerName(c.docker, c.family, c.rev); got != c.want {
			t.Errorf("ContainerName(%q) = %q, want %q", c.docker, got, c.want)
		}
	}
}

func join(tags [][2]string) string {
	var s []string
	for _, t := range tags {
		s = append(s, t[0]+":"+t[1])
	}
	return strings.Join(s, ",")
}

func TestTags(t *testing.T) {
	// The ECS fields of testdata/firelens-forward-3000.msgpack.
	f := FireLens{
		Cluster:        "arn:aws:ecs:us-east-1:123456789012:cluster/web-cluster",
		TaskARN:        "arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef",
		TaskDefinition: "web:42",
		ContainerID:    "a1b2c3",
		ContainerName:  "/ecs-web-42-app-e4d2c3b1a0",
	}
	cases := []struct {
		style TagStyle
		f     FireLens
		want  string
	}{
		{StyleAgent, f, "ecs_cluster_name:web-cluster,cluster_name:web-cluster,cluster_arn:arn:aws:ecs:us-east-1:123456789012:cluster/web-cluster," +
			"task_arn:arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef,task_family:web,task_name:web,task_version:42," +
			"task_definition_arn:arn:aws:ecs:us-east-1:123456789012:task-definition/web:42,region:us-east-1,aws_account:123456789012," +
			"container_id:a1b2c3,container_name:ecs-web-42-app-e4d2c3b1a0,ecs_container_name:app"},
		{StyleBuiltin, f, "container_id:a1b2c3,container_name:ecs-web-42-app-e4d2c3b1a0,cluster_name:web-cluster," +
			"task_arn:arn:aws:ecs:us-east-1:123456789012:task/web-cluster/0123456789abcdef0123456789abcdef,region:us-east-1," +
			"task_id:0123456789abcdef0123456789abcdef,task_family:web,task_version:42"},
		{StyleAgent, FireLens{Cluster: "plain-cluster", TaskARN: "arn:aws:ecs:eu-west-1:111122223333:task/9781c248", TaskDefinition: "api:7", ContainerName: "api"},
			"ecs_cluster_name:plain-cluster,cluster_name:plain-cluster,cluster_arn:arn:aws:ecs:eu-west-1:111122223333:cluster/plain-cluster,task_arn:arn:aws:ecs:eu-west-1:111122223333:task/9781c248," +
				"task_family:api,task_name:api,task_version:7,task_definition_arn:arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7," +
				"region:eu-west-1,aws_account:111122223333,container_name:api,ecs_container_name:api"},
		{StyleAgent, FireLens{ContainerID: "abc"}, "container_id:abc"},
		// ARNs the plugin builds keep the partition of the ARN they come from.
		{StyleAgent, FireLens{Cluster: "prod-cn", TaskARN: "arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1", TaskDefinition: "billing:8"},
			"ecs_cluster_name:prod-cn,cluster_name:prod-cn,cluster_arn:arn:aws-cn:ecs:cn-north-1:555566667777:cluster/prod-cn," +
				"task_arn:arn:aws-cn:ecs:cn-north-1:555566667777:task/prod-cn/a0b1,task_family:billing,task_name:billing,task_version:8," +
				"task_definition_arn:arn:aws-cn:ecs:cn-north-1:555566667777:task-definition/billing:8,region:cn-north-1,aws_account:555566667777"},
		{StyleAgent, FireLens{TaskARN: "arn:aws-us-gov:ecs:us-gov-west-1:111122223333:task/gov/9f", TaskDefinition: "api:1"},
			"ecs_cluster_name:gov,cluster_name:gov,cluster_arn:arn:aws-us-gov:ecs:us-gov-west-1:111122223333:cluster/gov," +
				"task_arn:arn:aws-us-gov:ecs:us-gov-west-1:111122223333:task/gov/9f,task_family:api,task_name:api,task_version:1," +
				"task_definition_arn:arn:aws-us-gov:ecs:us-gov-west-1:111122223333:task-definition/api:1,region:us-gov-west-1,aws_account:111122223333"},
		// region and aws_account only when they pass the Agent's checks.
		{StyleAgent, FireLens{TaskARN: "arn:aws:ecs:local:1234:task/c/9f"},
			"ecs_cluster_name:c,cluster_name:c,cluster_arn:arn:aws:ecs:local:1234:cluster/c,task_arn:arn:aws:ecs:local:1234:task/c/9f"},
	}
	for _, c := range cases {
		if got := join(Tags(c.f, c.style)); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.style, got, c.want)
		}
	}
}

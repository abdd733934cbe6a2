package tags

import (
	"fmt"
	"testing"

	"github.com/out-datadog-go/out_datadog_go/internal/ecs"
)

// containers returns n distinct containers as an aggregator router sees
// them over forward: each of its own task (task ARN, container ID, name).
func containers(n int) []Fields {
	out := make([]Fields, n)
	for i := range out {
		task := fmt.Sprintf("%032x", i)
		out[i] = Fields{
			Cluster:        []byte("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
			TaskARN:        []byte("arn:aws:ecs:us-east-1:123456789012:task/prod/" + task),
			TaskDefinition: []byte("web:42"),
			ContainerID:    []byte(task + "-1234567890"),
			ContainerName:  []byte("app"),
		}
	}
	return out
}

// BenchmarkBuild is one container's tags built from its FireLens fields:
// the work of a cache miss besides the cache's own.
func BenchmarkBuild(b *testing.B) {
	tg := NewTagger(Options{ECS: true, ConfigTags: "env:prod,team:web", Service: "web"})
	cs := containers(1024)
	kept := make([]ecs.FireLens, len(cs))
	for i := range cs {
		kept[i] = ecs.Copy(&cs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tg.build(kept[i%len(kept)], 0)
	}
}

// BenchmarkLookupMiss is Lookup over n distinct containers in turn, each
// lookup a miss once the cache holds fewer than n: its cost must not grow
// with n (one build, O(1) cache work), where the cache of a copied map
// cost O(entries) a miss.
func BenchmarkLookupMiss(b *testing.B) {
	for _, n := range []int{1000, 5000, 20000, 100000} {
		cs := containers(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			tg := NewTagger(Options{ECS: true, ConfigTags: "env:prod,team:web"})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tg.Lookup(&cs[i%n])
			}
		})
	}
}

// BenchmarkLookupHit is the per-record cost for a container already seen.
func BenchmarkLookupHit(b *testing.B) {
	tg := NewTagger(Options{ECS: true, ConfigTags: "env:prod"})
	tg.Lookup(&fl)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tg.Lookup(&fl)
		}
	})
}

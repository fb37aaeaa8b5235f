package maven

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkResolve resolves a 60-artifact graph (each artifact depends on
// the next three, all under one parent POM with managed versions) from a
// repository on 127.0.0.1: 61 POMs, 60 jars and their .sha1 files.
func BenchmarkResolve(b *testing.B) {
	r := newRepo(b)
	var managed []string
	for i := range 60 {
		managed = append(managed, dep(fmt.Sprintf("org.bench:a%d:1.%d", i, i), ""))
	}
	r.add("org.bench:parent:1", "<dependencyManagement>"+deps(managed...)+"</dependencyManagement>", "pom")
	for i := range 60 {
		var ds []string
		for j := i + 1; j <= i+3 && j < 60; j++ {
			ds = append(ds, dep(fmt.Sprintf("org.bench:a%d", j), ""))
		}
		r.add(fmt.Sprintf("org.bench:a%d:1.%d", i, i), `<parent><groupId>org.bench</groupId><artifactId>parent</artifactId><version>1</version></parent>`+deps(ds...), "jar")
	}
	opts := Options{Repositories: []string{r.url()}, NoCentral: true}
	b.ResetTimer()
	cpu0 := cpuTime()
	var n int
	for b.Loop() {
		jars, err := Resolve(context.Background(), []Coordinate{{"org.bench", "a0", "1.0"}}, opts)
		if err != nil {
			b.Fatal(err)
		}
		n = len(jars)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n), "jars")
	if n != 60 {
		b.Fatalf("%d jars", n)
	}
}

// cpuTime is the process's user+system CPU time: on the shared machine the
// wall time measures the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package resolve

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

// benchWorld is 40 projects with 10 versions each; p<i> depends on
// p<i+1> and p<i+2>, and the newest versions of every fourth project
// conflict with their dependents, so the search backtracks.
func benchWorld() []pypitest.Dist {
	var out []pypitest.Dist
	const n = 40
	for i := 0; i < n; i++ {
		for v := 1; v <= 10; v++ {
			d := pypitest.Dist{Name: fmt.Sprintf("p%d", i), Version: fmt.Sprintf("%d.0", v)}
			for _, j := range []int{i + 1, i + 2} {
				if j < n {
					spec := ""
					if i%4 == 0 && v > 5 {
						spec = "<3" // newest p<i> want old deps
					}
					d.Requires = append(d.Requires, fmt.Sprintf("p%d%s", j, spec))
				}
			}
			if i%4 == 1 {
				d.Requires = append(d.Requires, fmt.Sprintf("p%d>=5", i+1))
			}
			out = append(out, d)
		}
	}
	return out
}

// BenchmarkResolve resolves the 40-project chain against a JSON index on
// 127.0.0.1, with a fresh resolver (no metadata cache) per iteration.
func BenchmarkResolve(b *testing.B) { benchResolve(b, 0) }

// BenchmarkResolveLatency20ms is the same with every answer delayed by
// 20 ms, as from a remote index: reading pages and the newest metadata
// ahead, 8 at a time, hides most of it.
func BenchmarkResolveLatency20ms(b *testing.B) { benchResolve(b, 20*time.Millisecond) }

func benchResolve(b *testing.B, latency time.Duration) {
	ix := pypitest.Serve(benchWorld(), true)
	ix.Latency = latency
	defer ix.Server.Close()
	in, err := ParseLines([]spec.Requirement{{Spec: "--index-url " + ix.URL}, {Spec: "p0"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	var pins int
	for b.Loop() {
		res, err := Resolve(context.Background(), in, target, Options{})
		if err != nil {
			b.Fatal(err)
		}
		pins = len(res.Pins)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(pins), "pins")
	b.ReportMetric(float64(ix.Requests.Load())/float64(b.N), "requests/op")
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

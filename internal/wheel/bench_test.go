package wheel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/pypi/pypitest"
)

// BenchmarkInstall installs a wheel of 300 modules of 4 kB each (about
// the size of a small library such as requests or click) into a fresh
// prefix (cpu-ns/op includes building nothing else: the wheel is made
// before the timer starts).
func BenchmarkInstall(b *testing.B) {
	d := pypitest.Dist{Name: "bench", Version: "1.0", Files: map[string]string{}, EntryPoints: "[console_scripts]\nbench = bench:main\n"}
	for i := range 300 {
		d.Files[fmt.Sprintf("bench/mod%03d.py", i)] = strings.Repeat(fmt.Sprintf("x%d = %d\n", i, i), 400)
	}
	data := d.Build()
	opts := Options{SHA256: sha(data)}
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		prefix := filepath.Join(dir, fmt.Sprint(i))
		i++
		if _, err := InstallBytes(d.Filename(), data, prefix, "3.11", opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
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

// BenchmarkInstallRealPip installs the pip wheel the host's CPython
// bundles for ensurepip (a real 2 MB wheel of about 800 files).
func BenchmarkInstallRealPip(b *testing.B) {
	paths, _ := filepath.Glob("/root/.pyenv/versions/3.11.*/lib/python3.11/ensurepip/_bundled/pip-*.whl")
	if len(paths) == 0 {
		b.Skip("no bundled pip wheel on this machine")
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{SHA256: sha(data)}
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	var files int
	for b.Loop() {
		inst, err := InstallBytes(filepath.Base(paths[0]), data, filepath.Join(dir, fmt.Sprint(i)), "3.11", opts)
		if err != nil {
			b.Fatal(err)
		}
		files = len(inst.Files)
		i++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(files), "files")
}

// BenchmarkInstallLargeWheel installs, from a file, a wheel with one
// 256 MB module: the archive is read
// in place and members are streamed, so memory stays flat whatever the
// wheel's size (B/op).
func BenchmarkInstallLargeWheel(b *testing.B) {
	big := strings.Repeat("# padding to make a large module\n", (256<<20)/33)
	d := pypitest.Dist{Name: "large", Version: "1.0", Files: map[string]string{"large/blob.py": big}}
	data := d.Build()
	archive := filepath.Join(b.TempDir(), d.Filename())
	if err := os.WriteFile(archive, data, 0o644); err != nil {
		b.Fatal(err)
	}
	opts := Options{SHA256: sha(data)}
	data = nil
	dir := b.TempDir()
	b.SetBytes(int64(len(big)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		prefix := filepath.Join(dir, fmt.Sprint(i))
		if _, err := Install(archive, prefix, "3.11", opts); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(prefix)
		b.StartTimer()
		i++
	}
}

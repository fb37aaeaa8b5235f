package pkg_test

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/install"
	"github.com/envkit/envkit/internal/conda/pkg"
)

// BenchmarkExtractMLScale measures extraction of the ML-scale fixture's
// largest archives (make ml-scale: a 700 MB .conda and a 300 MB
// .tar.bz2 of thousands of files) against the physical limit, in the
// same run: envkit's reader (pkg.Extract), envkit's link step
// (install.Link: digests, paths.json, placeholders, as envkit create and
// envkit link run it), the command-line decompressor piped into tar on
// the same bytes (for a .conda, its pkg-*.tar.zst member copied out
// beforehand, untimed), and `cph x`. MB/s are of archive bytes. Run
// with -benchtime 3x: every pass writes gigabytes.
func BenchmarkExtractMLScale(b *testing.B) {
	dir := os.Getenv("ENVKIT_ML_SCALE")
	if dir == "" {
		cache, _ := os.UserCacheDir()
		dir = filepath.Join(cache, "envkit", "fixtures", "ml-scale")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "shape.json"))
	if err != nil {
		b.Skipf("no ML-scale fixture (make ml-scale, or set ENVKIT_ML_SCALE): %v", err)
	}
	var shape struct{ Largest map[string]string }
	if err := json.Unmarshal(raw, &shape); err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"conda", "bz2"} {
		file := filepath.Join(dir, shape.Largest[kind])
		st, err := os.Stat(file)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(file)
		run := func(sub string, extract func(dest string) error) {
			b.Run(name+"/"+sub, func(b *testing.B) {
				b.SetBytes(st.Size())
				read, cpu := readBytes(), cpuTime()
				for range b.N {
					b.StopTimer()
					dest := filepath.Join(b.TempDir(), "x")
					b.StartTimer()
					if err := extract(dest); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					os.RemoveAll(dest)
					b.StartTimer()
				}
				// What was read (envkit: the archive, once per pass over
				// it; a pipeline: the archive and the pipe) and the CPU
				// time taken, which the other users of a shared machine
				// change less than the wall time. Both count child
				// processes once they have exited.
				b.ReportMetric(float64(readBytes()-read)/float64(b.N), "read-B/op")
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			})
		}
		run("envkit-extract", func(dest string) error { return pkg.Extract(file, dest, time.Unix(0, 0)) })
		run("envkit-link", func(dest string) error {
			_, err := install.Link(file, dest, install.Options{Prefix: "/opt/conda"})
			return err
		})
		switch kind {
		case "conda":
			members := condaMembers(b, file)
			run("zstd-d|tar-x", func(dest string) error {
				return shell(dest, "zstd -d -q -c "+members[0]+" | tar -x -C "+dest+" && zstd -d -q -c "+members[1]+" | tar -x -C "+dest)
			})
		case "bz2":
			run("bzip2-d|tar-x", func(dest string) error { return shell(dest, "bzip2 -d -c "+file+" | tar -x -C "+dest) })
		}
		if _, err := exec.LookPath("cph"); err == nil {
			run("cph-x", func(dest string) error { return shell(dest, "cph x "+file+" --dest "+dest) })
		}
	}
}

// condaMembers copies a .conda's info and pkg members out (stored, so
// byte for byte) and returns their paths.
func condaMembers(b *testing.B, file string) [2]string {
	zr, err := zip.OpenReader(file)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	var out [2]string
	for _, m := range zr.File {
		i := -1
		switch base := path.Base(m.Name); {
		case strings.HasPrefix(base, "info-"):
			i = 0
		case strings.HasPrefix(base, "pkg-"):
			i = 1
		default:
			continue
		}
		rc, err := m.Open()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = filepath.Join(b.TempDir(), path.Base(m.Name))
		f, err := os.Create(out[i])
		if err == nil {
			_, err = io.Copy(f, rc)
			f.Close()
		}
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// readBytes is the bytes this process and its exited children have read
// through read(2) and pread(2) (rchar of /proc/self/io), 0 where that is
// not available.
func readBytes() int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// cpuTime is the user and system CPU time of this process and its
// exited children.
func cpuTime() time.Duration {
	var t time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			t += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return t
}

func shell(dest, script string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		return &exec.ExitError{Stderr: out}
	}
	return nil
}

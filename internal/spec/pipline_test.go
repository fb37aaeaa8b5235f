package spec_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/pypi/resolve"
	"github.com/envkit/envkit/internal/spec"
)

// FuzzPipLineAsLock: a requirement line (not an option line, not a bare
// URL) passes validate's check exactly when the lock's reading of the pip
// lines accepts it, so what validates also locks.
func FuzzPipLineAsLock(f *testing.F) {
	for _, s := range []string{"numpy", "azureml-core=={{latest-pypi-version}}", "pytorch=2.0.1", "requests[socks]>=2.8.1,==2.8.*",
		`pywin32>=1.0; sys_platform == "win32"`, "pkg @ https://x/p-1.0-py3-none-any.whl", "numpy==1 --hash=sha256:" + strings.Repeat("a", 64),
		"numpy (>=1.0)", "x[a", "numpy>=1,", "torch==2.0.1+cu118", "git+https://github.com/o/r@v1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := strings.TrimSpace(s)
		scheme, _, isURL := strings.Cut(line, "://")
		if line == "" || strings.ContainsAny(line, "\r\n") || strings.HasPrefix(line, "-") || isURL && strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz+") == "" {
			return // option lines and bare URLs ("git+https://..."): not requirements
		}
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "/") || strings.HasPrefix(line, "~") || strings.HasPrefix(line, "file:") {
			return // local paths: the lock names them itself
		}
		checkErr := spec.CheckPipRequirement(line)
		_, lockErr := resolve.ParseLines([]spec.Requirement{{Spec: line}})
		if (checkErr == nil) != (lockErr == nil) {
			t.Fatalf("%q: validate %v, lock %v", line, checkErr, lockErr)
		}
	})
}

// FuzzPipFiles reads a requirements file whose -r and -c lines may name
// itself, a second fuzzed file or a wheel. No input may panic; what reads
// is positioned in one of the files, and every requirement, constraint or
// wheel line it holds is one the lock reads.
func FuzzPipFiles(f *testing.F) {
	f.Add([]byte("numpy\n-c c.txt\n"), []byte("numpy<2\n-r c.txt\n"))
	f.Add([]byte("-c c.txt\n./w/x-1.0-py3-none-any.whl\n"), []byte("x==1.0 ; python_version > '3'\n--index-url https://x/simple\n"))
	f.Add([]byte("--constraint=c.txt\n-cc.txt\n"), []byte("requests[socks]<3\n"))
	f.Add([]byte("-r requirements.txt\n"), []byte("-c \\\n c.txt\n"))
	f.Add([]byte("w/x-1.0-py3-none-any.whl[a,b] ; python_version > '3'\n"), []byte("./w/x-1.0-py3-none-any.whl[\n"))
	f.Fuzz(func(t *testing.T, main, other []byte) {
		files := fstest.MapFS{
			"requirements.txt":         {Data: main},
			"c.txt":                    {Data: other},
			"w/x-1.0-py3-none-any.whl": {Data: pypitest.Dist{Name: "x", Version: "1.0"}.Build()},
		}
		def, err := spec.Parse("requirements.txt", main, files)
		if err != nil {
			if _, ok := err.(spec.ErrorList); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, q := range def.Conda.Pip {
			if q.Pos.File != "requirements.txt" && q.Pos.File != "c.txt" || q.Pos.Line < 1 || q.Pos.Col < 1 {
				t.Fatalf("%q at %s", q.Spec, q.Pos)
			}
			text := strings.TrimSpace(q.Spec)
			scheme, _, isURL := strings.Cut(text, "://")
			if q.Wheel == nil && !q.Constraint && (strings.HasPrefix(text, "-") || isURL && strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz+") == "") {
				continue // option lines and bare URLs: pip's own
			}
			if _, err := resolve.ParseLines([]spec.Requirement{q}); err != nil {
				t.Fatalf("%q (constraint %v) validates, the lock says %v", q.Spec, q.Constraint, err)
			}
		}
	})
}

package spec_test

import (
	"strings"
	"testing"

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

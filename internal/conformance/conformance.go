// Package conformance locates the shared conformance data (real conda
// versions, repodata, channels and packages that envkit did not write) for
// tests and benchmarks.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// Env names a directory that overrides the search.
const Env = "ENVKIT_CONFORMANCE"

// Find returns the conformance directory: $ENVKIT_CONFORMANCE, else the first
// "shared/conformance" found beside the working directory or one of its
// parents, else /work/shared/conformance.
func Find() (string, bool) {
	if d := os.Getenv(Env); d != "" {
		return d, isDir(d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			for _, c := range []string{filepath.Join(d, "shared", "conformance"), filepath.Join(d, "..", "shared", "conformance")} {
				if isDir(c) {
					return filepath.Clean(c), true
				}
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	const fallback = "/work/shared/conformance"
	return fallback, isDir(fallback)
}

// Dir returns the conformance directory joined with elem, failing the test
// (not skipping it) when the data cannot be found: a silently skipped
// conformance test would hide a regression.
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	d, ok := Find()
	if !ok {
		tb.Fatalf("conformance data not found: set %s to the shared/conformance directory", Env)
	}
	return filepath.Join(append([]string{d}, elem...)...)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

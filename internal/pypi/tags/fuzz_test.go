package tags

import (
	"strings"
	"testing"
)

// FuzzParseWheelName: never panics; every expanded tag has three parts.
func FuzzParseWheelName(f *testing.F) {
	f.Add("numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
	f.Add("six-1.16.0-1-py2.py3-none-any.whl")
	f.Fuzz(func(t *testing.T, name string) {
		w, err := ParseWheelName(name)
		if err != nil {
			return
		}
		for _, tag := range w.Tags {
			if parts := strings.Split(tag, "-"); len(parts) != 3 {
				t.Fatalf("%q: tag %q", name, tag)
			}
		}
	})
}

package lock

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The sizes of a solve's records are written in custom_metadata, read back
// into the entries (and their records), and a lock read and written again
// keeps its bytes.
func TestSizesRoundTrip(t *testing.T) {
	l := lockOf(t)
	// A second platform with the same packages, and a Spark pin beside.
	for _, p := range slices.Clone(l.Packages) {
		p.Platform = "linux-aarch64"
		p.Size++
		l.Packages = append(l.Packages, p)
	}
	l.Metadata.Platforms = append(l.Metadata.Platforms, "linux-aarch64")
	l.Metadata.Custom = map[string]string{"spark-jar:g:a:1": "https://maven.example/a-1.jar#sha256=" + strings.Repeat("0", 64)}
	out, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read("lock.yml", out)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Marshal()
	if err != nil || !bytes.Equal(out, again) {
		t.Fatalf("read and written again: %v\n%s\n---\n%s", err, out, again)
	}
	if !maps.Equal(back.Metadata.Custom, l.Metadata.Custom) {
		t.Errorf("custom_metadata read back as %v, want the Spark pin alone (sizes are in the entries)", back.Metadata.Custom)
	}
	want := map[[2]string]int64{}
	for _, p := range l.Packages {
		want[[2]string{p.Platform, p.Name}] = p.Size
	}
	sized := 0
	for _, p := range back.Packages {
		if p.Size != want[[2]string{p.Platform, p.Name}] {
			t.Errorf("%s (%s): size %d, want %d", p.Name, p.Platform, p.Size, want[[2]string{p.Platform, p.Name}])
		}
		if p.Size > 0 {
			sized++
		}
	}
	if sized != len(l.Packages) {
		t.Errorf("%d of %d entries have a size", sized, len(l.Packages))
	}
	recs, err := back.Records("linux-64")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Size != want[[2]string{"linux-64", r.Name}] {
			t.Errorf("record %s: size %d", r.Name, r.Size)
		}
	}
	// One line per platform, in name order.
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && strings.HasPrefix(k, SizesPrefix) {
			if !strings.HasPrefix(v, "_libgcc_mutex=") || strings.ContainsAny(v, " '\"") {
				t.Errorf("%s: %.80s…", k, v)
			}
		}
	}
}

// A lock without sizes (conda-lock's, or envkit's before them) reads as
// before: no size, nothing added to custom_metadata when written again.
func TestReadWithoutSizes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "conda-lock-pip-deps-excerpt.yml"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Read("x.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Packages {
		if p.Size != 0 {
			t.Errorf("%s: size %d from a lock without sizes", p.Name, p.Size)
		}
	}
	out, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(SizesPrefix)) {
		t.Errorf("sizes written for a lock without them:\n%s", out)
	}
}

// Sizes in Custom are not the lock's: Marshal writes the entries' sizes
// only, so a stale size set by a caller does not survive.
func TestSizesComeFromEntries(t *testing.T) {
	l := lockOf(t)
	l.Metadata.Custom = map[string]string{SizesPrefix + "linux-64": "numpy=1", SizesPrefix + "osx-64": "numpy=1"}
	for i := range l.Packages {
		l.Packages[i].Size = 0
	}
	out, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(SizesPrefix)) || bytes.Contains(out, []byte("custom_metadata")) {
		t.Errorf("stale sizes written:\n%s", out)
	}
}

func TestSizesErrors(t *testing.T) {
	const head = "version: 1\nmetadata:\n  content_hash: {}\n  channels: []\n  platforms: [linux-64]\n  custom_metadata:\n    conda-sizes:linux-64: "
	const pkgs = "\npackage:\n- {name: a, version: '1', manager: conda, platform: linux-64, url: 'https://c/linux-64/a-1-0.conda', hash: {md5: x}, optional: false}\n" +
		"- {name: p, version: '1', manager: pip, platform: linux-64, url: 'https://f/p-1-py3-none-any.whl', hash: {sha256: x}, optional: false}\n"
	for _, c := range []struct{ value, want string }{
		{"a=12", ""},
		{"a=0", `x.yml:7:27: metadata.custom_metadata conda-sizes:linux-64: entry "a=0": want NAME=BYTES`},
		{"a=-3", `entry "a=-3": want NAME=BYTES`},
		{"a=+3", `entry "a=+3": want NAME=BYTES`},
		{"a=012", `entry "a=012": want NAME=BYTES`},
		{"a=1e3", `entry "a=1e3": want NAME=BYTES`},
		{"a=99999999999999999999", `want NAME=BYTES`},
		{"a", `entry "a": want NAME=BYTES`},
		{"=3", `entry "=3": want NAME=BYTES`},
		{"a=1,", `entry "": want NAME=BYTES`},
		{"a=1,a=2", `x.yml:7:31: metadata.custom_metadata conda-sizes:linux-64: "a" listed twice: delete the conda-sizes:linux-64 entry`},
		{"''", `entry "": want NAME=BYTES`},
		{"a=1,b=2", `x.yml:7:31: metadata.custom_metadata conda-sizes:linux-64: "b" is no conda package of linux-64 in the lock, which was edited after it was written: ` +
			"delete the conda-sizes:linux-64 entry (the lock builds without it), then envkit lock --update NAME (any one package in the lock) records the sizes again, moving only NAME (and what a newer NAME needs)"},
		{"p=2", `"p" is no conda package of linux-64`},
		// A stray space shows in the name and the column is the entry's.
		{"a=1, p=2", `x.yml:7:31: metadata.custom_metadata conda-sizes:linux-64: " p" is no conda package`},
		{"a=1,a=-1", `x.yml:7:31: metadata.custom_metadata conda-sizes:linux-64: entry "a=-1"`},
		// Quoted, the column is the value's.
		{"'a=1,b=2'", `x.yml:7:27: metadata.custom_metadata conda-sizes:linux-64: "b" is no conda package`},
	} {
		_, err := Read("x.yml", []byte(head+c.value+pkgs))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.value, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.value, err, c.want)
		}
	}
	_, err := Read("x.yml", []byte(strings.Replace(head, "conda-sizes:linux-64", "conda-sizes:", 1)+"a=1"+pkgs))
	if err == nil || !strings.Contains(err.Error(), "no platform after conda-sizes:") {
		t.Errorf("key without platform: %v", err)
	}
	bad := Lock{Packages: []Package{{Name: "a,b", Version: "1", Manager: Conda, Platform: "linux-64", URL: "https://c/linux-64/a,b-1-0.conda", Hash: Hash{MD5: "x"}, Size: 3}}}
	if _, err := bad.Marshal(); err == nil || !strings.Contains(err.Error(), "package a,b: size 3") {
		t.Errorf("a name the sizes cannot hold: %v", err)
	}
}

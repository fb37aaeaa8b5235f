package lock

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; review with -update and git diff:\n%s", name, got)
	}
}

func TestReadRealLocks(t *testing.T) {
	for _, c := range []struct {
		file      string
		packages  int
		platforms []string
		check     func(t *testing.T, l *Lock)
	}{
		{"conda-lock-pip-deps-excerpt.yml", 9, []string{"linux-64", "linux-aarch64"}, func(t *testing.T, l *Lock) {
			p := find(t, l, Conda, "python", "linux-64")
			if p.Version != "3.12.0" || p.Dependencies["tzdata"] != "" || p.Dependencies["xz"] != ">=5.2.6,<6.0a0" || p.Hash.MD5 != "7f97faab5bebcc2580f4f299285323da" {
				t.Errorf("python entry %+v", p)
			}
			if p := find(t, l, Pip, "requests", "linux-64"); p.Hash.MD5 != "" || len(p.Hash.SHA256) != 64 || p.Dependencies["urllib3"] != ">=1.21.1,<3" {
				t.Errorf("requests entry %+v", p)
			}
			if l.Metadata.ContentHash["linux-aarch64"] != "965e94868e404b14f51905d913a35c3e74daf3d9936df91026f9d0bc8e8825e1" {
				t.Errorf("content_hash %v", l.Metadata.ContentHash)
			}
			if want := []Channel{{URL: "conda-forge", UsedEnvVars: []string{}}}; !reflect.DeepEqual(l.Metadata.Channels, want) {
				t.Errorf("channels %#v", l.Metadata.Channels)
			}
		}},
		{"mamba-good_multiple_categories-lock.yaml", 37, []string{"linux-64"}, func(t *testing.T, l *Lock) {
			if p := find(t, l, Conda, "pytest", "linux-64"); p.Category != "dev" || !p.Optional {
				t.Errorf("pytest entry %+v", p)
			}
			if p := find(t, l, Conda, "libgomp", "linux-64"); p.Dependencies["_libgcc_mutex"] != "0.1 conda_forge" {
				t.Errorf("libgomp entry %+v", p)
			}
			if !slices.Equal(l.Metadata.Sources, []string{"main.yaml", "dev.yaml"}) {
				t.Errorf("sources %v", l.Metadata.Sources)
			}
		}},
		{"mamba-good_one_package_missing_category-lock.yaml", 1, []string{"linux-64", "osx-64", "win-64"}, func(t *testing.T, l *Lock) {
			if p := find(t, l, Conda, "libzlib", "win-64"); p.Category != "main" || p.Dependencies["vc"] != ">=14.1,<15.0a0" {
				t.Errorf("libzlib entry %+v", p)
			}
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			l, err := ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Packages) != c.packages || !slices.Equal(l.Metadata.Platforms, c.platforms) {
				t.Errorf("%d packages on %v, want %d on %v", len(l.Packages), l.Metadata.Platforms, c.packages, c.platforms)
			}
			c.check(t, l)
			// What envkit writes reads back the same, and writes the same bytes.
			out, err := l.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Read("marshalled", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			l.Sort()
			if !reflect.DeepEqual(normalised(l), normalised(again)) {
				t.Errorf("round trip changed the lock")
			}
			out2, _ := again.Marshal()
			if !bytes.Equal(out, out2) {
				t.Error("marshalling is not stable")
			}
		})
	}
}

// normalised makes empty and nil collections equal, as YAML does.
func normalised(l *Lock) *Lock {
	c := *l
	c.Packages = slices.Clone(l.Packages)
	for i := range c.Packages {
		if len(c.Packages[i].Dependencies) == 0 {
			c.Packages[i].Dependencies = nil
		}
	}
	for i := range c.Metadata.Channels {
		if len(c.Metadata.Channels[i].UsedEnvVars) == 0 {
			c.Metadata.Channels[i].UsedEnvVars = nil
		}
	}
	return &c
}

func find(t *testing.T, l *Lock, manager, name, platform string) Package {
	t.Helper()
	for _, p := range l.Packages {
		if p.Manager == manager && p.Name == name && p.Platform == platform {
			return p
		}
	}
	t.Fatalf("no %s package %s for %s", manager, name, platform)
	return Package{}
}

func TestReadErrors(t *testing.T) {
	_, err := ReadFile(filepath.Join("testdata", "mamba-bad_package-lock.yaml"))
	if err == nil || !strings.Contains(err.Error(), "mamba-bad_package-lock.yaml:") {
		t.Fatalf("bad_package: %v", err)
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty lock file"},
		{"version: 2\nmetadata: {}\n", "x.yml:1:10: conda-lock version 2"},
		{"metadata: {}\n", "x.yml:1:1: no version"},
		{"version: 1\n", "x.yml:1:1: no metadata"},
		{"version: 1\nmetadata:\n  platforms: []\n", "x.yml:3:3: metadata: no content_hash"},
		{"version: 1\nmetadata: {content_hash: {}, channels: [], platforms: []}\npackage:\n- name: a\n  version: '1'\n  manager: npm\n  platform: linux-64\n  url: u\n", `x.yml:4:3: package a: manager "npm"`},
		{"version: 1\nmetadata: {content_hash: {}, channels: [], platforms: []}\npackage:\n- name: a\n  version: '1'\n  manager: conda\n  platform: linux-64\n  url: u\n", "x.yml:4:3: package a: conda packages need hash"},
		{"version: 1\nmetadata: {content_hash: {}, channels: [], platforms: []}\npackage:\n- {name: a, version: '1', manager: pip, platform: p, url: u}\n- {name: a, version: '2', manager: pip, platform: p, url: u}\n", "x.yml:5:3: package a (pip, p) listed twice"},
		{"version: 1\nversion: 1\n", `x.yml:2:1: the lock file: key "version" repeated`},
		{"version: 1\nmetadata: [1]\n", "x.yml:2:11: metadata: want a mapping"},
		{"version: 1\nmetadata: {content_hash: {}, channels: [], platforms: []}\npackage:\n- {name: a, version: '1', manager: pip, platform: p, url: u, optional: maybe}\n", "optional: want true or false"},
		{"version: 1\n  bad: [\n", "x.yml: yaml:"},
	} {
		_, err := Read("x.yml", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

// solvedRecords stands in for a solve: the real numpy/python closure of
// conda-forge (mamba's test data, linux-64 and noarch records in one file,
// so parsed without a subdir to place each record in its own).
func solvedRecords(t testing.TB) []*repodata.Record {
	t.Helper()
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "conda-forge-numpy_linux-64.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse("https://conda.anaconda.org/conda-forge", "", data)
	if err != nil {
		t.Fatal(err)
	}
	var out []*repodata.Record
	for i := range rd.Records {
		out = append(out, &rd.Records[i])
	}
	out = append(out, &repodata.Record{Name: "__glibc", Version: "2.36", Build: "0", Channel: "@"})
	return out
}

func lockOf(t testing.TB) *Lock {
	in := Inputs{Channels: []string{"conda-forge"}, Specs: []string{"numpy", "python 3.10.*"}}
	return &Lock{
		Metadata: Metadata{
			ContentHash: map[string]string{"linux-64": ContentHash(in, "linux-64")},
			Channels:    []Channel{{URL: "conda-forge"}},
			Platforms:   []string{"linux-64"},
			Sources:     []string{"environment.yml"},
		},
		Packages: FromRecords("linux-64", solvedRecords(t)),
	}
}

func TestWriteGolden(t *testing.T) {
	l := lockOf(t)
	for _, p := range l.Packages {
		if strings.HasPrefix(p.Name, "__") {
			t.Errorf("virtual package %s locked", p.Name)
		}
	}
	out, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "numpy-conda-lock.yml", out)
	explicit, err := l.Explicit("linux-64")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "numpy-linux-64.explicit.txt", explicit)
	// Shuffled input, same bytes.
	slices.Reverse(l.Packages)
	again, _ := l.Marshal()
	if !bytes.Equal(out, again) {
		t.Error("output depends on the order of the packages")
	}
}

func TestExplicitOrder(t *testing.T) {
	l := lockOf(t)
	out, err := l.Explicit("linux-64")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	at := map[string]int{}
	seenExplicit := false
	for i, line := range lines {
		if line == "@EXPLICIT" {
			seenExplicit = true
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		if !seenExplicit {
			t.Fatalf("package line before @EXPLICIT: %s", line)
		}
		url, md5, ok := strings.Cut(line, "#")
		if !ok || len(md5) != 32 {
			t.Fatalf("line %q is not url#md5", line)
		}
		at[url] = i
	}
	for _, p := range l.Packages {
		for dep := range p.Dependencies {
			for _, q := range l.Packages {
				if q.Name == dep && at[q.URL] > at[p.URL] {
					t.Errorf("%s comes after its dependent %s", q.Name, p.Name)
				}
			}
		}
	}
	if _, err := l.Explicit("osx-arm64"); err == nil {
		t.Error("explicit export of a platform the lock lacks")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range solvedRecords(t) {
		if strings.HasPrefix(r.Name, "__") {
			continue
		}
		p := FromRecord("linux-64", r)
		got, err := p.Record()
		if err != nil {
			t.Fatal(err)
		}
		want := repodata.Record{
			Name: r.Name, Version: r.Version, Build: r.Build, BuildNumber: got.BuildNumber,
			Depends: (&Package{Dependencies: dependencies(r.Depends)}).dependList(), MD5: r.MD5, SHA256: r.SHA256, Size: r.Size,
			Subdir: r.Subdir, Filename: r.Filename, URL: r.URL, Channel: r.Channel, Noarch: got.Noarch,
		}
		if len(want.Depends) == 0 {
			want.Depends = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", r.Filename, got, want)
		}
		if strings.HasSuffix(r.Build, "_"+strconv.FormatInt(r.BuildNumber, 10)) && got.BuildNumber != r.BuildNumber {
			t.Errorf("%s: build number %d, want %d", r.Filename, got.BuildNumber, r.BuildNumber)
		}
		if (r.Noarch != "") != (got.Noarch != "") || r.Noarch == "python" && got.Noarch != "python" {
			t.Errorf("%s: noarch %q, want %q", r.Filename, got.Noarch, r.Noarch)
		}
	}
	pip := Package{Name: "x", Manager: Pip, URL: "https://files/x.whl"}
	if _, err := pip.Record(); err == nil {
		t.Error("a pip entry made a conda record")
	}
	bad := Package{Name: "x", Version: "1", Manager: Conda, URL: "https://c/linux-64/y-1-0.conda"}
	if _, err := bad.Record(); err == nil || !strings.Contains(err.Error(), "is not x-1-<build>") {
		t.Errorf("mismatched file name: %v", err)
	}
}

func TestContentHash(t *testing.T) {
	base := Inputs{Channels: []string{"conda-forge", "defaults"}, Specs: []string{"numpy >=1.26", "python=3.11"}, PipSpecs: []string{"requests"}}
	h := ContentHash(base, "linux-64")
	if len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	same := []Inputs{
		{Channels: base.Channels, Specs: []string{" python=3.11", "numpy  >=1.26", "numpy >=1.26"}, PipSpecs: base.PipSpecs},
	}
	for _, in := range same {
		if ContentHash(in, "linux-64") != h {
			t.Errorf("%+v hashes differently", in)
		}
	}
	different := []Inputs{
		{Channels: []string{"defaults", "conda-forge"}, Specs: base.Specs, PipSpecs: base.PipSpecs},
		{Channels: base.Channels, Specs: []string{"numpy >=1.26"}, PipSpecs: base.PipSpecs},
		{Channels: base.Channels, Specs: base.Specs},
		{Channels: base.Channels, Specs: base.Specs, PipSpecs: base.PipSpecs, VirtualOverrides: []string{"CONDA_OVERRIDE_CUDA=12.4"}},
		{Channels: base.Channels, Specs: base.Specs, PipSpecs: base.PipSpecs, Spark: &SparkInputs{Packages: []string{"io.delta:delta-spark_2.12:3.2.0"}}},
	}
	for _, in := range different {
		if ContentHash(in, "linux-64") == h {
			t.Errorf("%+v hashes the same", in)
		}
	}
	if ContentHash(base, "osx-arm64") == h {
		t.Error("platform not hashed")
	}
	// An empty spark section is no Spark: hashes stay those of earlier
	// versions for definitions without Spark packages.
	if ContentHash(Inputs{Channels: base.Channels, Specs: base.Specs, PipSpecs: base.PipSpecs, Spark: &SparkInputs{Precache: true}}, "linux-64") != h {
		t.Error("a spark section without packages changes the hash")
	}
	spark := func(pkgs, repos []string, precache bool) string {
		return ContentHash(Inputs{Channels: base.Channels, Specs: base.Specs, Spark: &SparkInputs{Packages: pkgs, Repositories: repos, Precache: precache}}, "linux-64")
	}
	a, b := "g:a:1", "g:b:2"
	if spark([]string{a, b}, []string{"r1", "r2"}, true) != spark([]string{b, a}, []string{"r1", "r2"}, true) {
		t.Error("the order of Spark packages is hashed")
	}
	for _, other := range []string{spark([]string{a}, []string{"r1", "r2"}, true), spark([]string{a, b}, []string{"r2", "r1"}, true), spark([]string{a, b}, []string{"r1", "r2"}, false)} {
		if other == spark([]string{a, b}, []string{"r1", "r2"}, true) {
			t.Error("Spark packages, repository order or precache not hashed")
		}
	}
	// The scheme is frozen: a change must be deliberate (bump hashVersion).
	golden(t, "content-hash.txt", []byte(ContentHash(Inputs{Channels: []string{"conda-forge"}, Specs: []string{"python 3.12.*"}}, "linux-64")+"\n"))
	l := &Lock{Metadata: Metadata{ContentHash: map[string]string{"linux-64": h}}}
	if !l.Current(base, "linux-64") || l.Current(different[0], "linux-64") || l.Current(base, "osx-64") {
		t.Error("Current")
	}
}

func TestWriteFileLeavesCurrentLockAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conda-lock.yml")
	l := lockOf(t)
	wrote, err := l.WriteFile(path)
	if err != nil || !wrote {
		t.Fatalf("first write: %v, %v", wrote, err)
	}
	old := time.Unix(1, 0)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	wrote, err = l.WriteFile(path)
	if err != nil || wrote {
		t.Fatalf("unchanged lock rewritten: %v, %v", wrote, err)
	}
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Error("mtime changed")
	}
	l.Packages = l.Packages[1:]
	if wrote, err = l.WriteFile(path); err != nil || !wrote {
		t.Fatalf("changed lock not written: %v, %v", wrote, err)
	}
	back, err := ReadFile(path)
	if err != nil || len(back.Packages) != len(l.Packages) {
		t.Fatalf("read back: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	l.Packages = append(l.Packages, Package{Name: "broken", Manager: Conda})
	if _, err := l.WriteFile(path); err == nil {
		t.Error("an invalid lock was written")
	}
}

func TestQuoting(t *testing.T) {
	for s, want := range map[string]bool{
		"python": false, "linux-64": false, "main": false, "Yes": true, "null": true, "": true,
		"0.1": true, "1.0.8": false, "2023c": false, ">=1.2,<2": false, "3.10.* *_cp310": false,
		"1e3": true, "true": true, "~": true, "3": true, "-1": true, ".5": true,
		"https://conda.anaconda.org/c/linux-64/a-1-0.conda": false,
		// Left to yaml.v3, which quotes them itself:
		"a: b": false, " x": true, "#x": true, "- x": true, "@": true, "x #y": false, "{a}": true,
	} {
		if got := needsQuotes(s); got != want {
			t.Errorf("needsQuotes(%q) = %v, want %v", s, got, want)
		}
		if s == "" {
			continue // a version is required
		}
		// Whatever the style, the value reads back unchanged.
		out, err := (&Lock{Packages: []Package{{Name: "n", Version: s, Manager: Pip, Platform: "p", URL: "u"}}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Read("q", out)
		if err != nil || back.Packages[0].Version != s {
			t.Errorf("%q read back as %v, %v", s, back, err)
		}
	}
}

package hash

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func hashFile(t *testing.T, p string) string {
	t.Helper()
	def, err := spec.Load(p)
	if err != nil {
		t.Fatalf("Load(%s): %v", p, err)
	}
	def.SetDefaultBase(spec.DefaultBaseImage)
	h, err := Of(def)
	if err != nil {
		t.Fatalf("Of(%s): %v", p, err)
	}
	return h
}

func hashText(t *testing.T, text string) string {
	t.Helper()
	def, err := spec.Parse("env.yml", []byte(text), fstest.MapFS{})
	if err != nil {
		t.Fatalf("Parse:\n%s\n%v", text, err)
	}
	h, err := Of(def)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var hashForm = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// One environment, written many ways, has one hash.
func TestSameEnvironmentSameHash(t *testing.T) {
	want := hashFile(t, filepath.Join("testdata", "equiv", "native.yml"))
	if !hashForm.MatchString(want) {
		t.Fatalf("hash %q is not sha256:<64 hex>", want)
	}
	for _, f := range []string{"renamed.yml", "reformatted.yml", "reordered.yml", "azureml.yml", "v1"} {
		if got := hashFile(t, filepath.Join("testdata", "equiv", f)); got != want {
			t.Errorf("%s: %s, want %s (same environment as native.yml)", f, got, want)
		}
	}
}

// Each change that alters the image alters the hash.
func TestChangeChangesHash(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "equiv", "native.yml"))
	if err != nil {
		t.Fatal(err)
	}
	base := string(data)
	orig := hashText(t, base)
	changes := []struct{ name, from, to string }{
		{"dependency version", "numpy>=1.21,<2", "numpy>=1.22,<2"},
		{"dependency added", "    - pip=24.0\n", "    - pip=24.0\n    - scipy\n"},
		{"pip dependency", "pandas==2.1.4", "pandas==2.1.3"},
		{"base image", "20240709.v1", "20240710.v1"},
		{"step", "conda:\n", "steps:\n  - RUN true\nconda:\n"},
		{"env var", "conda:\n", "env:\n  A: \"1\"\nconda:\n"},
		{"channel order", "    - conda-forge\n    - nodefaults\n", "    - nodefaults\n    - conda-forge\n"},
		{"prefix", "conda:\n", "prefix: /opt/env\nconda:\n"},
		{"platform", "conda:\n", "platforms: [linux/arm64]\nconda:\n"},
	}
	seen := map[string]string{orig: "original"}
	for _, c := range changes {
		if !strings.Contains(base, c.from) {
			t.Fatalf("%s: %q not in native.yml", c.name, c.from)
		}
		h := hashText(t, strings.Replace(base, c.from, c.to, 1))
		if prev, dup := seen[h]; dup {
			t.Errorf("%s: hash %s same as %s", c.name, h, prev)
		}
		seen[h] = c.name
	}
}

func TestImageNormalised(t *testing.T) {
	a := hashText(t, "base: {image: debian}\n")
	b := hashText(t, "base: {image: docker.io/library/debian:latest}\n")
	if a != b {
		t.Errorf("debian and docker.io/library/debian:latest hash differently: %s %s", a, b)
	}
}

// A Dockerfile's COPY sources enter the hash through their content.
func TestContextFileChangesHash(t *testing.T) {
	def := func(content string) string {
		fsys := fstest.MapFS{"app/run.sh": {Data: []byte(content)}}
		d, err := spec.Parse("env.yml", []byte("base:\n  dockerfile: |\n    FROM debian:12\n    COPY app/ /app/\n"), fsys)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Of(d)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if def("echo 1\n") == def("echo 2\n") {
		t.Error("changing a COPY source did not change the hash")
	}
	// RUN --mount=type=bind reads the context too; from= another stage not.
	step := func(content string) string {
		fsys := fstest.MapFS{"reqs/r.txt": {Data: []byte(content)}}
		d, err := spec.Parse("env.yml", []byte("base: {image: debian:12}\nsteps:\n  - RUN --mount=type=bind,source=reqs,target=/r cat /r/r.txt\n  - RUN --mount=type=bind,from=builder,source=/x,target=/x true\n"), fsys)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Base.ContextFiles) != 1 || d.Base.ContextFiles[0].Path != "reqs/r.txt" {
			t.Fatalf("context files %+v", d.Base.ContextFiles)
		}
		h, err := Of(d)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if step("a\n") == step("b\n") {
		t.Error("changing a bind-mounted context file did not change the hash")
	}
	// A file .dockerignore excludes never reaches BuildKit.
	ignored := func(content string) string {
		fsys := fstest.MapFS{
			".dockerignore": {Data: []byte("app/*.log\n")},
			"app/run.sh":    {Data: []byte("echo\n")},
			"app/debug.log": {Data: []byte(content)},
		}
		d, err := spec.Parse("env.yml", []byte("base: {image: debian:12}\nsteps: [\"COPY app /app\"]\n"), fsys)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Base.ContextFiles) != 1 {
			t.Fatalf("context files %+v", d.Base.ContextFiles)
		}
		h, _ := Of(d)
		return h
	}
	if ignored("a") != ignored("b") {
		t.Error("a file excluded by .dockerignore changed the hash")
	}
}

func TestNoBase(t *testing.T) {
	def, err := spec.Parse("conda.yml", []byte("channels: [conda-forge]\ndependencies: [python=3.12]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Of(def); err == nil || !strings.Contains(err.Error(), spec.BaseImageEnv) {
		t.Errorf("a definition without base: %v, want an error naming %s", err, spec.BaseImageEnv)
	}
}

// Golden vectors: an accidental change of the encoding fails here. A
// deliberate one bumps Version and reruns with -update.
func TestGolden(t *testing.T) {
	inputs := []string{
		"testdata/equiv/native.yml",
		"../spec/testdata/full.yml",
		"../spec/testdata/real/azureml-examples/docker-image-plus-conda.yml",
		"../spec/testdata/real/azureml-examples/docker-context.yml",
		"../spec/testdata/real/azureml-examples/docker-image.yml",
		"../spec/testdata/real/glioma-v1",
		"../spec/testdata/real/mnist/conda.yml",
	}
	var got strings.Builder
	for _, in := range inputs {
		def, err := spec.Load(filepath.FromSlash(in))
		if err != nil {
			t.Fatal(err)
		}
		def.SetDefaultBase(spec.DefaultBaseImage)
		doc, err := Document(def)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := Of(def)
		fmt.Fprintf(&got, "%s %s\n%s\n\n", h, in, doc)
	}
	golden := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("hash encoding changed; if deliberate, bump Version and run go test -update.\ngot:\n%s", got.String())
	}
}

func BenchmarkOf(b *testing.B) {
	def, err := spec.Load(filepath.Join("..", "spec", "testdata", "full.yml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Of(def); err != nil {
			b.Fatal(err)
		}
	}
}

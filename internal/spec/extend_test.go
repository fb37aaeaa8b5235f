package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/curated"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func extends(parts ...string) string {
	return filepath.Join(append([]string{"testdata", "extends"}, parts...)...)
}

func envMap(vars []EnvVar) map[string]string {
	out := map[string]string{}
	for _, v := range vars {
		out[v.Name] = v.Value
	}
	return out
}

func envNames(vars []EnvVar) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out
}

// The docs/curated.md example: packages are a union keyed by name with the
// user's pin in the curated position, channels appended, env merged.
func TestExtendSklearn(t *testing.T) {
	p := extends("my-sklearn.yml")
	def := mustLoad(t, p)
	if def.Source.From != "curated/sklearn" || def.Source.Format != FormatNative || def.Source.Path != p {
		t.Errorf("source %+v", def.Source)
	}
	if def.Name != "my-sklearn" || def.Version != "3" || def.Description != "" {
		t.Errorf("metadata %q %q %q: want the extending definition's only", def.Name, def.Version, def.Description)
	}
	wantTags := map[string]string{"curated": "true", "os": "debian12-slim", "python": "3.12", "framework": "scikit-learn 1.5", "accelerator": "cpu", "team": "churn"}
	if !reflect.DeepEqual(def.Tags, wantTags) {
		t.Errorf("tags %v, want %v", def.Tags, wantTags)
	}
	if def.Base.Image != "docker.io/library/debian:bookworm-slim" {
		t.Errorf("base %+v", def.Base)
	}
	if len(def.Steps) != 1 || !strings.HasPrefix(def.Steps[0].Instruction, "RUN apt-get") {
		t.Errorf("steps %v", def.Steps)
	}
	c := def.Conda
	if got, want := c.ChannelNames(), []string{"conda-forge", "bioconda"}; !reflect.DeepEqual(got, want) {
		t.Errorf("channels %v, want %v", got, want)
	}
	wantDeps := []string{"python=3.12", "pip=24.2", "numpy=2.1", "scipy=1.14", "pandas=2.2", "joblib=1.4", "scikit-learn=1.5.2", "lightgbm=4.5"}
	if got := Specs(c.Dependencies); !reflect.DeepEqual(got, wantDeps) {
		t.Errorf("dependencies %v, want %v", got, wantDeps)
	}
	if got, want := Specs(c.Pip), []string{"--extra-index-url https://pypi.example.org/simple", "mlflow==2.17.0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pip %v, want %v", got, want)
	}
	if got, want := envNames(def.Env), []string{"LANG", "PYTHONUNBUFFERED", "OMP_NUM_THREADS", "MLFLOW_TRACKING_URI"}; !reflect.DeepEqual(got, want) {
		t.Errorf("env order %v, want %v", got, want)
	}
	if got := envMap(def.Env)["OMP_NUM_THREADS"]; got != "4" {
		t.Errorf("OMP_NUM_THREADS=%q, want the extending definition's 4", got)
	}
	// Merged-in values point into the curated file, the user's into theirs.
	if pos := c.Dependencies[0].Pos; pos.File != "curated/sklearn.yml" || pos.Line == 0 {
		t.Errorf("python=3.12 at %v, want curated/sklearn.yml:LINE:COL", pos)
	}
	if pos := c.Dependencies[6].Pos; pos != (Pos{p, 18, 7}) {
		t.Errorf("scikit-learn=1.5.2 at %v, want %s:18:7", pos, p)
	}
}

// Everything that is not a package list is replaced when the extending
// definition sets it; Spark packages merge by group:artifact; two specs of
// one name in the extending definition are both kept.
func TestExtendSpark(t *testing.T) {
	def := mustLoad(t, extends("spark-extended.yml"))
	if def.Base.Image != "docker.io/library/ubuntu:24.04" || def.Prefix != "/opt/env" || def.Python.Interpreter != "/opt/conda/bin/python" {
		t.Errorf("base %q prefix %q python %+v", def.Base.Image, def.Prefix, def.Python)
	}
	if !reflect.DeepEqual(def.Platforms, []string{"linux/arm64"}) {
		t.Errorf("platforms %v", def.Platforms)
	}
	wantDeps := []string{"python=3.12", "pip=24.2", "openjdk=17", "pyspark>=3.5.1,<3.6", "pyspark!=3.5.2", "pandas=2.2", "pyarrow=17"}
	if got := Specs(def.Conda.Dependencies); !reflect.DeepEqual(got, wantDeps) {
		t.Errorf("dependencies %v, want %v", got, wantDeps)
	}
	if got := Specs(def.Pip); !reflect.DeepEqual(got, []string{"Delta_Spark==3.2.0"}) {
		t.Errorf("pip %v", got)
	}
	sp := def.Spark
	if !reflect.DeepEqual(sp.Repositories, []string{"https://repo1.maven.org/maven2", "https://maven.example.org/releases"}) || !sp.Precache {
		t.Errorf("spark %+v", sp)
	}
	var pkgs []string
	for _, p := range sp.Packages {
		pkgs = append(pkgs, p.Group+":"+p.Artifact+":"+p.Version)
	}
	if want := []string{"io.delta:delta-spark_2.12:3.2.1", "org.apache.hadoop:hadoop-aws:3.3.4"}; !reflect.DeepEqual(pkgs, want) {
		t.Errorf("spark packages %v, want %v", pkgs, want)
	}
}

func TestUnionBy(t *testing.T) {
	key := func(s string) string { return s[:1] } // the package name is one letter
	for _, c := range []struct{ base, over, want []string }{
		{nil, nil, nil},
		{[]string{"a=1"}, nil, []string{"a=1"}},
		{nil, []string{"a=1"}, []string{"a=1"}},
		{[]string{"a=1", "b=1", "c=1"}, []string{"d=2", "b=2"}, []string{"a=1", "b=2", "c=1", "d=2"}},
		// Both of the extending definition's specs of one name replace the
		// curated one, in its place; a curated duplicate is dropped.
		{[]string{"a=1", "b=1", "a=0"}, []string{"a>2", "a<3"}, []string{"a>2", "a<3", "b=1"}},
	} {
		if got := unionBy(c.base, c.over, key); !reflect.DeepEqual(got, c.want) {
			t.Errorf("unionBy(%v, %v) = %v, want %v", c.base, c.over, got, c.want)
		}
	}
}

func TestMergeKeys(t *testing.T) {
	for a, b := range map[string]string{
		"conda-forge::NumPy >=1.21": "numpy=2.1",
		"pytorch[build=*cpu*]":      "pytorch 2.5.*",
	} {
		if condaKey(a) != condaKey(b) {
			t.Errorf("condaKey(%q) = %q, condaKey(%q) = %q: want one package", a, condaKey(a), b, condaKey(b))
		}
	}
	for a, b := range map[string]string{
		"Delta_Spark==3.2.0":                     "delta.spark>=3",
		"torch; sys_platform == 'linux'":         "torch==2.5",
		"--index-url   https://x.example/simple": "--index-url https://x.example/simple",
	} {
		if pipKey(a) != pipKey(b) {
			t.Errorf("pipKey(%q) = %q, pipKey(%q) = %q: want one key", a, pipKey(a), b, pipKey(b))
		}
	}
	if pipKey("--index-url https://a") == pipKey("--index-url https://b") || pipKey("--pre") == pipKey("pre") {
		t.Error("distinct option lines share a key")
	}
}

// Extending with nothing gives the curated definition itself, apart from
// metadata.
func TestExtendNothing(t *testing.T) {
	for _, name := range curated.Names() {
		data, err := curated.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(name+".yml", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse("env.yml", []byte("from: curated/"+name+"\n"), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Name != "" || got.Version != "" || got.Description != "" {
			t.Errorf("%s: metadata %q %q %q came from the curated definition", name, got.Name, got.Version, got.Description)
		}
		got.Name, got.Version, got.Description = want.Name, want.Version, want.Description
		if a, b := comparable(t, got), comparable(t, want); a != b {
			t.Errorf("from: curated/%s alone differs from it:\n%s\n%s", name, a, b)
		}
	}
}

// Write expands a definition that extends a curated one; read back it is
// the same definition (golden files: go test -update rewrites them).
func TestExtendWrite(t *testing.T) {
	for _, in := range []string{"my-sklearn.yml", "spark-extended.yml"} {
		def := mustLoad(t, extends(in))
		out, _, err := Write(def, FormatNative, false)
		if err != nil {
			t.Fatal(err)
		}
		golden := extends("expanded", in)
		if *update {
			if err := os.WriteFile(golden, out, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s written:\n%s\nwant:\n%s", in, out, want)
		}
		back, err := Parse(in, out, os.DirFS(extends()))
		if err != nil {
			t.Fatalf("%s expanded does not read back: %v", in, err)
		}
		if back.Source.From != "" {
			t.Errorf("%s expanded still extends %s", in, back.Source.From)
		}
		if a, b := comparable(t, def), comparable(t, back); a != b {
			t.Errorf("%s: expanding changed the definition:\n%s\n%s", in, a, b)
		}
	}
}

func TestExtendErrors(t *testing.T) {
	files := fstest.MapFS{"conda.yml": {Data: []byte("dependencies: [numpy=2.1, numpy=2.1]\n")}}
	for name, c := range map[string]struct{ text, want string }{
		"typo": {"name: x\nfrom: curated/sklean\n",
			`env.yml:2:7: from: unknown curated environment "curated/sklean"; did you mean "curated/sklearn"? (known: curated/python, curated/pytorch-cpu, curated/pytorch-cuda, curated/sklearn, curated/spark, curated/tensorflow)`},
		"no prefix":    {"from: spark\n", `env.yml:1:7: from: unknown curated environment "spark"; did you mean "curated/spark"?`},
		"not curated":  {"from: docker.io/library/debian:12\n", `env.yml:1:7: from: unknown curated environment "docker.io/library/debian:12" (known: curated/python,`},
		"not a string": {"from: [curated/python]\n", "env.yml:1:7: from must be a string, got a list"},
		// The user's own duplicate is reported though the merge would fold it.
		"duplicate":               {"from: curated/python\nconda:\n  dependencies: [pip=24.2, pip=24.2]\n", `env.yml:3:28: duplicate conda dependency "pip=24.2" (also at env.yml:3:18)`},
		"duplicate in conda file": {"from: curated/python\nconda: {file: conda.yml}\n", `conda.yml:1:27: duplicate conda dependency "numpy=2.1" (also at conda.yml:1:16)`},
		"bad spec":                {"from: curated/python\nconda:\n  dependencies: [\"numpy >=\"]\n", "env.yml:3:18: conda dependency \"numpy >=\""},
		"user managed": {"from: curated/sklearn\npython:\n  user_managed: true\n",
			"env.yml:3:3: python.user_managed: true cannot extend curated/sklearn, which builds a conda environment: copy it (envkit curated show sklearn) and edit the copy"},
		"two bases": {"from: curated/python\nbase: {image: debian:12, dockerfile: Dockerfile}\n", "mutually exclusive"},
	} {
		_, err := Parse("env.yml", []byte(c.text), files)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	// A curated definition cannot itself extend one (no chains, no cycles).
	r := &reader{noFrom: true, dir: "curated"}
	if _, err := r.parse("x.yml", []byte("from: curated/python\n")); err == nil || !strings.Contains(err.Error(), "curated/x.yml:1:7: from: a curated definition cannot extend another") {
		t.Errorf("nested from: %v", err)
	}
}

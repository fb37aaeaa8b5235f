package llb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"

	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/spec"
)

// realFile is a public environment file kept by internal/spec's tests.
func realFile(t *testing.T, rel string) *spec.Definition {
	t.Helper()
	def, err := spec.Load(filepath.Join("..", "internal", "spec", "testdata", "real", rel))
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// Azure ML's docker-context example: a Dockerfile base with its own
// context directory, converted by BuildKit's Dockerfile frontend.
func TestGoldenAzureMLDockerContext(t *testing.T) {
	def := realFile(t, "azureml-examples/docker-context.yml")
	env, err := FromDefinition(def, Locked{})
	if err != nil {
		t.Fatal(err)
	}
	if env.BaseImage != "" || len(env.BaseDockerfile) == 0 {
		t.Fatalf("base %q / %d bytes of Dockerfile, want the Dockerfile", env.BaseImage, len(env.BaseDockerfile))
	}
	opts := baseOptions(amd64)
	opts.MetaResolver = staticResolver{"python:3.8": "docker.io/library/python:3.8@sha256:" + strings.Repeat("3", 64)}
	ctxState := llb.Local("context", llb.SharedKeyHint("context"))
	opts.BuildContext = &ctxState
	_, text, cfg := goldenBuild(t, env, opts)
	compareGolden(t, filepath.Join("testdata", "azureml-docker-context.golden"), fmt.Sprintf("=== LLB\n%s=== image config\n%s\n", text, cfg))
}

// The real Azure ML example's conda file has a pip: part: its locked
// wheels reach the environment.
func TestFromDefinitionRealPip(t *testing.T) {
	def := realFile(t, "azureml-examples/docker-image-plus-conda.yml")
	if err := Supported(def); err != nil {
		t.Fatal(err)
	}
	wheels := []Wheel{{Name: "numpy", Version: "1.21.2", URL: "http://127.0.0.1:1/numpy-1.21.2-cp38-cp38-manylinux_2_12_x86_64.manylinux2010_x86_64.whl", SHA256: strings.Repeat("1", 64)}}
	env, err := FromDefinition(def, Locked{Packages: testRecipes(t, "python-3.99.99-0.conda"), Wheels: wheels})
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Wheels) != 1 || !reflect.DeepEqual(env.Wheels[0], wheels[0]) || env.Spark != nil {
		t.Errorf("environment %+v", env)
	}
}

// pip without a conda environment, or precached Spark packages without
// one, are refused at their line before anything is resolved.
func TestSupportedRefusesAtTheLine(t *testing.T) {
	src := "name: t\nbase:\n  image: busybox:1.36\npip:\n  - requests\nspark:\n  packages:\n    - {group: g, artifact: a, version: \"1\"}\n  precache: true\n"
	def, err := spec.Parse("environment.yml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = Supported(def)
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) != 2 || !strings.Contains(err.Error(), "environment.yml:5:") || !strings.Contains(err.Error(), "add python to the conda dependencies") ||
		!strings.Contains(err.Error(), "precache: false") {
		t.Fatalf("error %v, want pip refused at line 5 and the precached Spark packages", err)
	}
	// Without precache the image only gets spark-defaults.conf: no lock,
	// no conda needed.
	def, err = spec.Parse("environment.yml", []byte("name: t\nbase:\n  image: busybox:1.36\nspark:\n  packages:\n    - {group: g, artifact: a, version: \"1\"}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Supported(def); err != nil {
		t.Errorf("Spark packages without precache: %v", err)
	}
}

func TestFromDefinitionSpark(t *testing.T) {
	src := "name: t\nbase:\n  image: busybox:1.36\nconda:\n  channels: [conda-forge]\n  dependencies: [python=3.11]\nspark:\n  repositories: [http://127.0.0.1:1/maven2]\n  packages:\n    - {group: org.demo, artifact: util, version: \"1.0\"}\n  precache: true\n"
	def, err := spec.Parse("environment.yml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := testRecipes(t, "python-3.99.99-0.conda")
	if _, err := FromDefinition(def, Locked{Packages: pkgs}); err == nil || !strings.Contains(err.Error(), "environment.yml:8:") || !strings.Contains(err.Error(), "run envkit lock") {
		t.Errorf("precache without locked jars: %v", err)
	}
	jars := []maven.Jar{{Coordinate: maven.Coordinate{Group: "org.demo", Artifact: "util", Version: "1.0"}, URL: "http://127.0.0.1:1/maven2/org/demo/util/1.0/util-1.0.jar", SHA256: strings.Repeat("2", 64)}}
	env, err := FromDefinition(def, Locked{Packages: pkgs, Jars: jars})
	if err != nil {
		t.Fatal(err)
	}
	if env.Spark == nil || !env.Spark.Precache || len(env.Spark.Jars) != 1 || len(env.Spark.Roots) != 1 || env.Spark.Repositories[0] != "http://127.0.0.1:1/maven2" {
		t.Errorf("spark %+v", env.Spark)
	}
}

func TestFromDefinitionMinimalExample(t *testing.T) {
	def, err := spec.Load(filepath.Join("..", "examples", "minimal", "environment.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromDefinition(def, Locked{}); err == nil || !strings.Contains(err.Error(), "no locked packages") {
		t.Errorf("error %v, want conda dependencies without packages refused", err)
	}
	env, err := FromDefinition(def, Locked{Packages: testRecipes(t, "python-3.99.99-0.conda")})
	if err != nil {
		t.Fatal(err)
	}
	if env.BaseImage != "docker.io/library/debian:bookworm-slim" || env.Prefix != "/opt/conda" || len(env.Packages) != 1 {
		t.Errorf("environment %+v", env)
	}
}

// Steps are converted at their lines in the definition, so a failing or
// invalid step is reported at FILE:LINE of the definition.
func TestStepsKeepTheirLines(t *testing.T) {
	src := "# syntax=x\nbase:\n  image: busybox:1.36\nsteps:\n  - RUN true\n  - |\n    RUN echo one && \\\n        echo two\n  - FROBNICATE now\n"
	def, err := spec.Parse("environment.yml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := FromDefinition(def, Locked{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(context.Background(), env, baseOptions(amd64))
	if err == nil || !strings.Contains(err.Error(), "environment.yml") || !strings.Contains(err.Error(), "line 9") {
		t.Errorf("error %v, want the bad step at environment.yml line 9", err)
	}
}

func TestAlignSteps(t *testing.T) {
	dt, ok := alignSteps("FROM b", []string{"RUN a", "RUN x && \\\n  y", "RUN z"}, []int{3, 5, 7})
	if !ok || string(dt) != "FROM b\n\nRUN a\n\nRUN x && \\\n  y\nRUN z\n" {
		t.Errorf("aligned %q, %v", dt, ok)
	}
	if _, ok := alignSteps("FROM b", []string{"RUN x && \\\n  y", "RUN z"}, []int{3, 4}); ok {
		t.Error("overlapping steps aligned")
	}
	if _, ok := alignSteps("FROM b", []string{"RUN a"}, []int{1}); ok {
		t.Error("a step on the FROM line aligned")
	}
}

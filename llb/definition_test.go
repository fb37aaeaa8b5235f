package llb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"

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
	env, err := FromDefinition(def, nil)
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
	res, err := Build(context.Background(), env, opts)
	if err != nil {
		t.Fatal(err)
	}
	def2, err := res.State.Marshal(context.Background(), llb.Platform(amd64), llb.LocalUniqueID("golden"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := render(def2)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.MarshalIndent(res.Image, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, filepath.Join("testdata", "azureml-docker-context.golden"), fmt.Sprintf("=== LLB\n%s=== image config\n%s\n", text, cfg))
}

// The real Azure ML example's conda file has a pip: part, which the build
// cannot make yet: refused at its line, not dropped.
func TestFromDefinitionRefusesRealPip(t *testing.T) {
	def := realFile(t, "azureml-examples/docker-image-plus-conda.yml")
	_, err := FromDefinition(def, nil)
	var list spec.ErrorList
	if !errors.As(err, &list) || !strings.Contains(err.Error(), "pydata.yml:") || !strings.Contains(err.Error(), "pip packages") {
		t.Fatalf("error %v, want the pip part refused at its position in pydata.yml", err)
	}
}

func TestFromDefinitionMinimalExample(t *testing.T) {
	def, err := spec.Load(filepath.Join("..", "examples", "minimal", "environment.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromDefinition(def, nil); err == nil || !strings.Contains(err.Error(), "no locked packages") {
		t.Errorf("error %v, want conda dependencies without packages refused", err)
	}
	env, err := FromDefinition(def, testRecipes(t, "python-3.99.99-0.conda"))
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
	env, err := FromDefinition(def, nil)
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

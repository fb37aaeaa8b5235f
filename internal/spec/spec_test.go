package spec

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func real(parts ...string) string {
	return filepath.Join(append([]string{"testdata", "real"}, parts...)...)
}

// Real files from public repositories are accepted and read faithfully.
func TestRealFiles(t *testing.T) {
	t.Run("azureml v2 image + conda file", func(t *testing.T) {
		def := mustLoad(t, real("azureml-examples", "docker-image-plus-conda.yml"))
		want := &Definition{
			Name:        "docker-image-plus-conda-example",
			Description: "Environment created from a Docker image plus Conda environment.",
		}
		checkMeta(t, def, want, FormatAzureMLv2)
		if def.Base.Image != "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest" {
			t.Errorf("image %q", def.Base.Image)
		}
		c := def.Conda
		if c == nil || c.File != "conda-yamls/pydata.yml" || c.Name != "pydata-example" {
			t.Fatalf("conda %+v", c)
		}
		if got := c.ChannelNames(); !reflect.DeepEqual(got, []string{"conda-forge"}) {
			t.Errorf("channels %v", got)
		}
		if got := Specs(c.Dependencies); !reflect.DeepEqual(got, []string{"python=3.8", "pip"}) {
			t.Errorf("dependencies %v", got)
		}
		if len(c.Pip) != 17 || c.Pip[0].Spec != "numpy==1.21.2" || c.Pip[16].Spec != "papermill==2.3.3" {
			t.Errorf("pip %v", Specs(c.Pip))
		}
		if p := c.Pip[0].Pos; p.Line != 8 || p.Col != 7 || !strings.HasSuffix(p.File, "conda-yamls/pydata.yml") {
			t.Errorf("pip[0] position %v", p)
		}
		if !reflect.DeepEqual(def.Source.Files, []string{"conda-yamls/pydata.yml"}) {
			t.Errorf("source files %v", def.Source.Files)
		}
	})
	t.Run("azureml v2 build context", func(t *testing.T) {
		def := mustLoad(t, real("azureml-examples", "docker-context.yml"))
		checkMeta(t, def, &Definition{Name: "docker-context-example"}, FormatAzureMLv2)
		b := def.Base
		if b.Context != "docker-contexts/python-and-pip" || b.DockerfilePath != "docker-contexts/python-and-pip/Dockerfile" {
			t.Errorf("base %+v", b)
		}
		if !strings.Contains(b.Dockerfile, "FROM python:3.8") {
			t.Errorf("dockerfile %q", b.Dockerfile)
		}
		// The Dockerfile COPYs requirements.txt from the context.
		if len(b.ContextFiles) != 1 || b.ContextFiles[0].Path != "requirements.txt" || !strings.HasPrefix(b.ContextFiles[0].Digest, "sha256:") {
			t.Errorf("context files %+v", b.ContextFiles)
		}
	})
	t.Run("azureml v2 image only", func(t *testing.T) {
		def := mustLoad(t, real("azureml-examples", "docker-image.yml"))
		checkMeta(t, def, &Definition{Name: "docker-image-example", Version: "1", Description: "Environment created from a Docker image."}, FormatAzureMLv2)
		if def.Base.Image != "pytorch/pytorch:latest" || def.Conda != nil {
			t.Errorf("base %q conda %v", def.Base.Image, def.Conda)
		}
	})
	t.Run("azureml v1 saved directory", func(t *testing.T) {
		def := mustLoad(t, real("glioma-v1"))
		checkMeta(t, def, &Definition{Name: "xpovinec-env"}, FormatAzureMLv1)
		if def.Base.Image != "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:20220208.v1" {
			t.Errorf("image %q", def.Base.Image)
		}
		if len(def.Env) != 1 || def.Env[0].Name != "EXAMPLE_ENV_VAR" || def.Env[0].Value != "EXAMPLE_VALUE" {
			t.Errorf("env %+v", def.Env)
		}
		if !reflect.DeepEqual(def.Platforms, []string{"linux/amd64"}) {
			t.Errorf("platforms %v", def.Platforms)
		}
		if def.Python.UserManaged || def.Python.Interpreter != "python" || def.Spark != nil {
			t.Errorf("python %+v spark %+v", def.Python, def.Spark)
		}
		c := def.Conda
		if c == nil || c.File != v1CondaName {
			t.Fatalf("conda %+v", c)
		}
		if got := Specs(c.Dependencies); !reflect.DeepEqual(got, []string{"python=3.8", "pip=20.2.4"}) {
			t.Errorf("dependencies %v", got)
		}
		if got := c.ChannelNames(); !reflect.DeepEqual(got, []string{"anaconda", "conda-forge"}) {
			t.Errorf("channels %v", got)
		}
		if len(c.Pip) != 10 {
			t.Errorf("pip %v", Specs(c.Pip))
		}
	})
	t.Run("azureml v1 json alone", func(t *testing.T) {
		def := mustLoad(t, real("glioma-v1", "azureml_environment.json"))
		if def.Source.Format != FormatAzureMLv1 || def.Conda == nil {
			t.Errorf("format %s conda %v", def.Source.Format, def.Conda)
		}
	})
	t.Run("conda with channel::package and pip options", func(t *testing.T) {
		// The file pins two pip packages with conda's "=", which pip and
		// the lock refuse: validate names both lines.
		p := real("matsciml", "conda.yml")
		_, err := Load(p)
		for _, want := range []string{
			p + `:20:7: pip requirement "intel-extension-for-pytorch=2.0.120": invalid specifier "=2.0.120"`,
			p + `:21:7: pip requirement "pytorch=2.0.1": invalid specifier "=2.0.1"`,
			`"=" is conda's operator, pip's is "=="`,
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s): %v, want %q", p, err, want)
			}
		}
		data, _ := os.ReadFile(p)
		fixed := strings.NewReplacer("pytorch=2", "pytorch==2").Replace(string(data))
		def, err := Parse("conda.yml", []byte(fixed), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkMeta(t, def, &Definition{}, FormatConda)
		c := def.Conda
		if got := c.ChannelNames(); !reflect.DeepEqual(got, []string{"defaults", "intel", "dglteam", "conda-forge"}) {
			t.Errorf("channels %v", got)
		}
		if c.Dependencies[5].Spec != "dglteam::dgl=2.0.0" {
			t.Errorf("dependency 5: %q", c.Dependencies[5].Spec)
		}
		if c.Pip[0].Spec != "--extra-index-url https://pytorch-extension.intel.com/release-whl-aitools/" {
			t.Errorf("pip option %q", c.Pip[0].Spec)
		}
		if def.Base.Image != "" {
			t.Errorf("a conda file names no base, got %q", def.Base.Image)
		}
	})
	t.Run("conda with nodefaults and pytorch::pytorch", func(t *testing.T) {
		def := mustLoad(t, real("cresset", "simple-environment.yaml"))
		c := def.Conda
		if got := c.ChannelNames(); !reflect.DeepEqual(got, []string{"nodefaults", "conda-forge", "nvidia"}) {
			t.Errorf("channels %v", got)
		}
		if c.Name != "base" || len(c.Dependencies) != 10 || c.Dependencies[1].Spec != "pytorch::pytorch" || c.Dependencies[8].Spec != "tmux==3.2a" {
			t.Errorf("conda %+v", Specs(c.Dependencies))
		}
	})
	t.Run("conda with ranges, channel::package, URL and remote -r", func(t *testing.T) {
		def := mustLoad(t, real("automl", "automl_env_linux.yml"))
		c := def.Conda
		if c.Dependencies[3].Spec != "numpy>=1.21.6,<=1.22.3" || c.Dependencies[11].Spec != "pytorch::pytorch=1.11.0" {
			t.Errorf("dependencies %v", Specs(c.Dependencies))
		}
		last := c.Pip[len(c.Pip)-1].Spec
		if len(c.Pip) != 7 || !strings.HasPrefix(last, "-r https://") {
			t.Errorf("pip %v", Specs(c.Pip))
		}
	})
	t.Run("conda, keys in another order", func(t *testing.T) {
		def := mustLoad(t, real("mnist", "conda.yml"))
		if def.Conda.Name != "pytorch-1.9-mlflow" || len(def.Conda.Dependencies) != 4 || len(def.Conda.Pip) != 3 {
			t.Errorf("conda %+v", def.Conda)
		}
	})
	t.Run("requirements.txt", func(t *testing.T) {
		def := mustLoad(t, real("azureml-examples", "docker-contexts", "python-and-pip", "requirements.txt"))
		checkMeta(t, def, &Definition{}, FormatRequirements)
		c := def.Conda
		if len(c.Pip) != 17 || c.Pip[0].Spec != "numpy==1.21.2" || c.Pip[0].Pos.Line != 2 {
			t.Errorf("pip %+v", c.Pip)
		}
		if got := Specs(c.Dependencies); !reflect.DeepEqual(got, []string{"python=" + RequirementsPython, "pip"}) {
			t.Errorf("dependencies %v", got)
		}
	})
}

// A real file envkit cannot build is rejected with the position of the
// offending line.
func TestRealFileRejected(t *testing.T) {
	_, err := Load(real("nam", "environment_gpu.yml"))
	want := real("nam", "environment_gpu.yml") + `:39:9: pip requirement "-e .": editable installs need the source tree, which an image does not keep: build a wheel of it (pip wheel --no-deps -w wheels SOURCE) and name the wheel file (./wheels/NAME-VERSION-TAG.whl)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func mustLoad(t *testing.T, p string) *Definition {
	t.Helper()
	def, err := Load(p)
	if err != nil {
		t.Fatalf("Load(%s): %v", p, err)
	}
	return def
}

func checkMeta(t *testing.T, got, want *Definition, format Format) {
	t.Helper()
	if got.Name != want.Name || got.Version != want.Version || got.Description != want.Description {
		t.Errorf("metadata %q %q %q, want %q %q %q", got.Name, got.Version, got.Description, want.Name, want.Version, want.Description)
	}
	if got.Source.Format != format {
		t.Errorf("format %s, want %s", got.Source.Format, format)
	}
}

// Bad input gives FILE:LINE:COL errors, all of them, and no definition.
func TestErrors(t *testing.T) {
	files := fstest.MapFS{
		"conda.yml":      {Data: []byte("channels: [conda-forge]\ndependencies: [numpy]\n")},
		"sub/Dockerfile": {Data: []byte("FROM debian\n")},
		"prefixed.yml":   {Data: []byte("dependencies: [numpy]\nprefix: /opt/a\n")},
		"empty/README":   {Data: []byte("no Dockerfile here\n")},
	}
	cases := []struct {
		name, text string
		want       []string
	}{
		{"unknown key", "name: x\nbase:\n  imgae: debian:12\n", []string{`env.yml:3:3: base: unknown key "imgae"; did you mean "image"?`}},
		{"unknown top key", "nmae: x\nbase: {image: debian}\n", []string{`env.yml:1:1: definition: unknown key "nmae"; did you mean "name"?`}},
		{"key of another format", "base: {image: debian}\nconda_file: c.yml\n", []string{`env.yml:2:1: definition: unknown key "conda_file"; envkit YAML writes conda.file (conda_file is Azure ML v2)`}},
		{"wrong type", "base: {image: debian}\nsteps: RUN true\n", []string{`env.yml:2:8: steps must be a list, got a string`}},
		{"wrong bool", "base: {image: debian}\npython: {user_managed: yes please}\n", []string{`env.yml:2:24: python.user_managed must be true or false, got a string`}},
		{"image and build", "image: debian:12\nbuild: {path: sub}\n", []string{`env.yml:2:1: image and build are mutually exclusive`}},
		{"image and dockerfile", "base:\n  image: debian:12\n  dockerfile: sub/Dockerfile\n", []string{`env.yml:3:3: base.image and base.dockerfile are mutually exclusive`}},
		{"empty dependency", "base: {image: debian}\nconda:\n  dependencies:\n    - numpy\n    - ''\n", []string{`env.yml:5:7: empty conda dependency`}},
		{"duplicate dependency", "base: {image: debian}\nconda:\n  dependencies:\n    - numpy >=1.21\n    - numpy>=1.21\n", []string{`env.yml:5:7: duplicate conda dependency "numpy>=1.21" (also at env.yml:4:7)`}},
		{"malformed spec", "base: {image: debian}\nconda:\n  dependencies: [\"numpy>=\", \"=python\"]\n", []string{
			`env.yml:3:18: conda dependency "numpy>=": operator ">=" without a version`,
			`env.yml:3:29: conda dependency "=python": no package name found in "=python"`}},
		{"template pin", "channels: [conda-forge]\ndependencies:\n  - python=3.10\n  - pip:\n    - numpy\n    - azureml-core=={{latest-pypi-version}}\n", []string{
			`env.yml:6:7: pip requirement "azureml-core=={{latest-pypi-version}}": invalid specifier "=={{latest-pypi-version}}": invalid PEP 440 version "{{latest-pypi-version}}"`}},
		{"pip operator without a version", "base: {image: debian}\npip: [\"numpy>=1,\", \"x[a\", \"==1\"]\n", []string{
			`env.yml:2:7: pip requirement "numpy>=1,"`, `env.yml:2:20: pip requirement "x[a": missing ] after the extras`, `env.yml:2:27: pip requirement "==1": expected a project name`}},
		{"mlflow key in a conda file", "channels: [conda-forge]\ndependencies: [python=3.12]\nbuild_dependencies: [pip]\n", []string{
			`env.yml:3:1: conda environment: unknown key "build_dependencies"; build_dependencies belongs to MLflow's python_env.yaml`}},
		{"no did-you-mean to a key already there", "channels: [conda-forge]\ndependencies: [python=3.12]\ndependencie: [numpy]\n", []string{
			`env.yml:3:1: conda environment: unknown key "dependencie" (allowed: channels, dependencies, name, prefix, variables)`}},
		{"mlflow unknown key", "python: 3.10.12\nbuild_dependencies: [pip]\ndependencies: [numpy]\nbuild_dependency: [wheel]\n", []string{
			`env.yml:4:1: python_env: unknown key "build_dependency" (allowed: build_dependencies, dependencies, python)`}},
		{"mlflow -r file missing", "python: 3.10.12\ndependencies: [-r requirements.txt]\n", []string{
			`env.yml:2:16: -r: cannot read "requirements.txt": file does not exist`}},
		{"mlflow bad python", "python: '>=3.10 <'\ndependencies: [numpy]\n", []string{`env.yml:1:9: conda dependency "python=>=3.10 <"`}},
		{"missing build.path", "build: {path: nope}\n", []string{`env.yml:1:15: build.path: directory "nope" does not exist`}},
		{"build.path a file", "build: {path: conda.yml}\n", []string{`env.yml:1:15: build.path: "conda.yml" is a file`}},
		{"no Dockerfile in build.path", "build: {path: empty}\n", []string{`env.yml:1:15: build.path: no Dockerfile in "empty"`}},
		{"missing build.dockerfile_path", "build: {path: sub, dockerfile_path: Nope}\n", []string{`env.yml:1:37: build.dockerfile_path: cannot read "sub/Nope"`}},
		{"missing base.context", "base: {image: debian, context: nope}\nsteps: [COPY x /x]\n", []string{`env.yml:1:32: base.context: directory "nope" does not exist`}},
		{"path escapes", "image: debian\nconda_file: ../conda.yml\n", []string{`env.yml:2:13: conda_file: path "../conda.yml" escapes the context directory`}},
		{"absolute path", "base: {dockerfile: /etc/Dockerfile}\n", []string{`env.yml:1:20: base.dockerfile: absolute path "/etc/Dockerfile"`}},
		{"missing file", "image: debian\nconda_file: nope.yml\n", []string{`env.yml:2:13: conda_file: cannot read "nope.yml": file does not exist`}},
		{"conda with user-managed", "base: {image: debian}\npython: {user_managed: true}\nconda: {file: conda.yml}\n", []string{`conda.yml:1:1: a conda environment cannot be combined with python.user_managed: true`}},
		{"yaml syntax", "base:\n  image: [debian\n", []string{`env.yml:1:1: did not find expected ',' or ']'`}},
		{"tab indent", "name: x\nchannels:\n\t- a\n", []string{`env.yml:3:1: found character that cannot start any token (YAML cannot be indented with tabs)`}},
		{"conda_file with build", "build: {path: sub}\nconda_file: conda.yml\n", []string{`env.yml:2:1: conda_file needs image`}},
		{"step FROM", "base: {image: debian}\nsteps: [FROM ubuntu]\n", []string{`env.yml:2:9: a step cannot be FROM`}},
		{"spark coordinate outside the layout", "base: {image: debian}\nspark:\n  packages:\n    - {group: org.x, artifact: ../../etc, version: \"1.0\"}\n", []string{`env.yml:4:32: spark.packages.artifact "../../etc": want letters, digits and ._-+ (not starting with . - or +)`}},
		{"bad image", "base: {image: \"Debian:12\"}\n", []string{`env.yml:1:15: base image "Debian:12"`}},
		{"duplicate key", "base: {image: debian}\nenv: {A: 1, A: 2}\n", []string{`env.yml:2:13: env: duplicate key "A"`}},
		{"bad env name", "base: {image: debian}\nenv: {\"A B\": 1}\n", []string{`env.yml:2:7: environment variable name "A B"`}},
		{"not a mapping", "- numpy\n", []string{`env.yml:1:1: not an environment definition`}},
		{"two documents", "name: a\n---\nname: b\n", []string{`env.yml:2:1: a definition is a single YAML document`}},
		{"relative prefix", "base: {image: debian}\nprefix: opt/env\n", []string{`env.yml: prefix "opt/env" must be an absolute path`}},
		{"copy missing", "base: {image: debian}\nsteps: [\"COPY missing.txt /x\"]\n", []string{`env.yml:2:9: COPY source "missing.txt": no such file in the build context`}},
		{"v1 credentials", `{"docker": {"baseImage": "x/y:1", "baseImageRegistry": {"address": "r.io", "username": "u", "password": "p"}}}`,
			[]string{`env.yml:1:88: docker.baseImageRegistry.username: credentials`, `env.yml:1:105: docker.baseImageRegistry.password: credentials`}},
		{"two prefixes", "prefix: /opt/b\nbase: {image: debian}\nconda: {file: prefixed.yml}\n", []string{`env.yml:1:9: prefix "/opt/b" differs from the conda file's prefix "/opt/a"`}},
		{"conda unknown key", "name: x\nchannels: [a]\ndependencies: [b]\nchannel_priority: strict\n", []string{`env.yml:4:1: conda environment: unknown key "channel_priority"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			def, err := Parse("env.yml", []byte(tc.text), files)
			if def != nil || err == nil {
				t.Fatalf("accepted:\n%s", tc.text)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			if len(list) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(list[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, list[i], w)
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	cases := map[string]Format{
		"# syntax=envkit\nname: x\nbase: {image: debian}\n": FormatNative,
		"name: x\n":                   FormatNative,
		"$schema: x\nimage: debian\n": FormatAzureMLv2,
		"name: x\nchannels: [a]\ndependencies: [python]\n":                    FormatConda,
		`{"python": {"userManagedDependencies": true}}`:                       FormatAzureMLv1,
		`{"name": "x", "environmentVariables": {}, "docker": {}}`:             FormatAzureMLv1,
		"python: 3.10.12\nbuild_dependencies: [pip]\ndependencies: [numpy]\n": FormatMLflow,
		"python: '3.11'\ndependencies: [numpy]\n":                             FormatMLflow,
		"build_dependencies: [pip]\ndependencies: [numpy]\n":                  FormatMLflow,
	}
	for text, want := range cases {
		def, err := Parse("f.yml", []byte(text), nil)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if def.Source.Format != want {
			t.Errorf("%q: format %s, want %s", text, def.Source.Format, want)
		}
	}
}

// read → write → read gives the same definition, for every real file and
// every target format that can hold it.
func TestRoundTrip(t *testing.T) {
	paths := []string{
		real("azureml-examples", "docker-image-plus-conda.yml"),
		real("azureml-examples", "docker-context.yml"),
		real("azureml-examples", "docker-image.yml"),
		real("glioma-v1"),
		real("mnist", "conda.yml"),
		real("cresset", "simple-environment.yaml"),
		real("automl", "automl_env_linux.yml"),
		real("mlflow-sklearn", "python_env.yaml"),
		real("mlflow-langchain", "python_env.yaml"),
		filepath.Join("testdata", "full.yml"),
	}
	for _, p := range paths {
		def := mustLoad(t, p)
		dir := p
		if filepath.Ext(p) != "" {
			dir = filepath.Dir(p)
		}
		for _, to := range []Format{FormatNative, FormatAzureMLv2, FormatConda} {
			def := def
			if to == FormatAzureMLv2 {
				// Azure ML needs an image under a conda environment: the
				// CLI gives the one the hash uses (buildplan.WithBase).
				withBase := *def
				withBase.SetDefaultBase(DefaultBaseImage)
				def = &withBase
			}
			out, dropped, err := Write(def, to, false)
			if err != nil {
				if len(dropped) == 0 {
					t.Errorf("%s → %s: %v", p, to, err)
				}
				continue
			}
			back, err := Parse("out.yml", out, os.DirFS(dir))
			if err != nil {
				t.Errorf("%s → %s → read: %v\n%s", p, to, err, out)
				continue
			}
			if a, b := comparable(t, def), comparable(t, back); a != b {
				t.Errorf("%s → %s changed the definition:\n%s\n%s\n%s", p, to, out, a, b)
			}
		}
	}
}

// comparable renders a definition without positions, source and shown
// paths, the parts a conversion legitimately changes.
func comparable(t *testing.T, def *Definition) string {
	t.Helper()
	b, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "Pos")
			delete(x, "Source")
			delete(x, "DockerfileFile")
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	out, _ := json.Marshal(strip(v))
	return string(out)
}

// Azure ML v1: absent keys are unset, side files replace the JSON's conda
// and Dockerfile, user-managed python drops the conda part.
func TestAzureV1Semantics(t *testing.T) {
	fsys := fstest.MapFS{
		"saved/azureml_environment.json": {Data: []byte(`{"name": "e", "python": {"userManagedDependencies": false, "condaDependencies": {"dependencies": ["python=3.9"]}}, "docker": {"baseImage": "x/y:1", "baseImageRegistry": {"address": "myacr.azurecr.io"}}}`)},
		"saved/conda_dependencies.yml":   {Data: []byte("channels: [conda-forge]\ndependencies: [python=3.11]\n")},
		"saved/BaseDockerfile":           {Data: []byte("FROM debian:12\nRUN true\n")},
		"bare/azureml_environment.json":  {Data: []byte(`{"name": "bare"}`)},
		"um/azureml_environment.json":    {Data: []byte(`{"python": {"userManagedDependencies": true, "interpreterPath": "/usr/bin/python3", "condaDependencies": {"dependencies": ["python=3.9"]}}, "docker": {"baseImage": "myacr.azurecr.io/x/y:1", "baseImageRegistry": {"address": "myacr.azurecr.io"}}}`)},
	}
	if _, err := Parse("saved/azureml_environment.json", nil, fsys); err == nil {
		t.Fatal("empty data accepted")
	}
	data, _ := fs.ReadFile(fsys, "saved/azureml_environment.json")
	def, err := Parse("saved/azureml_environment.json", data, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if def.Base.Image != "" || def.Base.DockerfilePath != "BaseDockerfile" || !strings.HasPrefix(def.Base.Dockerfile, "FROM debian:12") {
		t.Errorf("BaseDockerfile should replace the base image: %+v", def.Base)
	}
	if got := Specs(def.Conda.Dependencies); !reflect.DeepEqual(got, []string{"python=3.11"}) || def.Conda.File != "conda_dependencies.yml" {
		t.Errorf("conda_dependencies.yml should replace condaDependencies: %v", got)
	}
	data, _ = fs.ReadFile(fsys, "bare/azureml_environment.json")
	if def, err = Parse("bare/azureml_environment.json", data, fsys); err != nil {
		t.Fatal(err)
	}
	if def.Base.Image != "" || def.Conda != nil || def.Python.Interpreter != "" || def.Env != nil {
		t.Errorf("absent keys must stay unset, got %+v", def)
	}
	data, _ = fs.ReadFile(fsys, "um/azureml_environment.json")
	if def, err = Parse("um/azureml_environment.json", data, fsys); err != nil {
		t.Fatal(err)
	}
	if !def.Python.UserManaged || def.Python.Interpreter != "/usr/bin/python3" || def.Conda != nil {
		t.Errorf("user-managed: python %+v conda %v", def.Python, def.Conda)
	}
	if def.Base.Image != "myacr.azurecr.io/x/y:1" {
		t.Errorf("registry address prefixed twice: %q", def.Base.Image)
	}
}

// The pip lines validate accepts are the ones the lock reads: option
// lines as before, bare URLs, and PEP 508 requirements with --hash.
func TestCheckPipRequirement(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, ok := range []string{
		"numpy", "NumPy >= 1.21", "requests[socks]>=2.8.1,==2.8.*", `pywin32>=1.0; sys_platform == "win32"`,
		"torch==2.0.1+cu118", "pkg @ https://example.com/p-1.0-py3-none-any.whl", "numpy==1.26.4 --hash=sha256:" + hex,
		"https://aka.ms/automl-resources/packages/en_core_web_sm-2.1.0.tar.gz", "git+https://github.com/org/repo@v1",
		"--index-url https://pypi.org/simple", "-i https://x/simple", "--extra-index-url=https://x/simple",
		"--find-links ./wheels", "-f https://x/links", "--pre", "--no-index", "--trusted-host x",
		"-r https://example.com/requirements.txt", "-r https://x/req.txt [--no-deps]",
	} {
		if err := CheckPipRequirement(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"azureml-core=={{latest-pypi-version}}":  `invalid PEP 440 version "{{latest-pypi-version}}"`,
		"pytorch=2.0.1":                          `pip's is "=="`,
		"x[gpu]=1":                               `pip's is "=="`,
		"numpy==1 --hash=md5:00":                 `--hash "md5:00": want sha256`,
		"-e .":                                   "editable installs",
		"-c":                                     "-c needs a file: -c FILE",
		"x @ ./wheels/x-1.0-py3-none-any.whl":    "a direct reference needs a URL; a wheel file beside the definition is written as its path alone",
		"x @ file:wheels/x-1.0-py3-none-any.whl": "a direct reference needs a URL",
		"--requirement":                          "--requirement needs a file",
		"-c https://x/constraints.txt":           "a remote constraints file is not locked",
		"--upgrade-nope":                         "unsupported pip option --upgrade-nope",
		"./wheels/x.whl":                         "expected a project name",
		"numpy>=":                                "no version after >=",
		"numpy; python_version <":                "",
	} {
		err := CheckPipRequirement(bad)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
}

// A real MLflow model folder (mlflow/mlflow's test model): python_env.yaml
// is read as python from conda-forge at its version, then the
// build_dependencies and the -r requirements.txt beside it as pip lines,
// each at its own FILE:LINE:COL.
func TestMLflow(t *testing.T) {
	p := real("mlflow-sklearn", "python_env.yaml")
	def := mustLoad(t, p)
	checkMeta(t, def, &Definition{}, FormatMLflow)
	c := def.Conda
	if got := Specs(c.Dependencies); !reflect.DeepEqual(got, []string{"python=3.8.12"}) || c.Dependencies[0].Pos.String() != p+":1:9" {
		t.Errorf("conda dependencies %v at %s", got, c.Dependencies[0].Pos)
	}
	if got := c.ChannelNames(); !reflect.DeepEqual(got, []string{RequirementsChannel}) {
		t.Errorf("channels %v", got)
	}
	want := []string{"pip==22.2.2", "setuptools==58.0.4", "wheel==0.37.1", "mlflow", "cloudpickle==1.6.0", "psutil==5.9.0", "scikit-learn==1.1.2", "typing-extensions==4.1.1"}
	if got := Specs(c.Pip); !reflect.DeepEqual(got, want) {
		t.Errorf("pip lines %v, want %v", got, want)
	}
	if got, want := c.Pip[4].Pos.String(), real("mlflow-sklearn", "requirements.txt")+":2:1"; got != want {
		t.Errorf("cloudpickle at %s, want %s", got, want)
	}
	if !reflect.DeepEqual(def.Source.Files, []string{"requirements.txt"}) {
		t.Errorf("source files %v", def.Source.Files)
	}
	// Without python: RequirementsPython, as for a requirements.txt.
	def, err := Parse("python_env.yaml", []byte("build_dependencies: [pip]\ndependencies: [numpy==2.0]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := Specs(def.Conda.Dependencies); !reflect.DeepEqual(got, []string{"python=" + RequirementsPython}) {
		t.Errorf("no python: %v", got)
	}
}

// A directory is a saved Azure ML v1 environment or an MLflow model
// folder; a forced format reads only its own file.
func TestLoadDirectory(t *testing.T) {
	if def := mustLoad(t, real("mlflow-sklearn")); def.Source.Format != FormatMLflow || def.Source.Path != real("mlflow-sklearn", MLflowFile) {
		t.Errorf("MLflow folder read as %s from %s", def.Source.Format, def.Source.Path)
	}
	if def := mustLoad(t, real("glioma-v1")); def.Source.Format != FormatAzureMLv1 {
		t.Errorf("v1 directory read as %s", def.Source.Format)
	}
	for _, c := range []struct {
		dir    string
		format Format
		want   string
	}{
		{real("glioma-v1"), FormatMLflow, "holds no python_env.yaml: an MLflow model folder has it"},
		{real("mlflow-sklearn"), FormatAzureMLv1, "holds no azureml_environment.json"},
		{real("mnist"), "", "a directory must be a saved Azure ML environment (holding azureml_environment.json) or an MLflow model folder (holding python_env.yaml)"},
		{real("mnist"), FormatRequirements, "is a directory: give the requirements file"},
	} {
		if _, err := LoadAs(c.dir, c.format); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadAs(%s, %q): %v, want %q", c.dir, c.format, err, c.want)
		}
	}
}

package spec

import (
	"testing"
	"testing/fstest"
)

// Problems found by reading public environment files as a new user would,
// each tested with the file's own lines (attributed at each case); every
// one is reported at its line with how to fix it.
func TestRealWorldMistakes(t *testing.T) {
	for _, c := range []struct {
		name  string
		def   string
		files fstest.MapFS
		want  []string
	}{
		// Azure/azureml-assets : assets/training/general/environments/
		// sklearn-1.5/context/Dockerfile @ 4b41f8cc, line 1: azureml-assets
		// fills {{latest-image-tag}} in at release, and BuildKit refuses
		// the reference as written (validate called it valid).
		{"FROM with a template placeholder", "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n" +
			"build:\n  path: context\n  dockerfile_path: Dockerfile\nos_type: linux\n",
			fstest.MapFS{"context/Dockerfile": {Data: []byte("FROM mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:{{latest-image-tag}}\n\nWORKDIR /\n")}},
			[]string{`context/Dockerfile:1:1: FROM image "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:{{latest-image-tag}}": invalid reference format; {{…}} is a template placeholder, filled in by the tool that releases the file: write the value itself`}},
		// The same environment's spec.yaml @ 4b41f8cc, lines 9-11: the
		// build context is a placeholder too.
		{"build.path a template placeholder", "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n" +
			"build:\n  path: \"{{image.context.path}}\"\n  dockerfile_path: \"{{image.dockerfile.path}}\"\n",
			fstest.MapFS{},
			[]string{`env.yml:3:9: build.path: directory "{{image.context.path}}" does not exist (paths are relative to the definition's directory); {{…}} is a template placeholder, filled in by the tool that releases the file: write the value itself`}},
		// Azure/azureml-examples : sdk/python/endpoints/online/
		// deploy-with-packages/custom-model/environment/
		// sklearn-regression-env.yml @ 085cd6ea names conda.yaml; the file
		// beside it is conda.yml.
		{"conda.yaml for conda.yml", "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n" +
			"name: sklearn-regression-env\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\nconda_file: conda.yaml\n",
			fstest.MapFS{"conda.yml": {Data: []byte("name: model-env\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.9\n")}},
			[]string{`env.yml:4:13: conda_file: cannot read "conda.yaml": file does not exist; did you mean "conda.yml"?`}},
		// Azure/azureml-examples : sdk/python/foundation-models/system/
		// import/requirements.txt @ 085cd6ea, lines 1-2: a Python list
		// pasted into a requirements file.
		{"a Python list as requirements", "", fstest.MapFS{"requirements.txt": {Data: []byte("'jsonpickle',\n'mlflow==2.3.1',\n")}},
			[]string{
				`requirements.txt:1:1: pip requirement "'jsonpickle',": expected a project name; a requirement is written without quotes or commas: jsonpickle`,
				`requirements.txt:2:1: pip requirement "'mlflow==2.3.1',": expected a project name; a requirement is written without quotes or commas: mlflow==2.3.1`,
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name, data := "env.yml", []byte(c.def)
			if c.def == "" {
				name, data = "requirements.txt", c.files["requirements.txt"].Data
			}
			list := parseErrors(t, name, data, c.files, len(c.want))
			for i, w := range c.want {
				if list[i].Error() != w {
					t.Errorf("error %d:\n got %s\nwant %s", i, list[i], w)
				}
			}
		})
	}
}

// A base Dockerfile's FROM images are checked as BuildKit pulls them,
// except a build argument (set at build time) and an earlier stage (names
// are case-insensitive to BuildKit, references are not).
func TestDockerfileFrom(t *testing.T) {
	files := fstest.MapFS{"Dockerfile": {Data: []byte("ARG BASE=debian:12\nFROM $BASE AS Build\nFROM build\nFROM Debian:12\nFROM --platform=$BUILDPLATFORM busybox AS tools\n")}}
	_, err := Parse("env.yml", []byte("base:\n  dockerfile: Dockerfile\n"), files)
	if err == nil || err.Error() != `Dockerfile:4:1: FROM image "Debian:12": invalid reference format: repository name (library/Debian) must be lowercase` {
		t.Errorf("error %v", err)
	}
}

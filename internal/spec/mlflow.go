package spec

import (
	"go.yaml.in/yaml/v3"
)

// MLflowFile is the name MLflow gives a model's virtualenv environment
// (beside MLmodel, conda.yaml and requirements.txt).
const MLflowFile = "python_env.yaml"

// Keys of MLflow's python_env.yaml (mlflow.utils.environment._PythonEnv).
var mlflowFileKeys = []string{"python", "build_dependencies", "dependencies"}

// mlflowKeys explains MLflow keys found in a file read as a conda
// environment, instead of a did-you-mean towards a conda key.
var mlflowKeys = map[string]string{
	"build_dependencies": "build_dependencies belongs to MLflow's python_env.yaml, which also has python: (its version) and dependencies: (pip lines); a conda file lists pip packages under dependencies: - pip:",
}

// readMLflow reads an MLflow python_env.yaml as a conda environment
// holding python at the file's version and, as its pip part, the
// build_dependencies then the dependencies (-r files read beside the
// file): what MLflow installs into the model's virtualenv, in that order.
// Like a requirements.txt, it takes python from RequirementsChannel, at
// RequirementsPython when the file names no version.
func (r *reader) readMLflow(d *doc, def *Definition, root *yaml.Node) {
	fields, ok := d.mapping(root, "python_env", mlflowFileKeys)
	if !ok {
		return
	}
	python := Requirement{Spec: "python=" + RequirementsPython, Pos: d.pos(root)}
	var build, deps []Requirement
	for _, f := range fields {
		switch f.key {
		case "python":
			if v, ok := d.str(f.v, "python"); ok && v != "" {
				python = Requirement{Spec: "python=" + v, Pos: d.pos(f.v)}
			}
		case "build_dependencies":
			build = r.expandPip(d, d.reqList(f.v, "build_dependencies"))
		case "dependencies":
			deps = r.expandPip(d, d.reqList(f.v, "dependencies"))
		}
	}
	def.Conda = &CondaEnv{
		Channels:     []Channel{{Name: RequirementsChannel}},
		Dependencies: []Requirement{python},
		Pip:          append(build, deps...),
		Pos:          d.pos(root),
	}
}

package llb

import (
	"fmt"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/spec"
)

// FromDefinition takes from a definition what reaches the image, with the
// locked packages of one platform. Parts the build cannot make yet (pip,
// Spark) are an error at their position, never silently left out.
func FromDefinition(def *spec.Definition, packages []*repodata.Record) (Environment, error) {
	if err := Supported(def); err != nil {
		return Environment{}, err
	}
	env := Environment{
		BaseImage: def.Base.Image,
		Prefix:    def.EffectivePrefix(),
	}
	if def.Base.Dockerfile != "" {
		env.BaseImage = ""
		env.BaseDockerfile = []byte(def.Base.Dockerfile)
		env.BaseDockerfileName = def.Base.DockerfilePath
		if env.BaseDockerfileName == "" {
			env.BaseDockerfileName = def.Base.Pos.String()
		}
	}
	env.Name = def.Source.Path
	for _, s := range def.Steps {
		env.Steps = append(env.Steps, s.Instruction)
		if s.Pos.File == def.Source.Path {
			env.StepLines = append(env.StepLines, s.Pos.Line)
		}
	}
	// conda's variables are set on activation; the image has no activation,
	// so they become image variables, and the definition's own win.
	if def.Conda != nil && !def.Python.UserManaged {
		for _, v := range def.Conda.Variables {
			env.Env = append(env.Env, EnvVar{v.Name, v.Value})
		}
	}
	for _, v := range def.Env {
		env.Env = append(env.Env, EnvVar{v.Name, v.Value})
	}
	if needsConda(def) {
		if len(packages) == 0 {
			return Environment{}, fmt.Errorf("%s: the conda environment has dependencies but no locked packages were given", def.Conda.Pos)
		}
		env.Packages = packages
	}
	return env, nil
}

// Supported refuses, at their position, the parts of a definition the
// build cannot make yet (pip, Spark), so they are never silently left out.
func Supported(def *spec.Definition) error {
	var problems spec.ErrorList
	unsupported := func(pos spec.Pos, what string) {
		problems = append(problems, &spec.Error{Pos: pos, Msg: what + " are not supported by the build yet (issue 7): remove them to build this environment"})
	}
	if len(def.Pip) > 0 {
		unsupported(def.Pip[0].Pos, "pip packages")
	}
	if def.Conda != nil && len(def.Conda.Pip) > 0 {
		unsupported(def.Conda.Pip[0].Pos, "pip packages (the conda file's pip: part)")
	}
	if def.Spark != nil && len(def.Spark.Packages) > 0 {
		unsupported(def.Spark.Pos, "Spark packages")
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// needsConda says whether the definition asks for a conda environment.
func needsConda(def *spec.Definition) bool {
	return def.Conda != nil && !def.Python.UserManaged && len(def.Conda.Dependencies) > 0
}

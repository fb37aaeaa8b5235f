package llb

import (
	"fmt"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/spec"
)

// Locked is what the lock pins for one platform.
type Locked struct {
	// Packages are the conda packages, Wheels the pip packages.
	Packages []*repodata.Record
	Wheels   []Wheel
	// Jars are the precached Spark jars (the same for every platform).
	Jars []maven.Jar
}

// FromDefinition takes from a definition what reaches the image, with
// what the lock pins for one platform. Parts the build cannot make are an
// error at their position, never silently left out.
func FromDefinition(def *spec.Definition, locked Locked) (Environment, error) {
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
	if def.HasCondaEnvironment() {
		if len(locked.Packages) == 0 {
			return Environment{}, fmt.Errorf("%s: the conda environment has dependencies but no locked packages were given", def.Conda.Pos)
		}
		env.Packages = locked.Packages
		// A pip part may lock to no wheel at all (conda provides every
		// requirement), so an empty list is not an error; the caller
		// checked the lock is current for the pip lines.
		env.Wheels = locked.Wheels
	}
	if def.Spark != nil && len(def.Spark.Packages) > 0 {
		roots, mo := maven.FromSpec(def.Spark)
		env.Spark = &Spark{Roots: roots, Repositories: mo.Repositories, Precache: def.Spark.Precache}
		if def.Spark.Precache {
			if len(locked.Jars) == 0 {
				return Environment{}, fmt.Errorf("%s: the Spark packages are precached, but the lock pins no jars: run envkit lock", def.Spark.Pos)
			}
			env.Spark.Jars = locked.Jars
		}
	}
	return env, nil
}

// Supported refuses, at their position, the parts of a definition the
// build cannot make, before anything is resolved: pip packages without a
// conda environment (wheels are installed into its python) and precached
// Spark packages without one (their jars are pinned in its lock).
func Supported(def *spec.Definition) error {
	if def.HasCondaEnvironment() {
		return nil
	}
	var problems spec.ErrorList
	if len(def.Pip) > 0 {
		problems = append(problems, &spec.Error{Pos: def.Pip[0].Pos, Msg: "pip packages are installed into the conda environment's python: add python to the conda dependencies"})
	}
	// With user-managed python the conda file, pip part included, is
	// ignored, as Azure ML does.
	if def.Conda != nil && len(def.Conda.Pip) > 0 && !def.Python.UserManaged {
		problems = append(problems, &spec.Error{Pos: def.Conda.Pip[0].Pos, Msg: "pip packages are installed into the conda environment's python: add python to the conda dependencies"})
	}
	if def.PrecachesSpark() {
		problems = append(problems, &spec.Error{Pos: def.Spark.Pos, Msg: "precached Spark packages are pinned in the conda lock, which needs a conda environment: add conda dependencies or set precache: false"})
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

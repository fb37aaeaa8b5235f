// Package spec holds envkit's environment model and the readers, writers and
// validation for every input format (envkit YAML, Azure ML v2 YAML, Azure ML
// v1 JSON or saved directory, conda environment.yml, requirements.txt,
// MLflow python_env.yaml).
//
// Every format is read into one Definition. Values keep the position they
// were read from, so errors and lint findings can say FILE:LINE:COL.
package spec

import (
	"fmt"

	"github.com/envkit/envkit/internal/gitctx"
)

// DefaultPrefix is where the conda environment lives in the image when the
// definition does not say otherwise.
const DefaultPrefix = "/opt/conda"

// DefaultBaseImage is the base image of a definition that names none (a
// plain conda environment.yml or requirements.txt). Builds override it with
// the ENVKIT_BASE_IMAGE build option or environment variable.
const DefaultBaseImage = "docker.io/library/debian:bookworm-slim"

// BaseImageEnv names the environment variable (and build option) that sets
// the base image for formats that carry none.
const BaseImageEnv = "ENVKIT_BASE_IMAGE"

// Format is the input format a definition was read from.
type Format string

const (
	FormatNative       Format = "native"       // envkit YAML
	FormatAzureMLv2    Format = "azureml"      // Azure ML v2 environment YAML
	FormatAzureMLv1    Format = "azureml-v1"   // azureml_environment.json (+ side files)
	FormatConda        Format = "conda"        // conda environment.yml
	FormatRequirements Format = "requirements" // pip requirements.txt
	FormatMLflow       Format = "mlflow"       // MLflow python_env.yaml (+ -r files)
)

// Pos is where a value was read: file, 1-based line and column. Line 0
// means the position is the file as a whole.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Definition is one environment, whatever format it came from.
type Definition struct {
	// Metadata: never part of the definition hash.
	Name        string
	Version     string
	Description string
	Tags        map[string]string

	// Base is the image the environment starts from.
	Base Base
	// Steps are Dockerfile instructions applied on top of the base, in order.
	Steps []Step
	// Conda is the conda environment; nil when there is none (user-managed
	// python, or a definition with only a base image).
	Conda *CondaEnv
	// Pip is the top-level pip list (native format and requirements.txt),
	// installed after the conda environment's own pip part.
	Pip []Requirement
	// Env holds the image's environment variables, in file order; names are
	// unique.
	Env []EnvVar
	// Python says who manages the interpreter.
	Python Python
	// Prefix is where the conda environment lives; "" means DefaultPrefix.
	Prefix string
	// Spark lists Maven packages for Spark; nil when absent.
	Spark *Spark
	// Platforms are OCI platforms ("linux/amd64"); empty means the
	// builder's own platform.
	Platforms []string
	// AzureML keeps Azure ML v2 fields envkit does not build from, so a
	// conversion does not lose them. Not part of the hash.
	AzureML AzureML

	// Source says where the definition was read from.
	Source Source
}

// SetDefaultBase gives a definition that names no base (a conda or
// requirements file) the image the build was told to use.
func (d *Definition) SetDefaultBase(image string) {
	if d.Base.Image == "" && d.Base.Dockerfile == "" {
		d.Base.Image = image
	}
}

// HasCondaEnvironment says whether envkit installs a conda environment
// for the definition: conda dependencies, and a python it manages (a
// user-managed python has no environment of envkit's).
func (d *Definition) HasCondaEnvironment() bool {
	return d.Conda != nil && !d.Python.UserManaged && len(d.Conda.Dependencies) > 0
}

// PrecachesSpark says whether the image holds the Spark packages' jars,
// which the lock then pins.
func (d *Definition) PrecachesSpark() bool {
	return d.Spark != nil && d.Spark.Precache && len(d.Spark.Packages) > 0
}

// EffectivePrefix is Prefix, or DefaultPrefix when unset.
func (d *Definition) EffectivePrefix() string {
	if d.Prefix == "" {
		return DefaultPrefix
	}
	return d.Prefix
}

// Base is the starting image: either an image reference or a Dockerfile
// (inline, or read from DockerfilePath) built in Context. Exactly one of
// Image and Dockerfile is set in a valid definition.
type Base struct {
	Image string
	// Dockerfile is the Dockerfile text (read from DockerfilePath when the
	// definition names a file).
	Dockerfile string
	// DockerfilePath is the Dockerfile's path relative to the definition's
	// directory, "" when inline.
	DockerfilePath string
	// DockerfileFile is the Dockerfile's path as shown in messages (the
	// FILE of FILE:LINE:COL), "" when inline.
	DockerfileFile string
	// Context is the Docker build context directory relative to the
	// definition's directory; "" means the definition's own directory.
	// With Git set it is the git URL as written.
	Context string
	// Git is the build context when it is a git repository: the
	// Dockerfile path and ContextFiles are then relative to its
	// directory, read at the commit the build uses (gitctx.Ref.Pin).
	Git *gitctx.Ref
	// ContextFiles are the files the base Dockerfile and the steps read
	// from Context (COPY, ADD, RUN --mount=type=bind), with their digests,
	// sorted by path. They enter the definition hash.
	ContextFiles []FileDigest
	Pos          Pos
}

// FileDigest is a file's path (slash-separated, relative to the build
// context) and the sha256 of its content ("sha256:<hex>").
type FileDigest struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

// Step is one custom Dockerfile instruction (e.g. "RUN apt-get update").
type Step struct {
	Instruction string
	Pos         Pos
}

// Requirement is one dependency line: a conda MatchSpec in CondaEnv.
// Dependencies, a pip requirement or pip option line ("--index-url ...")
// in the pip lists.
type Requirement struct {
	Spec string
	Pos  Pos
	// Constraint marks a pip line read from a -c file: it limits the
	// version of the project when something requires it, and never adds
	// the project (pip's constraints).
	Constraint bool
	// Wheel is the wheel file a pip line names by its path: the path
	// relative to the definition's directory and the file's digest.
	Wheel *FileDigest
}

// Specs returns the requirement strings in order.
func Specs(reqs []Requirement) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Spec
	}
	return out
}

// CondaEnv is a conda environment: the content of an environment.yml.
type CondaEnv struct {
	// Name is the conda file's name: key; not part of the hash.
	Name     string
	Channels []Channel
	// Dependencies are conda MatchSpecs, in file order.
	Dependencies []Requirement
	// Pip is the dependencies' "pip:" part, option lines included.
	Pip []Requirement
	// Variables are the conda file's variables: (set on activation), in
	// file order.
	Variables []EnvVar
	// File is the conda file's path relative to the definition's directory
	// when the definition referenced one, "" when inline.
	File string
	Pos  Pos
}

// Channel is a conda channel name or URL, in priority order.
type Channel struct {
	Name string
	Pos  Pos
}

// ChannelNames returns the channel names in priority order.
func (c *CondaEnv) ChannelNames() []string {
	out := make([]string, len(c.Channels))
	for i, ch := range c.Channels {
		out[i] = ch.Name
	}
	return out
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
	Pos   Pos
}

// Python says whether envkit builds the python environment (conda) or the
// image already provides it.
type Python struct {
	// UserManaged means the image provides python; no conda environment is
	// built (Azure ML's userManagedDependencies).
	UserManaged bool
	// Interpreter is the python executable to run with when UserManaged;
	// "" means "python" on PATH.
	Interpreter string
	Pos         Pos
}

// Spark lists Maven packages resolved for Spark.
type Spark struct {
	Repositories []string
	Packages     []MavenPackage
	// Precache fetches the packages into the image at build time.
	Precache bool
	Pos      Pos
}

// MavenPackage is one Maven coordinate.
type MavenPackage struct {
	Group    string
	Artifact string
	Version  string
	Pos      Pos
}

// AzureML holds Azure ML v2 fields kept for conversion only.
type AzureML struct {
	// OSType is os_type ("linux" or "windows"); "" when absent.
	OSType string
	// InferenceConfig is inference_config, kept as decoded YAML.
	InferenceConfig map[string]any
}

// Source says where a definition came from.
type Source struct {
	Format Format
	// Path is the definition file's path as given to Load or Parse.
	Path string
	// Files are the other files the definition read (conda file,
	// Dockerfile, ...), relative to the definition's directory.
	Files []string
	// From is the curated environment the definition extends
	// ("curated/sklearn"), "" when none. The Definition holds the merge.
	From string
}

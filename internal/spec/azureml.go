package spec

import (
	"errors"
	"io/fs"
	"path"

	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/internal/gitctx"
)

// Keys of the Azure ML v2 environment YAML (CLI v2 reference,
// azure-ai-ml's EnvironmentSchema).
var (
	azureKeys      = []string{"$schema", "name", "version", "description", "tags", "image", "build", "conda_file", "os_type", "inference_config", "datastore"}
	azureBuildKeys = []string{"path", "dockerfile_path"}
)

// AzureMLSchema is the $schema URL written into Azure ML v2 YAML.
const AzureMLSchema = "https://azuremlschemas.azureedge.net/latest/environment.schema.json"

func (r *reader) readAzureV2(d *doc, def *Definition, root *yaml.Node) {
	fields, _ := d.mapping(root, "environment", azureKeys)
	var imageN, buildN, condaN *yaml.Node
	for _, f := range fields {
		if d.identity(def, f) {
			continue
		}
		switch f.key {
		case "image":
			imageN = f.kn
			def.Base.Image, _ = d.str(f.v, "image")
			def.Base.Pos = d.pos(f.v)
		case "build":
			buildN = f.kn
			r.readAzureBuild(d, def, f.v)
		case "conda_file":
			condaN = f.kn
			if v := resolve(f.v); v.Kind == yaml.MappingNode {
				def.Conda = r.readConda(d, v, "")
				def.Prefix = condaPrefix(d, v)
			} else if rel, ok := d.str(f.v, "conda_file"); ok {
				def.Conda, def.Prefix = r.readCondaFile(d, f.v, rel, "conda_file")
			}
		case "os_type":
			def.AzureML.OSType, _ = d.str(f.v, "os_type")
			if t := def.AzureML.OSType; t != "linux" && t != "windows" {
				d.errorf(f.v, "os_type must be linux or windows, got %q", t)
			} else if t == "windows" {
				d.errorf(f.v, "os_type windows: envkit builds Linux images only")
			}
		case "inference_config":
			def.AzureML.InferenceConfig = readInferenceConfig(d, f.v, "inference_config")
		case "datastore", "$schema":
			// Upload target and schema URL: nothing to build from.
		}
	}
	switch {
	case imageN != nil && buildN != nil:
		d.errorf(buildN, "image and build are mutually exclusive: give a Docker image or a build context, not both")
	case imageN == nil && buildN == nil:
		d.errorf(root, "an Azure ML environment needs image or build")
	case condaN != nil && imageN == nil:
		d.errorf(condaN, "conda_file needs image (Azure ML builds the conda environment on top of an image; with build, install it in the Dockerfile)")
	}
}

func (r *reader) readAzureBuild(d *doc, def *Definition, n *yaml.Node) {
	fields, ok := d.mapping(n, "build", azureBuildKeys)
	if !ok {
		return
	}
	def.Base.Pos = d.pos(n)
	ctx, dockerfile := "", "Dockerfile"
	var pathN, dfN *yaml.Node = n, n
	for _, f := range fields {
		switch f.key {
		case "path":
			ctx, _ = d.str(f.v, "build.path")
			pathN = f.v
		case "dockerfile_path":
			dockerfile, _ = d.str(f.v, "build.dockerfile_path")
			dfN = f.v
		}
	}
	if ctx == "" {
		d.errorf(n, "build.path is required")
		return
	}
	if gitctx.IsRemote(ctx) {
		r.readAzureGitBuild(d, def, pathN, dfN, ctx, dockerfile, dfN != n)
		return
	}
	if !r.contextDir(d, pathN, ctx, "build.path") {
		return
	}
	// dockerfile_path is relative to the build context in Azure ML; the
	// model keeps it relative to the definition. Without dockerfile_path
	// the Dockerfile missing is build.path's: name the key the file has.
	rel := path.Join(ctx, dockerfile)
	if dfN == n {
		if p, err := r.local(rel); err == nil && r.fsys != nil {
			if _, err := fs.Stat(r.fsys, p); errors.Is(err, fs.ErrNotExist) {
				d.errorf(pathN, "build.path: no Dockerfile in %q (name it with build.dockerfile_path, relative to build.path, when it has another name)", ctx)
				return
			}
		}
	}
	if data, fsPath, ok := r.readRef(d, dfN, rel, "build.dockerfile_path"); ok {
		def.Base.DockerfileFile = r.display(fsPath)
		def.Base.Context = path.Clean(ctx)
		def.Base.DockerfilePath = rel
		def.Base.Dockerfile = string(data)
	}
}

// readAzureGitBuild reads a build whose path is a git URL: the Dockerfile
// comes from the repository, dockerfile_path relative to the context.
func (r *reader) readAzureGitBuild(d *doc, def *Definition, pathN, dfN *yaml.Node, ctx, dockerfile string, named bool) {
	g, ok := r.gitContext(d, pathN, ctx, "build.path")
	if !ok {
		return
	}
	if !named {
		// No dockerfile_path: the Dockerfile missing is build.path's.
		if _, err := fs.Stat(r.gitTree, "Dockerfile"); errors.Is(err, fs.ErrNotExist) {
			d.errorf(pathN, "build.path: no Dockerfile in %s (name it with build.dockerfile_path, relative to the context, when it has another name)", g)
			return
		}
	}
	data, ok := r.readGitFile(d, dfN, g, dockerfile, "build.dockerfile_path")
	if !ok {
		return
	}
	def.Base.Git = g
	def.Base.Context = ctx
	def.Base.DockerfilePath = path.Clean("/" + dockerfile)[1:]
	def.Base.DockerfileFile = gitFileName(g, dockerfile)
	def.Base.Dockerfile = string(data)
}

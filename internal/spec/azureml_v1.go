package spec

import (
	"io/fs"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/internal/platform"
)

// Keys of azureml_environment.json as azureml-core serializes it (camelCase
// of the Python attributes; older SDKs wrote gpuSupport).
var (
	v1Keys         = []string{"name", "version", "environmentVariables", "python", "docker", "spark", "databricks", "r", "inferencingStackVersion", "assetId"}
	v1PythonKeys   = []string{"userManagedDependencies", "interpreterPath", "condaDependenciesFile", "baseCondaEnvironment", "condaDependencies"}
	v1DockerKeys   = []string{"enabled", "baseImage", "baseDockerfile", "buildContext", "sharedVolumes", "shmSize", "arguments", "baseImageRegistry", "platform", "gpuSupport"}
	v1RegistryKeys = []string{"address", "username", "password", "registryIdentity"}
	v1PlatformKeys = []string{"os", "architecture"}
	v1SparkKeys    = []string{"repositories", "packages", "precachePackages"}
	v1DBKeys       = []string{"mavenLibraries", "pypiLibraries", "rcranLibraries", "jarLibraries", "eggLibraries", "cluster"}
)

// Side files of a saved Azure ML v1 environment directory.
const (
	v1CondaName      = "conda_dependencies.yml"
	v1DockerfileName = "BaseDockerfile"
)

// readAzureV1 follows azureml-core's load_from_directory: an absent key is
// unset (not the SDK default), and conda_dependencies.yml and
// BaseDockerfile beside the JSON replace python.condaDependencies and
// docker.baseDockerfile.
func (r *reader) readAzureV1(d *doc, def *Definition, root *yaml.Node) {
	fields, _ := d.mapping(root, "environment", v1Keys)
	var condaN *yaml.Node
	var condaFile string
	for _, f := range fields {
		switch f.key {
		case "name":
			def.Name, _ = d.str(f.v, "name")
		case "version":
			def.Version, _ = d.str(f.v, "version")
		case "environmentVariables":
			def.Env = d.envMap(f.v, "environmentVariables")
		case "python":
			if isNull(f.v) {
				continue
			}
			def.Python.Pos = d.pos(f.v)
			pf, _ := d.mapping(f.v, "python", v1PythonKeys)
			for _, p := range pf {
				switch p.key {
				case "userManagedDependencies":
					def.Python.UserManaged, _ = d.boolean(p.v, "python.userManagedDependencies")
				case "interpreterPath":
					def.Python.Interpreter, _ = d.str(p.v, "python.interpreterPath")
				case "condaDependenciesFile":
					condaFile, _ = d.str(p.v, "python.condaDependenciesFile")
					if condaFile != "" {
						condaN = p.v
					}
				case "baseCondaEnvironment":
					if !isNull(p.v) {
						d.errorf(p.v, "python.baseCondaEnvironment is not supported (Azure ML itself advises against it): list the packages")
					}
				case "condaDependencies":
					if !isNull(p.v) {
						condaN = p.v
					}
				}
			}
		case "docker":
			r.readV1Docker(d, def, f.v)
		case "spark":
			if isNull(f.v) {
				continue
			}
			sp := &Spark{Pos: d.pos(f.v)}
			sf, _ := d.mapping(f.v, "spark", v1SparkKeys)
			for _, s := range sf {
				switch s.key {
				case "repositories":
					sp.Repositories = d.strList(s.v, "spark.repositories")
				case "packages":
					sp.Packages = readMavenList(d, s.v, "spark.packages")
				case "precachePackages":
					sp.Precache, _ = d.boolean(s.v, "spark.precachePackages")
				}
			}
			if len(sp.Repositories)+len(sp.Packages) > 0 {
				def.Spark = sp
			}
		case "databricks":
			if isNull(f.v) {
				continue
			}
			df, _ := d.mapping(f.v, "databricks", v1DBKeys)
			for _, x := range df {
				if !isNull(x.v) && !(x.v.Kind == yaml.SequenceNode && len(x.v.Content) == 0) {
					d.errorf(x.v, "databricks.%s: Databricks libraries are not supported", x.key)
				}
			}
		case "r":
			if !isNull(f.v) {
				d.errorf(f.v, "r: the R section is not supported (Azure ML retired it)")
			}
		case "inferencingStackVersion":
			if !isNull(f.v) {
				d.errorf(f.v, "inferencingStackVersion: the Azure ML inferencing stack is not supported")
			}
		case "assetId":
			// Set by the service on registration; nothing to build from.
		}
	}

	dir := path.Dir(path.Join(r.dir, "x"))
	if r.exists(path.Join(dir, v1CondaName)) {
		def.Conda, def.Prefix = r.readCondaFile(d, root, v1CondaName, v1CondaName)
	} else if condaN != nil && condaN.Kind == yaml.MappingNode {
		def.Conda = r.readConda(d, condaN, "")
		def.Prefix = condaPrefix(d, condaN)
	} else if condaFile != "" {
		def.Conda, def.Prefix = r.readCondaFile(d, condaN, condaFile, "python.condaDependenciesFile")
	} else if condaN != nil {
		d.errorf(condaN, "python.condaDependencies must be a mapping, got %s", kindName(condaN))
	}
	if r.exists(path.Join(dir, v1DockerfileName)) {
		if data, fsPath, ok := r.readRef(d, root, v1DockerfileName, v1DockerfileName); ok {
			shown := r.display(fsPath)
			def.Base = Base{Dockerfile: string(data), DockerfilePath: v1DockerfileName, DockerfileFile: shown, Pos: Pos{File: shown}}
		}
	}
	// Azure ML skips the conda step for user-managed python, whatever the
	// saved condaDependencies say (the SDK keeps its template there).
	if def.Python.UserManaged {
		def.Conda, def.Prefix = nil, ""
	}
}

func (r *reader) exists(p string) bool {
	if r.fsys == nil {
		return false
	}
	st, err := fs.Stat(r.fsys, p)
	return err == nil && !st.IsDir()
}

func (r *reader) readV1Docker(d *doc, def *Definition, n *yaml.Node) {
	if isNull(n) {
		return
	}
	fields, _ := d.mapping(n, "docker", v1DockerKeys)
	registry := ""
	for _, f := range fields {
		switch f.key {
		case "baseImage":
			def.Base.Image, _ = d.str(f.v, "docker.baseImage")
			def.Base.Pos = d.pos(f.v)
		case "baseDockerfile":
			if s, _ := d.str(f.v, "docker.baseDockerfile"); s != "" {
				def.Base.Dockerfile = s
				def.Base.Pos = d.pos(f.v)
			}
		case "buildContext":
			if !isNull(f.v) {
				d.errorf(f.v, "docker.buildContext: remote (git or storage) build contexts are not supported")
			}
		case "baseImageRegistry":
			if isNull(f.v) {
				continue
			}
			rf, _ := d.mapping(f.v, "docker.baseImageRegistry", v1RegistryKeys)
			for _, x := range rf {
				switch x.key {
				case "address":
					registry, _ = d.str(x.v, "docker.baseImageRegistry.address")
				case "username", "password":
					if !isNull(x.v) {
						d.errorf(x.v, "docker.baseImageRegistry.%s: credentials do not belong in a definition; log in to the registry instead (Azure ML rejects them too)", x.key)
					}
				case "registryIdentity":
					if !isNull(x.v) {
						d.errorf(x.v, "docker.baseImageRegistry.registryIdentity: managed identities are not supported; log in to the registry instead")
					}
				}
			}
		case "platform":
			if isNull(f.v) {
				continue
			}
			pf, _ := d.mapping(f.v, "docker.platform", v1PlatformKeys)
			var osName, arch string
			for _, x := range pf {
				switch x.key {
				case "os":
					osName, _ = d.str(x.v, "docker.platform.os")
				case "architecture":
					arch, _ = d.str(x.v, "docker.platform.architecture")
				}
			}
			if osName != "" || arch != "" {
				// Checked here, at its line, as a native platforms: entry.
				pl := strings.ToLower(osName) + "/" + strings.ToLower(arch)
				if _, err := platform.Parse(pl); err != nil {
					d.errorf(f.v, "docker.platform: %v", err)
					continue
				}
				def.Platforms = []string{pl}
			}
		default:
			// enabled, sharedVolumes, shmSize, arguments, gpuSupport are
			// about running containers, not the image.
		}
	}
	if def.Base.Image != "" && def.Base.Dockerfile != "" {
		d.errorf(n, "docker.baseImage and docker.baseDockerfile are mutually exclusive: give one")
	}
	if registry != "" && def.Base.Image != "" && !strings.HasPrefix(def.Base.Image, registry+"/") {
		def.Base.Image = strings.TrimSuffix(registry, "/") + "/" + def.Base.Image
	}
}

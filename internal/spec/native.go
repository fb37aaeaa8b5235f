package spec

import (
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/internal/gitctx"
	"github.com/envkit/envkit/internal/platform"
)

// Keys of the envkit native format (docs/environment-yaml.md).
var (
	nativeKeys      = []string{"name", "version", "description", "tags", "from", "base", "steps", "conda", "pip", "env", "python", "prefix", "spark", "platforms", "azureml"}
	nativeBaseKeys  = []string{"image", "dockerfile", "context"}
	nativeCondaKeys = []string{"file", "name", "channels", "dependencies", "variables"}
	nativePyKeys    = []string{"user_managed", "interpreter"}
	nativeSparkKeys = []string{"repositories", "packages", "precache"}
	mavenKeys       = []string{"group", "artifact", "version"}
	nativeAzureKeys = []string{"os_type", "inference_config"}
)

func (r *reader) readNative(d *doc, def *Definition, root *yaml.Node) {
	fields, _ := d.mapping(root, "definition", nativeKeys)
	var prefixN *yaml.Node
	filePrefix := ""
	for _, f := range fields {
		if d.identity(def, f) {
			continue
		}
		switch f.key {
		case "from":
			r.extends, _ = r.readFrom(d, f.v)
		case "base":
			r.readNativeBase(d, def, f.v)
		case "steps":
			items, _ := d.seq(f.v, "steps")
			for _, it := range items {
				if s, ok := d.str(it, "steps entries"); ok {
					def.Steps = append(def.Steps, Step{Instruction: strings.TrimRight(s, "\n"), Pos: d.pos(it)})
				}
			}
		case "conda":
			filePrefix = r.readNativeConda(d, def, f.v)
		case "pip":
			def.Pip = r.expandPip(d, d.reqList(f.v, "pip"))
		case "env":
			def.Env = d.envMap(f.v, "env")
		case "python":
			def.Python.Pos = d.pos(f.v)
			pf, _ := d.mapping(f.v, "python", nativePyKeys)
			for _, p := range pf {
				switch p.key {
				case "user_managed":
					def.Python.UserManaged, _ = d.boolean(p.v, "python.user_managed")
				case "interpreter":
					def.Python.Interpreter, _ = d.str(p.v, "python.interpreter")
				}
			}
		case "prefix":
			def.Prefix, _ = d.str(f.v, "prefix")
			prefixN = f.v
		case "spark":
			def.Spark = readNativeSpark(d, f.v)
		case "platforms":
			// Checked here, where each entry has its line: a platform the
			// lock and the build cannot take fails validate, not lock.
			items, _ := d.seq(f.v, "platforms")
			for _, it := range items {
				pl, ok := d.str(it, "platforms entries")
				if !ok {
					continue
				}
				if _, err := platform.Parse(pl); err != nil {
					d.errorf(it, "%v", err)
					continue
				}
				def.Platforms = append(def.Platforms, pl)
			}
		case "azureml":
			af, _ := d.mapping(f.v, "azureml", nativeAzureKeys)
			for _, a := range af {
				switch a.key {
				case "os_type":
					def.AzureML.OSType, _ = d.str(a.v, "azureml.os_type")
				case "inference_config":
					def.AzureML.InferenceConfig = readInferenceConfig(d, a.v, "azureml.inference_config")
				}
			}
		}
	}

	// A referenced conda file may carry its own prefix: key.
	switch {
	case filePrefix == "":
		// Nothing to reconcile.
	case prefixN == nil:
		def.Prefix = filePrefix
	case def.Prefix != filePrefix:
		d.errorf(prefixN, "prefix %q differs from the conda file's prefix %q: give one", def.Prefix, filePrefix)
	}
}

func (r *reader) readNativeBase(d *doc, def *Definition, n *yaml.Node) {
	def.Base.Pos = d.pos(n)
	fields, _ := d.mapping(n, "base", nativeBaseKeys)
	var imageN, dockerN, fileN *yaml.Node
	var file string
	for _, f := range fields {
		switch f.key {
		case "image":
			imageN = f.kn
			def.Base.Image, _ = d.str(f.v, "base.image")
			def.Base.Pos = d.pos(f.v)
		case "dockerfile":
			dockerN = f.kn
			s, ok := d.str(f.v, "base.dockerfile")
			if !ok {
				continue
			}
			// Text with a line break is the Dockerfile itself; a single
			// line is a path to one, read once the context is known.
			if strings.Contains(s, "\n") {
				def.Base.Dockerfile = s
			} else {
				file, fileN = s, f.v
			}
		case "context":
			ctx, ok := d.str(f.v, "base.context")
			if !ok {
				r.noContext = true
				continue
			}
			if gitctx.IsRemote(ctx) {
				if g, ok := r.gitContext(d, f.v, ctx, "base.context"); ok {
					def.Base.Git, def.Base.Context = g, ctx
				}
				continue
			}
			if ctx != "" && !r.contextDir(d, f.v, ctx, "base.context") {
				continue
			}
			def.Base.Context = ctx
		}
	}
	switch {
	case fileN == nil:
	case def.Base.Git != nil:
		// With a git context the path is inside it, as Azure ML's
		// dockerfile_path and docker build -f with a git URL.
		if data, ok := r.readGitFile(d, fileN, def.Base.Git, file, "base.dockerfile"); ok {
			def.Base.DockerfilePath = path.Clean("/" + file)[1:]
			def.Base.DockerfileFile = gitFileName(def.Base.Git, file)
			def.Base.Dockerfile = string(data)
		}
	default:
		if data, fsPath, ok := r.readRef(d, fileN, file, "base.dockerfile"); ok {
			def.Base.DockerfilePath = file
			def.Base.DockerfileFile = r.display(fsPath)
			def.Base.Dockerfile = string(data)
		}
	}
	if imageN != nil && dockerN != nil {
		d.errorf(dockerN, "base.image and base.dockerfile are mutually exclusive: give one")
	}
}

// readNativeConda reads the conda key; it returns the prefix: of a
// referenced conda file.
func (r *reader) readNativeConda(d *doc, def *Definition, n *yaml.Node) string {
	fields, ok := d.mapping(n, "conda", nativeCondaKeys)
	if !ok {
		return ""
	}
	for _, f := range fields {
		if f.key != "file" {
			continue
		}
		if len(fields) > 1 {
			d.errorf(f.kn, "conda.file cannot be combined with inline conda keys")
			return ""
		}
		rel, ok := d.str(f.v, "conda.file")
		if !ok {
			return ""
		}
		var prefix string
		def.Conda, prefix = r.readCondaFile(d, f.v, rel, "conda.file")
		return prefix
	}
	def.Conda = r.readConda(d, n, "conda")
	if def.Conda != nil {
		def.Conda.Pos = d.pos(n)
	}
	return ""
}

func readNativeSpark(d *doc, n *yaml.Node) *Spark {
	sp := &Spark{Pos: d.pos(n)}
	fields, _ := d.mapping(n, "spark", nativeSparkKeys)
	for _, f := range fields {
		switch f.key {
		case "repositories":
			sp.Repositories = d.strList(f.v, "spark.repositories")
		case "packages":
			sp.Packages = readMavenList(d, f.v, "spark.packages")
		case "precache":
			sp.Precache, _ = d.boolean(f.v, "spark.precache")
		}
	}
	return sp
}

func readMavenList(d *doc, n *yaml.Node, what string) []MavenPackage {
	items, _ := d.seq(n, what)
	var out []MavenPackage
	for _, it := range items {
		fields, ok := d.mapping(it, what+" entries", mavenKeys)
		if !ok {
			continue
		}
		p := MavenPackage{Pos: d.pos(it)}
		bad := false
		for _, f := range fields {
			s, _ := d.str(f.v, what+"."+f.key)
			switch f.key {
			case "group":
				p.Group = s
			case "artifact":
				p.Artifact = s
			case "version":
				p.Version = s
			}
			valid := ValidMavenName(s)
			if f.key == "group" {
				valid = ValidMavenGroup(s)
			}
			if s != "" && !valid {
				d.errorf(f.v, "%s.%s %q: want letters, digits and ._-+ (not starting with . - or +)", what, f.key, s)
				bad = true
			}
		}
		if bad {
			continue
		}
		if p.Group == "" || p.Artifact == "" || p.Version == "" {
			d.errorf(it, "%s entries need group, artifact and version", what)
			continue
		}
		out = append(out, p)
	}
	return out
}

var (
	inferenceKeys      = []string{"liveness_route", "readiness_route", "scoring_route"}
	inferenceRouteKeys = []string{"port", "path"}
)

// readInferenceConfig checks Azure ML's inference_config shape (each route
// a {port, path}) and keeps it as plain values.
func readInferenceConfig(d *doc, n *yaml.Node, what string) map[string]any {
	fields, ok := d.mapping(n, what, inferenceKeys)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for _, f := range fields {
		rf, ok := d.mapping(f.v, what+"."+f.key, inferenceRouteKeys)
		if !ok {
			continue
		}
		route := map[string]any{}
		for _, p := range rf {
			switch p.key {
			case "port":
				var port int
				if p.v.Kind != yaml.ScalarNode || p.v.Decode(&port) != nil || port <= 0 || port > 65535 {
					d.errorf(p.v, "%s.%s.port must be a port number", what, f.key)
					continue
				}
				route["port"] = port
			case "path":
				route["path"], _ = d.str(p.v, what+"."+f.key+".path")
			}
		}
		out[f.key] = route
	}
	return out
}

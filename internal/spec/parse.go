package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Load reads the definition at path, a file in any supported format, a
// saved Azure ML v1 environment directory or an MLflow model folder. Files the definition references
// are read relative to its directory and must stay inside it. The error is
// an ErrorList when the definition is invalid.
func Load(p string) (*Definition, error) {
	return LoadAs(p, "")
}

// LoadAs is Load with the format given instead of detected ("" detects).
func LoadAs(p string, format Format) (*Definition, error) {
	return LoadWith(p, Options{Format: format})
}

// LoadWith is Load with options.
func LoadWith(p string, o Options) (*Definition, error) {
	format := o.Format
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	hostDir, name := filepath.Dir(p), filepath.Base(p)
	if st.IsDir() {
		hostDir = p
		if name, err = dirDefinition(p, format); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(filepath.Join(hostDir, name))
	if err != nil {
		return nil, err
	}
	r := &reader{fsys: os.DirFS(hostDir), dir: ".", hostDir: hostDir, format: format, git: o.Git}
	return r.parse(name, data)
}

// dirDefinition names the definition file of directory dir: a saved Azure
// ML v1 environment's azureml_environment.json, else an MLflow model
// folder's python_env.yaml (only the one of format, when given).
func dirDefinition(dir string, format Format) (string, error) {
	var names []string
	switch format {
	case "":
		names = []string{v1JSONName, MLflowFile}
	case FormatAzureMLv1:
		names = []string{v1JSONName}
	case FormatMLflow:
		names = []string{MLflowFile}
	default:
		return "", fmt.Errorf("%s is a directory: give the %s file", dir, format)
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return n, nil
		}
	}
	switch format {
	case FormatAzureMLv1:
		return "", fmt.Errorf("%s holds no %s: a saved Azure ML environment directory has it", dir, v1JSONName)
	case FormatMLflow:
		return "", fmt.Errorf("%s holds no %s: an MLflow model folder has it beside MLmodel; give the model's folder, or the file", dir, MLflowFile)
	}
	return "", fmt.Errorf("%s: a directory must be a saved Azure ML environment (holding %s) or an MLflow model folder (holding %s)", dir, v1JSONName, MLflowFile)
}

// Parse reads a definition from data. name is the definition's path inside
// fsys (slash-separated); files it references (conda file, Dockerfile,
// build context) are read from fsys relative to name's directory, and paths
// leaving fsys are rejected. fsys may be nil when the definition references
// no file. The error is an ErrorList when the definition is invalid.
func Parse(name string, data []byte, fsys fs.FS) (*Definition, error) {
	return ParseAs(name, data, fsys, "")
}

// ParseAs is Parse with the format given instead of detected ("" detects).
func ParseAs(name string, data []byte, fsys fs.FS, format Format) (*Definition, error) {
	return ParseWith(name, data, fsys, Options{Format: format})
}

// ParseWith is Parse with options.
func ParseWith(name string, data []byte, fsys fs.FS, o Options) (*Definition, error) {
	r := &reader{fsys: fsys, dir: path.Dir(name), format: o.Format, git: o.Git}
	return r.parse(path.Base(name), data)
}

// reader reads one definition and the files it references.
type reader struct {
	fsys fs.FS
	// dir is the directory inside fsys that relative paths start from:
	// the definition's, or that of the file being read (a conda file, a
	// -r file).
	dir string
	// defDir is the definition's directory inside fsys.
	defDir string
	// included counts the -r and -c files read (maxIncludes).
	included int
	// hostDir is the host directory fsys is rooted at (Load), used to show
	// paths as the user gave them; "" for Parse.
	hostDir string
	// format, when set, overrides detection.
	format Format
	e      errs
	files  []string
	// extends is the curated definition named by from:, nil without one.
	extends *Definition
	from    string
	// noFrom forbids from: (reading a curated definition).
	noFrom bool
	// git opens git build contexts; gitTree is the one read.
	git     GitOpener
	gitTree fs.FS
	// noContext says the build context the definition names could not
	// be opened (reported where it is named): its files are not checked
	// against another directory.
	noContext bool
}

// display turns a path inside fsys into the path shown in messages.
func (r *reader) display(fsPath string) string {
	if r.hostDir == "" {
		return fsPath
	}
	return filepath.Join(r.hostDir, filepath.FromSlash(fsPath))
}

// local resolves rel, relative to the definition's directory, to a path
// inside fsys, rejecting absolute paths and paths that escape it.
func (r *reader) local(rel string) (string, error) {
	if rel == "" {
		return "", errors.New("empty path")
	}
	if path.IsAbs(rel) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("absolute path %q: give a path relative to the definition's directory", rel)
	}
	p := path.Join(r.dir, filepath.ToSlash(rel))
	if !fs.ValidPath(p) {
		return "", fmt.Errorf("path %q escapes the context directory", rel)
	}
	return p, nil
}

// contextDir checks that rel, a build context the definition names at
// node n under key (build.path, base.context), is a directory inside
// fsys; the message names that key. Only an fsys that can stat without
// reading checks it: the frontend's context, read through the BuildKit
// gateway, would transfer the whole directory to stat it (what it reads
// from the context then fails, naming the path).
func (r *reader) contextDir(d *doc, n *yaml.Node, rel, key string) (ok bool) {
	defer func() { r.noContext = !ok }()
	p, err := r.local(rel)
	if err != nil {
		d.errorf(n, "%s: %v", key, err)
		return false
	}
	sfs, canStat := r.fsys.(fs.StatFS)
	if !canStat {
		return true
	}
	st, err := sfs.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.errorf(n, "%s: directory %q does not exist (paths are relative to the definition's directory)%s", key, rel, placeholderHint(rel))
	case err != nil:
		d.errorf(n, "%s: %q: %v", key, rel, unwrapPathError(err))
	case !st.IsDir():
		d.errorf(n, "%s: %q is a file; give the directory of the build context", key, rel)
	default:
		return true
	}
	return false
}

// readRef reads a file the definition references at node n.
func (r *reader) readRef(d *doc, n *yaml.Node, rel, what string) (data []byte, fsPath string, ok bool) {
	p, err := r.local(rel)
	if err != nil {
		d.errorf(n, "%s: %v", what, err)
		return nil, "", false
	}
	if r.fsys == nil {
		d.errorf(n, "%s: cannot read %q: no build context", what, rel)
		return nil, "", false
	}
	data, err = fs.ReadFile(r.fsys, p)
	if err != nil {
		d.errorf(n, "%s: cannot read %q: %v%s%s", what, rel, unwrapPathError(err), r.nearName(p, rel, err), placeholderHint(rel))
		return nil, "", false
	}
	if !utf8.Valid(data) {
		d.errorf(n, "%s: %q is not UTF-8 text", what, rel)
		return nil, "", false
	}
	r.files = append(r.files, r.relToDef(p))
	return data, p, true
}

// relToDef turns a path inside fsys back into one relative to the
// definition's directory (not to the file being read: a -r file in a
// subdirectory keeps its directory).
func (r *reader) relToDef(p string) string {
	if r.defDir == "." {
		return p
	}
	return strings.TrimPrefix(p, r.defDir+"/")
}

// nearName suggests, for a file that does not exist at p (written rel),
// the file beside it that was likely meant: the same name in another
// case, or with .yml for .yaml and back (Azure ML examples name
// conda.yaml beside conda.yml). It lists the directory only where that
// reads no file contents (not the BuildKit gateway's context).
func (r *reader) nearName(p, rel string, err error) string {
	rd, ok := r.fsys.(fs.ReadDirFS)
	if !ok || !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	entries, err := rd.ReadDir(path.Dir(p))
	if err != nil {
		return ""
	}
	want := strings.ToLower(path.Base(p))
	swapped := strings.TrimSuffix(want, ".yaml") + ".yml"
	if strings.HasSuffix(want, ".yml") {
		swapped = strings.TrimSuffix(want, ".yml") + ".yaml"
	}
	for _, en := range entries {
		if n := strings.ToLower(en.Name()); !en.IsDir() && (n == want || n == swapped) {
			return fmt.Sprintf("; did you mean %q?", path.Join(path.Dir(filepath.ToSlash(rel)), en.Name()))
		}
	}
	return ""
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parse detects the format of data and reads it.
func (r *reader) parse(name string, data []byte) (*Definition, error) {
	fsPath := path.Join(r.dir, name)
	r.defDir = r.dir
	shown := r.display(fsPath)
	d := &doc{file: shown, e: &r.e}
	def := &Definition{}
	if r.format == FormatRequirements || r.format == "" && strings.HasSuffix(strings.ToLower(name), ".txt") {
		r.readRequirements(d, def, data, fsPath)
		def.Source.Format = FormatRequirements
	} else {
		root, ok := r.decode(d, data)
		if !ok {
			return nil, r.e.err()
		}
		def.Source.Format = r.format
		if r.format == "" {
			def.Source.Format = detect(name, root)
		}
		switch def.Source.Format {
		case FormatNative:
			r.readNative(d, def, root)
		case FormatAzureMLv2:
			r.readAzureV2(d, def, root)
		case FormatAzureMLv1:
			r.readAzureV1(d, def, root)
		case FormatConda:
			def.Conda = r.readConda(d, root, "")
			if def.Conda != nil {
				def.Prefix = condaPrefix(d, root)
			}
		case FormatMLflow:
			r.readMLflow(d, def, root)
		}
	}
	def.Source.Path = shown
	def.Source.Files = r.files
	// Every problem is reported in one run, as a compiler reports them:
	// the checks below see what the reader could read even when it found
	// errors (what it could not read is not in def, so nothing is
	// reported twice).
	checked := false // validate has seen def as returned
	if r.extends != nil {
		// The file's own values first: the merge would hide a duplicate
		// among them behind the curated entry it replaces. A file with
		// errors is not merged: its errors are its own.
		validate(def, &r.e)
		if len(r.e.list) == 0 {
			def = r.extendCurated(d, def)
		} else {
			checked = true
		}
	}
	r.contextFiles(d, def)
	if !checked {
		validate(def, &r.e)
	}
	if err := r.e.err(); err != nil {
		return nil, err
	}
	return def, nil
}

// decode parses one YAML (or JSON) document whose root must be a mapping.
func (r *reader) decode(d *doc, data []byte) (*yaml.Node, bool) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		line := 0
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			line = yamlErrorLine(err.Error())
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if line > 0 {
			msg = strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", line))
			if lines := bytes.Split(data, []byte("\n")); line <= len(lines) && bytes.HasPrefix(lines[line-1], []byte("\t")) {
				msg += " (YAML cannot be indented with tabs)"
			}
		}
		d.e.add(Pos{File: d.file, Line: line, Col: min(line, 1)}, "%s", msg)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "a definition is a single YAML document; found a second one")
		return nil, false
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		d.e.add(Pos{File: d.file}, "empty file")
		return nil, false
	}
	top := resolve(root.Content[0])
	if top.Kind != yaml.MappingNode {
		d.errorf(top, "not an environment definition: expected a mapping at the top, got %s", kindName(top))
		return nil, false
	}
	return top, true
}

// yamlErrorLine extracts N from yaml.v3's "yaml: line N: ..." messages.
func yamlErrorLine(msg string) int {
	var n int
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i:], "line %d", &n)
	}
	return n
}

// Keys unique to each format, used to detect the format by content.
var (
	nativeOnly = []string{"from", "base", "steps", "conda", "pip", "env", "platforms", "azureml"}
	azureOnly  = []string{"$schema", "image", "build", "conda_file", "os_type", "inference_config", "datastore"}
	condaOnly  = []string{"channels", "dependencies", "variables"}
	v1Only     = []string{"environmentVariables", "docker", "databricks", "inferencingStackVersion", "assetId", "r"}
	mlflowOnly = []string{"build_dependencies"}
)

const v1JSONName = "azureml_environment.json"

// detect picks the format whose own keys the document uses most; a tie or
// no telling key means native.
func detect(name string, root *yaml.Node) Format {
	if name == v1JSONName {
		return FormatAzureMLv1
	}
	count := map[Format]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i].Value
		switch {
		case contains(nativeOnly, k):
			count[FormatNative]++
		case contains(azureOnly, k):
			count[FormatAzureMLv2]++
		case contains(condaOnly, k):
			count[FormatConda]++
		case contains(v1Only, k):
			count[FormatAzureMLv1]++
		case contains(mlflowOnly, k):
			count[FormatMLflow]++
		case k == "python":
			switch py := resolve(root.Content[i+1]); py.Kind {
			case yaml.MappingNode:
				for j := 0; j < len(py.Content); j += 2 {
					if strings.ContainsAny(py.Content[j].Value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
						count[FormatAzureMLv1]++
					}
				}
			case yaml.ScalarNode:
				// python: 3.10.12, MLflow's version key (native and Azure
				// ML v1 python: are mappings).
				count[FormatMLflow]++
			}
		}
	}
	// On a tie MLflow beats conda: both have dependencies:, and a file
	// with python: or build_dependencies: besides is MLflow's.
	best := FormatNative
	for _, f := range []Format{FormatAzureMLv2, FormatAzureMLv1, FormatMLflow, FormatConda} {
		if count[f] > count[best] {
			best = f
		}
	}
	return best
}

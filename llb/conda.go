package llb

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/install"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/imagemeta"
)

// MaxLayers is containerd's limit on the layers of an image.
const MaxLayers = 127

// DefaultPackageLayers is how many conda package layers an image gets before
// packages share layers; it leaves MaxLayers-DefaultPackageLayers-1 layers
// for the base image, the custom steps and the finalize step.
const DefaultPackageLayers = 100

// Paths inside the link and finalize steps.
const (
	binDir      = "/.envkit" // the binary, mounted read-only (link and finalize steps)
	archiveDir  = "/pkg"     // the downloaded archive, read-only
	outputDir   = "/out"     // the package's files, at outputDir+prefix
	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

type condaResult struct {
	State   llb.State
	History []ocispecs.History
}

// condaLayers links every package into its own layer (or, beyond the layer
// budget, each group of packages in one step into a shared layer), merges
// them onto base and runs the finalize step on the merged root.
func condaLayers(env Environment, opts Options, base llb.State) (*condaResult, error) {
	pkgs := append([]*repodata.Record(nil), env.Packages...)
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	python, err := pythonVersion(pkgs)
	if err != nil {
		return nil, err
	}
	budget := opts.PackageLayers
	if budget <= 0 {
		budget = DefaultPackageLayers
	}
	groups := groupPackages(pkgs, budget)
	if base := len(opts.Base.Config.RootFS.DiffIDs); env.BaseImage != "" && base+len(groups)+1 > MaxLayers {
		return nil, fmt.Errorf("the image would have %d layers (base %d, conda %d, finalize 1), over containerd's limit of %d: lower the package layer budget",
			base+len(groups)+1, base, len(groups), MaxLayers)
	}

	epoch := fmt.Sprint(opts.Epoch.Unix())
	created := opts.Epoch.UTC()
	index := make(map[*repodata.Record]int, len(pkgs))
	for i, p := range pkgs {
		index[p] = i + 1
	}
	plain := linkRoot{state: llb.Scratch(), platform: opts.BuildPlatform, bin: opts.LinkBinary(opts.BuildPlatform)}
	var compiling *linkRoot // made for the first group with a noarch: python package
	layers := []llb.State{base}
	var history []ocispecs.History
	for gi, group := range groups {
		inputs := make([]linkInput, len(group))
		names := make([]string, len(group))
		root := &plain
		for i, p := range group {
			in, err := prepareLink(p, opts, index[p], len(pkgs))
			if err != nil {
				return nil, err
			}
			inputs[i], names[i] = in, p.String()
			if p.Noarch == "python" && compiling == nil {
				runtime, err := pythonRuntime(pkgs, index, python, env.Prefix, epoch, base, plain, opts)
				if err != nil {
					return nil, err
				}
				compiling = &linkRoot{state: runtime, platform: opts.Platform, bin: opts.LinkBinary(opts.Platform), compile: true}
			}
			if p.Noarch == "python" {
				root = compiling
			}
		}
		var layer llb.State
		if len(inputs) == 1 {
			layer = linkPackage(inputs[0], python, env.Prefix, epoch, *root, opts)
		} else {
			layer = linkGroup(inputs, fmt.Sprintf("conda group %d/%d", gi+1, len(groups)), python, env.Prefix, epoch, *root, opts)
		}
		layers = append(layers, layer)
		history = append(history, ocispecs.History{
			Created:   &created,
			CreatedBy: "envkit link " + strings.Join(names, " "),
			Comment:   imagemeta.CondaPackageLayer,
		})
	}
	merged := llb.Merge(layers, llb.WithCustomName(vertexName(opts, "conda", fmt.Sprintf("merge %d package layers", len(groups)))))

	// The finalize step needs the whole environment and the base's shell
	// and libc (post-link scripts): it runs on the base as root, for the
	// target platform, with the merged environment mounted at the prefix.
	// Its result is that mount's output, the merged root with the prefix's
	// changes only; the root mount's output, which holds what the runtime
	// adds (mount points such as /dev, /proc and /sys on a base without
	// them, with the build's wall-clock time), is dropped. On the base's
	// own root, the step also sees whether the prefix's path crosses a
	// symbolic link, which the package layers would replace.
	finalize := base.Run(
		llb.Args([]string{path.Join(binDir, "envkit"), "link", "--finalize", "--prefix", env.Prefix}),
		llb.AddMount(binDir, opts.LinkBinary(opts.Platform), llb.Readonly),
		llb.AddEnv("PATH", path.Join(env.Prefix, "bin")+":"+defaultPath),
		llb.AddEnv("SOURCE_DATE_EPOCH", epoch),
		llb.User("0:0"),
		llb.Dir("/"),
		noNetwork,
		llb.WithCustomName(vertexName(opts, "conda", "finalize environment (post-link scripts, .pyc, history)")),
	)
	history = append(history, ocispecs.History{
		Created:   &created,
		CreatedBy: "envkit link --finalize --prefix " + env.Prefix,
		Comment:   imagemeta.CondaEnvironment,
	})
	return &condaResult{State: finalize.AddMount(env.Prefix, merged, llb.SourcePath(env.Prefix)), History: history}, nil
}

// linkInput is what a link step needs of one package: its archive (a
// state holding it at /file) and its record for conda-meta.
type linkInput struct {
	pkg     *repodata.Record
	stage   string // "conda N/TOTAL", the package's place in the progress
	archive llb.State
	file    string
	record  string
}

// prepareLink checks what the lock gives of package n and makes its
// download, pinned by its sha256 (so the cache key needs no network).
func prepareLink(p *repodata.Record, opts Options, n, total int) (linkInput, error) {
	if p.URL == "" {
		return linkInput{}, fmt.Errorf("conda package %s: the lock gives no url", p)
	}
	if len(p.SHA256) != 64 || digestOf(p.SHA256).Validate() != nil {
		return linkInput{}, fmt.Errorf("conda package %s: the lock gives no sha256, which the build needs to pin the download", p)
	}
	fn := p.Filename
	if fn == "" {
		fn = path.Base(p.URL)
	}
	if fn == "" || fn == "." || fn == "/" || strings.ContainsAny(fn, "/\\") {
		return linkInput{}, fmt.Errorf("conda package %s: cannot tell the archive's file name from %s", p, p.URL)
	}
	// No platform in these names: the ops are the same for every target
	// platform of a build, and BuildKit shows them once.
	stage := fmt.Sprintf("conda %d/%d", n, total)
	archive, err := packageArchive(p, fn, opts, "["+stage+"] download "+p.Name+" "+p.Version)
	if err != nil {
		return linkInput{}, err
	}
	record, err := linkRecord(p)
	if err != nil {
		return linkInput{}, err
	}
	return linkInput{pkg: p, stage: stage, archive: archive, file: fn, record: record}, nil
}

// linkRoot is where a link step runs: an empty root on the build
// platform, or, for a step holding noarch: python packages, the python
// runtime (see pythonRuntime) on the target platform, whose python
// compiles their .pyc in the step.
type linkRoot struct {
	state    llb.State
	platform ocispecs.Platform
	bin      llb.State
	compile  bool
}

// name is a link step's progress name: a step on the python runtime is
// one per target platform, and says which in a multi-platform build; one
// on the empty root serves every platform and names none.
func (r linkRoot) name(opts Options, stage, what string) string {
	if r.compile {
		return vertexName(opts, stage, what)
	}
	return "[" + stage + "] " + what
}

// linkPackage links one package into a layer of its own at the final
// prefix. The step's inputs are the record, the prefix, the python version
// (noarch: python only) and the link binary: nothing of the environment
// around it but, for a noarch: python package, the python runtime, so the
// layer is shared by every environment with the same prefix (and python
// and base).
func linkPackage(in linkInput, python, prefix, epoch string, root linkRoot, opts Options) llb.State {
	args := []string{path.Join(binDir, "envkit"), "link", "--prefix", prefix, "--dest", outputDir}
	if in.pkg.Noarch == "python" {
		args = append(args, "--python", python)
		if root.compile {
			args = append(args, "--compile")
		}
	}
	args = append(args, "--record", in.record, path.Join(archiveDir, in.file))
	return linkStep(args, []llb.RunOption{llb.AddMount(archiveDir, in.archive, llb.Readonly)},
		root.name(opts, in.stage, "link "+in.pkg.Name+" "+in.pkg.Version), prefix, epoch, root, opts)
}

// linkGroup links a group of packages (beyond the layer budget) in one
// step, hence one layer: every layer is an exec, and steps chained on one
// output mount would each still make a layer. Each archive has its own
// read-only mount named by its file, so adding a member to the group does
// not change the others' arguments.
func linkGroup(group []linkInput, stage, python, prefix, epoch string, root linkRoot, opts Options) llb.State {
	args := []string{path.Join(binDir, "envkit"), "link", "--prefix", prefix, "--dest", outputDir}
	for _, in := range group {
		if in.pkg.Noarch == "python" {
			args = append(args, "--python", python)
			if root.compile {
				args = append(args, "--compile")
			}
			break
		}
	}
	var mounts []llb.RunOption
	var names []string
	for _, in := range group {
		dir := path.Join(archiveDir, archiveStem(in.file))
		mounts = append(mounts, llb.AddMount(dir, in.archive, llb.Readonly))
		args = append(args, "--record", in.record, path.Join(dir, in.file))
		names = append(names, in.pkg.Name+" "+in.pkg.Version)
	}
	return linkStep(args, mounts, root.name(opts, stage, "link "+strings.Join(names, ", ")), prefix, epoch, root, opts)
}

// linkStep runs envkit link on root with the binary as a read-only
// mount: BuildKit keys read-only mounts by their content, so the step is
// cached across builds even when the binary comes from a session's local
// input (envkit build), whose own key changes with every session. The
// result is the step's output directory, which holds the layer.
func linkStep(args []string, archives []llb.RunOption, name, prefix, epoch string, root linkRoot, opts Options) llb.State {
	runOpts := append([]llb.RunOption{
		llb.Args(args),
		llb.AddMount(binDir, root.bin, llb.Readonly),
	}, archives...)
	if root.compile {
		runOpts = append(runOpts, llb.AddEnv("PATH", path.Join(prefix, "bin")+":"+defaultPath), llb.User("0:0"))
	}
	runOpts = append(runOpts,
		llb.AddEnv("SOURCE_DATE_EPOCH", epoch),
		llb.Dir("/"),
		noNetwork,
		llb.Platform(root.platform),
		llb.WithCustomName(name),
	)
	return root.state.Run(runOpts...).AddMount(outputDir, llb.Scratch())
}

// pythonRuntime is the root of the link steps that compile .pyc: the base
// with python and what it depends on linked at the prefix — the layers
// those packages have on their own (the image's own layers within the
// budget, so BuildKit links them once), merged. noarch packages are left
// out with what only they need: python never needs them to run, and pip,
// which conda-forge's python depends on, is one. The runtime is not part
// of the image; a noarch: python layer is then keyed on the base and
// python's packages, and compiling it there takes .pyc compilation out of
// the finalize step, which reruns on any change.
func pythonRuntime(pkgs []*repodata.Record, index map[*repodata.Record]int, python, prefix, epoch string, base llb.State, plain linkRoot, opts Options) (llb.State, error) {
	byName := make(map[string]*repodata.Record, len(pkgs))
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	python0 := byName["python"]
	closure := []*repodata.Record{python0}
	seen := map[*repodata.Record]bool{python0: true}
	for i := 0; i < len(closure); i++ {
		for _, d := range closure[i].Depends {
			if dep := byName[install.SpecName(d)]; dep != nil && !seen[dep] && dep.Noarch == "" {
				seen[dep] = true
				closure = append(closure, dep)
			}
		}
	}
	// In name order, as the image's layers: the merge's key does not
	// depend on the order the dependencies were found in.
	sort.Slice(closure, func(i, j int) bool { return index[closure[i]] < index[closure[j]] })
	states := []llb.State{base}
	for _, p := range closure {
		in, err := prepareLink(p, opts, index[p], len(pkgs))
		if err != nil {
			return llb.State{}, err
		}
		states = append(states, linkPackage(in, python, prefix, epoch, plain, opts))
	}
	return llb.Merge(states, llb.WithCustomName(vertexName(opts, "conda", "python runtime for compiling .pyc"))), nil
}

// archiveStem is a conda archive's file name without its extension.
func archiveStem(fn string) string {
	for _, ext := range []string{".conda", ".tar.bz2"} {
		if stem, ok := strings.CutSuffix(fn, ext); ok && stem != "" {
			return stem
		}
	}
	return fn
}

// packageArchive is a state holding the package's archive at /fn: an HTTP
// source pinned by the sha256, or, for a file:// URL (BuildKit has no
// file:// source), a copy out of the channel directory the caller brought
// in from the client. The copy is keyed by the archive's content, not by
// the client session, so its link step stays cached across builds; its
// integrity rests on the link step, which checks the record's sha256 and
// md5 against the archive.
func packageArchive(p *repodata.Record, fn string, opts Options, name string) (llb.State, error) {
	if strings.HasPrefix(p.URL, "http://") || strings.HasPrefix(p.URL, "https://") {
		return llb.HTTP(p.URL, llb.Checksum(digestOf(p.SHA256)), llb.Filename(fn), llb.WithCustomName(name), opts.Auth.HTTP(p.URL)), nil
	}
	if strings.HasPrefix(p.URL, "file:") && opts.LocalArchive != nil {
		if dir, file, ok := opts.LocalArchive(p.URL); ok {
			return llb.Scratch().File(
				llb.Copy(dir, file, "/"+fn, &llb.CopyInfo{FollowSymlinks: true}),
				llb.WithCustomName(name),
			), nil
		}
	}
	return llb.State{}, fmt.Errorf("conda package %s: %s cannot be downloaded by BuildKit (http and https; file:// only from a channel directory passed to the build, see docs/frontend.md)", p, p.URL)
}

// linkRecord is the record handed to envkit link for conda-meta: the
// package's own facts, in a stable JSON encoding. Without its size: the
// link step measures the archive and writes that into conda-meta, as
// envkit create does, and the step's key must not depend on whether the
// lock knew the size (one written by conda-lock does not).
func linkRecord(p *repodata.Record) (string, error) {
	r := *p
	r.Size = 0
	r.Depends = append([]string(nil), p.Depends...)
	sort.Strings(r.Depends)
	r.Constrains = append([]string(nil), p.Constrains...)
	sort.Strings(r.Constrains)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep specs like ">=1.0" readable in progress output
	if err := enc.Encode(&r); err != nil {
		return "", fmt.Errorf("conda package %s: %w", p, err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func digestOf(sha256 string) digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, strings.ToLower(sha256))
}

// pythonVersion is the X.Y of the environment's python package, which
// noarch: python packages need; "" when there is none and none needs it.
func pythonVersion(pkgs []*repodata.Record) (string, error) {
	var version string
	for _, p := range pkgs {
		if p.Name == "python" {
			parts := strings.SplitN(p.Version, ".", 3)
			if len(parts) < 2 {
				return "", fmt.Errorf("conda package %s: cannot tell python's major.minor version", p)
			}
			version = parts[0] + "." + parts[1]
		}
	}
	if version == "" {
		for _, p := range pkgs {
			if p.Noarch == "python" {
				return "", fmt.Errorf("conda package %s is noarch: python, but the environment has no python package", p)
			}
		}
	}
	return version, nil
}

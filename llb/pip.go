package llb

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/spec"
)

// Wheel is one locked pip package: a `manager: pip` entry of the lock.
type Wheel struct {
	Name, Version string
	// URL is where the wheel is downloaded from (http or https), or the
	// path of a wheel file in the build context (spec.LocalWheelPath).
	URL string
	// SHA256 pins the download (hex).
	SHA256 string
	// Depends are the names of the pip packages it depends on, as the
	// lock records them (the image's pins label keeps them).
	Depends []string
}

func (w Wheel) String() string { return w.Name + " " + w.Version }

// wheelArchiveDir holds a wheel step's archives, one read-only mount per
// wheel (/wheels/STEM/STEM.whl).
const wheelArchiveDir = "/wheels"

// splitBudget shares the package layer budget between conda packages and
// wheels. Within the budget every package has its own layer. Beyond it the
// wheels get the layers conda leaves, and at least a fifth of the budget
// (fewer when there are fewer wheels); conda packages group into the rest.
// The conda budget then depends on the number of wheels only when conda
// alone fills more than four fifths of the budget; the wheel grouping may
// depend on the number of conda packages, but a conda change reruns every
// wheel step anyway (they run on the finished conda environment).
func splitBudget(conda, wheels, budget int) (condaBudget, wheelBudget int) {
	if conda+wheels <= budget || wheels == 0 {
		return budget - wheels, wheels
	}
	w := max(budget-conda, min(wheels, max(1, budget/5)))
	if conda > 0 {
		w = min(w, budget-1)
	}
	return budget - w, w
}

// sortedWheels returns the wheels in name order (the order of their
// vertex numbers and layers).
func sortedWheels(wheels []Wheel) []Wheel {
	out := append([]Wheel(nil), wheels...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// pipLayers installs each group of wheels in a step of its own on the
// finished conda environment (root): the environment's python is there
// to compile the .pyc, but the step writes only to its own output mount,
// at the final prefix. A wheel's layer is keyed on the environment, the
// wheel and the link binary, so a changed pin reruns only its own group.
func pipLayers(groups [][]Wheel, python string, env Environment, opts Options, root llb.State) ([]llb.State, []ocispecs.History, error) {
	total := 0
	for _, g := range groups {
		total += len(g)
	}
	epoch := fmt.Sprint(opts.Epoch.Unix())
	created := opts.Epoch.UTC()
	bin := opts.LinkBinary(opts.Platform)
	var layers []llb.State
	var history []ocispecs.History
	n := 0
	for gi, group := range groups {
		args := []string{path.Join(binDir, "envkit"), "link", "--prefix", env.Prefix, "--dest", outputDir, "--python", python, "--compile"}
		runOpts := []llb.RunOption{
			llb.AddMount(binDir, bin, llb.Readonly),
			llb.AddEnv("PATH", path.Join(env.Prefix, "bin")+":"+defaultPath),
			llb.AddEnv("SOURCE_DATE_EPOCH", epoch),
			llb.User("0:0"),
			llb.Dir("/"),
			noNetwork,
		}
		var names []string
		for _, w := range group {
			n++
			archive, fn, err := wheelSource(w, fmt.Sprintf("pip %d/%d", n, total), opts)
			if err != nil {
				return nil, nil, err
			}
			// Named by the file, not the position: adding a wheel must not
			// change the other steps' arguments (their cache keys).
			dir := path.Join(wheelArchiveDir, strings.TrimSuffix(fn, ".whl"))
			runOpts = append(runOpts, llb.AddMount(dir, archive, llb.Readonly))
			args = append(args, "--wheel", path.Join(dir, fn)+"#sha256="+strings.ToLower(w.SHA256))
			names = append(names, w.String())
		}
		stage := fmt.Sprintf("pip %d/%d", n, total)
		if len(group) > 1 {
			stage = fmt.Sprintf("pip group %d/%d", gi+1, len(groups))
		}
		runOpts = append(runOpts, llb.Args(args), llb.WithCustomName(vertexName(opts, stage, "install "+strings.Join(names, ", "))))
		run := root.Run(runOpts...)
		layers = append(layers, run.AddMount(outputDir, llb.Scratch()))
		history = append(history, ocispecs.History{
			Created:   &created,
			CreatedBy: "envkit link --wheel " + strings.Join(names, " "),
			Comment:   imagemeta.PipPackageLayer,
		})
	}
	return layers, history, nil
}

// wheelSource is the wheel's download, pinned by its sha256 (so its
// cache key needs no network), and the archive's file name in it. A wheel
// file of the build context is copied from it instead; the link step
// checks its sha256 as it does a download's.
func wheelSource(w Wheel, stage string, opts Options) (llb.State, string, error) {
	if len(w.SHA256) != 64 || digestOf(w.SHA256).Validate() != nil {
		return llb.State{}, "", fmt.Errorf("pip package %s: the lock gives no sha256, which the build needs to pin the download", w)
	}
	if p, ok := spec.LocalWheelPath(w.URL); ok {
		if opts.Context == nil {
			return llb.State{}, "", fmt.Errorf("pip package %s: %s is a wheel file of the build context, and this build has none", w, p)
		}
		ctx, err := opts.Context(p)
		if err != nil {
			return llb.State{}, "", fmt.Errorf("pip package %s: %w", w, err)
		}
		fn := path.Base(p)
		st := llb.Scratch().File(llb.Copy(ctx, p, "/"+fn), llb.WithCustomName(fmt.Sprintf("[%s] copy %s (%s) from the context", stage, w, p)))
		return st, fn, nil
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return llb.State{}, "", fmt.Errorf("pip package %s: %q cannot be downloaded by BuildKit (http and https only; a wheel file beside the definition is a relative path): serve the wheels from an index or --find-links page over http, e.g. on 127.0.0.1, and lock again", w, w.URL)
	}
	u.Fragment = ""
	fn := path.Base(u.Path)
	if !strings.HasSuffix(fn, ".whl") || fn == ".whl" || strings.ContainsAny(fn, "\\") {
		return llb.State{}, "", fmt.Errorf("pip package %s: %s is not a wheel (.whl)", w, w.URL)
	}
	// No platform in the name: a download is the same for every target
	// platform, and BuildKit shows it once.
	st := llb.HTTP(u.String(),
		llb.Checksum(digestOf(w.SHA256)),
		llb.Filename(fn),
		llb.WithCustomName(fmt.Sprintf("[%s] download %s (%s)", stage, w, fn)), opts.Auth.HTTP(u.String()),
	)
	return st, fn, nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/hack/services"
	"github.com/envkit/envkit/internal/buildkitd"
)

// benchML measures envkit build against the single-layer baseline (a
// Dockerfile whose one RUN is `envkit create --lock`) on the ML-scale
// fixture, in one run on one fresh builder, and writes the "## At ML
// scale" section of docs/benchmarks.md.
func benchML(ctx context.Context, args []string) error {
	fs, state, fix := flags("bench-ml")
	doc := fs.String("doc", "docs/benchmarks.md", "file whose ## At ML scale section is rewritten")
	scale := fs.Float64("scale", fixtures.MLDefault.Scale, "the fixture's scale (envkit-dev ml-scale -scale)")
	keep := fs.Bool("keep", false, "keep the builds' progress (JSON), locks and logs, for profiling")
	compression := fs.String("compression", "gzip", "the image layers' compression for both shapes: gzip (what every Docker pulls) or zstd (Docker 23, containerd 1.5)")
	fs.Parse(args)
	if *compression != "gzip" && *compression != "zstd" {
		return fmt.Errorf("bench-ml: -compression %q: gzip or zstd", *compression)
	}
	env, err := services.Read(*state)
	if err != nil {
		return err
	}
	spec := fixtures.MLDefault
	spec.Scale = *scale
	mlDir := mlScaleDir(*fix, spec)
	shape, err := fixtures.ReadMLShape(mlDir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin := filepath.Dir(self)
	work, err := os.MkdirTemp("", "envkit-bench-ml-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "bench-ml: progress and logs in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}

	// The channel, served here: the services' channel server does not
	// know the fixture.
	channelURL, stopChannel, err := serveDir(filepath.Join(mlDir, "channel"))
	if err != nil {
		return err
	}
	defer stopChannel()
	mirror := "ENVKIT_CHANNEL_MIRRORS=" + fixtures.MLChannelName + "=" + channelURL

	bkState, err := os.MkdirTemp("", "ekml-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bkState)
	addr, err := buildkitd.Start(ctx, buildkitd.Config{StateDir: bkState, Binary: filepath.Join(bin, "buildkitd"), DockerHubMirror: env.Registry})
	if err != nil {
		return err
	}
	defer buildkitd.Stop(bkState, 30*time.Second)

	r := &mlRun{ctx: ctx, bin: bin, work: work, addr: addr, mirror: mirror, registry: env.Registry,
		run: time.Now().UTC().Format("20060102t150405"), compression: *compression}
	// Both shapes' definitions and locks: a, a with the small package
	// changed, a with the large one changed, b.
	envs := map[string]string{}
	for name, edit := range map[string][2]string{
		"a": {}, "a-small": {fixtures.MLSmallChanged + "=1.0", fixtures.MLSmallChanged + "=1.1"},
		"a-large": {fixtures.MLLargeChanged + "=1.0", fixtures.MLLargeChanged + "=1.1"}, "b": {},
	} {
		src := filepath.Join(mlDir, "envs", name[:1], "environment.yml")
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		text := string(b)
		if edit[0] != "" {
			if text = strings.Replace(text, "- "+edit[0]+"\n", "- "+edit[1]+"\n", 1); text == string(b) {
				return fmt.Errorf("%s no longer pins %s", src, edit[0])
			}
		}
		dir := filepath.Join(work, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		envs[name] = filepath.Join(dir, "environment.yml")
		if err := os.WriteFile(envs[name], []byte(text), 0o644); err != nil {
			return err
		}
		if err := r.cmd(filepath.Join(dir, "lock.log"), filepath.Join(bin, "envkit"), "lock", envs[name]); err != nil {
			return err
		}
	}

	// The base image pulled once before either cold build, so neither
	// pays for it.
	if _, err := r.baseline("warm", "", "FROM docker.io/library/debian:bookworm-slim\nRUN true\n"); err != nil {
		return err
	}
	res := map[string]map[string]*mlBuild{"envkit": {}, "baseline": {}}
	steps := []string{"a", "noop0", "noop1", "noop2", "a-small", "a-large", "b"}
	for _, shapeName := range []string{"envkit", "baseline"} {
		for _, step := range steps {
			def := step
			if strings.HasPrefix(step, "noop") {
				def = "a"
			}
			var b *mlBuild
			if shapeName == "envkit" {
				b, err = r.envkit(step, envs[def])
			} else {
				b, err = r.baseline(step, envs[def], baselineDockerfile)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "bench-ml: %s %s: %.1f s, %d exec steps ran, %d layers\n", shapeName, step, b.wall.Seconds(), b.ran, len(b.layers))
			res[shapeName][step] = b
		}
	}
	heading := "## At ML scale"
	if *compression != "gzip" {
		heading += ", " + *compression + " layers"
	}
	section := mlSection(heading, *compression, shape, res)
	fmt.Print(section)
	return replaceSection(*doc, heading, section)
}

// baselineDockerfile is the single-layer shape users compare with (Azure
// ML's: one conda env create in one RUN), installing with envkit create,
// the fastest installer there is, so that only the layer shape differs.
// The package cache is removed in the same RUN, as conda clean does.
const baselineDockerfile = `FROM docker.io/library/debian:bookworm-slim
ARG ENVKIT_CHANNEL_MIRRORS
RUN --mount=type=bind,source=envkit,target=/usr/local/bin/envkit \
    --mount=type=bind,source=conda-lock.yml,target=/tmp/conda-lock.yml \
    ENVKIT_PKGS_DIR=/tmp/envkit-pkgs SOURCE_DATE_EPOCH=1704067200 \
    envkit create --prefix /opt/conda --lock /tmp/conda-lock.yml && rm -rf /tmp/envkit-pkgs
ENV PATH=/opt/conda/bin:$PATH
`

type mlRun struct {
	ctx                                    context.Context
	bin, work, addr, mirror, registry, run string
	compression                            string // of the pushed layers, both shapes
}

// mlBuild is one build's figures.
type mlBuild struct {
	wall   time.Duration
	ran    int // exec steps that ran
	steps  int // exec steps in the build, cached or not
	layers []mlLayer
	phases map[string]time.Duration
}

type mlLayer struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// cmd runs a command with its output in logFile.
func (r *mlRun) cmd(logFile, name string, args ...string) error {
	f, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer f.Close()
	c := exec.CommandContext(r.ctx, name, args...)
	c.Env = append(os.Environ(), r.mirror, "BUILDKIT_HOST="+r.addr)
	c.Stdout, c.Stderr = f, f
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %v (output in %s)", name, strings.Join(args, " "), err, logFile)
	}
	return nil
}

// envkit builds definition with envkit build and pushes it as
// envkit:TAG.
func (r *mlRun) envkit(tag, definition string) (*mlBuild, error) {
	ref := r.repo("envkit") + ":" + tag
	meta, progress := filepath.Join(r.work, "envkit-"+tag+".json"), filepath.Join(r.work, "envkit-"+tag+".progress")
	start := time.Now()
	err := r.cmdProgress(progress, filepath.Join(r.bin, "envkit"), "build", definition, "--addr", r.addr, "--progress", "json",
		"--build-arg", "SOURCE_DATE_EPOCH=1704067200", "--output", "type=image,name="+ref+",push=true,compression="+r.compression, "--metadata-file", meta)
	if err != nil {
		return nil, err
	}
	return r.result(time.Since(start), ref, progress)
}

// baseline builds dockerfile with buildctl, the definition's lock and
// the envkit binary as its context, and pushes it as baseline:TAG.
func (r *mlRun) baseline(tag, definition, dockerfile string) (*mlBuild, error) {
	ctxDir := filepath.Join(r.work, "ctx-"+tag)
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return nil, err
	}
	if definition != "" {
		if err := os.Link(filepath.Join(filepath.Dir(definition), "conda-lock.yml"), filepath.Join(ctxDir, "conda-lock.yml")); err != nil {
			return nil, err
		}
		if err := os.Link(filepath.Join(r.bin, "envkit"), filepath.Join(ctxDir, "envkit")); err != nil {
			return nil, err
		}
	}
	ref := r.repo("baseline") + ":" + tag
	progress := filepath.Join(r.work, "baseline-"+tag+".progress")
	start := time.Now()
	err := r.cmdProgress(progress, filepath.Join(r.bin, "buildctl"), "--addr", r.addr, "build", "--frontend", "dockerfile.v0",
		"--local", "context="+ctxDir, "--local", "dockerfile="+ctxDir, "--progress", "rawjson",
		"--opt", "build-arg:"+r.mirror, "--opt", "build-arg:SOURCE_DATE_EPOCH=1704067200",
		"--output", "type=image,name="+ref+",push=true,oci-mediatypes=true,compression="+r.compression)
	if err != nil {
		return nil, err
	}
	return r.result(time.Since(start), ref, progress)
}

func (r *mlRun) repo(shape string) string {
	return r.registry + "/envkit/ml-" + r.run + "-" + shape
}

// cmdProgress runs a build with its progress (JSON: envkit build and
// buildctl both write it to stderr) in file.
func (r *mlRun) cmdProgress(file, name string, args ...string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	c := exec.CommandContext(r.ctx, name, args...)
	c.Env = append(os.Environ(), r.mirror)
	c.Stdout, c.Stderr = io.Discard, f
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %v (progress in %s)", filepath.Base(name), strings.Join(args, " "), err, file)
	}
	return nil
}

// result reads a finished build's progress and its pushed manifest.
func (r *mlRun) result(wall time.Duration, ref, progress string) (*mlBuild, error) {
	b := &mlBuild{wall: wall}
	f, err := os.Open(progress)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ran, cached, err := services.ExecSteps(f)
	if err != nil {
		return nil, err
	}
	b.ran, b.steps = len(ran), len(ran)+cached
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if b.phases, err = phases(f); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(r.ctx, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+ref).Output()
	if err != nil {
		return nil, fmt.Errorf("skopeo inspect %s: %w", ref, err)
	}
	var m struct {
		Layers []mlLayer `json:"layers"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, err
	}
	b.layers = m.Layers
	return b, nil
}

// phases says where a build's time went, from BuildKit's progress: for
// each kind of step (downloads, link steps, finalize, RUN, the
// exporter's layer compression and push), the wall time during which at
// least one step of that kind ran. Kinds overlap one another when steps
// run in parallel.
func phases(progress io.Reader) (map[string]time.Duration, error) {
	type span struct {
		kind       string
		start, end *time.Time
	}
	spans := map[string]*span{}
	at := func(id, kind string) *span {
		s := spans[id]
		if s == nil {
			s = &span{kind: kind}
			spans[id] = s
		}
		return s
	}
	err := services.EachStatus(progress, func(ss *client.SolveStatus) {
		for _, v := range ss.Vertexes {
			s := at(v.Digest.String(), phaseOf(v.Name))
			if v.Cached {
				s.kind = ""
			}
			if v.Started != nil {
				s.start = v.Started
			}
			if v.Completed != nil {
				s.end = v.Completed
			}
		}
		for _, st := range ss.Statuses {
			kind := ""
			switch {
			case st.ID == "exporting layers":
				kind = "export: compress layers"
			case strings.HasPrefix(st.ID, "pushing"):
				kind = "export: push"
			case st.ID == "merging":
				kind = "merge"
			default:
				continue
			}
			s := at("status "+st.ID+" "+st.Vertex.String(), kind)
			if st.Started != nil && s.start == nil {
				s.start = st.Started
			}
			if st.Completed != nil {
				s.end = st.Completed
			}
		}
	})
	if err != nil {
		return nil, err
	}
	intervals := map[string][][2]time.Time{}
	for _, s := range spans {
		if s.kind != "" && s.start != nil && s.end != nil {
			intervals[s.kind] = append(intervals[s.kind], [2]time.Time{*s.start, *s.end})
		}
	}
	out := map[string]time.Duration{}
	for kind, iv := range intervals {
		slices.SortFunc(iv, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
		cur := iv[0]
		for _, x := range iv[1:] {
			if x[0].After(cur[1]) {
				out[kind] += cur[1].Sub(cur[0])
				cur = x
			} else if x[1].After(cur[1]) {
				cur[1] = x[1]
			}
		}
		out[kind] += cur[1].Sub(cur[0])
	}
	return out, nil
}

func phaseOf(name string) string {
	switch {
	case strings.Contains(name, "] download "):
		return "download"
	case strings.Contains(name, "] link "):
		return "link steps"
	case strings.Contains(name, "finalize environment"):
		return "finalize"
	case strings.Contains(name, "RUN "):
		return "RUN (envkit create)"
	}
	return "other"
}

// serveDir serves dir over HTTP on 127.0.0.1 under /NAME/, NAME the ML
// channel's, and returns the channel's URL.
func serveDir(dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	prefix := "/" + fixtures.MLChannelName
	mux.Handle(prefix+"/", http.StripPrefix(prefix, http.FileServer(http.Dir(dir))))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + prefix, func() { srv.Close() }, nil
}

// layerBytes sums the sizes of layers; in, when given, keeps only those
// whose digest is (true) or is not (false) in the set.
func layerBytes(layers []mlLayer, set map[string]bool, in bool) (int64, int) {
	var total int64
	n := 0
	for _, l := range layers {
		if set == nil || set[l.Digest] == in {
			total += l.Size
			n++
		}
	}
	return total, n
}

func digests(builds ...*mlBuild) map[string]bool {
	m := map[string]bool{}
	for _, b := range builds {
		for _, l := range b.layers {
			m[l.Digest] = true
		}
	}
	return m
}

// chainBytes is what a Docker-style puller that holds prev must unpack
// of next: every layer from the first one whose chain differs (its
// digest or any below it) — chain IDs, not digests, decide reuse.
func chainBytes(prev, next *mlBuild) int64 {
	var total int64
	same := true
	for i, l := range next.layers {
		same = same && i < len(prev.layers) && prev.layers[i].Digest == l.Digest
		if !same {
			total += l.Size
		}
	}
	return total
}

func mlSection(heading, compression string, shape *fixtures.MLShape, res map[string]map[string]*mlBuild) string {
	mb := func(n int64) string {
		if n < 1e6 {
			return fmt.Sprintf("%.0f kB", float64(n)/1e3)
		}
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	sec := func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
	pct := func(a, b float64) string { return fmt.Sprintf("%.1f%%", 100*a/b) }
	median := func(m map[string]*mlBuild) time.Duration {
		ds := []time.Duration{m["noop0"].wall, m["noop1"].wall, m["noop2"].wall}
		slices.Sort(ds)
		return ds[1]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", heading)
	fmt.Fprintf(&b, "`make bench-ml` (hack/envkit-dev bench-ml) on %s, %d CPUs, one run on %s, every build on one fresh buildkitd\n", runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "(the base image pulled into it first), pushed to the local registry with %s layers (`-compression`). The fixture (`make ml-scale`, hack/fixtures/mlscale.go,\n", compression)
	fmt.Fprintf(&b, "seed %d, generated in %s): a channel of python and 302 generated packages (303 records) served on 127.0.0.1:\n\n", shape.Seed, shape.Generation)
	fmt.Fprintf(&b, "| class (aimed at) | archives | files | archive bytes | unpacked | smallest – largest |\n|---|---|---|---|---|---|\n")
	for _, c := range shape.Classes {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s – %s |\n", c.Class, c.Archives, c.Files, mb(c.Bytes), mb(c.Unpacked), mb(c.MinBytes), mb(c.MaxBytes))
	}
	fmt.Fprintf(&b, "\nTwo environments of python and 149 packages each (the three large ones, 10 medium, 136 small), %d shared (%.0f%%).\n", shape.Shared, 100*float64(shape.Shared)/150)
	fmt.Fprintf(&b, "The baseline is a Dockerfile whose one `RUN` is `envkit create --lock` of the same lock on the same base (hack/envkit-dev/benchml.go).\n")
	fmt.Fprintf(&b, "Wall times of the whole command (`envkit build`, `buildctl build`), export and push included.\n\n")
	e, s := res["envkit"], res["baseline"]
	fmt.Fprintf(&b, "| measure | envkit | baseline (one RUN) | envkit / baseline | target |\n|---|---|---|---|---|\n")
	row := func(name string, a, c time.Duration, target string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, sec(a), sec(c), pct(a.Seconds(), c.Seconds()), target)
	}
	row("cold build, environment a", e["a"].wall, s["a"].wall, "≤ 110%")
	row("no-op rebuild (median of 3)", median(e), median(s), "")
	row("one small package changed ("+fixtures.MLSmallChanged+" 1.0 → 1.1)", e["a-small"].wall, s["a-small"].wall, "< 5%")
	row("one large package changed ("+fixtures.MLLargeChanged+" 1.0 → 1.1)", e["a-large"].wall, s["a-large"].wall, "< 5%")
	fmt.Fprintf(&b, "| exec steps run: cold / small change / large change | %d / %d / %d | %d / %d / %d | | |\n",
		e["a"].ran, e["a-small"].ran, e["a-large"].ran, s["a"].ran, s["a-small"].ran, s["a-large"].ran)
	fmt.Fprintf(&b, "| layers (base included) | %d | %d | | ≤ 127 |\n", len(e["a"].layers), len(s["a"].layers))
	bytesRow := func(name string, x, y int64, target string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, mb(x), mb(y), pct(float64(x), float64(y)), target)
	}
	all := func(m map[string]*mlBuild, k string) int64 { n, _ := layerBytes(m[k].layers, nil, false); return n }
	bytesRow("image (compressed layers)", all(e, "a"), all(s, "a"), "")
	// A push sends the layers the repository does not hold yet: the
	// cold one everything, later ones what no earlier build pushed.
	newBytes := func(m map[string]*mlBuild, k string, before ...string) int64 {
		var prev []*mlBuild
		for _, p := range before {
			prev = append(prev, m[p])
		}
		n, _ := layerBytes(m[k].layers, digests(prev...), false)
		return n
	}
	bytesRow("push bytes, cold", newBytes(e, "a"), newBytes(s, "a"), "")
	bytesRow("push bytes, small change", newBytes(e, "a-small", "a"), newBytes(s, "a-small", "a"), "< 5%")
	bytesRow("push bytes, large change", newBytes(e, "a-large", "a", "a-small"), newBytes(s, "a-large", "a", "a-small"), "")
	row("push time, cold (exporter's pushing steps)", e["a"].phases["export: push"], s["a"].phases["export: push"], "")
	row("push time, small change", e["a-small"].phases["export: push"], s["a-small"].phases["export: push"], "")
	row("push time, large change", e["a-large"].phases["export: push"], s["a-large"].phases["export: push"], "")
	bytesRow("pull bytes, small change, holding a (new digests)", newBytes(e, "a-small", "a"), newBytes(s, "a-small", "a"), "")
	bytesRow("pull bytes, small change, holding a (unpacked by chain ID)", chainBytes(e["a"], e["a-small"]), chainBytes(s["a"], s["a-small"]), "")
	bytesRow("pull bytes, large change, holding a (new digests)", newBytes(e, "a-large", "a"), newBytes(s, "a-large", "a"), "")
	bytesRow("pull bytes, large change, holding a (unpacked by chain ID)", chainBytes(e["a"], e["a-large"]), chainBytes(s["a"], s["a-large"]), "")
	both := func(m map[string]*mlBuild) int64 {
		n, _ := layerBytes(append(slices.Clone(m["a"].layers), m["b"].layers...), nil, false)
		dup, _ := layerBytes(m["b"].layers, digests(m["a"]), true)
		return n - dup
	}
	fmt.Fprintf(&b, "| registry bytes, a and b / a alone | %s / %s = %.2f× | %s / %s = %.2f× | | < 1.3× |\n",
		mb(both(e)), mb(all(e, "a")), float64(both(e))/float64(all(e, "a")), mb(both(s)), mb(all(s, "a")), float64(both(s))/float64(all(s, "a")))
	reusedE, nE := layerBytes(e["b"].layers, digests(e["a"]), true)
	reusedS, nS := layerBytes(s["b"].layers, digests(s["a"]), true)
	fmt.Fprintf(&b, "| b built after a: layers of b already in a (bytes) | %d of %d (%s) | %d of %d (%s) | | |\n",
		nE, len(e["b"].layers), mb(reusedE), nS, len(s["b"].layers), mb(reusedS))
	fmt.Fprintf(&b, "| b built after a: exec steps run / in the build | %d / %d | %d / %d | | |\n", e["b"].ran, e["b"].steps, s["b"].ran, s["b"].steps)
	row("b built after a: wall time", e["b"].wall, s["b"].wall, "")

	fmt.Fprintf(&b, "\nWhere the time went (BuildKit progress: for each kind of step, the wall time during which at least one step of the kind ran; kinds overlap when steps run in parallel):\n\n")
	kinds := map[string]bool{}
	for _, m := range res {
		for _, k := range []string{"a", "a-small", "a-large"} {
			for p := range m[k].phases {
				kinds[p] = true
			}
		}
	}
	fmt.Fprintf(&b, "| step kind | envkit cold | baseline cold | envkit small change | baseline small change | envkit large change | baseline large change |\n|---|---|---|---|---|---|---|\n")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range kinds {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", k, sec(e["a"].phases[k]), sec(s["a"].phases[k]),
			sec(e["a-small"].phases[k]), sec(s["a-small"].phases[k]), sec(e["a-large"].phases[k]), sec(s["a-large"].phases[k]))
	}
	return b.String()
}

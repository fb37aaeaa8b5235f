package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/hack/services"
	"github.com/envkit/envkit/internal/buildkitd"
)

// benchBuild measures envkit build on the demo environment (22 conda
// packages) against the running services, side by side in one run, and
// writes the ## Build section of docs/benchmarks.md.
func benchBuild(ctx context.Context, args []string) error {
	fs, state, _ := flags("bench-build")
	doc := fs.String("doc", "docs/benchmarks.md", "file whose ## Build section is rewritten")
	def := fs.String("definition", "examples/offline/environment.yml", "definition whose channel envkit-fixtures is read from the services' channel server")
	fs.Parse(args)
	env, err := services.Read(*state)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin := filepath.Dir(self)
	tmpl, err := os.ReadFile(*def)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "envkit-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	file := filepath.Join(work, "environment.yml")
	text := string(tmpl)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		return err
	}
	var stops []func()
	// envkitTo runs envkit with its stderr (progress) written to a file.
	envkitTo := func(stderr string, args ...string) (time.Duration, error) {
		f, err := os.Create(stderr)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		start := time.Now()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "envkit"), args...)
		cmd.Env = append(os.Environ(), "ENVKIT_CHANNEL_MIRRORS="+fixtures.ChannelName+"="+env.ChannelURL+"/"+fixtures.ChannelName)
		cmd.Stderr = f
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("envkit %s: %v (progress in %s)", strings.Join(args, " "), err, stderr)
		}
		return time.Since(start), nil
	}
	envkit := func(args ...string) (time.Duration, string, error) {
		start := time.Now()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "envkit"), args...)
		cmd.Env = append(os.Environ(), "ENVKIT_CHANNEL_MIRRORS="+fixtures.ChannelName+"="+env.ChannelURL+"/"+fixtures.ChannelName)
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("envkit %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
		}
		return time.Since(start), string(out), err
	}
	if _, _, err := envkit("lock", file); err != nil {
		return err
	}

	// A fresh buildkitd, so the cold build has no cache at all.
	freshBuilder := func() (string, error) {
		bkState, err := os.MkdirTemp("", "ekbench-")
		if err != nil {
			return "", err
		}
		stops = append(stops, func() {
			buildkitd.Stop(bkState, 20*time.Second)
			os.RemoveAll(bkState)
		})
		return buildkitd.Start(ctx, buildkitd.Config{StateDir: bkState, Binary: filepath.Join(bin, "buildkitd"), DockerHubMirror: env.Registry})
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	addr, err := freshBuilder()
	if err != nil {
		return err
	}

	repo := env.Registry + "/envkit/bench"
	cache := "type=registry,ref=" + repo + ":cache"
	// buildOn returns the wall time, the image digest and the exec steps
	// that ran (not cached).
	buildOn := func(addr, tag string, extra ...string) (time.Duration, string, int, error) {
		meta := filepath.Join(work, tag+".json")
		progress := filepath.Join(work, tag+".progress")
		args := append([]string{"build", file, "--addr", addr, "--progress", "json", "--build-arg", "SOURCE_DATE_EPOCH=1704067200",
			"--output", "type=image,name=" + repo + ":" + tag + ",push=true", "--metadata-file", meta}, extra...)
		d, err := envkitTo(progress, args...)
		if err != nil {
			return 0, "", 0, err
		}
		var m struct {
			Digest string `json:"containerimage.digest"`
		}
		b, err := os.ReadFile(meta)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return 0, "", 0, err
		}
		f, err := os.Open(progress)
		if err != nil {
			return 0, "", 0, err
		}
		defer f.Close()
		ran, _, err := services.ExecSteps(f)
		return d, m.Digest, len(ran), err
	}
	build := func(tag string) (time.Duration, string, error) {
		d, digest, _, err := buildOn(addr, tag)
		return d, digest, err
	}
	cold, digest, coldRan, err := buildOn(addr, "cold", "--cache-to", cache+",mode=max")
	if err != nil {
		return err
	}
	// A CI runner: a builder that never built anything, with the registry
	// cache of the cold build.
	ciAddr, err := freshBuilder()
	if err != nil {
		return err
	}
	imported, importedDigest, importedRan, err := buildOn(ciAddr, "imported", "--cache-from", cache)
	if err != nil {
		return err
	}
	if importedDigest != digest {
		return fmt.Errorf("the build with the imported cache gave %s, the cold build %s", importedDigest, digest)
	}
	// The median of three: a no-op rebuild takes a fraction of a second, so
	// one run on a shared machine says more about the machine.
	var noops []time.Duration
	for i := range 3 {
		d, _, err := build(fmt.Sprintf("noop%d", i))
		if err != nil {
			return err
		}
		noops = append(noops, d)
	}
	slices.Sort(noops)
	noop := noops[1]
	size, layers, err := imageSize(ctx, repo+"@"+digest)
	if err != nil {
		return err
	}
	// Unpinned, envkit-data-01 solves to 1.1; the pin takes it back to 1.0.
	changed := strings.Replace(text, "- envkit-data-01\n", "- envkit-data-01=1.0\n", 1)
	if changed == text {
		return fmt.Errorf("%s no longer lists envkit-data-01 unpinned", *def)
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		return err
	}
	if _, _, err := envkit("lock", file); err != nil {
		return err
	}
	onePkg, _, err := build("onepkg")
	if err != nil {
		return err
	}
	if _, _, err := envkit("build", file, "--addr", addr, "--progress", "quiet", "--push", repo); err != nil {
		return err
	}
	hit, out, err := envkit("build", file, "--addr", addr, "--progress", "quiet", "--push", repo)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "@sha256:") {
		return fmt.Errorf("hash-hit build printed %q", out)
	}

	pct := func(a, b time.Duration) string { return fmt.Sprintf("%.1f%%", 100*a.Seconds()/b.Seconds()) }
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	var b strings.Builder
	fmt.Fprintf(&b, "## Build\n\n")
	fmt.Fprintf(&b, "`make bench` (hack/envkit-dev bench-build) on %s, %d CPUs, measured in one run on %s: the demo environment\n", runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "(examples/offline/environment.yml: python repackaged from Debian, a noarch: python package and 20 data packages, 22 conda packages)\n")
	fmt.Fprintf(&b, "built with `envkit build` (frontend in-process) on a fresh local buildkitd, pushed to the local registry.\n")
	fmt.Fprintf(&b, "Wall times of the whole command; the machine is shared, so compare the ratios.\n\n")
	fmt.Fprintf(&b, "| measure | value | ratio to cold | target |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| cold build (empty BuildKit cache) | %s | 100%% | |\n", sec(cold))
	fmt.Fprintf(&b, "| no-op rebuild (median of 3) | %s | %s | < 5%% |\n", sec(noop), pct(noop, cold))
	fmt.Fprintf(&b, "| one-package-change rebuild (envkit-data-01 1.1 → 1.0) | %s | %s | < 20%% |\n", sec(onePkg), pct(onePkg, cold))
	fmt.Fprintf(&b, "| hash-hit lookup (`--push`, tag exists) | %s | %s | < 1 s |\n", sec(hit), pct(hit, cold))
	fmt.Fprintf(&b, "| fresh builder, registry cache of the cold build imported (`--cache-from`) | %s | %s | |\n", sec(imported), pct(imported, cold))
	fmt.Fprintf(&b, "| exec steps run: cold / with the imported cache | %d / %d | | 0 with the cache |\n", coldRan, importedRan)
	fmt.Fprintf(&b, "| image size (compressed layers) | %.1f MB | | |\n", float64(size)/1e6)
	fmt.Fprintf(&b, "| layers | %d | | ≤ 127 |\n", layers)
	b.WriteString(buildNotes)
	fmt.Print(b.String())
	return replaceSection(*doc, "## Build", b.String())
}

// buildNotes explain the figures; they are part of the section bench-build
// rewrites.
const buildNotes = `
The link steps run on an empty root with the envkit binary as a read-only
mount, which BuildKit keys by content: an in-process ` + "`envkit build`" + ` (binary
from a session-keyed local input) caches them across runs and exports them
with ` + "`--cache-to`" + ` (before that change the same rebuilds took 55% of cold).
Every layer envkit writes carries SOURCE_DATE_EPOCH already, so envkit build
asks the exporter for ` + "`rewrite-timestamp`" + ` only when a definition has custom
steps: rewriting the 24 layers again took 1.1 s of every no-op rebuild
(16.5% of cold before that change). What remains of a no-op rebuild is the
session, the gateway round trips (base image config, lock), and the export
and push of an unchanged image. The one-package change reruns that
package's download and link and the finalize step (integration test
TestOnePackageChangeRebuildsOnlyIt counts them). The imported-cache build
is what a CI runner does: a builder that never built anything, given the
registry cache the cold build exported (` + "`--cache-to type=registry,…,mode=max`" + `),
runs no exec step and gives the same digest (integration test TestBaseMatrix
checks the same on every base); what remains is pulling the cache's
layers and the export.
`

// imageSize sums the compressed layer sizes of an image's manifest.
func imageSize(ctx context.Context, ref string) (int64, int, error) {
	out, err := exec.CommandContext(ctx, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+ref).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("skopeo inspect %s: %w", ref, err)
	}
	var m struct {
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return 0, 0, err
	}
	var total int64
	for _, l := range m.Layers {
		total += l.Size
	}
	return total, len(m.Layers), nil
}

// replaceSection replaces the section starting at heading (up to the next
// "## " heading) in path, or appends it.
func replaceSection(path, heading, section string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := string(b)
	if doc == "" {
		doc = "# Benchmarks\n"
	}
	start := strings.Index(doc, heading+"\n")
	if start < 0 {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + section
	} else {
		end := strings.Index(doc[start+len(heading):], "\n## ")
		rest := ""
		if end >= 0 {
			rest = doc[start+len(heading)+end+1:]
		}
		doc = doc[:start] + section
		if rest != "" {
			doc += "\n" + rest
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

//go:build integration

package integration

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/imagemeta"
)

// Bases of the matrix: the fixtures' Debian base and three without /dev,
// /proc, /sys or /etc (hack/fixtures buildBareImages).
var matrixBases = map[string]string{
	"static":       "docker.io/envkit/static:latest", // FROM scratch, one static binary, no shell
	"busybox-bare": "docker.io/envkit/busybox-bare:latest",
	"opt-link":     "docker.io/envkit/opt-link:latest", // busybox-bare with /opt -> srv/opt
	"debian":       "docker.io/library/debian:bookworm-slim",
}

// baseCell is one build of the matrix: a base, a definition, how it is
// built and whether SOURCE_DATE_EPOCH is given.
type baseCell struct {
	base   string
	def    string // conda (no python off Debian), pip (conda + pip + Spark), run-step
	envkit bool   // envkit build (in-process); else buildctl through # syntax=
	epoch  bool
	// wantErr, when set, is what the build must fail with instead.
	wantErr string
}

func (c baseCell) name() string {
	route := "syntax"
	if c.envkit {
		route = "envkit"
	}
	epoch := "no-epoch"
	if c.epoch {
		epoch = "epoch"
	}
	return strings.Join([]string{c.base, c.def, route, epoch}, "/")
}

// TestBaseMatrix: on every base, two fresh builders give the same image
// manifest digest, no layer envkit writes holds dev/, proc/ or sys/, and a
// fresh builder importing the first one's registry cache runs no exec
// step. ENVKIT_BASE_MATRIX=full (make base-matrix) runs every cell; the
// default runs the cells that cover each base and definition once.
func TestBaseMatrix(t *testing.T) {
	cells := []baseCell{
		{base: "busybox-bare", def: "conda"},
		{base: "busybox-bare", def: "run-step", envkit: true, epoch: true},
		{base: "opt-link", def: "conda", wantErr: "the base image's /opt is a symbolic link (to srv/opt)"},
		{base: "debian", def: "pip", envkit: true},
	}
	if os.Getenv("ENVKIT_BASE_MATRIX") == "full" {
		cells = nil
		for _, base := range []string{"static", "busybox-bare", "opt-link", "debian"} {
			for _, def := range []string{"conda", "pip", "run-step"} {
				switch {
				case def == "pip" && base != "debian": // python needs the base's libc
					continue
				case def == "run-step" && base == "static": // no shell for RUN
					continue
				}
				for _, envkit := range []bool{false, true} {
					for _, epoch := range []bool{false, true} {
						if def == "run-step" && !epoch {
							// A RUN step's own layer is reproducible only with
							// SOURCE_DATE_EPOCH and rewrite-timestamp, as in a Dockerfile.
							continue
						}
						c := baseCell{base: base, def: def, envkit: envkit, epoch: epoch}
						if base == "opt-link" {
							c.wantErr = "the base image's /opt is a symbolic link (to srv/opt)"
						}
						cells = append(cells, c)
					}
				}
			}
		}
	}
	var server string
	for _, c := range cells {
		if c.def == "pip" && server == "" {
			server, _ = pipServer(t)
		}
		t.Run(c.name(), func(t *testing.T) { testBaseCell(t, c, server) })
	}
}

func testBaseCell(t *testing.T, c baseCell, pipIndex string) {
	image := matrixBases[c.base]
	var def string
	switch c.def {
	case "conda":
		if c.base == "debian" {
			def = strings.Replace(helloDefinition(env.channel), "docker.io/library/debian:bookworm-slim", image, 1)
		} else {
			def = fmt.Sprintf("name: bare\nbase:\n  image: %s\nconda:\n  channels:\n    - %s\n  dependencies:\n    - envkit-data-01\n    - envkit-data-02\n", image, env.channel)
		}
	case "pip":
		def = pipDefinition(env.channel, pipIndex, "1.0")
	case "run-step":
		steps := "steps:\n  - RUN mkdir -p /srv/app && echo ok > /srv/app/status\n"
		if c.base == "debian" {
			def = strings.Replace(helloDefinition(env.channel), "conda:\n", steps+"conda:\n", 1)
		} else {
			def = fmt.Sprintf("name: bare\nbase:\n  image: %s\n%sconda:\n  channels:\n    - %s\n  dependencies:\n    - envkit-data-01\n", image, steps, env.channel)
		}
	}
	if !c.envkit {
		def = "# syntax=" + frontendImage(t) + "\n" + def
	}
	dir := writeFiles(t, map[string]string{"environment.yml": def})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	repo := env.Registry + "/envkit/matrix-" + strings.ReplaceAll(c.name(), "/", "-")
	// The cache has a repository of its own: the image and cache exports
	// run at once, and two uploads of one blob to one repository can race
	// in the registry ("provided digest did not match uploaded content").
	cache := repo + "-cache:latest"

	build := func(addr, tag string, cacheOpt ...string) (digest, progress string, err error) {
		meta := filepath.Join(t.TempDir(), "meta.json")
		var tool string
		var args []string
		if c.envkit {
			tool = "envkit"
			args = []string{"build", file, "--addr", addr, "--progress", "json", "--metadata-file", meta,
				"--output", imageOutput(repo + ":" + tag)}
			if c.epoch {
				args = append(args, "--build-arg", "SOURCE_DATE_EPOCH="+epoch)
			}
			for i := 0; i+1 < len(cacheOpt); i += 2 {
				flag := map[string]string{"--export-cache": "--cache-to", "--import-cache": "--cache-from"}[cacheOpt[i]]
				args = append(args, flag, cacheOpt[i+1])
			}
		} else {
			tool = "buildctl"
			output := imageOutput(repo + ":" + tag)
			if c.def == "run-step" {
				// A RUN step's layer, as a Dockerfile's: the client asks the
				// exporter for it (envkit build does by itself).
				output += ",rewrite-timestamp=true"
			}
			args = append([]string{"--addr", addr, "build", "--progress", "rawjson", "--frontend", "dockerfile.v0",
				"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=environment.yml",
				"--output", output, "--metadata-file", meta}, cacheOpt...)
			if c.epoch {
				args = append(args, "--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch)
			}
		}
		_, stderr, err := runErr(15*time.Minute, nil, tool, args...)
		if err != nil {
			return "", stderr, err
		}
		return metadataDigest(t, meta), stderr, nil
	}

	a, progress, err := build(freshBuilder(t), "a", "--export-cache", "type=registry,ref="+cache+",mode=max")
	if c.wantErr != "" {
		if err == nil {
			t.Fatalf("the build succeeded (%s); want it to fail with %q", a, c.wantErr)
		}
		if !strings.Contains(progressLogs(t, progress), c.wantErr) {
			t.Fatalf("the build failed without saying %q:\n%s", c.wantErr, tail(progress, 30))
		}
		return
	}
	if err != nil {
		t.Fatalf("builder A: %v\n%s", err, tail(progress, 40))
	}
	b, progress, err := build(freshBuilder(t), "b")
	if err != nil {
		t.Fatalf("builder B: %v\n%s", err, tail(progress, 40))
	}
	if a != b {
		t.Errorf("two fresh builders: %s and %s", a, b)
	}
	want := time.Unix(0, 0)
	if c.epoch {
		want = time.Unix(1704067200, 0)
	}
	for _, problem := range envkitLayerProblems(t, repo+"@"+a, want) {
		t.Error(problem)
	}
	d, progress, err := build(freshBuilder(t), "c", "--import-cache", "type=registry,ref="+cache)
	if err != nil {
		t.Fatalf("builder C (cache import): %v\n%s", err, tail(progress, 40))
	}
	if d != a {
		t.Errorf("builder C with A's cache: %s, A: %s", d, a)
	}
	ran, cached := execSteps(t, progress)
	if len(ran) > 0 {
		t.Errorf("builder C ran %d exec steps despite A's cache: %s", len(ran), strings.Join(ran, "; "))
	}
	if cached == 0 {
		t.Errorf("builder C reports no cached exec step: the cache import did nothing")
	}
}

// envkitLayerProblems reads ref's image from the registry (skopeo) and
// lists what a builder could have put into it of its own: a dev/, proc/ or
// sys/ entry, or an mtime other than the epoch, in a layer envkit writes
// (history comments of imagemeta); a created time other than the epoch in
// the config or envkit's history entries.
func envkitLayerProblems(t *testing.T, ref string, epoch time.Time) []string {
	t.Helper()
	layout := t.TempDir()
	cmd := execIn(t.Context(), ".", "skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://"+ref, "oci:"+layout+":x")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy %s: %v\n%s", ref, err, out)
	}
	readJSON := func(d string, v any) {
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	var idx ocispecs.Index
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil || json.Unmarshal(b, &idx) != nil || len(idx.Manifests) != 1 {
		t.Fatalf("%s: no single manifest in the layout (%v)", ref, err)
	}
	var m ocispecs.Manifest
	readJSON(idx.Manifests[0].Digest.String(), &m)
	var cfg ocispecs.Image
	readJSON(m.Config.Digest.String(), &cfg)
	var problems []string
	if cfg.Created == nil || !cfg.Created.Equal(epoch) {
		problems = append(problems, fmt.Sprintf("config created %v, want %v", cfg.Created, epoch.UTC()))
	}
	envkit := map[string]bool{imagemeta.CondaPackageLayer: true, imagemeta.CondaEnvironment: true,
		imagemeta.PipPackageLayer: true, imagemeta.SparkLayer: true}
	layer := 0
	for _, h := range cfg.History {
		desc := ocispecs.Descriptor{}
		if !h.EmptyLayer {
			if layer >= len(m.Layers) {
				t.Fatalf("%s: more history entries with layers than layers", ref)
			}
			desc = m.Layers[layer]
			layer++
		}
		if !envkit[h.Comment] {
			continue
		}
		if h.Created == nil || !h.Created.Equal(epoch) {
			problems = append(problems, fmt.Sprintf("history %q created %v, want %v", h.CreatedBy, h.Created, epoch.UTC()))
		}
		if h.EmptyLayer {
			continue
		}
		for _, e := range layerEntries(t, filepath.Join(layout, "blobs", "sha256", desc.Digest.Encoded()), desc.MediaType) {
			if top, _, _ := strings.Cut(path.Clean(e.Name), "/"); top == "dev" || top == "proc" || top == "sys" {
				problems = append(problems, fmt.Sprintf("%s in the layer of %q", e.Name, h.CreatedBy))
			}
			if !e.ModTime.Equal(epoch) {
				problems = append(problems, fmt.Sprintf("%s has mtime %v in the layer of %q, want %v", e.Name, e.ModTime.UTC(), h.CreatedBy, epoch.UTC()))
			}
		}
	}
	return problems
}

// progressLogs is the output of every step in BuildKit's JSON progress,
// and the progress itself (where the client's error is).
func progressLogs(t *testing.T, progress string) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(progress))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ss client.SolveStatus
		if json.Unmarshal(sc.Bytes(), &ss) != nil {
			b.WriteString(sc.Text() + "\n")
			continue
		}
		for _, l := range ss.Logs {
			b.Write(l.Data)
		}
	}
	return b.String()
}

func layerEntries(t *testing.T, blob, mediaType string) []*tar.Header {
	t.Helper()
	f, err := os.Open(blob)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(mediaType, "gzip") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	var entries []*tar.Header
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatalf("%s: %v", blob, err)
		}
		entries = append(entries, h)
	}
}

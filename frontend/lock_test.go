package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/solver/pb"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/spec"
)

const pipEnv = `base:
  image: busybox:1.36
conda:
  channels:
    - http://127.0.0.1:8000/test-recipes
  dependencies:
    - python
    - pip:
      - --index-url http://127.0.0.1:8001/simple
      - colour-util==1.0
spark:
  repositories: [http://127.0.0.1:8002/maven2]
  packages:
    - {group: org.demo, artifact: util, version: "1.0"}
  precache: true
`

var (
	colourUtil = lock.Package{Name: "colour-util", Version: "1.0", Manager: lock.Pip, Platform: "linux-64", Category: "main",
		URL: "http://127.0.0.1:8001/files/colour_util-1.0-py3-none-any.whl", Hash: lock.Hash{SHA256: strings.Repeat("a", 64)}}
	utilJar = maven.Jar{Coordinate: maven.Coordinate{Group: "org.demo", Artifact: "util", Version: "1.0"},
		URL: "http://127.0.0.1:8002/maven2/org/demo/util/1.0/util-1.0.jar", SHA256: strings.Repeat("b", 64)}
)

// pipLockFor is the lock envkit lock writes for pipEnv: python, the pip
// pin and the Spark jar.
func pipLockFor(t *testing.T, definition string, wheel lock.Package) []byte {
	t.Helper()
	def, err := spec.Parse("environment.yml", []byte(definition), nil)
	if err != nil {
		t.Fatal(err)
	}
	lk := &lock.Lock{
		Metadata: lock.Metadata{
			ContentHash: map[string]string{"linux-64": lock.ContentHash(buildplan.LockInputs(def, buildplan.Options{}), "linux-64")},
			Channels:    []lock.Channel{{URL: "http://127.0.0.1:8000/test-recipes"}},
			Platforms:   []string{"linux-64"},
			Sources:     []string{"environment.yml"},
			Custom:      maven.ToCustom(nil, []maven.Jar{utilJar}),
		},
		Packages: append(lock.FromRecords("linux-64", testRecipes(t, "python-3.99.99-0.conda")), wheel),
	}
	dt, err := lk.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// solvedNames lists the vertex names of a solved definition.
func solvedNames(t *testing.T, def *pb.Definition) string {
	t.Helper()
	var names []string
	for _, m := range def.Metadata {
		if n := m.Description["llb.customname"]; n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, "\n")
}

func TestBuildPipAndSparkFromLock(t *testing.T) {
	g := condaGateway(t, pipEnv, pipLockFor(t, pipEnv, colourUtil), nil)
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	srcs := strings.Join(sources(t, g.solves[0]), "\n")
	for _, want := range []string{colourUtil.URL, utilJar.URL} {
		if !strings.Contains(srcs, want) {
			t.Errorf("sources lack %s:\n%s", want, srcs)
		}
	}
	if names := solvedNames(t, g.solves[0]); !strings.Contains(names, "[pip 1/1] install colour-util 1.0") || !strings.Contains(names, "[spark] copy 1 jars") {
		t.Errorf("vertices:\n%s", names)
	}
	img := imageOf(t, res, exptypes.ExporterImageConfigKey)
	if !contains(img.Config.Env, "SPARK_CONF_DIR=/opt/conda/share/envkit/spark/conf") {
		t.Errorf("env %v: want SPARK_CONF_DIR", img.Config.Env)
	}
	// The image key covers the pins: another wheel, another lock hash.
	other := colourUtil
	other.Hash.SHA256 = strings.Repeat("c", 64)
	g2 := condaGateway(t, pipEnv, pipLockFor(t, pipEnv, other), nil)
	res2, err := Build(context.Background(), g2)
	if err != nil {
		t.Fatal(err)
	}
	a := img.Config.Labels["dev.envkit.lock-hash"]
	if b := imageOf(t, res2, exptypes.ExporterImageConfigKey).Config.Labels["dev.envkit.lock-hash"]; a == "" || a == b {
		t.Errorf("lock hashes %q and %q: a changed wheel must change the image key", a, b)
	}
}

func TestBuildPipLockProblems(t *testing.T) {
	cases := []struct {
		name string
		lock []byte
		want []string
	}{
		{"no lock", nil, []string{"environment.yml:9:", "pip packages need conda-lock.yml", "run envkit lock environment.yml", "environment.yml:12:", "precached Spark packages need conda-lock.yml"}},
		{"pip line changed", pipLockFor(t, strings.Replace(pipEnv, "colour-util==1.0", "colour-util==1.1", 1), colourUtil), []string{"conda-lock.yml: stale for linux-64"}},
		{"spark package changed", pipLockFor(t, strings.Replace(pipEnv, `version: "1.0"`, `version: "1.1"`, 1), colourUtil), []string{"conda-lock.yml: stale for linux-64"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := condaGateway(t, pipEnv, tc.lock, nil)
			testRecipesChannel(t, g)
			_, err := Build(context.Background(), g)
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want one containing %q", err, want)
				}
			}
			if len(g.solves) != 0 {
				t.Errorf("%d solves despite the error", len(g.solves))
			}
		})
	}
}

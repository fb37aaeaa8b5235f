package llb

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"

	"github.com/envkit/envkit/internal/maven"
)

// lockedWheels are pip pins as a lock gives them (served on 127.0.0.1).
func lockedWheels(versions ...string) []Wheel {
	names := []string{"requests", "colour-util", "greet"}
	var out []Wheel
	for i, v := range versions {
		fn := strings.ReplaceAll(names[i], "-", "_") + "-" + v + "-py3-none-any.whl"
		out = append(out, Wheel{Name: names[i], Version: v, URL: "http://127.0.0.1:8001/files/" + fn, SHA256: fmt.Sprintf("%064x", i*1000+len(v)*7+int(v[0]))})
	}
	return out
}

func sparkSection() *Spark {
	c := maven.Coordinate{Group: "org.demo", Artifact: "util", Version: "1.0"}
	return &Spark{
		Roots: []maven.Coordinate{c}, Repositories: []string{"http://127.0.0.1:8002/maven2"}, Precache: true,
		Jars: []maven.Jar{
			{Coordinate: c, URL: "http://127.0.0.1:8002/maven2/org/demo/util/1.0/util-1.0.jar", SHA256: strings.Repeat("c", 64)},
			{Coordinate: maven.Coordinate{Group: "org.demo", Artifact: "core", Version: "2.1"}, URL: "http://127.0.0.1:8002/maven2/org/demo/core/2.1/core-2.1.jar", SHA256: strings.Repeat("d", 64), RequiredBy: c.String()},
		},
	}
}

func pipEnvironment(t *testing.T, versions ...string) Environment {
	return Environment{
		BaseImage: "busybox:1.36", Prefix: "/opt/conda",
		Packages: testRecipes(t, lockedPackages...),
		Wheels:   lockedWheels(versions...),
		Env:      []EnvVar{{"LANG", "C.UTF-8"}},
	}
}

// Golden LLB of conda + pip + Spark: one install step per wheel on the
// finalized environment, one Spark layer, merged onto it.
func TestGoldenPipSpark(t *testing.T) {
	env := pipEnvironment(t, "2.32.3", "1.0", "2.0")
	env.Spark = sparkSection()
	opts := baseOptions(amd64)
	res, text, cfg := goldenBuild(t, env, opts)
	compareGolden(t, filepath.Join("testdata", "pip-spark.golden"), fmt.Sprintf("=== LLB\n%s=== image config\n%s\n", text, cfg))
	if got := lookupEnv(res.Image.Config.Env, "SPARK_CONF_DIR"); got != "/opt/conda/share/envkit/spark/conf" {
		t.Errorf("SPARK_CONF_DIR=%q", got)
	}
	var comments []string
	for _, h := range res.Image.History {
		comments = append(comments, h.Comment)
	}
	if got := strings.Join(comments[len(comments)-5:], "|"); got != "envkit conda environment|envkit pip package layer|envkit pip package layer|envkit pip package layer|envkit Spark layer" {
		t.Errorf("history ends %s", got)
	}
}

// A changed pip pin changes that wheel's download and install and the
// merge, nothing of the conda part or the other wheels; adding a wheel
// leaves the others' steps as they were.
func TestChangingOneWheelChangesOnlyItsVertices(t *testing.T) {
	before := opDigests(t, pipEnvironment(t, "2.32.3", "1.0"), baseOptions(amd64))
	after := opDigests(t, pipEnvironment(t, "2.32.3", "1.1"), baseOptions(amd64))
	want := []string{
		"", // the definition's terminal vertex
		"[envkit] merge 2 pip and Spark layers",
		"[pip 1/2] download colour-util 1.1 (colour_util-1.1-py3-none-any.whl)",
		"[pip 1/2] install colour-util 1.1",
	}
	if got := changedVertices(before, after); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changed vertices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	added := opDigests(t, pipEnvironment(t, "2.32.3", "1.0", "2.0"), baseOptions(amd64))
	for _, name := range changedVertices(before, added) {
		if strings.Contains(name, "requests") || strings.Contains(name, "colour-util") {
			t.Errorf("adding greet changed %q", name)
		}
	}
}

func TestSplitBudget(t *testing.T) {
	for _, tc := range []struct{ conda, wheels, budget, wantConda, wantWheels int }{
		{10, 5, 100, 95, 5},     // within: one layer each
		{60, 40, 100, 60, 40},   // exactly the budget
		{90, 40, 100, 80, 20},   // over: wheels get a fifth
		{90, 5, 100, 95, 5},     // over, few wheels: one layer each
		{10, 300, 100, 10, 90},  // over, few conda packages: wheels get the rest
		{150, 300, 100, 80, 20}, // both over
		{3, 3, 2, 1, 1},
	} {
		c, w := splitBudget(tc.conda, tc.wheels, tc.budget)
		if c != tc.wantConda || w != tc.wantWheels {
			t.Errorf("splitBudget(%d, %d, %d) = %d, %d, want %d, %d", tc.conda, tc.wheels, tc.budget, c, w, tc.wantConda, tc.wantWheels)
		}
	}
}

// Beyond the budget wheels share layers; a changed pin reruns only its
// group.
func TestWheelLayersAreBounded(t *testing.T) {
	opts := baseOptions(amd64)
	opts.PackageLayers = 10
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: testRecipes(t, lockedPackages...)}
	for i := range 30 {
		env.Wheels = append(env.Wheels, Wheel{Name: fmt.Sprintf("pkg%02d", i), Version: "1.0", URL: fmt.Sprintf("http://127.0.0.1:1/pkg%02d-1.0-py3-none-any.whl", i), SHA256: fmt.Sprintf("%064x", i+1)})
	}
	res, err := Build(context.Background(), env, opts)
	if err != nil {
		t.Fatal(err)
	}
	layers := 0
	for _, h := range res.Image.History {
		if h.Comment == "envkit conda package layer" || h.Comment == "envkit pip package layer" {
			layers++
		}
	}
	if layers > 10 {
		t.Errorf("%d package layers for a budget of 10", layers)
	}
	before := opDigests(t, env, opts)
	env.Wheels[7].Version, env.Wheels[7].SHA256 = "1.1", strings.Repeat("e", 64)
	installs := 0
	for _, name := range changedVertices(before, opDigests(t, env, opts)) {
		if strings.Contains(name, "] install ") {
			installs++
			if !strings.Contains(name, "pkg07 1.1") {
				t.Errorf("changed install step %q does not install pkg07 1.1", name)
			}
		}
	}
	if installs != 1 {
		t.Errorf("a changed pin reran %d install steps, want its group's one", installs)
	}
}

func TestPipBuildErrors(t *testing.T) {
	fileURL := lockedWheels("1.0")
	fileURL[0].URL = "file:///srv/wheels/requests-1.0-py3-none-any.whl"
	noSHA := lockedWheels("1.0")
	noSHA[0].SHA256 = ""
	sdist := lockedWheels("1.0")
	sdist[0].URL = "http://127.0.0.1:1/requests-1.0.tar.gz"
	local := lockedWheels("1.0")
	local[0].URL = "wheels/requests-1.0-py3-none-any.whl"
	cases := []struct {
		name string
		env  Environment
		want string
	}{
		{"file url", Environment{Wheels: fileURL}, "http and https only"},
		{"local wheel without a context", Environment{Wheels: local}, "pip package requests 1.0: wheels/requests-1.0-py3-none-any.whl is a wheel file of the build context, and this build has none"},
		{"no sha256", Environment{Wheels: noSHA}, "gives no sha256"},
		{"not a wheel", Environment{Wheels: sdist}, "is not a wheel"},
		{"no conda", Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Wheels: lockedWheels("1.0")}, "has no conda packages"},
		{"no python", Environment{Packages: testRecipes(t, "dependency-1.0-0.conda"), Wheels: lockedWheels("1.0")}, "need python"},
		{"precache without jars", Environment{Packages: testRecipes(t, lockedPackages...), Spark: &Spark{Precache: true}}, "no jars are locked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			env.BaseImage, env.Prefix = "busybox:1.36", "/opt/conda"
			if env.Packages == nil && tc.name != "no conda" {
				env.Packages = testRecipes(t, lockedPackages...)
			}
			_, err := Build(context.Background(), env, baseOptions(amd64))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// A wheel file of the build context is copied from it (the files the
// lock names, no more) into the wheel's own install step, as a download
// would be; the link step checks its sha256.
func TestLocalWheelFromContext(t *testing.T) {
	env := pipEnvironment(t, "2.32.3")
	env.Wheels = append(env.Wheels, Wheel{Name: "my-model", Version: "0.3", URL: "wheels/my_model-0.3-py3-none-any.whl", SHA256: strings.Repeat("e", 64)})
	opts := baseOptions(amd64)
	var asked []string
	opts.Context = func(p string) (llb.State, error) {
		asked = append(asked, p)
		return llb.Local("context", llb.FollowPaths([]string{p})), nil
	}
	_, text, _ := goldenBuild(t, env, opts)
	compareGolden(t, filepath.Join("testdata", "pip-local-wheel.golden"), text)
	if len(asked) != 1 || asked[0] != "wheels/my_model-0.3-py3-none-any.whl" {
		t.Errorf("context asked for %q", asked)
	}
	for _, want := range []string{"[pip 1/2] copy my-model 0.3 (wheels/my_model-0.3-py3-none-any.whl) from the context", "--wheel /wheels/my_model-0.3-py3-none-any/my_model-0.3-py3-none-any.whl#sha256=" + strings.Repeat("e", 64)} {
		if !strings.Contains(text, want) {
			t.Errorf("LLB lacks %q", want)
		}
	}
}

// BenchmarkBuild50Wheels is the conversion and marshalling of a
// 6-package conda environment with 50 pip wheels and a Spark layer: what
// the pip part adds to the frontend's work before the solve.
func BenchmarkBuild50Wheels(b *testing.B) {
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: testRecipes(b, lockedPackages...), Spark: sparkSection()}
	for i := range 50 {
		env.Wheels = append(env.Wheels, Wheel{Name: fmt.Sprintf("project-%02d", i), Version: "1.0." + fmt.Sprint(i),
			URL: fmt.Sprintf("https://files.pythonhosted.org/packages/xx/project_%02d-1.0.%d-py3-none-any.whl", i, i), SHA256: fmt.Sprintf("%064x", i+1)})
	}
	benchmarkBuildEnvironment(b, env)
}

// In a multi-platform build each platform installs the wheels on its own
// environment (vertex names carry the platform); the downloads are one op
// for every platform.
func TestWheelsAcrossPlatforms(t *testing.T) {
	env := pipEnvironment(t, "2.32.3", "1.0")
	a, b := baseOptions(amd64), baseOptions(arm64)
	a.MultiPlatform, b.MultiPlatform = true, true
	shared := map[string]bool{}
	x, y := opDigests(t, env, a), opDigests(t, env, b)
	for d, name := range y {
		if _, ok := x[d]; ok && strings.HasPrefix(name, "[pip") {
			shared[name] = true
		}
	}
	want := []string{"[pip 1/2] download colour-util 1.0 (colour_util-1.0-py3-none-any.whl)", "[pip 2/2] download requests 2.32.3 (requests-2.32.3-py3-none-any.whl)"}
	if len(shared) != 2 || !shared[want[0]] || !shared[want[1]] {
		t.Errorf("pip vertices shared across platforms: %v, want the downloads %q", shared, want)
	}
	found := false
	for _, name := range y {
		found = found || name == "[linux/arm64 pip 1/2] install colour-util 1.0"
	}
	if !found {
		t.Errorf("no arm64 install vertex named with its platform: %v", y)
	}
}

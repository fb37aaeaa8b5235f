//go:build integration

package integration

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/services"
)

// TestOnePackageChangeRebuildsOnlyIt builds the offline example, changes
// one package's pin and builds again on the same builder: each package is
// its own download and link step keyed on that package alone, so only the
// changed package is downloaded and linked again, and the finalize step
// (which sees the whole environment) reruns.
func TestOnePackageChangeRebuildsOnlyIt(t *testing.T) {
	// The fixture channel behind a server of the test's own, which records
	// the archives BuildKit fetches: a download step that shows in the
	// progress may only have computed its key (the sha256 pin).
	channel, fetched := recordingChannel(t)
	def := offlineExample(t, channel)
	const from, to = "    - envkit-data-01\n", "    - envkit-data-01=1.0\n"
	if !strings.Contains(def, from) {
		t.Fatalf("examples/offline/environment.yml no longer lists %q", strings.TrimSpace(from))
	}
	def = strings.Replace(def, from, to, 1)
	dir := writeFiles(t, map[string]string{"environment.yml": def})
	file := filepath.Join(dir, "environment.yml")
	// A builder of its own, so that no earlier test has cached a step.
	addr := freshBuilder(t)
	build := func(tag string) string {
		t.Helper()
		run(t, 2*time.Minute, "envkit", "lock", file)
		args := []string{"build", file, "--addr", addr, "--progress", "json",
			"--build-arg", "SOURCE_DATE_EPOCH=" + epoch,
			"--output", imageOutput(env.Registry + "/envkit/one-change:" + tag)}
		_, stderr, err := runErr(15*time.Minute, nil, "envkit", args...)
		if err != nil {
			t.Fatalf("envkit %s: %v\n%s", strings.Join(args, " "), err, tail(stderr, 40))
		}
		return stderr
	}
	build("1.0")
	if got := fetched(); len(got) < 22 {
		t.Fatalf("first build fetched %d archives, want every package's (22): %q", len(got), got)
	}

	if err := os.WriteFile(file, []byte(strings.Replace(def, to, "    - envkit-data-01=1.1\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := stepsOf(t, build("1.1"))

	if got, want := fetched(), []string{"envkit-data-01-1.1-0.tar.bz2"}; !slices.Equal(got, want) {
		t.Errorf("second build fetched %q, want only %q", got, want)
	}
	wantRan := []string{"finalize environment", "link envkit-data-01 1.1"}
	var ran []string
	links, downloads := 0, 0
	for _, s := range steps {
		kind := stepKind(s.Name)
		switch kind {
		case "":
			continue
		case "link":
			links++
		case "download":
			downloads++
			continue
		}
		if s.Ran() {
			ran = append(ran, kind+stepSubject(s.Name))
		}
	}
	slices.Sort(ran)
	if !slices.Equal(ran, wantRan) {
		t.Errorf("second build ran %q, want only %q", ran, wantRan)
	}
	// The example locks 22 packages: a download and a link step each.
	if links != 22 || downloads != 22 {
		t.Errorf("second build shows %d link and %d download steps, want one per package (22)", links, downloads)
	}
	t.Logf("second build: %d link and %d download steps, ran %q", links, downloads, ran)
}

// recordingChannel serves the fixture channel on 127.0.0.1 and returns its
// URL and a function that returns (and forgets) the package archives
// fetched since its last call, sorted.
func recordingChannel(t *testing.T) (string, func() []string) {
	t.Helper()
	const name = "envkit-fixtures"
	files := http.StripPrefix("/"+name, http.FileServer(http.Dir(filepath.Join(env.fixtures, "channel"))))
	var mu sync.Mutex
	var archives []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if base := path.Base(r.URL.Path); strings.HasSuffix(base, ".tar.bz2") || strings.HasSuffix(base, ".conda") {
			mu.Lock()
			archives = append(archives, base)
			mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + name, func() []string {
		mu.Lock()
		defer mu.Unlock()
		got := archives
		archives = nil
		slices.Sort(got)
		return got
	}
}

// stepsOf reads BuildKit's JSON progress into its vertices, in order of
// first appearance (services.Vertices); a progress without any fails.
func stepsOf(t *testing.T, progress string) []services.Vertex {
	t.Helper()
	steps, err := services.Vertices(strings.NewReader(progress))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 {
		t.Fatalf("no vertices in the progress:\n%s", tail(progress, 20))
	}
	return steps
}

// stepKind tells envkit's conda steps apart by their names
// ("[conda 3/25] link NAME VERSION", "[conda 3/25] download NAME VERSION",
// "[conda] finalize environment (...)"); "" for any other vertex.
func stepKind(name string) string {
	for _, kind := range []string{"link", "download"} {
		if strings.Contains(name, "] "+kind+" ") {
			return kind
		}
	}
	if strings.Contains(name, "finalize environment") {
		return "finalize environment"
	}
	return ""
}

// stepSubject is the "NAME VERSION" of a link or download step, with a
// leading space; "" for the finalize step.
func stepSubject(name string) string {
	for _, kind := range []string{"] link ", "] download "} {
		if i := strings.Index(name, kind); i >= 0 {
			return " " + name[i+len(kind):]
		}
	}
	return ""
}

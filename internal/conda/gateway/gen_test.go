package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/conda/virtual"
)

// genChannel writes a generated channel (linux-64 and noarch) to dir in
// form and returns its package names, index order. Name i depends on a
// few names below it, mostly low ones (core libraries are what most
// packages need), and its records constrain one anywhere: a dependency graph with
// conda-forge's shape at any size. The same arguments give the same
// bytes.
func genChannel(t testing.TB, dir string, form shards.Form, names, perName int, seed uint64) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	all := make([]string, names)
	for i := range all {
		all[i] = fmt.Sprintf("pkg%05d", i)
	}
	bySubdir := map[string]map[string]map[string]shards.Raw{"linux-64": {}, "noarch": {}}
	for i, name := range all {
		subdir := "linux-64"
		if i%3 == 2 {
			subdir = "noarch"
		}
		// A name's builds share their dependencies, newer versions adding
		// one, as real packages do.
		var needs []string
		if i > 0 {
			for range 1 + rng.IntN(5) {
				// Skewed towards 0: most packages need the core ones.
				needs = append(needs, all[int(math.Pow(rng.Float64(), 3)*float64(i))])
			}
		}
		recs := map[string]shards.Raw{}
		n := 2 + rng.IntN(perName*2)
		for k := range n {
			version := fmt.Sprintf("1.%d.%d", k/3, k%3)
			build := fmt.Sprintf("h%06x_%d", rng.Uint32()>>8, k%2)
			var deps []any
			for d, name := range needs {
				if d < len(needs)-1 || k >= n/2 {
					deps = append(deps, fmt.Sprintf("%s >=1.0.%d", name, rng.IntN(2)))
				}
			}
			if subdir == "linux-64" && k%4 == 0 {
				deps = append(deps, "__glibc >=2.17")
			}
			sum := sha256.Sum256([]byte(name + version + build))
			r := shards.Raw{
				"name": name, "version": version, "build": build,
				"build_number": json.Number(fmt.Sprint(k % 2)),
				"depends":      deps, "constrains": []any{fmt.Sprintf("%s <9", all[rng.IntN(names)])},
				"license": "MIT", "subdir": subdir, "sha256": hex.EncodeToString(sum[:]),
				"size":      json.Number(fmt.Sprint(1000 + rng.IntN(1<<20))),
				"timestamp": json.Number(fmt.Sprint(1600000000000 + int64(k)*1000)),
			}
			if deps == nil {
				r["depends"] = []any{}
			}
			ext := ".tar.bz2"
			if k%2 == 0 {
				ext = ".conda"
			}
			recs[name+"-"+version+"-"+build+ext] = r
		}
		bySubdir[subdir][name] = recs
	}
	for _, subdir := range []string{"linux-64", "noarch"} {
		w, err := shards.NewSubdirWriter(dir, subdir, form)
		if err != nil {
			t.Fatal(err)
		}
		byName := bySubdir[subdir]
		for _, name := range all {
			if recs, ok := byName[name]; ok {
				if err := w.Add(name, recs); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

// server serves a directory and counts requests by path.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func serve(t testing.TB, dir string) *server {
	s := &server{}
	files := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Path)
		s.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// paths returns the paths requested so far and forgets them.
func (s *server) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.requests
	s.requests = nil
	return out
}

func testChannel(name, location string) channel.Channel {
	return channel.Channel{Name: name, URL: "https://conda.example/" + name, Location: strings.TrimRight(location, "/")}
}

// noVirtual is linux-64's virtual packages without overrides.
func noVirtual(t testing.TB) []repodata.Record {
	vp, err := virtual.Packages("linux-64", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

// solution solves specs over records and gives one line per record, or
// the error: what a lock would hold.
func solution(chans []string, records [][]repodata.Record, specs []string) string {
	recs, _, err := solve.Solve(repodata.NewIndex(chans, records...), specs, solve.Options{Platform: "linux-64"})
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintln(&b, r.Channel, r.Subdir, r.Filename, r.URL, r.SHA256)
	}
	return b.String()
}

// flatten sorts records by channel, subdir and filename, for comparing
// loads that slice them differently.
func flatten(records [][]repodata.Record) []repodata.Record {
	var out []repodata.Record
	for _, rs := range records {
		out = append(out, rs...)
	}
	slices.SortFunc(out, func(a, b repodata.Record) int {
		return strings.Compare(a.Channel+" "+a.Subdir+" "+a.Filename, b.Channel+" "+b.Subdir+" "+b.Filename)
	})
	return out
}

func load(t testing.TB, g *Gateway, chans []channel.Channel, specs []string) *Result {
	t.Helper()
	res, err := g.Load(context.Background(), Request{Channels: chans, Platform: "linux-64", Specs: specs, Virtual: noVirtual(t)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conformance"
)

// writeSubdir writes name → records (each a filename → record) as one
// channel subdir in form.
func writeSubdir(t *testing.T, dir, subdir string, form shards.Form, byName map[string]map[string]shards.Raw) {
	t.Helper()
	w, err := shards.NewSubdirWriter(dir, subdir, form)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range byName {
			if !yield(n) {
				return
			}
		}
	}) {
		if err := w.Add(name, byName[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func rec(subdir, name string, depends, constrains []any) map[string]shards.Raw {
	return map[string]shards.Raw{name + "-1.0-0.tar.bz2": {
		"name": name, "version": "1.0", "build": "0", "build_number": json.Number("0"),
		"subdir": subdir, "depends": depends, "constrains": constrains,
	}}
}

// TestClosure: a name reached only through a dependency of a dependency
// is read; a name only constrained, and what only it depends on, is
// not; virtual names are never fetched. Both forms, the same records.
func TestClosure(t *testing.T) {
	for _, form := range []shards.Form{shards.Sharded, shards.Monolithic} {
		t.Run(fmt.Sprint(form), func(t *testing.T) {
			dir := t.TempDir()
			writeSubdir(t, dir, "linux-64", form, map[string]map[string]shards.Raw{
				"a": rec("linux-64", "a", []any{"b >=1"}, []any{"d <2"}),
				"c": rec("linux-64", "c", []any{"__glibc >=2.17"}, nil),
				"d": rec("linux-64", "d", []any{"e"}, nil),
			})
			writeSubdir(t, dir, "noarch", form, map[string]map[string]shards.Raw{
				"b": rec("noarch", "b", []any{"c"}, nil),
				"e": rec("noarch", "e", nil, nil),
				"f": rec("noarch", "f", []any{"a"}, nil),
			})
			srv := serve(t, dir)
			res := load(t, &Gateway{}, []channel.Channel{testChannel("ch", srv.URL)}, []string{"a >=1"})
			var got []string
			for _, r := range flatten(res.Records[:2]) {
				got = append(got, r.Name)
			}
			if !slices.Equal(got, []string{"a", "c", "b"}) { // linux-64 first
				t.Fatalf("records of %v, want a, b, c", got)
			}
			if res.Stats.Names != 3 || res.Stats.Records != 3 {
				t.Fatalf("stats %+v", res.Stats)
			}
			if !reflect.DeepEqual(res.Records[2], noVirtual(t)) {
				t.Fatal("virtual packages not passed through")
			}
			var shardsFetched int
			for _, p := range srv.paths() {
				if strings.Contains(p, "/shards/") {
					shardsFetched++
				}
			}
			if form == shards.Sharded && shardsFetched != 3 {
				t.Fatalf("%d shards fetched, want those of a, b, c", shardsFetched)
			}
		})
	}
}

// TestClosureBatches: each batch is the names one step further from the
// roots, each name once; a dependency that does not parse is followed
// by its first word (the name the solver looks up for it).
func TestClosureBatches(t *testing.T) {
	deps := map[string][]string{
		"root":  {"x >=1", "y", "__cuda", "py* >=1"},
		"x":     {"y <2", "z[version='>=1']", "conda-forge::w"},
		"y":     {"x", "bad ==="},
		"z":     {},
		"w":     {"root"},
		"bad":   {"deep"},
		"other": {"never"},
	}
	var batches [][]string
	names, err := Closure([]string{"root", "root", "__glibc"}, func(batch []string) ([]string, error) {
		batches = append(batches, slices.Clone(batch))
		var out []string
		for _, n := range batch {
			out = append(out, deps[n]...)
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"root"}, {"x", "y"}, {"z", "w", "bad"}, {"deep"}}
	if !reflect.DeepEqual(batches, want) {
		t.Fatalf("batches %q, want %q", batches, want)
	}
	if !slices.Equal(names, []string{"bad", "deep", "root", "w", "x", "y", "z"}) {
		t.Fatalf("names %q", names)
	}
}

// fullLoad reads every record, as envkit did before the gateway.
func fullLoad(t testing.TB, chans []channel.Channel) [][]repodata.Record {
	records, err := (&fetch.Client{}).LoadRecords(context.Background(), chans, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	return append(records, noVirtual(t))
}

// TestShardedEqualsMonolithic: on a generated channel written both ways,
// the two forms load the same records, and solves over them and over
// the whole channel give the same solution.
func TestShardedEqualsMonolithic(t *testing.T) {
	dir := t.TempDir()
	names := genChannel(t, filepath.Join(dir, "sharded"), shards.Sharded, 800, 5, 3)
	genChannel(t, filepath.Join(dir, "monolithic"), shards.Monolithic, 800, 5, 3)
	srv := serve(t, dir)
	sharded := []channel.Channel{testChannel("big", srv.URL+"/sharded")}
	mono := []channel.Channel{testChannel("big", srv.URL+"/monolithic")}
	full := fullLoad(t, mono)
	chans := []string{sharded[0].URL}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 6 {
		var specs []string
		for range 1 + rng.IntN(8) {
			specs = append(specs, names[rng.IntN(len(names))])
		}
		a := load(t, &Gateway{}, sharded, specs)
		b := load(t, &Gateway{}, mono, specs)
		if !reflect.DeepEqual(relative(a.Records, sharded[0]), relative(b.Records, mono[0])) {
			t.Fatalf("%q: sharded and monolithic load different records (%d, %d)", specs, a.Stats.Records, b.Stats.Records)
		}
		if a.Stats.Sharded != 2 || b.Stats.Monolithic != 2 {
			t.Fatalf("stats %+v, %+v", a.Stats, b.Stats)
		}
		got, want := solution(chans, b.Records, specs), solution(chans, full, specs)
		if got != want {
			t.Fatalf("%q: solution from the closure\n%s\nfrom the whole channel\n%s", specs, got, want)
		}
		if strings.HasPrefix(got, "error") {
			t.Fatalf("%q: %s", specs, got)
		}
	}
}

// TestTwoChannels: a sharded channel before a monolithic one holding the
// same names with other records (strict priority takes each name from
// the first): solutions from the closure are those from every record.
func TestTwoChannels(t *testing.T) {
	dir := t.TempDir()
	genChannel(t, filepath.Join(dir, "first"), shards.Sharded|shards.Monolithic, 400, 4, 7)
	genChannel(t, filepath.Join(dir, "second"), shards.Monolithic, 500, 4, 8)
	srv := serve(t, dir)
	chans := []channel.Channel{testChannel("first", srv.URL+"/first"), testChannel("second", srv.URL+"/second")}
	urls := []string{chans[0].URL, chans[1].URL}
	full := fullLoad(t, chans)
	rng := rand.New(rand.NewPCG(9, 9))
	both := false
	for range 6 {
		var specs []string
		for range 1 + rng.IntN(6) {
			// Names up to 500: the last 100 only the second channel has.
			specs = append(specs, fmt.Sprintf("pkg%05d", rng.IntN(500)))
		}
		res := load(t, &Gateway{}, chans, specs)
		if res.Stats.Sharded != 2 || res.Stats.Monolithic != 2 {
			t.Fatalf("stats %+v", res.Stats)
		}
		got, want := solution(urls, res.Records, specs), solution(urls, full, specs)
		if got != want {
			t.Fatalf("%q: solution from the closure\n%s\nfrom every record\n%s", specs, got, want)
		}
		both = both || strings.Contains(got, urls[0]) && strings.Contains(got, urls[1])
	}
	if !both {
		t.Fatal("no solution took packages from both channels")
	}
}

// relative is flatten with URLs relative to the channel's location.
func relative(records [][]repodata.Record, ch channel.Channel) []repodata.Record {
	out := flatten(records)
	for i := range out {
		out[i].URL = strings.TrimPrefix(out[i].URL, ch.Location)
	}
	return out
}

// TestFallbackOrder: shards when the index exists (no repodata.json
// read), else repodata.json.zst, else repodata.json, per subdir.
func TestFallbackOrder(t *testing.T) {
	dir := t.TempDir()
	genChannel(t, filepath.Join(dir, "sharded"), shards.Sharded|shards.Monolithic, 50, 3, 1)
	genChannel(t, filepath.Join(dir, "zst"), shards.Monolithic, 50, 3, 1)
	genChannel(t, filepath.Join(dir, "json"), shards.Monolithic, 50, 3, 1)
	for _, sd := range []string{"linux-64", "noarch"} {
		os.Remove(filepath.Join(dir, "json", sd, "repodata.json.zst"))
	}
	srv := serve(t, dir)
	for _, c := range []struct {
		ch   string
		want []string // per subdir, shards aside
	}{
		{"sharded", []string{shards.IndexFile}},
		{"zst", []string{shards.IndexFile, "repodata.json.zst"}},
		{"json", []string{shards.IndexFile, "repodata.json.zst", "repodata.json"}},
	} {
		t.Run(c.ch, func(t *testing.T) {
			res := load(t, &Gateway{}, []channel.Channel{testChannel(c.ch, srv.URL+"/"+c.ch)}, []string{"pkg00040"})
			paths := srv.paths()
			for _, sd := range []string{"linux-64", "noarch"} {
				var got []string
				for _, p := range paths {
					if rest, ok := strings.CutPrefix(p, "/"+c.ch+"/"+sd+"/"); ok && !strings.HasPrefix(rest, "shards/") {
						got = append(got, rest)
					}
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("%s: requested %q, want %q", sd, got, c.want)
				}
			}
			// Stats count the downloads, not the 404s.
			downloads := int64(2)
			if c.ch == "sharded" {
				downloads = int64(len(paths))
			}
			if res.Stats.Requests != downloads || res.Stats.Bytes == 0 {
				t.Errorf("stats %+v, requests %q", res.Stats, paths)
			}
			if c.ch == "sharded" && res.Stats.Sharded != 2 || c.ch != "sharded" && res.Stats.Monolithic != 2 {
				t.Errorf("stats %+v", res.Stats)
			}
		})
	}
}

// TestErrors: a damaged or missing shard names the channel and the
// package; a monolithic file's errors name its URL and LINE:COL, and a
// record nothing reaches is checked for JSON syntax only.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	for _, ch := range []string{"damaged", "missing"} {
		genChannel(t, filepath.Join(dir, ch), shards.Sharded, 50, 3, 1)
		zst, err := os.ReadFile(filepath.Join(dir, ch, "linux-64", shards.IndexFile))
		if err != nil {
			t.Fatal(err)
		}
		ix, err := shards.DecodeIndex(zst)
		if err != nil {
			t.Fatal(err)
		}
		// pkg00040 is a linux-64 name pkg00046 depends on.
		shard := filepath.Join(dir, ch, "linux-64", shards.ShardsDir, ix.Shards["pkg00040"].File())
		if ch == "damaged" {
			err = os.WriteFile(shard, []byte("not a shard"), 0o644)
		} else {
			err = os.Remove(shard)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	json := func(sd, doc string) {
		os.MkdirAll(filepath.Join(dir, "json", sd), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "json", sd, "repodata.json"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	json("noarch", `{}`)
	json("linux-64", `{"packages": {
"a-1-0.tar.bz2": {"name": "a", "depends": ["b"]},
"b-1-0.tar.bz2": {"name": "b"},
"c-1-0.tar.bz2": {"name": "c", "build_number": "x"}}}`)
	srv := serve(t, dir)
	for _, c := range []struct {
		ch, spec string
		want     []string // in the error; none: no error
	}{
		{"damaged", "pkg00040", []string{"channel damaged, subdir linux-64: package pkg00040:", "sha256"}},
		{"missing", "pkg00040", []string{"channel missing, subdir linux-64: package pkg00040:", "not found", "index the channel again"}},
		{"json", "a", nil},
		{"json", "c", []string{srv.URL + "/json/linux-64/repodata.json:4:", "package c-1-0.tar.bz2: invalid character"}},
	} {
		_, err := (&Gateway{}).Load(context.Background(), Request{Channels: []channel.Channel{testChannel(c.ch, srv.URL+"/"+c.ch)}, Platform: "linux-64", Specs: []string{c.spec}})
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%s %s: %v", c.ch, c.spec, err)
		case c.want != nil && err == nil:
			t.Errorf("%s %s: no error", c.ch, c.spec)
		case err != nil:
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s %s: error %q lacks %q", c.ch, c.spec, err, w)
				}
			}
		}
	}
	json("linux-64", `{"packages": {"a-1-0.tar.bz2": {"name": "a",}}}`)
	_, err := (&Gateway{}).Load(context.Background(), Request{Channels: []channel.Channel{testChannel("json", srv.URL+"/json")}, Platform: "linux-64", Specs: []string{"zzz"}})
	if err == nil || !strings.HasPrefix(err.Error(), srv.URL+"/json/linux-64/repodata.json:1:") {
		t.Errorf("bad JSON: %v", err)
	}
}

// TestConformanceSameSolutions: over channels made of the conformance
// repodata (conda's flat test indexes among them), one channel and two,
// solving names from the closure gives what solving over every record
// gives, solutions and errors alike (sudoku.json is left out: its
// solves take minutes and add nothing here).
func TestConformanceSameSolutions(t *testing.T) {
	type file struct{ name, subdir string }
	cases := [][][]file{
		{{{"conda-index4.json", "linux-64"}}},
		{{{"conda-index.json", "linux-64"}}},
		{{{"anaconda-r_linux-64.json", "linux-64"}, {"anaconda-main_noarch.json", "noarch"}}},
		{{{"pytorch_linux-64.json", "linux-64"}}, {{"conda-forge-numpy_linux-64.json", "linux-64"}, {"anaconda-main_noarch.json", "noarch"}}},
		{{{"rattler-dummy_linux-64.json", "linux-64"}}, {{"conda-index.json", "linux-64"}}},
	}
	for i, chans := range cases {
		t.Run(fmt.Sprint(chans), func(t *testing.T) {
			var cs []channel.Channel
			var urls []string
			for j, files := range chans {
				dir := filepath.Join(t.TempDir(), fmt.Sprint(j))
				for _, sd := range []string{"linux-64", "noarch"} {
					os.MkdirAll(filepath.Join(dir, sd), 0o755)
					os.WriteFile(filepath.Join(dir, sd, "repodata.json"), []byte("{}"), 0o644)
				}
				for _, f := range files {
					data, err := os.ReadFile(conformance.Dir(t, "repodata", f.name))
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(filepath.Join(dir, f.subdir, "repodata.json"), data, 0o644)
				}
				ch := testChannel(fmt.Sprintf("c%d-%d", i, j), "file://"+dir)
				cs, urls = append(cs, ch), append(urls, ch.URL)
			}
			full := fullLoad(t, cs)
			var names []string
			for _, r := range flatten(full) {
				if !slices.Contains(names, r.Name) && !strings.HasPrefix(r.Name, "__") {
					names = append(names, r.Name)
				}
			}
			step := max(1, len(names)/40)
			solved := 0
			for k := 0; k < len(names); k += step {
				specs := []string{names[k]}
				if k+1 < len(names) && k%2 == 0 {
					specs = append(specs, names[k+1])
				}
				res := load(t, &Gateway{}, cs, specs)
				got, want := solution(urls, res.Records, specs), solution(urls, full, specs)
				if got != want {
					t.Fatalf("%q: solution from the closure\n%s\nfrom every record\n%s", specs, got, want)
				}
				if !strings.HasPrefix(got, "error") {
					solved++
				}
			}
			t.Logf("%d names, %d solves, %d with a solution", len(names), (len(names)+step-1)/step, solved)
		})
	}
}

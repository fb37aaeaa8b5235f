package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conformance"
)

// writeBothForms writes the records of conda's flat test index
// conda-index4.json (5,643 real Anaconda records) as a channel in each
// form, dir/sharded and dir/monolithic.
func writeBothForms(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "conda-index4.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var flat map[string]shards.Raw
	if err := dec.Decode(&flat); err != nil {
		t.Fatal(err)
	}
	bySubdir := map[string]map[string]map[string]shards.Raw{"linux-64": {}, "noarch": {}}
	for fn, r := range flat {
		sd, _ := r["subdir"].(string)
		name, _ := r["name"].(string)
		if bySubdir[sd] == nil || name == "" {
			continue
		}
		if bySubdir[sd][name] == nil {
			bySubdir[sd][name] = map[string]shards.Raw{}
		}
		bySubdir[sd][name][fn] = r
	}
	for form, f := range map[string]shards.Form{"sharded": shards.Sharded, "monolithic": shards.Monolithic} {
		for sd, byName := range bySubdir {
			w, err := shards.NewSubdirWriter(filepath.Join(dir, form), sd, f)
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, 0, len(byName))
			for n := range byName {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				if err := w.Add(n, byName[n]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestLockShardedEqualsMonolithic: envkit lock, then lock --update of one
// package after the definition changed, give the same records from a
// channel's CEP 16 shards as from its repodata.json.
func TestLockShardedEqualsMonolithic(t *testing.T) {
	isolate(t)
	root := t.TempDir()
	writeBothForms(t, root)
	locks := map[string][]lock.Package{}
	for _, form := range []string{"sharded", "monolithic"} {
		dir := filepath.Join(root, "env-"+form)
		os.MkdirAll(dir, 0o755)
		env := filepath.Join(dir, "environment.yml")
		write := func(deps string) {
			body := "channels: [file://" + filepath.Join(root, form) + "]\ndependencies: [" + deps + "]\n"
			if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("numpy, scipy, pandas <0.23")
		path := filepath.Join(dir, "conda-lock.yml")
		first := lockFile(t, path, env)
		write("numpy, scipy, pandas")
		second := lockFile(t, path, env, "--update", "pandas")
		for _, l := range []*lock.Lock{first, second} {
			pkgs := l.ForPlatform("linux-64")
			for i := range pkgs {
				// The URL names the form's directory; the rest must agree.
				pkgs[i].URL = strings.TrimPrefix(pkgs[i].URL, "file://"+filepath.Join(root, form))
			}
			locks[form] = append(locks[form], pkgs...)
		}
		if versionsOf(first) == versionsOf(second) {
			t.Fatalf("%s: --update pandas moved nothing: %s", form, versionsOf(second))
		}
	}
	if len(locks["sharded"]) < 20 || !reflect.DeepEqual(locks["sharded"], locks["monolithic"]) {
		t.Fatalf("sharded locked\n%v\nmonolithic\n%v", locks["sharded"], locks["monolithic"])
	}
}

package envdiff

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func load(t *testing.T, path string) *spec.Definition {
	t.Helper()
	def, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func readLock(t *testing.T, path string) *lock.Lock {
	t.Helper()
	l, err := lock.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestCompareGolden(t *testing.T) {
	a := load(t, "testdata/a/environment.yml")
	b := load(t, "testdata/b/environment.yml")
	// Two real conda-lock files that differ in categories and packages.
	la := readLock(t, "../conda/lock/testdata/mamba-good_multiple_categories-lock.yaml")
	lb := readLock(t, "../conda/lock/testdata/mamba-good_one_package_missing_category-lock.yaml")
	r, err := Compare(a, b, la, lb)
	if err != nil {
		t.Fatal(err)
	}
	// The hashes belong to internal/hash's encoding, not to this package:
	// the golden files name them by placeholder.
	placeholders := strings.NewReplacer(r.HashA, "<hash A>", r.HashB, "<hash B>")
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "a-b.txt", []byte(placeholders.Replace(text.String())))
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "a-b.json", []byte(placeholders.Replace(string(js))+"\n"))

	// What the report must say, independent of layout.
	if !r.HashChanged {
		t.Error("hash unchanged")
	}
	kinds := map[string]string{}
	for _, c := range r.Conda {
		kinds[c.Name] = c.Kind
	}
	for name, kind := range map[string]string{"python": Repinned, "pandas": Removed, "scikit-learn": Added} {
		if kinds[name] != kind {
			t.Errorf("conda %s: %q, want %q", name, kinds[name], kind)
		}
	}
	if _, ok := kinds["numpy"]; ok {
		t.Error("numpy differs only in spacing, yet is reported")
	}
	if _, ok := kinds["pip"]; ok {
		t.Error("pip moved, yet is reported")
	}
	pips := map[string]string{}
	for _, c := range r.Pip {
		pips[c.Name] = c.Kind
	}
	if pips["requests"] != Repinned || pips["mlflow"] != Added || len(pips) != 2 {
		t.Errorf("pip changes %v: want requests re-pinned, mlflow added, azure-storage-blob unchanged (PEP 503 names)", pips)
	}
	if len(r.Steps) != 2 || r.Steps[0].Kind != Removed || r.Steps[1].Kind != Added {
		t.Errorf("steps: %+v, want the old line removed, then the new one added", r.Steps)
	}
}

// The same environment in two formats, with other names, differs only in
// metadata, and the hash is unchanged.
func TestCompareFormats(t *testing.T) {
	a := load(t, "../../examples/minimal/environment.yml")
	b := load(t, "../../examples/azureml/environment.yml")
	r, err := Compare(a, b, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.HashChanged || len(r.Conda)+len(r.Fields)+len(r.Steps)+len(r.Env) != 0 || len(r.Metadata) == 0 {
		t.Fatalf("minimal vs azureml: %+v", r)
	}
	r, err = Compare(a, a, nil, nil)
	if err != nil || !r.Same() {
		t.Fatalf("a definition against itself: %+v %v", r, err)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	if got := text.String(); got != "hash: "+r.HashA+" (unchanged)\nno differences\n" {
		t.Fatalf("text of no difference: %q", got)
	}
}

func TestStepChanges(t *testing.T) {
	got := stepChanges([]string{"A", "B", "C", "B"}, []string{"B", "C", "D", "B"})
	want := []StepChange{{Removed, "A"}, {Added, "D"}}
	if !slices.Equal(got, want) {
		t.Fatalf("stepChanges = %v, want %v", got, want)
	}
}

func TestPipName(t *testing.T) {
	for in, want := range map[string]string{
		"Azure_Storage.Blob==12.19.0":                  "azure-storage-blob",
		"requests[socks] >= 2.31 ; python_version>'3'": "requests",
		"torch @ https://x/torch.whl":                  "torch",
		"--index-url https://pypi.example":             "--index-url https://pypi.example",
		"./local/pkg":                                  "./local/pkg",
	} {
		if got := pipName(in); got != want {
			t.Errorf("pipName(%q) = %q, want %q", in, got, want)
		}
	}
}

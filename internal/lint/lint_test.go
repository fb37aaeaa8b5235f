package lint

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/gitctx"
	"github.com/envkit/envkit/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func check(t *testing.T, p string) []Finding {
	t.Helper()
	def, err := spec.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return Check(def)
}

// Every rule fires where it should, with its position (golden file).
func TestFragile(t *testing.T) {
	var got strings.Builder
	for _, f := range check(t, filepath.Join("testdata", "fragile.yml")) {
		got.WriteString(f.String() + "\n")
	}
	golden := filepath.Join("testdata", "fragile.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("findings changed (go test -update to accept):\n%s", got.String())
	}
}

// On real files: the Azure ML pydata example pins every pip package but
// not pip, and uses :latest; the v1 saved environment pins pip.
func TestRealFiles(t *testing.T) {
	rules := func(fs []Finding) map[string]int {
		m := map[string]int{}
		for _, f := range fs {
			m[f.Rule]++
		}
		return m
	}
	got := rules(check(t, filepath.Join("..", "spec", "testdata", "real", "azureml-examples", "docker-image-plus-conda.yml")))
	want := map[string]int{RuleBaseLatest: 1, RuleUnpinnedConda: 1}
	if len(got) != len(want) || got[RuleBaseLatest] != 1 || got[RuleUnpinnedConda] != 1 {
		t.Errorf("pydata: %v, want %v", got, want)
	}
	got = rules(check(t, filepath.Join("..", "spec", "testdata", "real", "glioma-v1")))
	// azureml-defaults is the only unpinned pip package; the SDK's
	// EXAMPLE_ENV_VAR is not a credential.
	if len(got) != 1 || got[RuleUnpinnedPip] != 1 {
		t.Errorf("glioma: %v", got)
	}
}

func TestNoPython(t *testing.T) {
	def, err := spec.Parse("env.yml", []byte("base: {image: debian:12}\nconda:\n  channels: [conda-forge]\n  dependencies: [numpy=1.26]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fs := Check(def)
	if len(fs) != 1 || fs[0].Rule != RuleNoPython || fs[0].Pos.String() != "env.yml:3:3" {
		t.Errorf("findings %v, want one %s at env.yml:3:3", fs, RuleNoPython)
	}
}

// FROM lines of a base Dockerfile are checked too, at their line; stages
// and build arguments are not images.
func TestDockerfileFrom(t *testing.T) {
	fsys := fstest.MapFS{"Dockerfile": {Data: []byte("ARG BASE=debian:12\nFROM golang AS build\nFROM build\nFROM debian:latest\nFROM $BASE\n")}}
	def, err := spec.Parse("env.yml", []byte("base: {dockerfile: Dockerfile}\n"), fsys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range Check(def) {
		got = append(got, f.Pos.String()+" "+f.Rule)
	}
	want := []string{"Dockerfile:2:1 " + RuleBaseUntagged, "Dockerfile:4:1 " + RuleBaseLatest}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings %v, want %v", got, want)
	}
}

func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "environment-yaml.md"))
	if err != nil {
		t.Fatal(err)
	}
	for rule := range Rules {
		if !strings.Contains(string(doc), "`"+rule+"`") {
			t.Errorf("rule %s is not in docs/environment-yaml.md", rule)
		}
	}
	for _, f := range check(t, filepath.Join("testdata", "fragile.yml")) {
		if Rules[f.Rule] == "" {
			t.Errorf("rule %s has no description", f.Rule)
		}
	}
}

// A pip line is pinned by its version specifiers or URL, read as the lock
// reads them: a marker's comparison pins nothing.
func TestPipVersioned(t *testing.T) {
	for s, want := range map[string]bool{
		"numpy": false, `numpy; python_version >= "3.9"`: false, "numpy[extra]": false,
		"numpy==1.26": true, "numpy~=1.26": true, "numpy >=1,<2": true,
		"pkg @ https://x/p-1.0-py3-none-any.whl": true, "git+https://github.com/o/r@v1": true,
	} {
		if got := pipVersioned(s); got != want {
			t.Errorf("pipVersioned(%q) = %v, want %v", s, got, want)
		}
	}
}

// A git context naming a branch or tag is flagged; one naming a commit
// is exact.
func TestGitContextRef(t *testing.T) {
	for ref, want := range map[string]bool{"main": true, "": true, "v1.2": true, strings.Repeat("a", 40): false} {
		def := &spec.Definition{Base: spec.Base{Dockerfile: "FROM scratch\n", Git: &gitctx.Ref{Remote: "https://h/r.git", Ref: ref}}}
		got := false
		for _, f := range Check(def) {
			got = got || f.Rule == RuleGitRef
		}
		if got != want {
			t.Errorf("ref %q: flagged %v, want %v", ref, got, want)
		}
	}
}

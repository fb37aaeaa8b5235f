package main

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/sbom/sbomtest"
)

const sbomSecret = "pypi-T0KEN-sbom"

// sbomEnv locks a definition with conda packages from test-recipes, pip
// packages from a local index reached with credentials in its URL, and a
// precached Spark jar from a local Maven repository; it returns the
// definition's path and its lock.
func sbomEnv(t *testing.T) (string, *lock.Lock) {
	t.Helper()
	isolate(t)
	ix := pypitest.Serve(pipDists, true)
	t.Cleanup(ix.Server.Close)
	jar := "PK jar for the sbom"
	sum := sha1.Sum([]byte(jar))
	files := map[string]string{
		"org/demo/util/1.0/util-1.0.pom": `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>org.demo</groupId><artifactId>util</artifactId><version>1.0</version>
<licenses><license><name>The Apache Software License, Version 2.0</name></license></licenses></project>`,
		"org/demo/util/1.0/util-1.0.jar":      jar,
		"org/demo/util/1.0/util-1.0.jar.sha1": hex.EncodeToString(sum[:]) + "\n",
	}
	repo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[strings.TrimPrefix(r.URL.Path, "/maven2/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, data)
	}))
	t.Cleanup(repo.Close)
	dir := t.TempDir()
	env := filepath.Join(dir, "envkit.yml")
	index := strings.Replace(ix.URL, "://", "://user:"+sbomSecret+"@", 1)
	body := fmt.Sprintf(`name: sbom-test
base:
  image: docker.io/library/debian:bookworm-slim
conda:
  channels: [file://%s]
  dependencies:
    - python
    - dependent
    - pip:
      - --index-url %s
      - greet
spark:
  repositories: [%s/maven2]
  packages:
    - {group: org.demo, artifact: util, version: "1.0"}
  precache: true
`, conformance.Dir(t, "channels", "test-recipes"), index, repo.URL)
	if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return env, lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
}

// envkit sbom describes exactly the lock's packages (name, version,
// sha256), the jar and the base image, the same bytes each time, with
// SOURCE_DATE_EPOCH's time and no credential; -o writes the file.
func TestSbomCommand(t *testing.T) {
	env, lk := sbomEnv(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out, errOut, code := runSolveCLI(t, "sbom", env)
	if code != 0 {
		t.Fatalf("sbom: exit %d: %s", code, errOut)
	}
	if again, _, _ := runSolveCLI(t, "sbom", env); again != out {
		t.Error("two runs gave different documents")
	}
	if strings.Contains(out, sbomSecret) {
		t.Errorf("the index credential reached the SBOM:\n%s", out)
	}
	sbomtest.CheckSPDX(t, []byte(out))
	var doc struct {
		CreationInfo struct{ Created string }
		Packages     []struct {
			Name, VersionInfo, LicenseDeclared string
			Checksums                          []struct{ Algorithm, ChecksumValue string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("created %s, want SOURCE_DATE_EPOCH's", doc.CreationInfo.Created)
	}
	var got, want []string
	for _, p := range doc.Packages[1:] { // [0] is the environment
		sha := ""
		for _, c := range p.Checksums {
			if c.Algorithm == "SHA256" {
				sha = c.ChecksumValue
			}
		}
		got = append(got, p.Name+" "+p.VersionInfo+" "+sha)
		if p.Name == "org.demo:util" && p.LicenseDeclared != "Apache-2.0" {
			t.Errorf("the jar's licence %q, want its POM's Apache-2.0", p.LicenseDeclared)
		}
	}
	for _, p := range lk.ForPlatform("linux-64") {
		want = append(want, p.Name+" "+p.Version+" "+p.Hash.SHA256)
	}
	url, sha, _ := strings.Cut(lk.Metadata.Custom["spark-jar:org.demo:util:1.0"], "#sha256=")
	if url == "" {
		t.Fatalf("no jar pin in %v", lk.Metadata.Custom)
	}
	want = append(want, "org.demo:util 1.0 "+sha, "debian  ")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bom := filepath.Join(t.TempDir(), "bom.json")
	if _, errOut, code := runSolveCLI(t, "sbom", "--format", "cyclonedx", "--platform", "linux-64", "-o", bom, env); code != 0 {
		t.Fatalf("sbom --format cyclonedx: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(bom)
	if err != nil || strings.Contains(string(data), sbomSecret) {
		t.Errorf("cyclonedx file: %v\n%s", err, data)
	}
	sbomtest.ValidateCycloneDX(t, data)
	var cdx struct {
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(data, &cdx); err != nil {
		t.Fatal(err)
	}
	edges := map[string][]string{}
	for _, d := range cdx.Dependencies {
		edges[d.Ref] = d.DependsOn
	}
	if got := edges["pkg:pypi/greet@1.0"]; !slices.Equal(got, []string{"pkg:pypi/colour-util@2.1"}) {
		t.Errorf("greet depends on %v, want colour-util (the lock's pip dependencies)", got)
	}
	conda := 0
	for ref, got := range edges {
		if strings.HasPrefix(ref, "pkg:conda/dependent@2.0?") {
			conda++
			if len(got) != 1 || !strings.HasPrefix(got[0], "pkg:conda/dependency@2.0?") {
				t.Errorf("dependent depends on %v, want dependency", got)
			}
		}
	}
	if conda != 1 {
		t.Errorf("%d dependency entries for dependent, want 1", conda)
	}

	// A wheel whose METADATA cannot be read fails the SBOM, and the error
	// does not show the index's credentials either.
	lkPath := filepath.Join(filepath.Dir(env), "conda-lock.yml")
	data, err = os.ReadFile(lkPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lkPath, []byte(strings.ReplaceAll(string(data), "/files/", "/gone/")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runSolveCLI(t, "sbom", env); code != 1 || !strings.Contains(errOut, "licence of pip package") || strings.Contains(errOut, sbomSecret) {
		t.Errorf("wheel out of reach: exit %d: %s", code, errOut)
	}
}

func TestSbomErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	if _, errOut, code := runSolveCLI(t, "sbom", env); code != 1 || !strings.Contains(errOut, "no conda-lock.yml") || !strings.Contains(errOut, "envkit lock "+env) {
		t.Errorf("no lock: exit %d: %s", code, errOut)
	}
	lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	if _, errOut, code := runSolveCLI(t, "sbom", "--format", "xml", env); code != 2 || !strings.Contains(errOut, "spdx or cyclonedx") {
		t.Errorf("bad format: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runSolveCLI(t, "sbom", "--platform", "linux-aarch64", env); code != 1 || !strings.Contains(errOut, "linux-aarch64") {
		t.Errorf("platform not locked: exit %d: %s", code, errOut)
	}
	out := filepath.Join(dir, "out.json")
	writeEnv(t, dir, "  - dependent\n  - versioned\n")
	if _, errOut, code := runSolveCLI(t, "sbom", "-o", out, env); code != 1 || !strings.Contains(errOut, "stale") {
		t.Errorf("stale lock: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed sbom wrote %s (%v)", out, err)
	}
}

// The offline examples, locked against the fixture channel and wheel
// index that make demo builds (the other examples need conda-forge), give
// documents that validate, listing every locked package.
func TestSbomOfExamples(t *testing.T) {
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "envkit", "fixtures")
	if _, err := os.Stat(filepath.Join(dir, "channel", "noarch", "repodata.json")); err != nil {
		t.Skipf("no fixtures in %s (make demo, or go run ./hack/envkit-dev fixtures, makes them): %v", dir, err)
	}
	isolate(t)
	t.Setenv("ENVKIT_CHANNEL_MIRRORS", fixtures.ChannelName+"=file://"+filepath.Join(dir, "channel"))
	ix := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, fixtures.PipDirName))))
	defer ix.Close()
	t.Setenv("PIP_INDEX_URL", strings.Replace(ix.URL, "://", "://user:"+sbomSecret+"@", 1)+"/simple")
	for _, example := range []string{"offline", "offline-pip"} {
		t.Run(example, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "examples", example, "environment.yml"))
			if err != nil {
				t.Fatal(err)
			}
			env := filepath.Join(t.TempDir(), "environment.yml")
			if err := os.WriteFile(env, data, 0o644); err != nil {
				t.Fatal(err)
			}
			lk := lockFile(t, filepath.Join(filepath.Dir(env), "conda-lock.yml"), env)
			spdx, errOut, code := runSolveCLI(t, "sbom", env)
			if code != 0 {
				t.Fatalf("sbom: exit %d: %s", code, errOut)
			}
			sbomtest.CheckSPDX(t, []byte(spdx))
			cdx, errOut, code := runSolveCLI(t, "sbom", "--format", "cyclonedx", env)
			if code != 0 {
				t.Fatalf("sbom --format cyclonedx: exit %d: %s", code, errOut)
			}
			sbomtest.ValidateCycloneDX(t, []byte(cdx))
			pips := 0
			for _, p := range lk.ForPlatform("linux-64") {
				if p.Manager == lock.Pip {
					pips++
				}
				if !strings.Contains(cdx, `"content": "`+p.Hash.SHA256+`"`) {
					t.Errorf("%s %s %s is not in the CycloneDX document", p.Manager, p.Name, p.Version)
				}
			}
			if example == "offline-pip" && pips != 3 {
				t.Errorf("%d pip packages locked, want the example's 3", pips)
			}
			var doc struct {
				Packages []struct{ Name, LicenseDeclared string }
			}
			if err := json.Unmarshal([]byte(spdx), &doc); err != nil {
				t.Fatal(err)
			}
			for _, p := range doc.Packages {
				if p.Name == "pip" && p.LicenseDeclared != "MIT" { // the real pip 23.0.1 wheel says "License: MIT"
					t.Errorf("pip's licence %q, want MIT", p.LicenseDeclared)
				}
			}
			if strings.Contains(spdx+cdx, sbomSecret) {
				t.Error("the index credential reached a document")
			}
		})
	}
}

// A channel reached with an anaconda.org-style token (/t/<token>/) in
// its URL: the SBOM names the channel without it.
func TestSbomChannelToken(t *testing.T) {
	isolate(t)
	const token = "tk-0123456789abcdef"
	srv := httptest.NewServer(http.StripPrefix("/t/"+token+"/test-recipes", http.FileServer(http.Dir(conformance.Dir(t, "channels", "test-recipes")))))
	defer srv.Close()
	dir := t.TempDir()
	env := filepath.Join(dir, "environment.yml")
	if err := os.WriteFile(env, []byte("name: tok\nchannels:\n  - "+srv.URL+"/t/"+token+"/test-recipes\ndependencies:\n  - dependent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	for _, format := range []string{"spdx", "cyclonedx"} {
		out, errOut, code := runSolveCLI(t, "sbom", "--format", format, env)
		if code != 0 {
			t.Fatalf("sbom --format %s: exit %d: %s", format, code, errOut)
		}
		if strings.Contains(out, token) || !strings.Contains(out, srv.URL+"/test-recipes/noarch/dependent-2.0-0.conda") {
			t.Errorf("sbom --format %s: the token is there or the URL is not:\n%s", format, out)
		}
	}
}

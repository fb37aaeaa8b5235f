package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/sbom/sbomtest"
)

// envkit licenses groups the packages by licence; the lock holds none,
// so every package is NOASSERTION, which lint --deny can refuse.
func TestLicensesAndLintDeny(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	out, errOut, code := runSolveCLI(t, "licenses", env)
	if code != 0 {
		t.Fatalf("licenses: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"LICENSE", "NOASSERTION  conda  dependency", "NOASSERTION  conda  dependent", "NOASSERTION  oci    debian"} {
		if !strings.Contains(out, want) {
			t.Errorf("licenses output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runSolveCLI(t, "lint", "--json", "--deny", "GPL-3.0-only,NOASSERTION", env)
	var findings []struct{ Rule, Message string }
	if err := json.Unmarshal([]byte(out), &findings); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	denied := 0
	for _, f := range findings {
		if f.Rule == RuleLicenseDenied {
			denied++
		}
	}
	if code != 1 || denied != 3 { // dependent, dependency, the base image
		t.Errorf("lint --deny NOASSERTION: exit %d, %d denied: %s", code, denied, out)
	}
	if out, _, _ := runSolveCLI(t, "lint", "--deny", "GPL-3.0-only", env); strings.Contains(out, RuleLicenseDenied) {
		t.Errorf("lint --deny GPL-3.0-only denied unknown licences:\n%s", out)
	}
}

// Conda licences come from the channels the lock was made from: zlib's
// "zlib" is the SPDX Zlib, the libgcc-ng stub's "public-domain" stays a
// LicenseRef-; --lock-only reads no channel; lint --deny Zlib fails.
func TestLicensesFromChannels(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := filepath.Join(dir, "environment.yml")
	body := fmt.Sprintf("name: z\nchannels:\n  - file://%s\n  - file://%s\ndependencies:\n  - zlib\n",
		conformance.Dir(t, "channels", "libgcc-stub"), conformance.Dir(t, "channels", "conda_format_repo"))
	if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	licences := func(args ...string) map[string]string {
		t.Helper()
		out, errOut, code := runSolveCLI(t, append(append([]string{"licenses", "--json"}, args...), env)...)
		if code != 0 {
			t.Fatalf("licenses %v: exit %d: %s", args, code, errOut)
		}
		var groups []licenseGroup
		if err := json.Unmarshal([]byte(out), &groups); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, g := range groups {
			for _, p := range g.Packages {
				m[p.Name] = g.License
			}
		}
		return m
	}
	if got := licences(); got["zlib"] != "Zlib" || got["libgcc-ng"] != "LicenseRef-public-domain" || got["debian"] != "NOASSERTION" {
		t.Errorf("licences from the channels: %v", got)
	}
	if got := licences("--lock-only"); got["zlib"] != "NOASSERTION" || got["libgcc-ng"] != "NOASSERTION" {
		t.Errorf("licences with --lock-only: %v", got)
	}
	out, _, code := runSolveCLI(t, "lint", "--deny", "zlib", env)
	if code != 1 || strings.Count(out, "["+RuleLicenseDenied+"]") != 1 || !strings.Contains(out, "conda package zlib 1.2.11 is licensed Zlib") {
		t.Errorf("lint --deny zlib: exit %d:\n%s", code, out)
	}
	spdx, errOut, code := runSolveCLI(t, "sbom", env)
	if code != 0 || !strings.Contains(spdx, `"licenseDeclared": "Zlib"`) || !strings.Contains(spdx, `"extractedText": "public-domain"`) {
		t.Errorf("sbom: exit %d: %s\n%s", code, errOut, spdx)
	}
	sbomtest.CheckSPDX(t, []byte(spdx))
}

// A wheel's licence is the one its METADATA declares (License-Expression
// here), read from the index; --lock-only reads none.
func TestLicensesOfWheels(t *testing.T) {
	isolate(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"lic/__init__.py":            "",
		"lic-1.0.dist-info/METADATA": "Metadata-Version: 2.4\nName: lic\nVersion: 1.0\nLicense-Expression: Apache-2.0 OR MIT\n",
		"lic-1.0.dist-info/WHEEL":    "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	ix := pypitest.ServeFiles(map[string][]byte{"lic-1.0-py3-none-any.whl": buf.Bytes()}, true)
	defer ix.Server.Close()
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - python\n  - pip:\n    - --index-url "+ix.URL+"\n    - lic\n")
	lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	for flag, want := range map[string]string{"": "Apache-2.0 OR MIT", "--lock-only": "NOASSERTION"} {
		args := []string{"licenses", "--json", env}
		if flag != "" {
			args = []string{"licenses", "--json", flag, env}
		}
		out, errOut, code := runSolveCLI(t, args...)
		if code != 0 {
			t.Fatalf("licenses %s: exit %d: %s", flag, code, errOut)
		}
		var groups []licenseGroup
		if err := json.Unmarshal([]byte(out), &groups); err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, g := range groups {
			for _, p := range g.Packages {
				if p.Name == "lic" {
					got = g.License
				}
			}
		}
		if got != want {
			t.Errorf("licenses %s: lic is %q, want %q", flag, got, want)
		}
	}
	if out, _, code := runSolveCLI(t, "lint", "--deny", "MIT", env); code != 0 || strings.Contains(out, RuleLicenseDenied) {
		t.Errorf("lint --deny MIT of an Apache-2.0 OR MIT wheel: exit %d\n%s", code, out)
	}
	if out, _, code := runSolveCLI(t, "lint", "--deny", "MIT,Apache-2.0", env); code != 1 || !strings.Contains(out, "pypi package lic 1.0 is licensed Apache-2.0 OR MIT") {
		t.Errorf("lint --deny MIT,Apache-2.0: exit %d\n%s", code, out)
	}
}

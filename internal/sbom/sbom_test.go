package sbom

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/sbom/sbomtest"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// lockEnvironments are the Environments of every platform of the lock
// files other tools wrote (internal/conda/lock/testdata), read as a build
// reads them.
func lockEnvironments(t *testing.T) map[string]Environment {
	t.Helper()
	out := map[string]Environment{}
	files, _ := filepath.Glob("../conda/lock/testdata/*.y*ml")
	for _, f := range files {
		if strings.Contains(f, "bad") {
			continue
		}
		lk, err := lock.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, subdir := range lk.Metadata.Platforms {
			recs, err := lk.Records(subdir)
			if err != nil {
				t.Fatal(err)
			}
			env := Environment{Name: filepath.Base(f), DefinitionHash: "sha256:" + strings.Repeat("1", 64), LockHash: "sha256:" + strings.Repeat("2", 64),
				Subdir: subdir, BaseImage: "docker.io/library/debian:bookworm-slim", ToolVersion: "test"}
			for i := range recs {
				env.Packages = append(env.Packages, &recs[i])
			}
			for _, p := range lk.ForPlatform(subdir) {
				if p.Manager == lock.Pip {
					env.Wheels = append(env.Wheels, envllb.Wheel{Name: p.Name, Version: p.Version, URL: p.URL, SHA256: p.Hash.SHA256})
				}
			}
			env.WheelDepends = PipDepends(lk, subdir)
			if env.Jars, err = maven.FromCustom(lk.Metadata.Custom); err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(f)+"/"+subdir] = env
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d lock platforms found", len(out))
	}
	return out
}

// repodataRecords are one record per name (the last by filename) of a
// real channel's repodata from the conformance data, licences included.
func repodataRecords(t testing.TB, file, channel, subdir string) []*repodata.Record {
	t.Helper()
	data, err := os.ReadFile(conformance.Dir(t, "repodata", file))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse(channel, subdir, data)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*repodata.Record{}
	for i := range rd.Records {
		byName[rd.Records[i].Name] = &rd.Records[i]
	}
	var out []*repodata.Record
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[n])
	}
	return out
}

const secret = "s3cr3t-T0KEN"

// fullEnvironment has real conda records with their licences (two
// Anaconda channels), wheels and jars, and credentials in URLs that must
// not reach a document.
func fullEnvironment(t *testing.T) Environment {
	t.Helper()
	env := Environment{
		Name: "full", DefinitionHash: "sha256:" + strings.Repeat("a", 64), LockHash: "sha256:" + strings.Repeat("b", 64),
		Subdir: "linux-64", BaseImage: "docker.io/library/debian:bookworm-slim",
		BaseDigest: "sha256:" + strings.Repeat("c", 64), Created: time.Unix(1700000000, 0), ToolVersion: "1.2.3",
	}
	env.Packages = append(repodataRecords(t, "anaconda-r_linux-64.json", "https://repo.anaconda.com/pkgs/r", "linux-64"),
		repodataRecords(t, "pytorch_linux-64.json", "https://conda.anaconda.org/t/"+secret+"/pytorch", "linux-64")...)
	env.Wheels = []envllb.Wheel{
		{Name: "Colour_Util", Version: "2.1", URL: "https://user:" + secret + "@pypi.example/packages/colour_util-2.1-py3-none-any.whl#sha256=" + strings.Repeat("d", 64), SHA256: strings.Repeat("d", 64)},
		{Name: "greet", Version: "1.0", URL: "https://pypi.example/greet-1.0-py3-none-any.whl?X-Amz-Signature=" + secret, SHA256: strings.Repeat("e", 64)},
	}
	env.Jars = []maven.Jar{
		{Coordinate: maven.Coordinate{Group: "org.apache.spark", Artifact: "spark-avro_2.12", Version: "3.5.0"}, URL: "https://" + secret + "@repo1.maven.org/maven2/org/apache/spark/spark-avro_2.12/3.5.0/spark-avro_2.12-3.5.0.jar", SHA256: strings.Repeat("f", 64)},
		{Coordinate: maven.Coordinate{Group: "org.demo", Artifact: "util", Version: "1.0"}, Classifier: "tests", URL: "https://maven.example/util-1.0-tests.jar", SHA256: strings.Repeat("0", 64)},
	}
	return env
}

// The documents of real locks and of real repodata records with wheels
// and jars validate: CycloneDX against the official 1.5 schema, SPDX
// against SPDX 2.3's mandatory fields.
func TestDocumentsValidate(t *testing.T) {
	envs := lockEnvironments(t)
	envs["full"] = fullEnvironment(t)
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			b, err := New(env)
			if err != nil {
				t.Fatal(err)
			}
			want := len(env.Packages) + len(env.Wheels) + len(env.Jars) + 1
			if len(b.Components) != want {
				t.Errorf("%d components, want %d", len(b.Components), want)
			}
			cdx, err := b.CycloneDX()
			if err != nil {
				t.Fatal(err)
			}
			sbomtest.ValidateCycloneDX(t, cdx)
			doc, err := b.SPDX()
			if err != nil {
				t.Fatal(err)
			}
			sbomtest.CheckSPDX(t, doc)
		})
	}
}

// A token in a channel URL (/t/<token>/), userinfo or a signed query
// never reaches a document.
func TestNoSecrets(t *testing.T) {
	b, err := New(fullEnvironment(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() ([]byte, error){b.SPDX, b.CycloneDX} {
		data, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("user:")) || bytes.Contains(data, []byte("/t/")) {
			t.Errorf("a credential reached the document:\n%s", data)
		}
		if !bytes.Contains(data, []byte("https://conda.anaconda.org/pytorch/linux-64/")) {
			t.Error("the pytorch channel's URLs are missing without their token")
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		"https://conda.anaconda.org/t/tk-123/conda-forge/linux-64/x-1-0.conda": "https://conda.anaconda.org/conda-forge/linux-64/x-1-0.conda",
		"https://user:pass@host/simple/x.whl#sha256=ab":                        "https://host/simple/x.whl#sha256=ab",
		"https://token@host/x.jar":                                             "https://host/x.jar",
		"https://host/x.whl?X-Amz-Signature=abc&X-Amz-Credential=k":            "https://host/x.whl",
		"https://host/t/a/t/b/ch/noarch/x.conda":                               "https://host/ch/noarch/x.conda",
		"file:///srv/channel/noarch/t/x.conda":                                 "file:///srv/channel/noarch/t/x.conda",
		"https://host/pkgs/t":                                                  "https://host/pkgs/t",
		"http://[::1]:namedport/x":                                             "",
		"mailto:user:secret":                                                   "",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeLicense(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     NoAssertion,
		"MIT":                                  "MIT",
		"BSD 3-Clause":                         "BSD-3-Clause",
		"bsd_3_clause":                         "BSD-3-Clause",
		"Apache 2.0":                           "Apache-2.0",
		"Apache License 2.0":                   "Apache-2.0",
		"GPL-2":                                "GPL-2.0-only",
		"GPL (>= 2)":                           "GPL-2.0-or-later",
		"GPLv3+":                               "GPL-3.0-or-later",
		"LGPL-2.1-or-later":                    "LGPL-2.1-or-later",
		"mit or apache-2.0":                    "MIT OR Apache-2.0",
		"(MIT OR Apache-2.0) AND BSD-3-Clause": "(MIT OR Apache-2.0) AND BSD-3-Clause",
		"GPL-2 | GPL-3":                        "GPL-2.0-only OR GPL-3.0-only",
		"GPL-3.0-only WITH GCC-exception-3.1":  "GPL-3.0-only WITH GCC-exception-3.1",
		"LGPLv2+ and GPLv2+":                   "LGPL-2.0-or-later AND GPL-2.0-or-later",
		"BSD":                                  "LicenseRef-BSD",
		"GPL":                                  "LicenseRef-GPL",
		"MIT + file LICENSE":                   "LicenseRef-MIT-file-LICENSE-",
		"MIT OR":                               "LicenseRef-MIT-OR-",
		"(MIT":                                 "LicenseRef-MIT-",
	} {
		got := NormalizeLicense(in)
		if got.Expression != want && !(strings.HasSuffix(want, "-") && strings.HasPrefix(got.Expression, want)) {
			t.Errorf("NormalizeLicense(%q) = %q, want %q", in, got.Expression, want)
		}
		if got.Ref != strings.HasPrefix(want, "LicenseRef-") || (in != "" && got.Declared != in) {
			t.Errorf("NormalizeLicense(%q) = %+v", in, got)
		}
	}
	// Two texts never share a LicenseRef.
	if a, b := NormalizeLicense("GPL v2"), NormalizeLicense("GPL-v2"); a.Expression == b.Expression {
		t.Errorf("%q and %q share %s", a.Declared, b.Declared, a.Expression)
	}
}

// Every identifier the licence table gives is one CycloneDX's copy of
// the SPDX licence list knows.
func TestLicenseAliasesAreSPDX(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sbomtest.SchemaDir, "spdx.SNAPSHOT.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Enum []string }
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	for alias, id := range licenseAliases {
		if !slices.Contains(list.Enum, id) {
			t.Errorf("%q maps to %q, not an SPDX identifier", alias, id)
		}
	}
}

func TestPURLs(t *testing.T) {
	b, err := New(Environment{
		Name: "p", Subdir: "linux-64", BaseImage: "debian:bookworm-slim", BaseDigest: "sha256:" + strings.Repeat("1", 64),
		Packages: []*repodata.Record{
			{Name: "absl-py", Version: "0.4.1", Build: "py36h06a4308_0", Subdir: "linux-64", Channel: "https://repo.anaconda.com/pkgs/main",
				Filename: "absl-py-0.4.1-py36h06a4308_0.tar.bz2", URL: "https://repo.anaconda.com/pkgs/main/linux-64/absl-py-0.4.1-py36h06a4308_0.tar.bz2"},
			{Name: "numpy", Version: "2.0.1", Build: "py312h_0", Subdir: "linux-64", Channel: "https://conda.anaconda.org/conda-forge",
				Filename: "numpy-2.0.1-py312h_0.conda", URL: "https://conda.anaconda.org/conda-forge/linux-64/numpy-2.0.1-py312h_0.conda"},
			{Name: "x", Version: "1!2.0+local", Build: "0", Subdir: "noarch", Channel: "file:///srv/my%20channel",
				Filename: "x-1!2.0+local-0.conda", URL: "file:///srv/my%20channel/noarch/x-1!2.0+local-0.conda"},
		},
		Wheels: []envllb.Wheel{{Name: "Django_Rest", Version: "3.0", URL: "https://h/d.whl"}},
		Jars:   []maven.Jar{{Coordinate: maven.Coordinate{Group: "org.apache.spark", Artifact: "spark-avro_2.12", Version: "3.5.0"}, Classifier: "tests"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range b.Components {
		got = append(got, c.PURL)
	}
	want := []string{
		"pkg:conda/absl-py@0.4.1?build=py36h06a4308_0&channel=main&subdir=linux-64&type=tar.bz2",
		"pkg:conda/numpy@2.0.1?build=py312h_0&channel=conda-forge&subdir=linux-64&type=conda",
		"pkg:conda/x@1%212.0%2Blocal?build=0&channel=file%3A%2F%2F%2Fsrv%2Fmy%2520channel&subdir=noarch&type=conda",
		"pkg:maven/org.apache.spark/spark-avro_2.12@3.5.0?classifier=tests",
		"pkg:oci/debian@sha256%3A" + strings.Repeat("1", 64) + "?repository_url=docker.io%2Flibrary%2Fdebian&tag=bookworm-slim",
		"pkg:pypi/django-rest@3.0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("purls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Dependencies become edges to the packages the lock holds; virtual
// packages and absent ones give none.
func TestDependsOn(t *testing.T) {
	rec := func(name string, deps ...string) *repodata.Record {
		return &repodata.Record{Name: name, Version: "1.0", Build: "0", Subdir: "noarch", Channel: "https://conda.anaconda.org/c",
			Filename: name + "-1.0-0.conda", URL: "https://conda.anaconda.org/c/noarch/" + name + "-1.0-0.conda", Depends: deps}
	}
	b, err := New(Environment{Name: "d", Subdir: "linux-64", Packages: []*repodata.Record{
		rec("dependent", "dependency >=1", "__glibc >=2.17", "absent", "dependency 1.*"), rec("dependency", "python_abi 3.12.* *_cp312"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Components[1].DependsOn; len(got) != 1 || got[0] != b.Components[0].PURL {
		t.Errorf("dependent depends on %v, want [%s]", got, b.Components[0].PURL)
	}
	b, err = New(Environment{Name: "w", Subdir: "linux-64",
		Wheels:       []envllb.Wheel{{Name: "greet", Version: "1.0"}, {Name: "Colour_Util", Version: "2.1"}},
		WheelDepends: map[string][]string{"greet": {"colour-util", "absent"}, "Colour_Util": nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Components[1].DependsOn; len(got) != 1 || got[0] != "pkg:pypi/colour-util@2.1" {
		t.Errorf("greet depends on %v, want colour-util", got)
	}
	if _, err := New(Environment{Packages: []*repodata.Record{rec("bad", "x >=<1")}}); err == nil || !strings.Contains(err.Error(), "bad-1.0-0") {
		t.Errorf("unparsable dependency: %v", err)
	}
	if _, err := New(Environment{Packages: []*repodata.Record{rec("twice"), rec("twice")}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a package twice: %v", err)
	}
}

// The same environment gives the same bytes, whatever the input order;
// the time is SOURCE_DATE_EPOCH's; the namespace and serial number follow
// the content.
func TestDeterministic(t *testing.T) {
	env := fullEnvironment(t)
	docs := func(env Environment) (string, string) {
		b, err := New(env)
		if err != nil {
			t.Fatal(err)
		}
		s, err := b.SPDX()
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.CycloneDX()
		if err != nil {
			t.Fatal(err)
		}
		return string(s), string(c)
	}
	s1, c1 := docs(env)
	rev := env
	rev.Packages = slices.Clone(env.Packages)
	slices.Reverse(rev.Packages)
	rev.Wheels = slices.Clone(env.Wheels)
	slices.Reverse(rev.Wheels)
	if s2, c2 := docs(rev); s1 != s2 || c1 != c2 {
		t.Error("reordered input changed the documents")
	}
	if !strings.Contains(s1, `"created": "2023-11-14T22:13:20Z"`) || !strings.Contains(c1, `"timestamp": "2023-11-14T22:13:20Z"`) {
		t.Error("creation time is not Created's")
	}
	changed := env
	changed.Wheels = env.Wheels[:1]
	s3, c3 := docs(changed)
	ns := regexp.MustCompile(`"documentNamespace": "[^"]+"`)
	sn := regexp.MustCompile(`"serialNumber": "[^"]+"`)
	if ns.FindString(s1) == ns.FindString(s3) || sn.FindString(c1) == sn.FindString(c3) {
		t.Error("different content, same namespace or serial number")
	}
	for _, want := range []string{env.DefinitionHash, env.LockHash, "envkit-1.2.3"} {
		if !strings.Contains(s1, want) {
			t.Errorf("SPDX does not name %s", want)
		}
	}
	if !strings.Contains(c1, env.DefinitionHash) || !strings.Contains(c1, env.LockHash) {
		t.Error("CycloneDX does not name the hashes")
	}
}

func TestDenied(t *testing.T) {
	deny := []string{"GPL-3.0-only", "agpl-3.0-only", "GCC-exception-3.1", "LicenseRef-BSD"}
	for expr, want := range map[string]bool{
		"MIT":                           false,
		"GPL-3.0-only":                  true,
		"gpl-3.0-only":                  true,
		"GPL-3.0-or-later":              false,
		"MIT OR GPL-3.0-only":           false,
		"MIT AND GPL-3.0-only":          true,
		"GPL-3.0-only OR AGPL-3.0-only": true,
		"(MIT OR GPL-3.0-only) AND AGPL-3.0-only": true,
		"MIT OR GPL-3.0-only AND Apache-2.0":      false,
		"GPL-2.0-only WITH GCC-exception-3.1":     true,
		"LicenseRef-BSD":                          true,
		NoAssertion:                               false,
	} {
		if got := Denied(expr, deny); got != want {
			t.Errorf("Denied(%q) = %v, want %v", expr, got, want)
		}
	}
	if !Denied(NoAssertion, []string{"NOASSERTION"}) {
		t.Error("NOASSERTION can be denied")
	}
}

// The licences a lock does not keep come back from the channel's records,
// matched by sha256 (md5 without one); pkgs is not changed.
func TestWithLicenses(t *testing.T) {
	from := repodataRecords(t, "anaconda-r_linux-64.json", "https://repo.anaconda.com/pkgs/r", "linux-64")
	var locked []*repodata.Record
	want := map[string]string{}
	for _, r := range from[:40] {
		c := *r
		want[c.Name] = c.License
		c.License = ""
		if len(locked)%2 == 1 {
			c.SHA256 = ""
		}
		locked = append(locked, &c)
	}
	own := &repodata.Record{Name: "own", SHA256: from[0].SHA256, License: "MIT"}
	absent := &repodata.Record{Name: "absent", SHA256: strings.Repeat("0", 64)}
	locked = append(locked, own, absent)
	want["own"], want["absent"] = "MIT", ""
	var channel []repodata.Record
	for _, r := range from {
		channel = append(channel, *r)
	}
	got := WithLicenses(locked, [][]repodata.Record{channel})
	known := 0
	for _, r := range got {
		if r.License != want[r.Name] {
			t.Errorf("%s: licence %q, want %q", r.Name, r.License, want[r.Name])
		}
		if r.License != "" {
			known++
		}
	}
	if known < 30 {
		t.Errorf("only %d of %d records have a licence", known, len(got))
	}
	if locked[0].License != "" {
		t.Error("WithLicenses changed its input")
	}
}

// ForBuild names the definition by its file when it has no name, takes
// the base digest from a pinned reference and the hashes a build uses.
func TestForBuild(t *testing.T) {
	opts, err := buildplan.ParseOptions(map[string]string{"SOURCE_DATE_EPOCH": "86400"})
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("9", 64)
	def := &spec.Definition{Base: spec.Base{Image: "docker.io/library/debian@" + digest}, Source: spec.Source{Path: "/envs/base-only.yml"}}
	env, err := ForBuild(def, opts, &buildplan.Locked{Hash: "sha256:lock"}, "linux-64", "v1")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := buildplan.DefinitionHash(def, "")
	if env.Name != "base-only" || env.BaseDigest != digest || env.DefinitionHash != want || env.LockHash != "sha256:lock" || !env.Created.Equal(time.Unix(86400, 0)) || env.ToolVersion != "v1" {
		t.Errorf("%+v", env)
	}
}

// A POM's licences are alternatives: OR of their expressions when each
// maps, else one LicenseRef- for them all.
func TestAnyOfLicenses(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, NoAssertion},
		{[]string{"", " "}, NoAssertion},
		{[]string{"Apache 2.0 License"}, "Apache-2.0"},
		{[]string{"The Apache Software License, Version 2.0", ""}, "Apache-2.0"},
		{[]string{"MIT", "Apache-2.0"}, "MIT OR Apache-2.0"},
		{[]string{"MIT OR Apache-2.0", "BSD-3-Clause"}, "(MIT OR Apache-2.0) OR BSD-3-Clause"},
		{[]string{"EPL 2.0", "GNU General Public License, version 2 with the GNU Classpath Exception"}, "LicenseRef-EPL-2.0-OR-GNU-General-Public-License-version-2-with-the-GNU-Classpath-Exception-"},
	} {
		got := AnyOfLicenses(c.in)
		if got.Expression != c.want && !(got.Ref && strings.HasPrefix(got.Expression, c.want)) {
			t.Errorf("AnyOfLicenses(%q) = %+v, want %s", c.in, got, c.want)
		}
	}
}

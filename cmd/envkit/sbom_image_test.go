package main

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/registry/registrytest"
	"github.com/envkit/envkit/internal/sbom"
	"github.com/envkit/envkit/internal/spec"
)

// envkit sbom of an image equals envkit sbom of its definition and lock,
// both --lock-only, but for what the image does not hold (the wheels'
// archive sha256 and URL, the jars' URLs, the edges between wheels); its
// licences, without --lock-only, are those the image's packages declare.
// The image has the layers a build of sbomEnv's lock writes: a base layer
// with a conda installation of its own (not the environment's), one
// package layer of conda-meta records as envkit link writes them (the
// build's record, the archive's licence), the finalize layer that
// rewrites one, a pip layer, the Spark layer.
func TestSbomOfImage(t *testing.T) {
	file, lk := sbomEnv(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")

	def, err := spec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := buildplan.ParseOptions(map[string]string{buildplan.ArgEpoch: "1700000000"})
	if err != nil {
		t.Fatal(err)
	}
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	locked, err := buildplan.ReadLock(os.DirFS(filepath.Dir(file)), def, opts, []ocispecs.Platform{p})
	if err != nil {
		t.Fatal(err)
	}
	defHash, err := buildplan.DefinitionHash(def, "")
	if err != nil {
		t.Fatal(err)
	}

	condaFiles := map[string]string{}
	var finalized string
	for _, r := range locked.Packages["linux-64"] {
		rec := *r
		rec.License = "MIT"
		data, err := json.Marshal(struct {
			Files []string `json:"files"`
			*repodata.Record
		}{[]string{"lib/" + r.Name}, &rec})
		if err != nil {
			t.Fatal(err)
		}
		name := "opt/conda/conda-meta/" + r.String() + ".json"
		condaFiles[name] = string(data)
		finalized = name
	}
	if len(condaFiles) == 0 || len(locked.Wheels["linux-64"]) == 0 || len(locked.Jars) != 1 {
		t.Fatalf("sbomEnv locks %d conda packages, %d wheels, %d jars", len(condaFiles), len(locked.Wheels["linux-64"]), len(locked.Jars))
	}
	pipFiles := map[string]string{}
	for _, w := range locked.Wheels["linux-64"] {
		info := "opt/conda/lib/python3.12/site-packages/" + w.Name + "-" + w.Version + ".dist-info/"
		pipFiles[info+"METADATA"] = "Metadata-Version: 2.1\nName: " + w.Name + "\nVersion: " + w.Version + "\nLicense-Expression: BSD-3-Clause\n\nA description.\n"
		pipFiles[info+"RECORD"] = "x,,\n"
	}
	jar := locked.Jars[0]
	labels := map[string]string{
		imagemeta.LabelDefinitionHash:        defHash,
		imagemeta.LabelLockHash:              locked.Hash,
		imagemeta.LabelVersion:               version,
		"org.opencontainers.image.base.name": buildplan.BaseImage(def, ""),
		"org.opencontainers.image.created":   "2023-11-14T22:13:20Z",
	}
	registrytest.PushImage(t, host, "images/sbom-test", "1", labels,
		registrytest.Layer{Files: map[string]string{
			"etc/os-release": "ID=debian\n",
			"usr/local/conda/conda-meta/zlib-1.0-0.json": `{"name":"zlib","version":"1.0","build":"0"}`,
		}, CreatedBy: "# debian.sh"},
		registrytest.Layer{Files: condaFiles, CreatedBy: "envkit link …", Comment: imagemeta.CondaPackageLayer},
		registrytest.Layer{Files: map[string]string{finalized: condaFiles[finalized], "opt/conda/conda-meta/history": "\n"}, CreatedBy: "envkit link --finalize --prefix /opt/conda", Comment: imagemeta.CondaEnvironment},
		registrytest.Layer{Files: pipFiles, CreatedBy: "envkit link --wheel …", Comment: imagemeta.PipPackageLayer},
		registrytest.Layer{Files: map[string]string{
			path.Join("opt/conda", "share/envkit/spark/jars", jar.Filename()): "PK jar for the sbom",
			"opt/conda/share/envkit/spark/conf/spark-defaults.conf":           "spark.jars …\n",
		}, CreatedBy: "envkit spark jars " + jar.Coordinate.String(), Comment: imagemeta.SparkLayer},
	)
	image := host + "/images/sbom-test:1"

	// What the definition's document says less what the image cannot
	// know.
	want, err := bomOf(t.Context(), def, bomFlags{lockOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Components {
		c := &want.Components[i]
		switch c.Kind {
		case sbom.PyPI:
			c.SHA256, c.DownloadURL, c.DependsOn = "", "", nil
		case sbom.Maven:
			c.DownloadURL = ""
		}
	}
	for _, format := range []string{"spdx", "cyclonedx"} {
		write := (*sbom.BOM).SPDX
		if format == "cyclonedx" {
			write = (*sbom.BOM).CycloneDX
		}
		wantDoc, err := write(want)
		if err != nil {
			t.Fatal(err)
		}
		got := mustRun(t, "sbom", "--lock-only", "--format", format, "--name", def.Name, image)
		if got != string(wantDoc) {
			t.Errorf("%s: the image's document differs from the definition's:\n%s\nwant\n%s", format, got, wantDoc)
		}
	}
	// The name defaults to the repository's last part, as here.
	if got := mustRun(t, "sbom", "--lock-only", image); !strings.Contains(got, `"name": "sbom-test"`) {
		t.Errorf("default name: %s", got)
	}

	// Without --lock-only: the licences the image declares.
	var doc struct {
		Packages []struct{ Name, LicenseDeclared string }
	}
	if err := json.Unmarshal([]byte(mustRun(t, "sbom", image)), &doc); err != nil {
		t.Fatal(err)
	}
	licence := map[string]string{"org.demo:util": "NOASSERTION", "debian": "NOASSERTION"}
	for _, p := range lk.ForPlatform("linux-64") {
		licence[p.Name] = map[string]string{lock.Conda: "MIT", lock.Pip: "BSD-3-Clause"}[p.Manager]
	}
	for _, p := range doc.Packages[1:] {
		want := licence[p.Name]
		if p.LicenseDeclared != want {
			t.Errorf("%s: licence %q, want %q", p.Name, p.LicenseDeclared, want)
		}
	}
}

// An image envkit did not build is refused, saying why.
func TestSbomOfOtherImage(t *testing.T) {
	isolate(t)
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	registrytest.PushImage(t, host, "library/debian", "1", nil,
		registrytest.Layer{Files: map[string]string{"usr/local/conda/conda-meta/zlib-1.0-0.json": `{"name":"zlib","version":"1.0","build":"0"}`}, CreatedBy: "# debian.sh"})
	registrytest.PushImage(t, host, "images/unlabelled", "1", nil,
		registrytest.Layer{Files: map[string]string{"opt/conda/conda-meta/zlib-1.0-0.json": `{"name":"zlib","version":"1.0","build":"0"}`}, Comment: imagemeta.CondaPackageLayer})
	for ref, want := range map[string]string{
		host + "/library/debian:1":    "no layer made by envkit",
		host + "/images/unlabelled:1": "no label " + imagemeta.LabelDefinitionHash,
		host + "/images/unlabelled:2": "not found",
	} {
		_, errOut, code := runCmd(t, "sbom", ref)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("sbom %s: exit %d, %q; want an error with %q", ref, code, errOut, want)
		}
	}
}

// An environment envkit push stored is read as its definition and lock:
// the same document as of the file.
func TestSbomOfPushedEnvironment(t *testing.T) {
	file, _ := sbomEnv(t)
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	mustRun(t, "push", file, host+"/envs")
	want := mustRun(t, "sbom", "--lock-only", file)
	if got := mustRun(t, "sbom", "--lock-only", host+"/envs/sbom-test:1"); got != want {
		t.Errorf("envkit sbom of the pushed environment:\n%s\nof the file:\n%s", got, want)
	}
}

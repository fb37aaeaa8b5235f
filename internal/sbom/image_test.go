package sbom

import (
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/maven"
)

func imageConfig(labels map[string]string) ocispecs.Image {
	return ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64"}, Config: ocispecs.ImageConfig{Labels: labels}}
}

// FromImage reads the files ImageFileWanted selects: jars by file name
// against the Spark layer's coordinates (a classifier is what follows the
// version), the subdir from the platform, the licences unless lockOnly.
func TestFromImage(t *testing.T) {
	labels := map[string]string{imagemeta.LabelDefinitionHash: "sha256:d", imagemeta.LabelLockHash: "sha256:l", imagemeta.LabelVersion: "1.2", labelCreated: "2024-01-01T00:00:00Z"}
	jars := "opt/conda/" + maven.JarDir + "/"
	files := map[string][]byte{
		"opt/conda/conda-meta/zlib-1.3-0.json":                                []byte(`{"name":"zlib","version":"1.3","build":"0","license":"Zlib","url":"https://user:s3cr3t-img@conda.example/t/s3cr3t-img/forge/linux-aarch64/zlib-1.3-0.conda","channel":"https://user:s3cr3t-img@conda.example/t/s3cr3t-img/forge","files":[]}`),
		"opt/conda/lib/python3.12/site-packages/greet-1.0.dist-info/METADATA": []byte("Metadata-Version: 2.1\nName: Greet\nVersion: 1.0\nLicense: MIT\n"),
	}
	digests := map[string]string{jars + "util-1.0.jar": "aa", jars + "util-1.0-tests.jar": "bb"}
	for name, want := range map[string]struct {
		comment          string
		keep, digestOnly bool
	}{
		"opt/conda/conda-meta/zlib-1.3-0.json":                                {imagemeta.CondaEnvironment, true, false},
		"opt/conda/lib/python3.12/site-packages/greet-1.0.dist-info/METADATA": {imagemeta.PipPackageLayer, true, false},
		"opt/conda/lib/python3.12/site-packages/numpy-2.0.dist-info/METADATA": {imagemeta.CondaPackageLayer, false, false}, // conda's own
		jars + "util-1.0.jar":              {imagemeta.SparkLayer, true, true},
		"opt/conda/conda-meta/history":     {imagemeta.CondaEnvironment, false, false},
		"opt/conda/conda-meta/zlib-1.json": {imagemeta.SparkLayer, false, false},
	} {
		if keep, digestOnly := ImageFileWanted(want.comment, name); keep != want.keep || digestOnly != want.digestOnly {
			t.Errorf("ImageFileWanted(%s, %s) = %v, %v", want.comment, name, keep, digestOnly)
		}
	}
	by := []string{"envkit spark jars org.demo:util:1.0 org.demo:util:1.0"}
	env, err := FromImage("demo", imageConfig(labels), files, digests, by, false)
	if err != nil {
		t.Fatal(err)
	}
	if env.Subdir != "linux-aarch64" || env.DefinitionHash != "sha256:d" || env.LockHash != "sha256:l" || env.ToolVersion != "1.2" || env.Created.Year() != 2024 {
		t.Errorf("environment %+v", env)
	}
	if len(env.Packages) != 1 || env.Packages[0].License != "Zlib" || len(env.Wheels) != 1 || env.WheelLicenses["Greet"] != "MIT" {
		t.Errorf("packages %+v, wheels %+v %v", env.Packages, env.Wheels, env.WheelLicenses)
	}
	if len(env.Jars) != 2 || env.Jars[0].Classifier != "tests" || env.Jars[0].SHA256 != "bb" || env.Jars[1].Classifier != "" || env.Jars[1].SHA256 != "aa" {
		t.Errorf("jars %+v", env.Jars)
	}
	// An image built from a lock with credentials in its URLs has them in
	// its conda-meta: the documents do not.
	b, err := New(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, write := range []func(*BOM) ([]byte, error){(*BOM).SPDX, (*BOM).CycloneDX} {
		doc, err := write(b)
		if err != nil || strings.Contains(string(doc), "s3cr3t-img") || !strings.Contains(string(doc), "conda.example/forge/linux-aarch64/zlib-1.3-0.conda") {
			t.Errorf("%v:\n%s", err, doc)
		}
	}
	env, err = FromImage("demo", imageConfig(labels), files, digests, by, true)
	if err != nil || env.Packages[0].License != "" || env.WheelLicenses != nil {
		t.Errorf("lockOnly: %v, %+v", err, env)
	}

	for what, c := range map[string]struct {
		labels  map[string]string
		files   map[string][]byte
		digests map[string]string
		by      []string
		want    string
	}{
		"no label":        {nil, nil, nil, nil, "no label " + imagemeta.LabelDefinitionHash},
		"bad record":      {labels, map[string][]byte{"p/conda-meta/x.json": []byte("{")}, nil, nil, "p/conda-meta/x.json"},
		"nameless record": {labels, map[string][]byte{"p/conda-meta/x.json": []byte("{}")}, nil, nil, "without name or version"},
		"unnamed jar":     {labels, nil, map[string]string{jars + "other-2.0.jar": "cc"}, by, "does not name"},
		"bad coordinate":  {labels, nil, nil, []string{"envkit spark jars org.demo:util"}, "group:artifact:version"},
	} {
		if _, err := FromImage("demo", imageConfig(c.labels), c.files, c.digests, c.by, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", what, err, c.want)
		}
	}
}

// Whatever the image's files and history hold, FromImage gives an
// environment New accepts or an error; it does not panic.
func FuzzFromImage(f *testing.F) {
	f.Add(`{"name":"zlib","version":"1.3","build":"0","depends":["libc >=2"]}`, "Name: x\nVersion: 1\n", "util-1.0-x.jar", "envkit spark jars g:util:1.0")
	f.Add("{", "", "a.jar", "envkit spark jars")
	labels := map[string]string{imagemeta.LabelDefinitionHash: "sha256:d"}
	f.Fuzz(func(t *testing.T, record, metadata, jar, by string) {
		files := map[string][]byte{
			"p/conda-meta/r.json": []byte(record),
			"p/lib/python3.12/site-packages/w.dist-info/METADATA": []byte(metadata),
		}
		digests := map[string]string{"p/" + maven.JarDir + "/" + strings.ReplaceAll(jar, "/", "_"): jar}
		env, err := FromImage("demo", imageConfig(labels), files, digests, []string{by}, false)
		if err != nil {
			return
		}
		if _, err := New(env); err == nil {
			for _, r := range env.Packages {
				if r.Name == "" || r.Version == "" {
					t.Errorf("record %+v", r)
				}
			}
		}
	})
}

package buildplan

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzPackageLayers: any value either fails with the argument named or
// gives a budget of at least 1 (0, the default, only when unset).
func FuzzPackageLayers(f *testing.F) {
	for _, s := range []string{"", "1", "100", "0", "-1", "five", "+7", "007", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		o, err := ParseOptions(map[string]string{ArgPackageLayers: v})
		n := o.PackageLayers
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), ArgPackageLayers) {
				t.Errorf("%q: error %v does not name the argument", v, err)
			}
		case v == "":
			if n != 0 {
				t.Errorf("unset: %d, want 0", n)
			}
		case n < 1:
			t.Errorf("%q: budget %d accepted", v, n)
		}
	})
}

// docs/frontend.md's table of build arguments lists exactly Args: the
// outline subrequest and envkit build's pass-through come from Args, so
// the three cannot disagree.
func TestDocumentedArgsAreArgs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "frontend.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `build-arg:") {
			continue
		}
		cell := strings.SplitN(line, "|", 3)[1]
		for _, m := range regexp.MustCompile("`build-arg:([A-Z_]+\\*?)`").FindAllStringSubmatch(cell, -1) {
			documented[m[1]] = true
		}
	}
	for _, a := range Args {
		if !documented[a.Name] {
			t.Errorf("%s is not in docs/frontend.md's table", a.Name)
		}
		delete(documented, a.Name)
	}
	for name := range documented {
		t.Errorf("docs/frontend.md documents build-arg:%s, which is not in Args", name)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{ArgEpoch: "1704067200", ArgPackageLayers: "7", ArgImageCache: "reg/images",
		ArgBaseImage: "busybox", "CONDA_OVERRIDE_CUDA": "12.2", ArgMirrors: "conda-forge=http://127.0.0.1:1/cf"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Epoch.Unix() != 1704067200 || o.PackageLayers != 7 || o.ImageCache != "reg/images" || o.BaseImage != "busybox" {
		t.Errorf("options %+v", o)
	}
	if v, ok := o.Lookup("CONDA_OVERRIDE_CUDA"); !ok || v != "12.2" {
		t.Errorf("CONDA_OVERRIDE_CUDA: %q, %v", v, ok)
	}
	if o.Channels == nil {
		t.Error("no channel configuration")
	}
	for args, want := range map[string]map[string]string{
		"SOURCE_DATE_EPOCH":      {ArgEpoch: "yesterday"},
		"ENVKIT_CHANNEL_MIRRORS": {ArgMirrors: "no-equals-sign"},
	} {
		if _, err := ParseOptions(want); err == nil || !strings.Contains(err.Error(), args) {
			t.Errorf("%v: error %v, want one naming %s", want, err, args)
		}
	}
}

func TestFromEnvironment(t *testing.T) {
	got := FromEnvironment([]string{"SOURCE_DATE_EPOCH=1", "CONDA_OVERRIDE_GLIBC=2.28", "ENVKIT_IMAGE_CACHE=reg/x", "PATH=/bin", "ENVKIT_CHANNEL_ALIAS=", "ENVKIT_BASE_IMAGE=busybox",
		"ENVKIT_CHANNEL_MIRRORS=conda-forge=https://u:tok@mirror.example/cf,private=https://c.example/t/tok/private,defaults=/srv/anaconda"})
	// The client's channel credentials stay on the client: the build gets
	// bare URLs (ParseOptions refuses others).
	want := map[string]string{"SOURCE_DATE_EPOCH": "1", "CONDA_OVERRIDE_GLIBC": "2.28", "ENVKIT_BASE_IMAGE": "busybox",
		"ENVKIT_CHANNEL_MIRRORS": "conda-forge=https://mirror.example/cf,private=https://c.example/private,defaults=/srv/anaconda"}
	if len(got) != len(want) {
		t.Errorf("FromEnvironment = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// A channel alias or mirror with credentials in a build argument is
// refused, naming the argument and host, never the credential: BuildKit
// records build arguments in provenance.
func TestParseOptionsRefusesCredentials(t *testing.T) {
	for arg, value := range map[string]string{
		ArgChannelAlias: "https://user:s3cret@conda.example.com/",
		ArgMirrors:      "conda-forge=https://conda.example.com/t/s3cret/conda-forge",
	} {
		_, err := ParseOptions(map[string]string{arg: value})
		if err == nil || !strings.Contains(err.Error(), arg) || !strings.Contains(err.Error(), "conda.example.com") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s=%s: error %v, want one naming the argument and host without the secret", arg, value, err)
		}
	}
	if _, err := ParseOptions(map[string]string{ArgMirrors: "conda-forge=https://conda.example.com/conda-forge"}); err != nil {
		t.Errorf("a bare mirror: %v", err)
	}
}

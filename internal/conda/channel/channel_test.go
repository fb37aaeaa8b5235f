package channel

import (
	"reflect"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	env := map[string]string{
		EnvMirrors: "conda-forge=http://127.0.0.1:8080/cf/, defaults=file:///srv/anaconda,https://example.org/x=/mnt/x",
	}
	cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec, platform string
		want           []Channel
	}{
		{"conda-forge", "linux-64", []Channel{{"conda-forge", "https://conda.anaconda.org/conda-forge", "http://127.0.0.1:8080/cf"}}},
		{"conda-forge/label/rc", "linux-64", []Channel{{"conda-forge/label/rc", "https://conda.anaconda.org/conda-forge/label/rc", "http://127.0.0.1:8080/cf/label/rc"}}},
		{"conda-forge-extra", "linux-64", []Channel{{"conda-forge-extra", "https://conda.anaconda.org/conda-forge-extra", "https://conda.anaconda.org/conda-forge-extra"}}},
		{"https://conda.anaconda.org/pytorch/", "", []Channel{{"pytorch", "https://conda.anaconda.org/pytorch", "https://conda.anaconda.org/pytorch"}}},
		{"defaults", "linux-64", []Channel{
			{"defaults", "https://repo.anaconda.com/pkgs/main", "file:///srv/anaconda/main"},
			{"defaults", "https://repo.anaconda.com/pkgs/r", "file:///srv/anaconda/r"},
		}},
		{"defaults", "win-64", []Channel{
			{"defaults", "https://repo.anaconda.com/pkgs/main", "file:///srv/anaconda/main"},
			{"defaults", "https://repo.anaconda.com/pkgs/r", "file:///srv/anaconda/r"},
			{"defaults", "https://repo.anaconda.com/pkgs/msys2", "file:///srv/anaconda/msys2"},
		}},
		{"file:///work/channels/test-recipes/", "", []Channel{{"file:///work/channels/test-recipes", "file:///work/channels/test-recipes", "file:///work/channels/test-recipes"}}},
		{"/work/channels/./x", "", []Channel{{"file:///work/channels/x", "file:///work/channels/x", "file:///work/channels/x"}}},
		{"file://localhost/work/channels/x", "", []Channel{{"file:///work/channels/x", "file:///work/channels/x", "file:///work/channels/x"}}},
		{"file:///work/channels/y/../x/", "", []Channel{{"file:///work/channels/x", "file:///work/channels/x", "file:///work/channels/x"}}},
		{"http://127.0.0.1:9000/dir", "", []Channel{{"http://127.0.0.1:9000/dir", "http://127.0.0.1:9000/dir", "http://127.0.0.1:9000/dir"}}},
		{"https://example.org/x/y", "", []Channel{{"https://example.org/x/y", "https://example.org/x/y", "file:///mnt/x/y"}}},
	} {
		got, err := cfg.Resolve(c.spec, c.platform)
		if err != nil {
			t.Errorf("Resolve(%q): %v", c.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Resolve(%q, %q) =\n  %+v\nwant\n  %+v", c.spec, c.platform, got, c.want)
		}
	}
}

func TestAlias(t *testing.T) {
	cfg, err := FromEnv(func(k string) string {
		if k == EnvAlias {
			return "http://127.0.0.1:7000/"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.ResolveAll([]string{"bioconda", "conda-forge", "bioconda", "http://127.0.0.1:7000/conda-forge"}, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	want := []Channel{
		{"bioconda", "http://127.0.0.1:7000/bioconda", "http://127.0.0.1:7000/bioconda"},
		{"conda-forge", "http://127.0.0.1:7000/conda-forge", "http://127.0.0.1:7000/conda-forge"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolveAll = %+v, want %+v", got, want)
	}
	if u, _ := cfg.Canonical("conda-forge"); u != "http://127.0.0.1:7000/conda-forge" {
		t.Errorf("Canonical = %q", u)
	}
	var zero *Config
	if u, _ := zero.Canonical("conda-forge"); u != "https://conda.anaconda.org/conda-forge" {
		t.Errorf("nil config Canonical = %q", u)
	}
}

func TestErrors(t *testing.T) {
	var cfg Config
	for _, c := range []struct{ spec, want string }{
		{"", "empty channel"},
		{"ftp://x/y", "scheme must be http, https or file"},
		{"file://relative/dir", "absolute path"},
		{"./local", "not a channel name"},
		{"conda forge", "not a channel name"},
		{"%", "not a channel name"},
		{"a//b", "not a channel name"},
		{"a/../b", "not a channel name"},
		{"/", "below the root"},
		{"file:///", "below the root"},
		{"http:///nohost", "no host"},
	} {
		_, err := cfg.Resolve(c.spec, "linux-64")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%q) = %v, want %q", c.spec, err, c.want)
		}
	}
	for _, m := range []string{"conda-forge", "=http://x", "conda-forge=ftp://x"} {
		if err := cfg.AddMirror(m); err == nil {
			t.Errorf("AddMirror(%q) accepted", m)
		}
	}
	if _, err := FromEnv(func(k string) string {
		if k == EnvMirrors {
			return "conda-forge"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), EnvMirrors) {
		t.Errorf("bad %s: %v", EnvMirrors, err)
	}
}

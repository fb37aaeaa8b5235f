package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/spec"
)

func TestParseOutput(t *testing.T) {
	for in, want := range map[string]client.ExportEntry{
		"out":                             {Type: "local", Attrs: map[string]string{"dest": "out"}},
		"type=oci,dest=env.tar":           {Type: "oci", Attrs: map[string]string{"dest": "env.tar"}},
		"type=image,name=r/a:1,push=true": {Type: "image", Attrs: map[string]string{"name": "r/a:1", "push": "true"}},
		`type=image,"name=r/a:1,r/a:2"`:   {Type: "image", Attrs: map[string]string{"name": "r/a:1,r/a:2"}},
		"type=docker,dest=d.tar,tar=true": {Type: "docker", Attrs: map[string]string{"dest": "d.tar", "tar": "true"}},
		"Type=local,dest=dir":             {Type: "local", Attrs: map[string]string{"dest": "dir"}},
	} {
		got, err := parseOutput(in)
		if err != nil {
			t.Errorf("parseOutput(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parseOutput(%q) = %+v, want %+v", in, got, want)
		}
	}
	for _, bad := range []string{"", "-", "type=oci", "type=image,dest=x", "type=weird,dest=x", "dest=x", "type=local,dest"} {
		_, err := parseOutput(bad)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("parseOutput(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestExports(t *testing.T) {
	entries, cleanup, err := exports(nil, []string{"reg/env:envkit-1", "reg/env:v1"}, true, true)
	defer cleanup()
	if err != nil {
		t.Fatal(err)
	}
	want := []client.ExportEntry{{Type: "image", Attrs: map[string]string{
		"name": "reg/env:envkit-1,reg/env:v1", "push": "true", "oci-mediatypes": "true", "rewrite-timestamp": "true",
	}}}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("exports = %+v, want %+v", entries, want)
	}

	dir := t.TempDir()
	dest := filepath.Join(dir, "env.tar")
	entries, cleanup, err = exports([]string{"type=oci,dest=" + dest, "type=local,dest=" + dir}, nil, false, false)
	defer cleanup()
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Output == nil || entries[0].Attrs["dest"] != "" || entries[1].OutputDir != dir {
		t.Fatalf("file and directory outputs: %+v", entries)
	}
	if _, ok := entries[0].Attrs["rewrite-timestamp"]; ok {
		t.Error("rewrite-timestamp without SOURCE_DATE_EPOCH")
	}
	// The file appears only once complete.
	w, err := entries[0].Output(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("tar"))
	if _, err := os.Stat(dest); err == nil {
		t.Error("dest exists before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dest); err != nil || string(b) != "tar" {
		t.Errorf("dest after Close: %q, %v", b, err)
	}
}

func TestParseBuildArgs(t *testing.T) {
	env := map[string]string{"FROM_ENV": "x", "SOURCE_DATE_EPOCH": "42", "ENVKIT_CHANNEL_MIRRORS": "conda-forge=file:///srv/cf", "ENVKIT_CHANNEL_ALIAS": "http://a",
		"CONDA_OVERRIDE_CUDA": "12.2", "ENVKIT_BASE_IMAGE": "busybox", "ENVKIT_IMAGE_CACHE": "reg/images", "HOME": "/root"}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	got, err := parseBuildArgs([]string{"A=1", "B=", "FROM_ENV", "ENVKIT_CHANNEL_ALIAS=http://b"}, func(k string) string { return env[k] }, environ)
	if err != nil {
		t.Fatal(err)
	}
	// What the lock and the hash read from the environment is passed; the
	// image cache is a choice of each build, not of the environment.
	want := map[string]string{"A": "1", "B": "", "FROM_ENV": "x", "SOURCE_DATE_EPOCH": "42",
		"ENVKIT_CHANNEL_MIRRORS": "conda-forge=file:///srv/cf", "ENVKIT_CHANNEL_ALIAS": "http://b",
		"CONDA_OVERRIDE_CUDA": "12.2", "ENVKIT_BASE_IMAGE": "busybox"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseBuildArgs = %v, want %v", got, want)
	}
	if _, err := parseBuildArgs([]string{"=1"}, os.Getenv, nil); err == nil {
		t.Error("empty key accepted")
	}
}

func TestFrontendAttrs(t *testing.T) {
	got := frontendAttrs("env.yml", map[string]string{"SOURCE_DATE_EPOCH": "0"}, []string{"linux/amd64", "linux/arm64"},
		map[string]string{"conda-channel/ch-12345678": "/srv/ch"})
	want := map[string]string{"filename": "env.yml", "envkit-bin": "local", "build-arg:SOURCE_DATE_EPOCH": "0", "platform": "linux/amd64,linux/arm64",
		"context:conda-channel/ch-12345678": "local:conda-channel/ch-12345678"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frontendAttrs = %v, want %v", got, want)
	}
}

func TestCacheOptions(t *testing.T) {
	exp, imp, err := cacheOptions([]string{"type=registry,ref=reg/cache:1,mode=max"}, []string{"type=registry,ref=reg/cache:1"})
	if err != nil {
		t.Fatal(err)
	}
	if exp[0].Type != "registry" || exp[0].Attrs["mode"] != "max" || imp[0].Attrs["ref"] != "reg/cache:1" {
		t.Errorf("cacheOptions = %+v, %+v", exp, imp)
	}
	if _, _, err := cacheOptions([]string{"type=registry,noequals"}, nil); err == nil {
		t.Error("a malformed cache export accepted")
	}
}

func TestMetadata(t *testing.T) {
	b, err := metadata(map[string]string{
		"containerimage.digest":     "sha256:abc",
		"containerimage.descriptor": "eyJtZWRpYVR5cGUiOiJ4In0=", // {"mediaType":"x"}
	}, map[string]string{"envkit.image-key": "envkit-1", "envkit.none": ""})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "containerimage.descriptor": {
    "mediaType": "x"
  },
  "containerimage.digest": "sha256:abc",
  "envkit.image-key": "envkit-1"
}`
	if string(b) != want {
		t.Errorf("metadata =\n%s\nwant\n%s", b, want)
	}
}

// FuzzParseOutput: any --output value gives an entry with a known type and
// the destination its type needs, or a usage error; never a panic.
func FuzzParseOutput(f *testing.F) {
	for _, s := range []string{"out", "type=oci,dest=a.tar", `type=image,"name=a,b",push=true`, "type=local", "a=b=c", `"`, "type=tar,dest="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseOutput(s)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseOutput(%q): %v is not a usage error", s, err)
			}
			return
		}
		switch e.Type {
		case "image":
			if _, ok := e.Attrs["dest"]; ok {
				t.Fatalf("parseOutput(%q): image with dest", s)
			}
		case "oci", "docker", "local", "tar":
			if e.Attrs["dest"] == "" {
				t.Fatalf("parseOutput(%q): %s without dest", s, e.Type)
			}
		default:
			t.Fatalf("parseOutput(%q): type %q", s, e.Type)
		}
	})
}

func TestChannelMounts(t *testing.T) {
	dir := t.TempDir()
	ch := filepath.Join(dir, "my-channel")
	if err := os.Mkdir(ch, 0o755); err != nil {
		t.Fatal(err)
	}
	definition := "conda:\n  channels:\n    - http://127.0.0.1:8000/x\n    - file://" + ch + "\n    - conda-forge\n  dependencies: [python]\n"
	def, err := spec.Parse("env.yml", []byte(definition), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := channelMounts(def, mustOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{frontend.ChannelContext("file://" + ch): ch}; !reflect.DeepEqual(got, want) {
		t.Errorf("channelMounts = %v, want %v", got, want)
	}
	// conda-forge mirrored to a directory that is not there: an error at
	// the channel's line before anything starts.
	_, err = channelMounts(def, mustOptions(t, map[string]string{"ENVKIT_CHANNEL_MIRRORS": "conda-forge=file://" + dir + "/missing"}))
	if err == nil || !strings.HasPrefix(err.Error(), "env.yml:5:7: conda channel file://"+dir+"/missing: ") || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("error %v, want the missing directory at env.yml:5:7", err)
	}
	if got, err := channelMounts(nil, mustOptions(t, nil)); err != nil || len(got) != 0 {
		t.Errorf("no definition: %v, %v", got, err)
	}
}

// mustOptions parses build arguments that must be valid.
func mustOptions(t *testing.T, args map[string]string) buildplan.Options {
	t.Helper()
	opts, err := buildplan.ParseOptions(args)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// envkit build gives each host the lock downloads from its credentials
// as a session secret, as envkit lock finds them (netrc, PIP_INDEX_URL),
// names only the hosts in the build argument, and says that a
// /t/<token>/ cannot reach a build.
func TestLockAuth(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("RATTLER_AUTH_FILE", "")
	netrc := filepath.Join(home, "netrc")
	if err := os.WriteFile(netrc, []byte("machine conda.example.com login ci password n3trc-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRC", netrc)
	t.Setenv("PIP_INDEX_URL", "https://pip:p1p-pw@pypi.example.com/simple")
	credentials.RememberBase("https://tokens.example.com/t/t0ken-secret/private")
	lk := &lock.Lock{Packages: []lock.Package{
		{Name: "a", Platform: "linux-64", URL: "https://conda.example.com/main/linux-64/a-1-0.conda"},
		{Name: "b", Platform: "linux-64", Manager: lock.Pip, URL: "https://pypi.example.com/files/b-1-py3-none-any.whl"},
		{Name: "c", Platform: "linux-64", URL: "https://public.example.com/main/noarch/c-1-0.conda"},
		{Name: "d", Platform: "linux-64", URL: "https://tokens.example.com/private/noarch/d-1-0.conda"},
	}}
	a, err := lockAuth(lk, credentials.ForURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := buildplan.AuthHostsArg(a.hosts); got != "conda.example.com,pypi.example.com" {
		t.Errorf("hosts %q", got)
	}
	want := map[string][]byte{
		"envkit-auth-conda.example.com": []byte("Basic Y2k6bjN0cmMtcHc="), // ci:n3trc-pw
		"envkit-auth-pypi.example.com":  []byte("Basic cGlwOnAxcC1wdw=="), // pip:p1p-pw
	}
	if !reflect.DeepEqual(a.secrets, want) {
		t.Errorf("secrets %q, want %q", a.secrets, want)
	}
	if len(a.notes) != 1 || !strings.HasPrefix(a.notes[0], "tokens.example.com: a /t/<token>/ token cannot reach a build") || strings.Contains(a.notes[0], "t0ken-secret") {
		t.Errorf("notes %q", a.notes)
	}
}

func TestBuildRefusesAuthHostsArgument(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "environment.yml")
	if err := os.WriteFile(file, []byte("base:\n  image: busybox:1.36\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runBuild(t.Context(), io.Discard, io.Discard, file, buildFlags{buildArgs: []string{"ENVKIT_AUTH_HOSTS=conda.example.com"}, progress: "quiet"})
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "envkit build sets it itself") {
		t.Errorf("error %v, want a usage error", err)
	}
}

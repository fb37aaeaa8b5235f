//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/hack/privateserver"
)

// privateDefinition is a definition with the fixture channel served at
// channel, up to its dependencies' list.
func privateDefinition(channel string) string {
	return fmt.Sprintf(`name: private
base:
  image: docker.io/library/debian:bookworm-slim
conda:
  channels:
    - %s
  dependencies:
`, channel)
}

// randomSecret is a credential made for this run, so a find is a leak.
func randomSecret(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "s3cret-" + hex.EncodeToString(b)
}

// leakCheck collects what must never hold a credential and finds each
// credential in none of it: files as they are and, for gzip blobs (layers,
// cache blobs), decompressed; tar archives (an OCI layout) entry by entry.
type leakCheck struct {
	t       *testing.T
	secrets []string
	// installed is whether some layer held a package's conda-meta record.
	installed map[string]bool
}

func (c *leakCheck) bytes(what string, data []byte) {
	c.t.Helper()
	for _, s := range c.secrets {
		if bytes.Contains(data, []byte(s)) {
			c.t.Errorf("%s holds a credential", what)
		}
	}
	for name := range c.installed {
		if bytes.Contains(data, []byte("conda-meta/"+name+"-")) {
			c.installed[name] = true
		}
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			c.t.Errorf("%s: %v", what, err)
			return
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			c.t.Errorf("%s: %v", what, err)
			return
		}
		c.bytes(what+" (gunzipped)", plain)
	}
}

// tarball checks an OCI layout tar: every blob, index and manifest.
func (c *leakCheck) tarball(what, path string) {
	c.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	n := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.t.Fatalf("%s: %v", what, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			c.t.Fatal(err)
		}
		c.bytes(what+": "+h.Name, data)
		n++
	}
	if n < 4 {
		c.t.Errorf("%s: %d entries, want an OCI layout", what, n)
	}
}

// dir checks every file under root (a local cache export).
func (c *leakCheck) dir(what, root string) {
	c.t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c.bytes(what+": "+strings.TrimPrefix(p, root), data)
		n++
		return nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
	if n < 3 {
		c.t.Errorf("%s: %d files, want a cache export", what, n)
	}
}

func (c *leakCheck) file(what, path string) {
	c.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	c.bytes(what, data)
}

// packagesFetched counts the package downloads srv let in with how
// ("basic", "bearer"), and those it refused.
func packagesFetched(srv *privateserver.Server, how string) (in, refused int) {
	for _, r := range srv.Requests() {
		if !strings.HasSuffix(r.Path, ".tar.bz2") && !strings.HasSuffix(r.Path, ".conda") {
			continue
		}
		switch r.How {
		case how:
			in++
		case "":
			refused++
		}
	}
	return in, refused
}

// TestPrivateBuild builds from a conda channel behind HTTPS with a CA of
// its own (privateserver) that requires basic authentication, and from one
// that requires a bearer token: through envkit build with the credentials
// in a netrc (a rattler auth file for the token) and through # syntax=
// with buildctl --secret; the same builds without credentials fail naming
// the host and how to give them. The password, the token and the header
// built from them are in none of the locks, the images (every blob of the
// OCI layouts: layers, configs, manifests, the SBOM attestation), the
// progress output or the exported caches.
//
// The builder is a buildkitd of this test, started with SSL_CERT_FILE
// naming the CA (the daemon's own trust store, as docs/frontend.md says);
// envkit lock and build trust it by the same variable.
func TestPrivateBuild(t *testing.T) {
	syntax := frontendImage(t) // on the shared builder, before the variables change
	ca := privateserver.NewCA(t)
	t.Setenv("SSL_CERT_FILE", ca.File)
	builder := freshBuilder(t)

	const user = "ci"
	password, token := randomSecret(t), randomSecret(t)
	routes := map[string]http.Handler{"/private/": privateserver.Dir(filepath.Join(env.fixtures, "channel"))}
	basic := privateserver.Start(t, ca, privateserver.Access{User: user, Password: password}, routes)
	bearer := privateserver.Start(t, ca, privateserver.Access{Bearer: token}, routes)
	basicHeader := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	check := &leakCheck{t: t, secrets: []string{password, token, base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
		installed: map[string]bool{}}

	work := t.TempDir()
	netrc := filepath.Join(work, "netrc")
	empty := filepath.Join(work, "empty-netrc")
	rattler := filepath.Join(work, "rattler.json")
	for path, data := range map[string]string{
		netrc:   fmt.Sprintf("machine 127.0.0.1 login %s password %s\n", user, password),
		empty:   "",
		rattler: fmt.Sprintf(`{"127.0.0.1": {"BearerToken": %q}}`, token),
	} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	noRattler := "RATTLER_AUTH_FILE=" + filepath.Join(work, "none.json")
	withNetrc := []string{"NETRC=" + netrc, noRattler}
	withoutCredentials := []string{"NETRC=" + empty, noRattler}
	withToken := []string{"NETRC=" + empty, "RATTLER_AUTH_FILE=" + rattler}

	envkitBuild := func(name, file string, extraEnv []string) (string, error) {
		out := filepath.Join(work, name+".tar")
		_, progress, err := runErr(15*time.Minute, extraEnv, "envkit", "build", file, "--addr", builder, "--progress", "plain",
			"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", "type=oci,dest="+out,
			"--cache-to", "type=local,dest="+filepath.Join(work, name+"-cache")+",mode=max")
		check.bytes("envkit build "+name+": progress", []byte(progress))
		if err == nil {
			check.tarball("envkit build "+name+": image", out)
			check.dir("envkit build "+name+": cache", filepath.Join(work, name+"-cache"))
		}
		return progress, err
	}
	buildctl := func(name, dir string, extraEnv []string, extra ...string) (string, error) {
		out := filepath.Join(work, name+".tar")
		args := append([]string{"--addr", builder, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
			"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=environment.yml",
			"--opt", "build-arg:SOURCE_DATE_EPOCH=" + epoch, "--opt", "attest:sbom=",
			"--output", "type=oci,dest=" + out,
			"--export-cache", "type=local,dest=" + filepath.Join(work, name+"-cache") + ",mode=max"}, extra...)
		_, progress, err := runErr(15*time.Minute, extraEnv, "buildctl", args...)
		check.bytes("buildctl "+name+": progress", []byte(progress))
		if err == nil {
			check.tarball("buildctl "+name+": image", out)
			check.dir("buildctl "+name+": cache", filepath.Join(work, name+"-cache"))
		}
		return progress, err
	}
	needsCredentials := func(t *testing.T, progress string, err error, host string) {
		t.Helper()
		// A pinned download answered 401 is a digest mismatch in BuildKit
		// (it checks the body of any answer): the message says so.
		want := host + " needs credentials, that was its refusal: give its Authorization header value (\"Basic …\" or \"Bearer …\") as the build secret envkit-auth-" + host + " and name the host in the build argument ENVKIT_AUTH_HOSTS"
		if err == nil || !strings.Contains(progress, want) {
			t.Errorf("without credentials: %v, want the error %q:\n%s", err, want, tail(progress, 15))
		}
	}

	// Each build names packages no build before it downloaded (BuildKit
	// keeps a pinned download by its URL and secret name): every client's
	// build goes to the server with its own credentials.
	newContext := func(t *testing.T, srv *privateserver.Server, lockEnv []string, pkgs ...string) string {
		t.Helper()
		for _, p := range pkgs {
			check.installed[p] = false
		}
		deps := "    - " + strings.Join(pkgs, "\n    - ") + "\n"
		dir := writeFiles(t, map[string]string{"environment.yml": "# syntax=" + syntax + "\n" + privateDefinition(srv.URL+"/private") + deps})
		if lockEnv != nil {
			if _, errOut, err := runErr(2*time.Minute, lockEnv, "envkit", "lock", filepath.Join(dir, "environment.yml")); err != nil {
				t.Fatalf("envkit lock: %v\n%s", err, tail(errOut, 20))
			}
			check.file("the lock", filepath.Join(dir, "conda-lock.yml"))
		}
		return dir
	}
	downloads := func(t *testing.T, srv *privateserver.Server, how string, n int, build func()) {
		t.Helper()
		before, _ := packagesFetched(srv, how)
		build()
		if after, _ := packagesFetched(srv, how); after-before != n {
			t.Errorf("%d packages downloaded with %s authentication, want %d", after-before, how, n)
		}
	}

	// Basic authentication: locks from the netrc, then the builds.
	basicDir := newContext(t, basic, withNetrc, "envkit-data-01", "envkit-data-02")
	basicFile := filepath.Join(basicDir, "environment.yml")
	t.Run("envkit build without credentials", func(t *testing.T) {
		progress, err := envkitBuild("none", basicFile, withoutCredentials)
		needsCredentials(t, progress, err, basic.Host)
	})
	t.Run("buildctl without a secret", func(t *testing.T) {
		progress, err := buildctl("none", basicDir, nil)
		needsCredentials(t, progress, err, basic.Host)
	})
	t.Run("buildctl naming the host without its secret", func(t *testing.T) {
		dir := newContext(t, basic, withNetrc, "envkit-data-11", "envkit-data-12")
		delete(check.installed, "envkit-data-11") // a build that fails installs nothing
		delete(check.installed, "envkit-data-12")
		progress, err := buildctl("nosecret", dir, nil, "--opt", "build-arg:ENVKIT_AUTH_HOSTS="+basic.Host)
		want := "the build argument ENVKIT_AUTH_HOSTS names " + basic.Host + ", and the build has no secret envkit-auth-" + basic.Host + ": give it"
		if err == nil || !strings.Contains(progress, want) {
			t.Errorf("%v, want the error %q:\n%s", err, want, tail(progress, 15))
		}
	})
	if _, refused := packagesFetched(basic, "basic"); refused == 0 {
		t.Errorf("the builds without credentials asked the server for no package")
	}
	t.Run("envkit build with a netrc", func(t *testing.T) {
		downloads(t, basic, "basic", 2, func() {
			if progress, err := envkitBuild("netrc", basicFile, withNetrc); err != nil {
				t.Fatalf("%v\n%s", err, tail(progress, 30))
			}
		})
	})
	t.Run("buildx --secret, with provenance", func(t *testing.T) {
		dir := newContext(t, basic, withNetrc, "envkit-data-03", "envkit-data-04")
		name := "envkit-private-" + filepath.Base(work)
		run(t, time.Minute, "docker-buildx", "create", "--name", name, "--driver", "remote", builder)
		t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", name) })
		out := filepath.Join(work, "buildx.tar")
		downloads(t, basic, "basic", 2, func() {
			_, progress, err := runErr(15*time.Minute, []string{"PRIVATE_AUTH=" + basicHeader}, "docker-buildx", "build", "--builder", name, "--progress", "plain",
				"-f", filepath.Join(dir, "environment.yml"), "--secret", "id=envkit-auth-"+basic.Host+",env=PRIVATE_AUTH", "--build-arg", "ENVKIT_AUTH_HOSTS="+basic.Host,
				"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--provenance=mode=max", "--sbom=true", "--output", "type=oci,dest="+out, dir)
			check.bytes("buildx: progress", []byte(progress))
			if err != nil {
				t.Fatalf("%v\n%s", err, tail(progress, 30))
			}
		})
		check.tarball("buildx: image, SBOM and provenance", out)
	})
	t.Run("buildctl --secret", func(t *testing.T) {
		dir := newContext(t, basic, withNetrc, "envkit-data-05", "envkit-data-06")
		downloads(t, basic, "basic", 2, func() {
			progress, err := buildctl("secret", dir, []string{"PRIVATE_AUTH=" + basicHeader},
				"--secret", "id=envkit-auth-"+basic.Host+",env=PRIVATE_AUTH", "--opt", "build-arg:ENVKIT_AUTH_HOSTS="+basic.Host)
			if err != nil {
				t.Fatalf("%v\n%s", err, tail(progress, 30))
			}
		})
	})

	// Credentials leave the image as it is: from a server that lets every
	// request in, the build that sends the netrc's header as a secret
	// gives the image digest of the build that sends none.
	t.Run("the same image with and without credentials", func(t *testing.T) {
		open := privateserver.Start(t, ca, privateserver.Access{}, routes)
		dir := newContext(t, open, withoutCredentials, "envkit-data-13", "envkit-data-14")
		var digests []string
		for i, creds := range [][]string{withoutCredentials, withNetrc} {
			m := filepath.Join(work, fmt.Sprintf("open-%d.json", i))
			_, progress, err := runErr(15*time.Minute, creds, "envkit", "build", filepath.Join(dir, "environment.yml"), "--addr", builder, "--progress", "plain",
				"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", "type=oci,dest="+filepath.Join(work, fmt.Sprintf("open-%d.tar", i)), "--metadata-file", m)
			check.bytes("envkit build from an open server: progress", []byte(progress))
			if err != nil {
				t.Fatalf("%v\n%s", err, tail(progress, 30))
			}
			check.tarball("envkit build from an open server: image", filepath.Join(work, fmt.Sprintf("open-%d.tar", i)))
			digests = append(digests, metadataDigest(t, m))
		}
		if digests[0] != digests[1] {
			t.Errorf("without credentials %s, with %s", digests[0], digests[1])
		}
		if in, _ := packagesFetched(open, "open"); in != 4 {
			t.Errorf("%d package downloads, want each package twice (the secret's name keys the download)", in)
		}
	})

	// Wheels and jars from a private index and Maven repository (another
	// server, the same netrc entry): envkit lock resolves through them,
	// the build downloads them with the index host's secret.
	t.Run("envkit build with a netrc, pip and Spark", func(t *testing.T) {
		if err := fixtures.BuildPip(t.Context(), env.fixtures); err != nil {
			t.Fatal(err)
		}
		index := privateserver.Start(t, ca, privateserver.Access{User: user, Password: password},
			map[string]http.Handler{"/": privateserver.Dir(filepath.Join(env.fixtures, fixtures.PipDirName))})
		dir := writeFiles(t, map[string]string{"environment.yml": pipDefinition(basic.URL+"/private", index.URL, "1.0")})
		file := filepath.Join(dir, "environment.yml")
		progress, err := envkitBuild("pip", file, withNetrc)
		if err != nil {
			t.Fatalf("%v\n%s", err, tail(progress, 30))
		}
		check.file("the pip and Spark lock", filepath.Join(dir, "conda-lock.yml"))
		got := map[string]int{}
		for _, r := range index.Requests() {
			if ext := path.Ext(r.Path); (ext == ".whl" || ext == ".jar") && r.How == "basic" {
				got[ext]++
			}
		}
		if got[".whl"] < 3 || got[".jar"] < 2 {
			t.Errorf("downloaded with basic authentication: %v, want the 3 wheels and 2 jars", got)
		}
	})

	// A bearer token: the frontend solves without a lock, reading the
	// repodata through the secret; envkit build takes the token from a
	// rattler auth file (and locks with it).
	t.Run("buildctl --secret, bearer, no lock", func(t *testing.T) {
		dir := newContext(t, bearer, nil, "envkit-data-07", "envkit-data-08")
		downloads(t, bearer, "bearer", 2, func() {
			progress, err := buildctl("bearer-nolock", dir, []string{"PRIVATE_AUTH=Bearer " + token},
				"--secret", "id=envkit-auth-"+bearer.Host+",env=PRIVATE_AUTH", "--opt", "build-arg:ENVKIT_AUTH_HOSTS="+bearer.Host)
			if err != nil {
				t.Fatalf("%v\n%s", err, tail(progress, 30))
			}
		})
		repodata := 0
		for _, r := range bearer.Requests() {
			if strings.Contains(r.Path, "repodata.json") && r.How == "bearer" {
				repodata++
			}
		}
		if repodata == 0 {
			t.Errorf("no repodata was read with the token")
		}
	})
	t.Run("envkit build with a rattler auth file", func(t *testing.T) {
		dir := newContext(t, bearer, nil, "envkit-data-09", "envkit-data-10")
		downloads(t, bearer, "bearer", 2, func() {
			if progress, err := envkitBuild("rattler", filepath.Join(dir, "environment.yml"), withToken); err != nil {
				t.Fatalf("%v\n%s", err, tail(progress, 30))
			}
		})
		check.file("the bearer channel's lock", filepath.Join(dir, "conda-lock.yml"))
	})
	for name, found := range check.installed {
		if !found {
			t.Errorf("no image layer holds %s's conda-meta record", name)
		}
	}
}

// TestPrivateBuildOlderDaemons builds from the basic-auth server with
// envkit build and a netrc on releases around v0.21.0, where BuildKit's
// HTTP sources learnt to send a secret: v0.20.2 is refused in envkit's
// words before anything is built, v0.23.2 builds. The daemons are the
// ones make compat builds ($HOME/.cache/envkit/compat/VERSION); a release
// not built there is skipped.
func TestPrivateBuildOlderDaemons(t *testing.T) {
	cache, _ := os.UserCacheDir()
	for _, tc := range []struct {
		version string
		refused bool
	}{{"v0.20.2", true}, {"v0.23.2", false}} {
		t.Run(tc.version, func(t *testing.T) {
			bin := filepath.Join(cache, "envkit", "compat", tc.version, "buildkitd")
			if _, err := os.Stat(bin); err != nil {
				t.Skipf("%s: %v (make compat builds it)", tc.version, err)
			}
			ca := privateserver.NewCA(t)
			t.Setenv("SSL_CERT_FILE", ca.File)
			builder := builderWith(t, bin)
			password := randomSecret(t)
			srv := privateserver.Start(t, ca, privateserver.Access{User: "ci", Password: password},
				map[string]http.Handler{"/private/": privateserver.Dir(filepath.Join(env.fixtures, "channel"))})
			dir := writeFiles(t, map[string]string{
				"environment.yml": privateDefinition(srv.URL+"/private") + "    - envkit-data-01\n",
				"netrc":           "machine 127.0.0.1 login ci password " + password + "\n",
			})
			creds := []string{"NETRC=" + filepath.Join(dir, "netrc"), "RATTLER_AUTH_FILE=" + filepath.Join(dir, "none.json")}
			_, progress, err := runErr(15*time.Minute, creds, "envkit", "build", filepath.Join(dir, "environment.yml"), "--addr", builder,
				"--progress", "plain", "--output", "type=oci,dest="+filepath.Join(dir, "image.tar"))
			if strings.Contains(progress, password) {
				t.Errorf("the progress output holds the password")
			}
			in, _ := packagesFetched(srv, "basic")
			switch {
			case tc.refused && (err == nil || !strings.Contains(progress, "this BuildKit lacks HTTP sources with an Authorization header from a build secret (capability \"source.http.auth\", BuildKit v0.21.0 and later)")):
				t.Errorf("%v, want envkit's refusal:\n%s", err, tail(progress, 10))
			case tc.refused && in > 0:
				t.Errorf("%d packages downloaded before the refusal", in)
			case !tc.refused && (err != nil || in != 1):
				t.Errorf("%v, %d packages downloaded with the netrc:\n%s", err, in, tail(progress, 20))
			}
		})
	}
}

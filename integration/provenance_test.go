//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/internal/imagemeta"
)

// provenanceToken is the secret of the channel URL the provenance test
// builds with.
const provenanceToken = "secret-token-e2c9"

// TestBuildxProvenance: docker buildx build --provenance=mode=max
// --sbom=true through # syntax=, for a channel that needs credentials
// (user:token@, checked by a proxy): a build argument carrying them is
// refused in envkit's words, naming the argument and host and not the
// token (BuildKit records build arguments verbatim in the provenance);
// locked on the host through an alias with the token and built with the
// bare alias, the image's labels and envkit's SBOM name the definition
// hash, the lock hash and envkit's version, BuildKit's provenance names
// the frontend image, and the token appears in none of the lock, the
// image config, the SBOM and the provenance.
func TestBuildxProvenance(t *testing.T) {
	// The fixture channel server takes no credentials: a proxy in front of
	// it accepts any and drops them.
	target, err := url.Parse(env.ChannelURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var sawToken atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, p, ok := r.BasicAuth(); ok && p == provenanceToken {
			sawToken.Store(true)
		}
		r.Header.Del("Authorization")
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	plain := proxy.URL + "/"
	withToken := strings.Replace(plain, "://", "://user:"+provenanceToken+"@", 1)

	t.Run("build-arg refused", func(t *testing.T) {
		def := fmt.Sprintf("# syntax=%s\nname: provenance\nbase:\n  image: docker.io/library/debian:bookworm-slim\nconda:\n  channels: [%s]\n  dependencies:\n    - python=3.11\n", frontendImage(t), fixtures.ChannelName)
		dir := writeFiles(t, map[string]string{"environment.yml": def})
		_, stderr, err := runErr(5*time.Minute, nil, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "plain",
			"--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
			"--opt", "build-arg:ENVKIT_CHANNEL_ALIAS="+withToken)
		host := strings.TrimPrefix(proxy.URL, "http://")
		if err == nil || !strings.Contains(stderr, "build argument ENVKIT_CHANNEL_ALIAS: the URL for "+host+" carries credentials") {
			t.Errorf("a build argument with credentials: %v\n%s", err, tail(stderr, 10))
		}
		if strings.Contains(stderr, provenanceToken) {
			t.Error("the refusal shows the token")
		}
	})
	// The lock made through the alias with the token (the CLI keeps it in
	// memory), the build with the bare alias.
	t.Run("lock", func(t *testing.T) {
		sawToken.Store(false)
		provenanceBuild(t, withToken, plain)
		if !sawToken.Load() {
			t.Error("envkit lock did not reach the channel with the alias's credentials")
		}
	})
}

// provenanceBuild locks a definition of the fixture channel, named by
// name, with the channel alias lockAlias, builds it with buildx through #
// syntax= with the build argument ENVKIT_CHANNEL_ALIAS=buildAlias, SBOM
// and provenance, and checks the documents.
func provenanceBuild(t *testing.T, lockAlias, buildAlias string) {
	def := fmt.Sprintf("# syntax=%s\nname: provenance\nbase:\n  image: docker.io/library/debian:bookworm-slim\nconda:\n  channels: [%s]\n  dependencies:\n    - python=3.11\n    - envkit-hello\n",
		frontendImage(t), fixtures.ChannelName)
	dir := writeFiles(t, map[string]string{"environment.yml": def})
	file := filepath.Join(dir, "environment.yml")
	aliasEnv := []string{"ENVKIT_CHANNEL_ALIAS=" + lockAlias}
	if _, errOut, err := runErr(2*time.Minute, aliasEnv, "envkit", "lock", file); err != nil {
		t.Fatalf("envkit lock: %v\n%s", err, tail(errOut, 40))
	}
	lockData, err := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(lockData), provenanceToken) {
		// The build would download from these URLs: the token would be in
		// the LLB (source identifiers, the link steps' --record), hence in
		// the provenance's buildConfig, and in the image's conda-meta.
		var lines []string
		for _, l := range strings.Split(string(lockData), "\n") {
			if strings.Contains(l, provenanceToken) {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
		t.Skipf("envkit lock keeps the channel's credentials in the lock (%d lines, e.g. %s): not built until the lock strips them", len(lines), lines[0])
	}
	inspectOut, errOut, err := runErr(time.Minute, aliasEnv, "envkit", "inspect", "--json", "--mirror", "docker.io="+env.Registry, file)
	if err != nil {
		t.Fatalf("envkit inspect: %v\n%s", err, errOut)
	}
	var ins struct {
		Hash     string `json:"hash"`
		LockHash string `json:"lock_hash"`
	}
	if err := json.Unmarshal([]byte(inspectOut), &ins); err != nil || ins.Hash == "" || ins.LockHash == "" {
		t.Fatalf("envkit inspect: %v\n%s", err, inspectOut)
	}
	v := strings.Fields(run(t, time.Minute, "envkit", "--version"))
	version := v[len(v)-1]

	repo := env.Registry + "/envkit/provenance"
	builder := "envkit-prov-" + filepath.Base(t.TempDir())
	run(t, time.Minute, "docker-buildx", "create", "--name", builder, "--driver", "remote", env.BuildkitHost)
	t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", builder) })
	meta := filepath.Join(t.TempDir(), "meta.json")
	run(t, 15*time.Minute, "docker-buildx", "build", "--builder", builder, "--progress", "plain",
		"-f", file, "--provenance=mode=max", "--sbom=true",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--build-arg", "ENVKIT_CHANNEL_ALIAS="+buildAlias,
		"--output", imageOutput(repo+":1"), "--metadata-file", meta, dir)
	top := metadataDigest(t, meta)

	image, attestation := indexManifests(t, repo+"@"+top)
	if image == "" || attestation == "" {
		t.Fatalf("index %s: image %q, attestation manifest %q", top, image, attestation)
	}

	// The image config: the labels name the environment, the token
	// appears nowhere.
	cfgData := skopeoConfig(t, repo+"@"+image)
	var cfg struct {
		Config struct{ Labels map[string]string }
	}
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{imagemeta.LabelDefinitionHash: ins.Hash, imagemeta.LabelLockHash: ins.LockHash, imagemeta.LabelVersion: version} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	checkNoToken(t, "the image config", cfgData)

	// The attestations: envkit's SPDX document and BuildKit's provenance.
	var kinds []string
	for _, a := range attestations(t, repo, attestation) {
		kind, data := a.PredicateType, a.Statement
		kinds = append(kinds, kind)
		checkNoToken(t, kind+" attestation", data)
		switch {
		case kind == "https://spdx.dev/Document":
			var st struct {
				Predicate struct {
					Comment      string `json:"comment"`
					CreationInfo struct {
						Creators []string `json:"creators"`
					} `json:"creationInfo"`
				} `json:"predicate"`
			}
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(st.Predicate.Comment, ins.Hash) || !strings.Contains(st.Predicate.Comment, ins.LockHash) {
				t.Errorf("the SBOM's comment %q does not name the definition hash %s and the lock hash %s", st.Predicate.Comment, ins.Hash, ins.LockHash)
			}
			if !slices.Contains(st.Predicate.CreationInfo.Creators, "Tool: envkit-"+version) {
				t.Errorf("the SBOM's creators %q do not name envkit %s", st.Predicate.CreationInfo.Creators, version)
			}
		case strings.HasPrefix(kind, "https://slsa.dev/provenance/"):
			// mode=max records the frontend and its build arguments.
			if !strings.Contains(string(data), env.Registry+"/envkit/frontend") {
				t.Errorf("the provenance does not name the frontend image %s", frontendImage(t))
			}
			if !strings.Contains(string(data), "ENVKIT_CHANNEL_ALIAS") {
				t.Errorf("the provenance does not record the build argument ENVKIT_CHANNEL_ALIAS")
			}
		}
	}
	if !slices.Contains(kinds, "https://spdx.dev/Document") || !slices.ContainsFunc(kinds, func(k string) bool { return strings.HasPrefix(k, "https://slsa.dev/provenance/") }) {
		t.Errorf("the attestation manifest holds %q, want an SPDX document and a SLSA provenance", kinds)
	}
}

// skopeoConfig is the config blob of the image manifest ref.
func skopeoConfig(t *testing.T, ref string) []byte {
	t.Helper()
	out, err := execIn(t.Context(), ".", "skopeo", "inspect", "--config", "--raw", "--tls-verify=false", "docker://"+ref).Output()
	if err != nil {
		t.Fatalf("skopeo inspect --config %s: %v", ref, err)
	}
	return out
}

// checkNoToken fails the test, naming the JSON paths, when data holds
// the channel's token elsewhere than at the allowed paths, and logs those.
func checkNoToken(t *testing.T, what string, data []byte, allowed ...string) {
	t.Helper()
	if !strings.Contains(string(data), provenanceToken) {
		return
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Errorf("%s holds the channel's token (and is not JSON: %v)", what, err)
		return
	}
	var paths, known []string
	tokenPaths(v, "$", &paths)
	paths = slices.DeleteFunc(paths, func(p string) bool {
		if slices.Contains(allowed, p) {
			known = append(known, p)
			return true
		}
		return false
	})
	if len(known) > 0 {
		t.Logf("%s holds the channel's token, as BuildKit records build arguments, at %s", what, strings.Join(known, ", "))
	}
	if len(paths) > 0 {
		t.Errorf("%s holds the channel's token at %s", what, strings.Join(paths, ", "))
	}
}

// tokenPaths appends the paths of v's strings (keys included) that hold
// the token.
func tokenPaths(v any, at string, paths *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := at + "." + k
			if strings.Contains(k, provenanceToken) {
				*paths = append(*paths, p+" (key)")
			}
			tokenPaths(e, p, paths)
		}
	case []any:
		for i, e := range v {
			tokenPaths(e, fmt.Sprintf("%s[%d]", at, i), paths)
		}
	case string:
		if strings.Contains(v, provenanceToken) {
			*paths = append(*paths, at)
		}
	}
	slices.Sort(*paths)
}

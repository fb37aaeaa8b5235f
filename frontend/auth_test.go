package frontend

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

const recipesHost = "127.0.0.1:8000" // testRecipesURL's host

// solvedSecrets maps every HTTP source of the build's solves to the
// secret it names ("" for none).
func solvedSecrets(t *testing.T, g *fakeGateway) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, def := range g.solves {
		for _, dt := range def.Def {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				t.Fatal(err)
			}
			if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "http") {
				out[src.Identifier] = src.Attrs[pb.AttrHTTPAuthHeaderSecret]
			}
		}
	}
	return out
}

// A channel whose host needs credentials: without a lock, the shard
// index, the shards and then every package send the host's secret when
// ENVKIT_AUTH_HOSTS names it; naming another host sends none and fails
// naming the host, the secret and the build argument.
func TestBuildSendsSecretToItsHostOnly(t *testing.T) {
	for _, tc := range []struct {
		hosts   string
		private bool
		want    string // the secret every download names
		err     string
	}{
		{hosts: recipesHost + ",conda.example.com", private: true, want: "envkit-auth-" + recipesHost},
		{hosts: "conda.example.com", private: false},
		{hosts: "", private: false},
		{hosts: "127.0.0.1:8001", private: true, err: "127.0.0.1:8000 needs credentials: give its Authorization header value (\"Basic …\" or \"Bearer …\") as the build secret envkit-auth-127.0.0.1:8000 and name the host in the build argument ENVKIT_AUTH_HOSTS"},
		{hosts: "", private: true, err: "docker buildx build --secret id=envkit-auth-127.0.0.1:8000,env=VAR --build-arg ENVKIT_AUTH_HOSTS=127.0.0.1:8000"},
	} {
		t.Run(tc.hosts+map[bool]string{true: " private"}[tc.private], func(t *testing.T) {
			opts := map[string]string{}
			if tc.hosts != "" {
				opts["build-arg:ENVKIT_AUTH_HOSTS"] = tc.hosts
			}
			g := condaGateway(t, condaEnv, nil, opts)
			shardedRecipes(t, g)
			g.private = map[string]bool{recipesHost: tc.private}
			_, err := Build(context.Background(), g)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			downloads := solvedSecrets(t, g)
			if len(downloads) < 4 || len(g.auth) < 5 {
				t.Fatalf("%d package downloads, %d channel files read", len(downloads), len(g.auth))
			}
			for _, m := range []map[string]string{g.auth, downloads} {
				for u, secret := range m {
					if secret != tc.want {
						t.Errorf("%s names secret %q, want %q", u, secret, tc.want)
					}
				}
			}
		})
	}
}

// Hosts without credentials leave the build's LLB as it is without the
// build argument, byte for byte: no layer or cache key moves.
func TestAuthForOtherHostsKeepsLLB(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	plain := condaGateway(t, condaEnv, lockData, nil)
	other := condaGateway(t, condaEnv, lockData, map[string]string{"build-arg:ENVKIT_AUTH_HOSTS": "conda.example.com"})
	for _, g := range []*fakeGateway{plain, other} {
		if _, err := Build(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	a, b := plain.solves[0], other.solves[0]
	if len(a.Def) != len(b.Def) {
		t.Fatalf("%d ops, %d with credentials for another host", len(a.Def), len(b.Def))
	}
	for i := range a.Def {
		if !bytes.Equal(a.Def[i], b.Def[i]) {
			t.Errorf("op %d differs", i)
		}
	}
}

// An older daemon is refused in envkit's words only when a build asks
// for credentials.
func TestAuthNeedsCapability(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	for _, hosts := range []string{"", recipesHost} {
		g := condaGateway(t, condaEnv, lockData, map[string]string{"build-arg:ENVKIT_AUTH_HOSTS": hosts})
		g.llbCaps = without(&pb.Caps, pb.CapSourceHTTPAuth)
		_, err := Build(context.Background(), g)
		switch {
		case hosts == "" && err != nil:
			t.Errorf("without credentials: %v", err)
		case hosts != "" && (err == nil || !strings.Contains(err.Error(), "BuildKit v0.21.0 and later") || !strings.Contains(err.Error(), "ENVKIT_AUTH_HOSTS")):
			t.Errorf("with credentials: %v, want envkit's words about BuildKit v0.21.0", err)
		}
	}
}

// What BuildKit says about a download's credentials is said again with
// what to do: a secret the build lacks, credentials the host refused.
func TestAuthErrorsSayWhatToDo(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	const step = "[conda 2/4] download dependent 1.0"
	for _, tc := range []struct{ buildkit, want string }{
		{"failed to retrieve HTTP auth secret envkit-auth-127.0.0.1:8000: secret envkit-auth-127.0.0.1:8000: not found",
			"the build argument ENVKIT_AUTH_HOSTS names 127.0.0.1:8000, and the build has no secret envkit-auth-127.0.0.1:8000: give it (docker buildx build --secret id=envkit-auth-127.0.0.1:8000,env=VAR"},
		{"invalid response status 401",
			"GET http://127.0.0.1:8000/test-recipes/noarch/dependent-1.0-0.conda: 127.0.0.1:8000 refused the credentials of the build secret envkit-auth-127.0.0.1:8000: check them"},
		// BuildKit checks the body of whatever answers a pinned download,
		// so a refusal there is a mismatch.
		{mismatch,
			"the download of http://127.0.0.1:8000/test-recipes/noarch/dependent-1.0-0.conda is not the pinned file; if 127.0.0.1:8000 refused the credentials of the build secret envkit-auth-127.0.0.1:8000, that was its refusal: check them"},
	} {
		g := condaGateway(t, condaEnv, lockData, map[string]string{"build-arg:ENVKIT_AUTH_HOSTS": recipesHost})
		g.fail = map[string]error{step: errors.New(tc.buildkit)}
		_, err := Build(context.Background(), g)
		if want := step + ": " + tc.buildkit + ": " + tc.want; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %v\nwant %s…", err, want)
		}
	}
	// Without credentials, a mismatch says how to give them, as a
	// condition.
	g := condaGateway(t, condaEnv, lockData, nil)
	g.fail = map[string]error{step: errors.New(mismatch)}
	_, err := Build(context.Background(), g)
	want := step + ": " + mismatch + ": the download of http://127.0.0.1:8000/test-recipes/noarch/dependent-1.0-0.conda is not the pinned file; if 127.0.0.1:8000 needs credentials, that was its refusal: give its Authorization header value"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v\nwant %s…", err, want)
	}
}

// A failure at a step that is no download (a copy out of a file://
// channel, a link step) is not said to be a refusal, even when the
// solve has one HTTP source.
func TestFailedURLOnlyForDownloads(t *testing.T) {
	dl := llb.HTTP("https://conda.example.com/main/noarch/a-1-0.conda", llb.Filename("a.conda"))
	cp := llb.Scratch().File(llb.Copy(dl, "/a.conda", "/b.conda"), llb.WithCustomName("copy"))
	def, err := cp.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]digest.Digest{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		switch {
		case op.GetSource() != nil:
			byName["download"] = digest.FromBytes(dt)
		case op.GetFile() != nil:
			byName["copy"] = digest.FromBytes(dt)
		}
	}
	plain := errors.New(mismatch)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errdefs.WrapVertex(plain, byName["copy"]), ""},
		{errdefs.WrapVertex(plain, byName["download"]), "https://conda.example.com/main/noarch/a-1-0.conda"},
		{plain, "https://conda.example.com/main/noarch/a-1-0.conda"},
	} {
		if got := failedURL(tc.err, def); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := explainAuth(errdefs.WrapVertex(plain, byName["copy"]), def, nil); got.Error() != mismatch {
		t.Errorf("a copy's mismatch: %v", got)
	}
}

package llb

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

// httpSecrets maps each HTTP source of the build to the secret its
// Authorization header comes from ("" for none).
func httpSecrets(t *testing.T, env Environment, opts Options) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range buildVertices(t, env, opts) {
		if src := v.Op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "http") {
			out[src.Identifier] = src.Attrs[pb.AttrHTTPAuthHeaderSecret]
		}
	}
	return out
}

// A host with credentials gets its secret on every download from it
// (conda packages, wheels, jars) and on nothing else; without Auth no
// source names a secret (the goldens hold the LLB bytes of that case).
func TestAuthSecretOnlyForItsHost(t *testing.T) {
	env := pipEnvironment(t, "2.32.3", "1.0")
	env.Spark = sparkSection()
	for _, hosts := range [][]string{nil, {"127.0.0.1:8001"}, {"127.0.0.1:8002", "127.0.0.1:8001"}, {AuthHost(channelURL)}, {"127.0.0.1"}} {
		opts := baseOptions(amd64)
		opts.Auth = NewAuth(hosts)
		got := httpSecrets(t, env, opts)
		kinds := map[string]bool{}
		for u, secret := range got {
			want := ""
			for _, h := range hosts {
				if AuthHost(u) == h {
					want = "envkit-auth-" + h
				}
			}
			if secret != want {
				t.Errorf("hosts %v: %s sends secret %q, want %q", hosts, u, secret, want)
			}
			kinds[u[strings.LastIndex(u, "."):]] = true
		}
		if !kinds[".conda"] || !kinds[".whl"] || !kinds[".jar"] {
			t.Fatalf("downloads %v: want conda packages, wheels and jars", got)
		}
	}
}

// Credentials change only the downloads of their host (the secret's name
// enters BuildKit's cache key of the source, never its value) and the
// steps they feed.
func TestAuthChangesOnlyItsHostsDownloads(t *testing.T) {
	env := pipEnvironment(t, "2.32.3", "1.0")
	env.Spark = sparkSection()
	before := opDigests(t, env, baseOptions(amd64))
	opts := baseOptions(amd64)
	opts.Auth = NewAuth([]string{"127.0.0.1:8002"})
	for _, name := range changedVertices(before, opDigests(t, env, opts)) {
		if name != "" && !strings.Contains(name, "spark") && !strings.Contains(name, "merge") {
			t.Errorf("credentials for the Maven repository changed %q", name)
		}
	}
}

func TestAuthHost(t *testing.T) {
	for raw, want := range map[string]string{
		"https://Conda.Example.com/main/noarch/x.conda": "conda.example.com",
		"http://127.0.0.1:8001/files/a.whl":             "127.0.0.1:8001",
		"https://user:pw@host:8443/x":                   "host:8443",
		"file:///srv/channel/noarch/x.conda":            "",
		"conda-forge":                                   "",
	} {
		if got := AuthHost(raw); got != want {
			t.Errorf("AuthHost(%q) = %q, want %q", raw, got, want)
		}
	}
}

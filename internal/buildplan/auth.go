package buildplan

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/maven"
	envllb "github.com/envkit/envkit/llb"
)

// ArgAuthHosts names the hosts whose downloads send a build secret as
// their Authorization header. The frontend cannot ask which secrets a
// build has (a named secret that is missing fails the download), so the
// hosts are said; build arguments are recorded verbatim in provenance, so
// this one holds host names only, never a credential.
const ArgAuthHosts = "ENVKIT_AUTH_HOSTS"

// parseAuth reads ArgAuthHosts: host or host:port names (as URLs write
// them: llb.AuthHost), separated by commas. Anything that is no bare host
// (a user:token@, a path, a scheme) is refused without echoing it, since
// it may hold the credential itself.
func parseAuth(v string) (envllb.Auth, error) {
	var hosts []string
	for i, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		u, err := url.Parse("https://" + h)
		if err != nil || u.User != nil || u.Host != h || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Hostname() == "" {
			return nil, fmt.Errorf("build argument %s: entry %d is not a host name or host:port (give host names only, e.g. %s=conda.example.com,127.0.0.1:8443; the credentials go in the build secrets envkit-auth-HOST)", ArgAuthHosts, i+1, ArgAuthHosts)
		}
		if h = strings.ToLower(h); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return envllb.NewAuth(hosts), nil
}

// AuthHostsArg is the value of ArgAuthHosts for hosts (sorted, so a build
// argument does not change with map order).
func AuthHostsArg(hosts []string) string {
	return strings.Join(slices.Sorted(slices.Values(hosts)), ",")
}

// LockDownloads are the http(s) URLs a build of lk downloads, one per
// host (the first in the lock's order), by host (llb.AuthHost): conda
// packages and wheels of every platform, and Spark jars. The client looks
// up each host's credentials with one of them.
func LockDownloads(lk *lock.Lock) (map[string]string, error) {
	out := map[string]string{}
	add := func(u string) {
		if h := envllb.AuthHost(u); h != "" && out[h] == "" {
			out[h] = u
		}
	}
	for _, p := range lk.Packages {
		add(p.URL)
	}
	jars, err := maven.FromCustom(lk.Metadata.Custom)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", LockFile, err)
	}
	for _, j := range jars {
		add(j.URL)
	}
	return out, nil
}

package buildplan

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/maven"
	envllb "github.com/envkit/envkit/llb"
)

func TestParseAuthHosts(t *testing.T) {
	for v, want := range map[string]envllb.Auth{
		"":                  nil,
		" , ":               nil,
		"conda.example.com": {"conda.example.com": "envkit-auth-conda.example.com"},
		"Conda.Example.com,127.0.0.1:8443, conda.example.com": {"conda.example.com": "envkit-auth-conda.example.com", "127.0.0.1:8443": "envkit-auth-127.0.0.1:8443"},
		"[::1]:8443": {"[::1]:8443": "envkit-auth-[::1]:8443"},
	} {
		o, err := ParseOptions(map[string]string{ArgAuthHosts: v})
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if !reflect.DeepEqual(o.Auth, want) {
			t.Errorf("%q: %v, want %v", v, o.Auth, want)
		}
	}
	// A value that is no host list may hold the credential itself: it
	// is refused by position, never echoed.
	for _, v := range []string{"user:s3cret@conda.example.com", "https://conda.example.com", "conda.example.com/t/s3cret", "a.example,conda.example.com?token=s3cret", ":8443"} {
		_, err := ParseOptions(map[string]string{ArgAuthHosts: v})
		if err == nil || !strings.Contains(err.Error(), ArgAuthHosts) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: %v, want a refusal naming %s and not the value", v, err, ArgAuthHosts)
		}
	}
}

func TestLockDownloads(t *testing.T) {
	jar := maven.Jar{Coordinate: maven.Coordinate{Group: "org.demo", Artifact: "util", Version: "1.0"}, URL: "https://maven.example.com/m2/org/demo/util/1.0/util-1.0.jar", SHA256: strings.Repeat("c", 64)}
	lk := &lock.Lock{
		Metadata: lock.Metadata{Custom: maven.ToCustom(nil, []maven.Jar{jar})},
		Packages: []lock.Package{
			{Name: "a", Platform: "linux-64", URL: "http://127.0.0.1:8443/private/linux-64/a-1-0.conda"},
			{Name: "b", Platform: "linux-aarch64", URL: "http://127.0.0.1:8443/private/linux-aarch64/b-1-0.conda"},
			{Name: "c", Platform: "linux-64", Manager: lock.Pip, URL: "https://PyPI.example.com/files/c-1-py3-none-any.whl"},
			{Name: "d", Platform: "linux-64", URL: "file:///srv/channel/noarch/d-1-0.conda"},
		},
	}
	got, err := LockDownloads(lk)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"127.0.0.1:8443":    "http://127.0.0.1:8443/private/linux-64/a-1-0.conda",
		"pypi.example.com":  "https://PyPI.example.com/files/c-1-py3-none-any.whl",
		"maven.example.com": jar.URL,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	if got := AuthHostsArg([]string{"pypi.example.com", "127.0.0.1:8443"}); got != "127.0.0.1:8443,pypi.example.com" {
		t.Errorf("AuthHostsArg: %q", got)
	}
}

// FuzzAuthHosts: any ENVKIT_AUTH_HOSTS value either is refused with the
// one message (up to the entry's number), so nothing of the value is
// echoed, or gives hosts that are each the host of an https URL as
// llb.AuthHost reads it, with their secret.
func FuzzAuthHosts(f *testing.F) {
	for _, s := range []string{"", "conda.example.com", "a.example,127.0.0.1:8443", "[::1]:1", "user:pw@host", "host/t/tok", "h?x=1", "H.example, h.example", "%zz", "a b"} {
		f.Add(s)
	}
	number := regexp.MustCompile(`entry [0-9]+ `)
	_, refusal := ParseOptions(map[string]string{ArgAuthHosts: "user:pw@host"})
	f.Fuzz(func(t *testing.T, v string) {
		o, err := ParseOptions(map[string]string{ArgAuthHosts: v})
		if err != nil {
			if number.ReplaceAllString(err.Error(), "") != number.ReplaceAllString(refusal.Error(), "") {
				t.Errorf("%q: error %v, want the refusal %v", v, err, refusal)
			}
			return
		}
		for h, id := range o.Auth {
			if envllb.AuthHost("https://"+h+"/x") != h || id != envllb.AuthSecret(h) {
				t.Errorf("%q: host %q (secret %q) is not an https URL's host", v, h, id)
			}
		}
	})
}

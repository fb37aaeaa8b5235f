package credentials

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStrip(t *testing.T) {
	for in, want := range map[string]string{
		"conda-forge":                                             "conda-forge",
		"https://conda.anaconda.org/conda-forge":                  "https://conda.anaconda.org/conda-forge",
		"https://user:s3cret@pypi.example/simple":                 "https://pypi.example/simple",
		"https://tok@pypi.example/files/a-1-py3-none-any.whl":     "https://pypi.example/files/a-1-py3-none-any.whl",
		"https://conda.anaconda.org/t/tk-123/chan/noarch/x.conda": "https://conda.anaconda.org/chan/noarch/x.conda",
		"https://h/t/tk/t/tk2/chan":                               "https://h/chan",
		"https://h/chan/t/x.conda":                                "https://h/chan/t/x.conda", // a file named after t
		"https://h/files/x.whl?sig=1":                             "https://h/files/x.whl?sig=1",
		"HTTPS://H/files/torch-2.0%2Bcu118-py3-none-any.whl":      "HTTPS://H/files/torch-2.0%2Bcu118-py3-none-any.whl",
		"https://u:p%zz@h/x":                                      "",
	} {
		if got := Strip(in); got != want {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want)
		}
	}
}

// forURL is ForURL, which must not fail.
func forURL(t *testing.T, raw string) Auth {
	t.Helper()
	a, err := ForURL(raw)
	if err != nil {
		t.Fatalf("ForURL(%q): %v", raw, err)
	}
	return a
}

func TestRememberAndForURL(t *testing.T) {
	noCredentials(t)
	if got := Remember("https://alice:pw1@Index.Example:8443/simple"); got != "https://Index.Example:8443/simple" {
		t.Errorf("Remember gave %q", got)
	}
	// Another path of the same host: the wheels an index links to.
	a := forURL(t, "https://index.example:8443/files/a.whl")
	if a.URL != "https://index.example:8443/files/a.whl" || a.Header != basicHeader("alice", "pw1") || a.From == "" {
		t.Errorf("ForURL: %+v", a)
	}
	if a := forURL(t, "https://index.example:9999/files/a.whl"); a.Header != "" {
		t.Errorf("another port got %+v", a)
	}
	if got := Remember("https://chan.example/t/tok-42/private"); got != "https://chan.example/private" {
		t.Errorf("Remember gave %q", got)
	}
	for in, want := range map[string]string{
		"https://chan.example/private/noarch/repodata.json": "https://chan.example/t/tok-42/private/noarch/repodata.json",
		"https://chan.example/other/noarch/x.conda":         "https://chan.example/t/tok-42/other/noarch/x.conda",
		"https://chan.example/t/new/private/x.conda":        "https://chan.example/t/new/private/x.conda",
		"https://chan.example.org/private/x.conda":          "https://chan.example.org/private/x.conda",
		"http://chan.example/private/x.conda":               "http://chan.example/private/x.conda",
	} {
		if got := forURL(t, in).URL; got != want {
			t.Errorf("ForURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForURLPipEnvAndNetrc(t *testing.T) {
	dir := t.TempDir()
	netrc := filepath.Join(dir, "netrc")
	body := "# a comment\nmachine netrc.example login bob password pw2\n" +
		"macdef init\nmachine netrc.example login mallory password no\n\n" +
		"default login anon password pw3\n"
	if err := os.WriteFile(netrc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	noCredentials(t)
	t.Setenv("NETRC", netrc)
	t.Setenv("PIP_INDEX_URL", "https://carol:pw4@pip.example/simple")
	t.Setenv("PIP_EXTRA_INDEX_URL", "https://other.example/simple https://dave:pw5@extra.example/simple")
	for in, want := range map[string]Basic{
		"https://netrc.example:8080/x":  {"bob", "pw2"},
		"https://pip.example/files/x":   {"carol", "pw4"},
		"https://extra.example/x":       {"dave", "pw5"},
		"https://elsewhere.example/x":   {"anon", "pw3"},
		"https://erin:pw6@pip.example/": {"erin", "pw6"},
	} {
		a := forURL(t, in)
		if a.Header != basicHeader(want.User, want.Password) {
			t.Errorf("ForURL(%q): %+v, want %+v", in, a, want)
		}
		if strings.Contains(a.URL, "@") {
			t.Errorf("ForURL(%q) target %q keeps the userinfo", in, a.URL)
		}
	}
}

func TestParseNetrc(t *testing.T) {
	n := ParseNetrc("machine a login u1 password p1 account x machine B\n  login u2\n  password p2\nmachine a login u3 password p3")
	if n.For("a") == nil || *n.For("a") != (Basic{"u1", "p1"}) || n.For("b") == nil || *n.For("b") != (Basic{"u2", "p2"}) {
		t.Errorf("parsed %+v", n)
	}
	if n.For("c") != nil {
		t.Error("no default, yet c got an entry")
	}
}

// FuzzParseNetrc: any text parses without panicking, and a parsed
// machine's entry is found by its name.
func FuzzParseNetrc(f *testing.F) {
	f.Add("machine h login u password p\ndefault login d password e\n")
	f.Add("macdef x\nmachine h\n\nmachine g login u")
	f.Fuzz(func(t *testing.T, s string) {
		n := ParseNetrc(s)
		for name, b := range n.Machines {
			if got := n.For(name); got == nil || *got != b {
				t.Fatalf("For(%q) = %+v, want %+v", name, got, b)
			}
		}
	})
}

// FuzzStrip: a stripped URL carries no userinfo and no token segment, and
// stripping again changes nothing (or refuses it: a path such as "//x"
// without a host reads back as an authority, and "" leaks nothing).
func FuzzStrip(f *testing.F) {
	f.Add("https://u:p@h/t/tok/chan/noarch/x.conda")
	f.Add("conda-forge")
	f.Fuzz(func(t *testing.T, s string) {
		out := Strip(s)
		if !strings.Contains(s, ":") {
			return
		}
		if again := Strip(out); out != "" && again != out && again != "" {
			t.Fatalf("Strip(%q) = %q, again %q", s, out, again)
		}
		if out == "" {
			return
		}
		u, err := url.Parse(out)
		if err != nil || u.User != nil {
			t.Fatalf("Strip(%q) = %q keeps userinfo (%v)", s, out, err)
		}
		if _, token, _ := dropToken(u.Path); token != "" {
			t.Fatalf("Strip(%q) = %q keeps token %q", s, out, token)
		}
	})
}

// A base URL ending in its token: the token is taken out and put back.
func TestRememberBase(t *testing.T) {
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "none"))
	for in, want := range map[string]string{
		"https://base.example/t/tok-b":          "https://base.example",
		"https://base.example/t/tok-b/":         "https://base.example/",
		"https://u:p@base2.example/simple":      "https://base2.example/simple",
		"https://base3.example/t/tok-c/private": "https://base3.example/private",
		"conda-forge":                           "conda-forge",
	} {
		if got := RememberBase(in); got != want {
			t.Errorf("RememberBase(%q) = %q, want %q", in, got, want)
		}
	}
	if got := StripBase("https://other.example/t/tok-d"); got != "https://other.example" {
		t.Errorf("StripBase gave %q", got)
	}
	if got := forURL(t, "https://base.example/main/noarch/repodata.json").URL; got != "https://base.example/t/tok-b/main/noarch/repodata.json" {
		t.Errorf("ForURL gave %q", got)
	}
}

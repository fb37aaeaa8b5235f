package credentials

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes body to a file in a new temporary directory.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noCredentials points every source of credentials at nothing.
func noCredentials(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("NETRC", filepath.Join(home, "none"))
	t.Setenv("RATTLER_AUTH_FILE", "")
	t.Setenv("PIP_INDEX_URL", "")
	t.Setenv("PIP_EXTRA_INDEX_URL", "")
	return home
}

// The auth file of rattler and pixi: entries by host name, then by the
// wildcards of its domain from the longest (*.d covers d itself, as in
// rattler); a bearer token becomes a
// header, basic credentials too, a conda token a /t/<token> path prefix.
func TestAuthFile(t *testing.T) {
	noCredentials(t)
	t.Setenv("RATTLER_AUTH_FILE", writeFile(t, "auth.json", `{
		"*.prefix.example": {"BearerToken": "bt-wild"},
		"Repo.Prefix.Example": {"BearerToken": "bt-exact"},
		"*.deep.example": {"BasicHTTP": {"username": "u", "password": "p"}},
		"quetz.example": {"CondaToken": "ct-1"},
		"127.0.0.1": {"BearerToken": "bt-ip"},
		"*.0.0.1": {"BearerToken": "never"},
		"s3://bucket/channel": {"S3Credentials": {"access_key_id": "k", "secret_access_key": "s"}}
	}`))
	for in, want := range map[string]Auth{
		"https://repo.prefix.example/chan/noarch/repodata.json": {Header: "Bearer bt-exact"},
		"https://other.prefix.example/x":                        {Header: "Bearer bt-wild"},
		"https://prefix.example/x":                              {Header: "Bearer bt-wild"}, // as in rattler
		"https://a.b.deep.example:8443/x":                       {Header: basicHeader("u", "p")},
		"https://quetz.example/get/chan/noarch/x.conda":         {URL: "https://quetz.example/t/ct-1/get/chan/noarch/x.conda"},
		"https://quetz.example/t/own/chan/x.conda":              {URL: "https://quetz.example/t/own/chan/x.conda", Header: ""},
		"https://quetz.example/f/torch-2.0%2Bcu118.whl":         {URL: "https://quetz.example/t/ct-1/f/torch-2.0%2Bcu118.whl"},
		"https://127.0.0.1:9443/x":                              {Header: "Bearer bt-ip"},
		"https://elsewhere.example/x":                           {},
	} {
		a := forURL(t, in)
		if want.URL == "" {
			want.URL = in
		}
		if a.URL != want.URL || a.Header != want.Header {
			t.Errorf("ForURL(%q) = %+v, want %+v", in, a, want)
		}
		if (a.Header != "" || a.URL != in) != (a.From != "") || a.From != "" && !strings.HasPrefix(a.From, "RATTLER_AUTH_FILE (") {
			t.Errorf("ForURL(%q) from %q", in, a.From)
		}
	}
}

// The sources in order: the URL, PIP_INDEX_URL, RATTLER_AUTH_FILE,
// ~/.rattler/credentials.json, the netrc.
func TestAuthFileOrder(t *testing.T) {
	home := noCredentials(t)
	t.Setenv("NETRC", writeFile(t, "netrc", "machine h.example login n password netrc\nmachine n.example login n password netrc\n"))
	if err := os.MkdirAll(filepath.Join(home, ".rattler"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".rattler", "credentials.json"), []byte(`{"h.example": {"BearerToken": "home"}, "d.example": {"BearerToken": "home"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RATTLER_AUTH_FILE", writeFile(t, "auth.json", `{"h.example": {"BearerToken": "env"}}`))
	t.Setenv("PIP_INDEX_URL", "https://pip:pw@h.example/simple")
	for in, want := range map[string]string{
		"https://u:p@h.example/x":  basicHeader("u", "p"),
		"https://h.example/x":      basicHeader("pip", "pw"),
		"http://h.example/x":       "Bearer env", // PIP_INDEX_URL is for https only
		"https://d.example/x":      "Bearer home",
		"https://n.example/x":      basicHeader("n", "netrc"),
		"https://none.example/x/y": "",
	} {
		if a := forURL(t, in); a.Header != want {
			t.Errorf("ForURL(%q) = %+v, want header %q", in, a, want)
		}
	}
	// A RATTLER_AUTH_FILE that does not exist holds nothing, as in rattler.
	t.Setenv("RATTLER_AUTH_FILE", filepath.Join(home, "missing.json"))
	if a := forURL(t, "https://d.example/x"); a.Header != "Bearer home" {
		t.Errorf("with a missing RATTLER_AUTH_FILE: %+v", a)
	}
}

// A file envkit cannot use fails the lookup naming the file and the
// entry, never a value.
func TestAuthFileErrors(t *testing.T) {
	noCredentials(t)
	for body, want := range map[string]string{
		`{"h.example": {"BearerToken": "SECRET"`:                               "not a JSON object",
		`["SECRET"]`:                                                           "not a JSON object",
		`{"h.example": {"Oauth": {"access_token": "SECRET"}}}`:                 `"h.example": Oauth credentials are not supported`,
		`{"h.example": {"BearerToken": 42}}`:                                   "BearerToken: a number where a string belongs",
		`{"h.example": {"BearerToken": "SECRET", "CondaToken": "x"}}`:          "want one of",
		`{"h.example": "SECRET"}`:                                              "want one of",
		`{"h.example": {"CondaToken": "SECRET/x"}}`:                            "one path segment",
		`{"h.example": {"BearerToken": "SECRET\nX-Evil: 1"}}`:                  "line break",
		`{"h.example": {"BasicHTTP": {"username": ["SECRET"]}}}`:               "BasicHTTP: a array where a string belongs",
		`{"other.example": {"Oauth": {}}, "h.example": {"BearerToken": "ok"}}`: "",
	} {
		p := writeFile(t, "auth.json", body)
		t.Setenv("RATTLER_AUTH_FILE", p)
		_, err := ForURL("https://h.example/x")
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", body, err)
		case want == "":
		case err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "RATTLER_AUTH_FILE ("+p+")"):
			t.Errorf("%s: got %v, want %q", body, err, want)
		case strings.Contains(err.Error(), "SECRET"):
			t.Errorf("%s: the error shows the secret: %v", body, err)
		}
	}
}

// FuzzAuthFile: any file content gives an entry with credentials in it,
// none, or an error; never a panic.
func FuzzAuthFile(f *testing.F) {
	for _, s := range []string{
		`{"h.example": {"BearerToken": "t"}}`,
		`{"*.example": {"BasicHTTP": {"username": "u", "password": "p"}}}`,
		`{"h.example": {"CondaToken": "c"}}`,
		`{"h.example": {"S3Credentials": {}}}`,
		`{"h.example": {"BearerToken": 1}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e, err := entryFor([]byte(body), "h.example")
		if err != nil || e == nil {
			return
		}
		if e.bearer == "" && e.basic == nil && e.condaToken == "" {
			t.Fatalf("an entry with nothing in it from %q", body)
		}
		u := &url.URL{Scheme: "https", Host: "h.example", Path: "/c/x.conda"}
		if a := e.apply(Auth{URL: u.String()}, u, "F"); Strip(a.URL) != u.String() {
			t.Fatalf("the request URL %q does not strip back to the bare one", a.URL)
		}
	})
}

package privateserver

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func get(t *testing.T, c *http.Client, u string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerAccess(t *testing.T) {
	ca := NewCA(t)
	if b, err := os.ReadFile(ca.File); err != nil || string(b) != string(ca.PEM) {
		t.Fatalf("CA file: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "noarch"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "noarch", "repodata.json"), []byte(`{"packages":{}}`), 0o644)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}

	for _, tc := range []struct {
		access Access
		path   string
		set    func(*http.Request)
		how    string
	}{
		{Access{User: "u", Password: "p"}, "/conda/noarch/repodata.json", func(r *http.Request) { r.SetBasicAuth("u", "p") }, "basic"},
		{Access{Bearer: "bt"}, "/conda/noarch/repodata.json", func(r *http.Request) { r.Header.Set("Authorization", "Bearer bt") }, "bearer"},
		{Access{CondaToken: "ct"}, "/t/ct/conda/noarch/repodata.json", nil, "token"},
		{Access{}, "/conda/noarch/repodata.json", nil, "open"},
	} {
		s := Start(t, ca, tc.access, map[string]http.Handler{"/conda/": Dir(dir)})
		if code, body := get(t, c, s.URL+tc.path, tc.set); code != 200 || body != `{"packages":{}}` {
			t.Errorf("%+v: %d %q", tc.access, code, body)
		}
		if !tc.access.open() {
			if code, _ := get(t, c, s.URL+"/conda/noarch/repodata.json", nil); code != http.StatusUnauthorized {
				t.Errorf("%+v without credentials: %d", tc.access, code)
			}
		}
		if code, _ := get(t, c, s.URL+"/t/ct/conda/noarch/", tc.set); code != 404 && code != 401 {
			t.Errorf("a directory: %d", code)
		}
		reqs := s.Requests()
		if reqs[0].How != tc.how || reqs[0].Path != "/conda/noarch/repodata.json" {
			t.Errorf("%+v: requests %+v", tc.access, reqs)
		}
	}

	// Without the CA the certificate is refused.
	s := Start(t, ca, Access{}, map[string]http.Handler{"/": Dir(dir)})
	_, err := http.Get(s.URL + "/noarch/repodata.json")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
}

func TestProxy(t *testing.T) {
	ca := NewCA(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("through"), 0o644)
	s := Start(t, ca, Access{}, map[string]http.Handler{"/": Dir(dir)})
	p := StartProxy(t, "pu", "pp")
	pu, _ := url.Parse(p.URL)
	pu.User = url.UserPassword("pu", "pp")
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	if code, body := get(t, c, "https://"+Name+":"+s.Port+"/f", nil); code != 200 || body != "through" {
		t.Errorf("through the proxy: %d %q", code, body)
	}
	if got := p.Targets(); len(got) != 1 || got[0] != Name+":"+s.Port {
		t.Errorf("targets %v", got)
	}
	// Wrong proxy credentials: 407.
	pu.User = url.UserPassword("pu", "wrong")
	c = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	_, err := c.Get("https://" + Name + ":" + s.Port + "/f")
	if err == nil || !strings.Contains(err.Error(), "Proxy Authentication Required") {
		t.Errorf("wrong proxy credentials: %v", err)
	}
}

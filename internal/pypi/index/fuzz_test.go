package index

import (
	"net/url"
	"testing"
)

// FuzzParsePages: the HTML and JSON page readers never panic, and every
// file they return has an absolute URL without a fragment.
func FuzzParsePages(f *testing.F) {
	f.Add([]byte(`<a href="p-1-py3-none-any.whl#sha256=ab" data-requires-python="&gt;=3">p-1-py3-none-any.whl</a>`))
	f.Add([]byte(`{"meta":{"api-version":"1.0"},"files":[{"filename":"p","url":"p","hashes":{"sha256":"a"},"yanked":true,"core-metadata":true}]}`))
	base, _ := url.Parse("https://example.com/simple/p/")
	f.Fuzz(func(t *testing.T, page []byte) {
		h, _ := ParseHTML(base, page)
		j, _ := ParseJSON(base, page)
		for _, file := range append(h, j...) {
			u, err := url.Parse(file.URL)
			if err != nil || !u.IsAbs() || u.Fragment != "" {
				t.Fatalf("file URL %q", file.URL)
			}
		}
	})
}

// Package index reads Python package indexes: the simple repository API in
// its JSON (PEP 691) and HTML (PEP 503) forms, and --find-links pages or
// directories, and fetches files with their sha256 checked.
package index

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/net/html"

	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/netfetch"
	"github.com/envkit/envkit/internal/pypi/pep508"
)

// DefaultIndexURL is pip's default index.
const DefaultIndexURL = "https://pypi.org/simple"

// Options say where packages come from, as pip's options do.
type Options struct {
	// IndexURL replaces DefaultIndexURL (pip --index-url); "" keeps it.
	IndexURL string
	// NoIndex skips IndexURL and ExtraIndexURLs (pip --no-index).
	NoIndex bool
	// ExtraIndexURLs are searched as well (pip --extra-index-url).
	ExtraIndexURLs []string
	// FindLinks are HTML pages or local directories listing files (pip
	// --find-links).
	FindLinks []string
	// Net downloads; netfetch.Default when nil.
	Net *netfetch.Client
}

// maxInMemory bounds what is read into memory (pages, metadata files, the
// .sha1 of a wheel); wheels themselves go to files (Download).
const maxInMemory = 256 << 20

// File is one distribution file an index offers for a project.
type File struct {
	Filename string
	// URL is absolute, without its #sha256= fragment.
	URL    string
	SHA256 string
	// RequiresPython is the index's Requires-Python ("" when absent).
	RequiresPython string
	Yanked         bool
	// MetadataURL is the PEP 658 core-metadata file, "" when the index
	// does not offer one; MetadataSHA256 is its hash when given.
	MetadataURL    string
	MetadataSHA256 string
}

// Client lists and fetches files.
type Client struct {
	opts Options
	net  *netfetch.Client
}

// New returns a client for opts. The credentials of the index and
// find-links URLs (https://user:token@host/simple) are kept in memory for
// their hosts (credentials.RememberBase); the client uses, shows and records
// the bare URLs.
func New(opts Options) *Client {
	if opts.IndexURL != "" {
		opts.IndexURL = credentials.RememberBase(opts.IndexURL)
	}
	opts.ExtraIndexURLs = rememberHTTP(opts.ExtraIndexURLs)
	opts.FindLinks = rememberHTTP(opts.FindLinks)
	return &Client{opts: opts, net: netfetch.Or(opts.Net)}
}

// rememberHTTP is locs with the credentials of http(s) URLs remembered
// and taken out; directories stay as they are.
func rememberHTTP(locs []string) []string {
	out := make([]string, len(locs))
	for i, l := range locs {
		if out[i] = l; strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			out[i] = credentials.RememberBase(l)
		}
	}
	return out
}

// Indexes lists the simple index base URLs searched, in order.
func (c *Client) Indexes() []string {
	if c.opts.NoIndex {
		return nil
	}
	base := c.opts.IndexURL
	if base == "" {
		base = DefaultIndexURL
	}
	return append([]string{base}, c.opts.ExtraIndexURLs...)
}

// Files lists the files of project name over every index and find-links
// location. pip treats them as one pool; so does envkit.
func (c *Client) Files(ctx context.Context, name string) ([]File, error) {
	norm := pep508.NormaliseName(name)
	var out []File
	for _, base := range c.Indexes() {
		files, err := c.project(ctx, strings.TrimSuffix(base, "/")+"/"+norm+"/")
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	for _, loc := range c.opts.FindLinks {
		files, err := c.findLinks(ctx, loc)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if fileProject(f.Filename) == norm {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// fileProject is the normalised project name a wheel or sdist file name
// starts with ("" when it is neither).
func fileProject(filename string) string {
	if base, ok := strings.CutSuffix(filename, ".whl"); ok {
		name, _, _ := strings.Cut(base, "-")
		return pep508.NormaliseName(name)
	}
	for _, ext := range []string{".tar.gz", ".zip"} {
		if base, ok := strings.CutSuffix(filename, ext); ok {
			if i := strings.LastIndexByte(base, '-'); i > 0 {
				return pep508.NormaliseName(base[:i])
			}
		}
	}
	return ""
}

const accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

// project reads one project page; a missing project is an empty list, as
// pip treats it.
func (c *Client) project(ctx context.Context, pageURL string) ([]File, error) {
	var (
		body []byte
		base *url.URL
		ct   string
	)
	err := c.net.Fetch(ctx, netfetch.Request{URL: pageURL, Header: http.Header{"Accept": {accept}}, Limit: maxInMemory}, func(r *netfetch.Response) error {
		base = r.URL // after redirects
		ct, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
		var err error
		body, err = netfetch.ReadAll(r.Body)
		return err
	})
	if netfetch.NotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ct == "application/vnd.pypi.simple.v1+json" {
		files, err := ParseJSON(base, body)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", pageURL, err)
		}
		return files, nil
	}
	return ParseHTML(base, body)
}

func (c *Client) findLinks(ctx context.Context, loc string) ([]File, error) {
	u, err := url.Parse(loc)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return c.project(ctx, loc)
	}
	dir := loc
	if err == nil && u.Scheme == "file" {
		dir = u.Path
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--find-links %s: %v", loc, err)
	}
	var out []File
	for _, e := range entries {
		if e.IsDir() || fileProject(e.Name()) == "" {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, File{Filename: e.Name(), URL: (&url.URL{Scheme: "file", Path: abs}).String()})
	}
	return out, nil
}

// ParseJSON reads a PEP 691 project page.
func ParseJSON(base *url.URL, body []byte) ([]File, error) {
	var page struct {
		Meta struct {
			APIVersion string `json:"api-version"`
		} `json:"meta"`
		Files []struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython *string           `json:"requires-python"`
			Yanked         json.RawMessage   `json:"yanked"`
			CoreMetadata   json.RawMessage   `json:"core-metadata"`
			DistInfoMeta   json.RawMessage   `json:"dist-info-metadata"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("PEP 691 JSON: %v", err)
	}
	if major, _, _ := strings.Cut(page.Meta.APIVersion, "."); major != "1" {
		return nil, fmt.Errorf("PEP 691 JSON: api-version %q, want 1.x", page.Meta.APIVersion)
	}
	var out []File
	for _, f := range page.Files {
		u, err := base.Parse(f.URL)
		if err != nil {
			return nil, fmt.Errorf("file %s: url %q: %v", f.Filename, f.URL, err)
		}
		u.Fragment = ""
		file := File{Filename: f.Filename, URL: u.String(), SHA256: strings.ToLower(f.Hashes["sha256"])}
		if f.RequiresPython != nil {
			file.RequiresPython = *f.RequiresPython
		}
		// yanked is false or true or a reason string.
		y := strings.TrimSpace(string(f.Yanked))
		file.Yanked = y != "" && y != "false" && y != "null"
		meta := f.CoreMetadata
		if len(meta) == 0 {
			meta = f.DistInfoMeta
		}
		var hashes map[string]string
		if m := strings.TrimSpace(string(meta)); m == "true" || json.Unmarshal(meta, &hashes) == nil && hashes != nil {
			file.MetadataURL = file.URL + ".metadata"
			file.MetadataSHA256 = strings.ToLower(hashes["sha256"])
		}
		out = append(out, file)
	}
	return out, nil
}

// ParseHTML reads a PEP 503 project page (or a --find-links page): one
// anchor per file, the sha256 in the URL fragment.
func ParseHTML(base *url.URL, body []byte) ([]File, error) {
	z := html.NewTokenizer(strings.NewReader(string(body)))
	var out []File
	var cur *File
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return out, nil
			}
			return nil, z.Err()
		case html.StartTagToken:
			t := z.Token()
			if t.Data == "base" {
				for _, a := range t.Attr {
					if a.Key == "href" {
						if u, err := base.Parse(a.Val); err == nil {
							base = u
						}
					}
				}
			}
			if t.Data != "a" {
				continue
			}
			f := File{}
			attrs := map[string]string{}
			var yanked bool
			for _, a := range t.Attr {
				attrs[a.Key] = a.Val
				if a.Key == "data-yanked" {
					yanked = true
				}
			}
			href, ok := attrs["href"]
			if !ok {
				continue
			}
			u, err := base.Parse(href)
			if err != nil {
				return nil, fmt.Errorf("anchor href %q: %v", href, err)
			}
			if algo, digest, ok := strings.Cut(u.Fragment, "="); ok && algo == "sha256" {
				f.SHA256 = strings.ToLower(digest)
			}
			u.Fragment = ""
			f.URL = u.String()
			f.RequiresPython = attrs["data-requires-python"]
			f.Yanked = yanked
			meta, ok := attrs["data-core-metadata"]
			if !ok {
				meta, ok = attrs["data-dist-info-metadata"]
			}
			if ok && meta != "false" {
				f.MetadataURL = f.URL + ".metadata"
				if algo, digest, ok := strings.Cut(meta, "="); ok && algo == "sha256" {
					f.MetadataSHA256 = strings.ToLower(digest)
				}
			}
			cur = &f
			text.Reset()
		case html.TextToken:
			if cur != nil {
				text.Write(z.Text())
			}
		case html.EndTagToken:
			if cur == nil {
				continue
			}
			if name, _ := z.TagName(); string(name) == "a" {
				cur.Filename = strings.TrimSpace(text.String())
				if cur.Filename == "" {
					cur.Filename = filepath.Base(cur.URL)
				}
				out = append(out, *cur)
				cur = nil
			}
		}
	}
}

// Fetch reads url (http, https or file) into memory, at most 256 MiB,
// and checks its sha256 when want is not empty. The bytes are returned
// only when they match.
func (c *Client) Fetch(ctx context.Context, rawURL, want string) ([]byte, error) {
	data, err := c.net.Get(ctx, netfetch.Request{URL: rawURL, Limit: maxInMemory})
	if err != nil {
		return nil, err
	}
	if want != "" {
		sum := sha256.Sum256(data)
		if err := checkSHA256(rawURL, sum[:], want); err != nil {
			return nil, err
		}
	}
	return data, nil
}

func checkSHA256(rawURL string, sum []byte, want string) error {
	if got := hex.EncodeToString(sum); got != strings.ToLower(want) {
		return fmt.Errorf("%s: sha256 %s, the index says %s", rawURL, got, want)
	}
	return nil
}

// VerifyFile checks the sha256 of a file, reading it as a stream.
func VerifyFile(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	return checkSHA256(path, h.Sum(nil), want)
}

// Download streams url (http, https or file) to dest, atomically, and
// checks its sha256 when want is not empty: dest appears only when the
// bytes match, and nothing else stays on failure.
func (c *Client) Download(ctx context.Context, rawURL, want, dest string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	h := sha256.New()
	_, err = c.net.Download(ctx, netfetch.Request{URL: rawURL}, tmp, h)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if want != "" {
		if err := checkSHA256(rawURL, h.Sum(nil), want); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), dest)
}

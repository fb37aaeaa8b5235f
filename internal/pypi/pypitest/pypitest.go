// Package pypitest builds real wheels and serves them from simple indexes
// on 127.0.0.1 for tests and benchmarks: nothing leaves the machine.
package pypitest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/envkit/envkit/internal/pypi/pep508"
)

// Dist describes one wheel to build.
type Dist struct {
	Name, Version string
	// Requires are Requires-Dist lines; Extras are Provides-Extra names.
	Requires       []string
	Extras         []string
	RequiresPython string
	// Tag defaults to "py3-none-any".
	Tag string
	// Files are extra archive members (path -> content); the package
	// module "<name>/__init__.py" is always added.
	Files       map[string]string
	EntryPoints string
}

// Filename is the wheel's file name.
func (d Dist) Filename() string {
	tag := d.Tag
	if tag == "" {
		tag = "py3-none-any"
	}
	return fmt.Sprintf("%s-%s-%s.whl", distName(d.Name), d.Version, tag)
}

func distName(name string) string { return strings.ReplaceAll(pep508.NormaliseName(name), "-", "_") }

// Build writes the wheel: a zip with the module, METADATA, WHEEL,
// entry_points.txt and a RECORD listing every member's hash.
func (d Dist) Build() []byte {
	info := fmt.Sprintf("%s-%s.dist-info/", distName(d.Name), d.Version)
	files := map[string]string{
		distName(d.Name) + "/__init__.py": fmt.Sprintf("__version__ = %q\n", d.Version),
	}
	for k, v := range d.Files {
		files[k] = v
	}
	var meta strings.Builder
	fmt.Fprintf(&meta, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", d.Name, d.Version)
	if d.RequiresPython != "" {
		fmt.Fprintf(&meta, "Requires-Python: %s\n", d.RequiresPython)
	}
	for _, e := range d.Extras {
		fmt.Fprintf(&meta, "Provides-Extra: %s\n", e)
	}
	for _, r := range d.Requires {
		fmt.Fprintf(&meta, "Requires-Dist: %s\n", r)
	}
	meta.WriteString("\nA test package.\n")
	files[info+"METADATA"] = meta.String()
	tag := d.Tag
	if tag == "" {
		tag = "py3-none-any"
	}
	purelib := strings.HasSuffix(tag, "-none-any")
	files[info+"WHEEL"] = fmt.Sprintf("Wheel-Version: 1.0\nGenerator: envkit-pypitest\nRoot-Is-Purelib: %v\nTag: %s\n", purelib, tag)
	if d.EntryPoints != "" {
		files[info+"entry_points.txt"] = d.EntryPoints
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	slices.Sort(names)
	var record strings.Builder
	for _, n := range names {
		sum := sha256.Sum256([]byte(files[n]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(files[n]))
	}
	fmt.Fprintf(&record, "%sRECORD,,\n", info)
	files[info+"RECORD"] = record.String()
	names = append(names, info+"RECORD")

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
		mode := uint32(0o644)
		if strings.Contains(n, ".data/scripts/") {
			mode = 0o755
		}
		h.SetMode(fs.FileMode(mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Index is a simple index served on 127.0.0.1.
type Index struct {
	Server *httptest.Server
	// URL is the simple index base ("http://127.0.0.1:PORT/simple").
	URL string
	// Files maps a file name to its bytes and sha256.
	Files map[string][]byte
	// Requests counts the HTTP requests served, BytesServed their bodies.
	Requests    atomic.Int64
	BytesServed atomic.Int64
	// Corrupt names files whose bytes are served changed (hash mismatch).
	Corrupt map[string]bool
	// NoRanges makes the file server ignore Range requests, as simple
	// static servers do.
	NoRanges bool
	// Latency delays every answer, as a remote index would.
	Latency time.Duration
}

// SHA256 of a served file, hex.
func (ix *Index) SHA256(filename string) string {
	sum := sha256.Sum256(ix.Files[filename])
	return hex.EncodeToString(sum[:])
}

// Serve builds dists and serves them as a PEP 691 JSON index when json is
// set, else as a PEP 503 HTML index. Close the Server when done.
func Serve(dists []Dist, json bool) *Index {
	files := map[string][]byte{}
	var list []served
	for _, d := range dists {
		files[d.Filename()] = d.Build()
		list = append(list, served{d.Filename(), d.RequiresPython})
	}
	return serve(files, list, json)
}

// ServeFiles serves existing wheels (file name -> bytes), such as real
// ones found on the machine.
func ServeFiles(wheels map[string][]byte, json bool) *Index {
	var list []served
	for _, name := range slices.Sorted(maps.Keys(wheels)) {
		list = append(list, served{filename: name})
	}
	return serve(wheels, list, json)
}

// served is one file of a project page.
type served struct {
	filename, requiresPython string
}

func serve(files map[string][]byte, list []served, json bool) *Index {
	ix := &Index{Files: files, Corrupt: map[string]bool{}}
	byProject := map[string][]served{}
	for _, f := range list {
		name, _, _ := strings.Cut(f.filename, "-")
		n := pep508.NormaliseName(name)
		byProject[n] = append(byProject[n], f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/simple/{project}/", func(w http.ResponseWriter, r *http.Request) {
		ds, ok := byProject[r.PathValue("project")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if json {
			ix.serveJSON(w, r.PathValue("project"), ds)
		} else {
			ix.serveHTML(w, ds)
		}
	})
	mux.HandleFunc("/files/{file}", func(w http.ResponseWriter, r *http.Request) {
		data, ok := ix.Files[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if ix.Corrupt[r.PathValue("file")] {
			data = append(slices.Clone(data), 0)
		}
		if ix.NoRanges {
			w.Write(data)
			return
		}
		http.ServeContent(w, r, r.PathValue("file"), time.Time{}, bytes.NewReader(data))
	})
	ix.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ix.Requests.Add(1)
		time.Sleep(ix.Latency)
		if r.Method == http.MethodHead {
			mux.ServeHTTP(w, r) // net/http drops the body
			return
		}
		mux.ServeHTTP(countingWriter{w, &ix.BytesServed}, r)
	}))
	ix.URL = ix.Server.URL + "/simple"
	return ix
}

func (ix *Index) serveJSON(w http.ResponseWriter, project string, ds []served) {
	type file struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython string            `json:"requires-python,omitempty"`
	}
	page := struct {
		Meta  map[string]string `json:"meta"`
		Name  string            `json:"name"`
		Files []file            `json:"files"`
	}{Meta: map[string]string{"api-version": "1.1"}, Name: project}
	for _, d := range ds {
		page.Files = append(page.Files, file{d.filename, "../../files/" + d.filename, map[string]string{"sha256": ix.SHA256(d.filename)}, d.requiresPython})
	}
	w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
	json.NewEncoder(w).Encode(page)
}

func (ix *Index) serveHTML(w http.ResponseWriter, ds []served) {
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprint(w, "<!DOCTYPE html>\n<html><body>\n")
	for _, d := range ds {
		rp := ""
		if d.requiresPython != "" {
			rp = fmt.Sprintf(` data-requires-python="%s"`, html.EscapeString(d.requiresPython))
		}
		fmt.Fprintf(w, "<a href=\"/files/%s#sha256=%s\"%s>%s</a><br/>\n", d.filename, ix.SHA256(d.filename), rp, d.filename)
	}
	fmt.Fprint(w, "</body></html>\n")
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.ResponseWriter.Write(p)
}

// RepeatedEntries is a hostile wheel: a zip whose directory lists its one
// member, "a", n times (47 bytes each), and whose end record counts n
// modulo 65536, as archive/zip checks the count. A reader that reads the
// whole directory keeps n entries in memory.
func RepeatedEntries(n int) []byte {
	le := binary.LittleEndian
	local := le.AppendUint32(nil, 0x04034b50)
	local = append(local, make([]byte, 22)...) // version, flags, method 0 (store), time, date, crc, sizes: zero
	local = le.AppendUint16(local, 1)          // name length
	local = le.AppendUint16(local, 0)          // extra length
	local = append(local, 'a')
	entry := le.AppendUint32(nil, 0x02014b50)
	entry = append(entry, make([]byte, 24)...) // versions, flags, method, time, date, crc, sizes: zero
	entry = le.AppendUint16(entry, 1)          // name length
	entry = append(entry, make([]byte, 16)...) // extra and comment lengths, disk, attributes, local header offset 0
	entry = append(entry, 'a')
	dir := bytes.Repeat(entry, n)
	end := le.AppendUint32(nil, 0x06054b50)
	end = le.AppendUint32(end, 0) // disk numbers
	end = le.AppendUint16(end, uint16(n))
	end = le.AppendUint16(end, uint16(n))
	end = le.AppendUint32(end, uint32(len(dir)))
	end = le.AppendUint32(end, uint32(len(local)))
	end = le.AppendUint16(end, 0) // comment length
	return slices.Concat(local, dir, end)
}

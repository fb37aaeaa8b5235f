// Package metadata reads a distribution's core metadata (the METADATA file
// of a wheel, or a PEP 658 .metadata file): the fields resolution needs.
package metadata

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep508"
)

// Metadata holds the fields envkit uses.
type Metadata struct {
	Name           string
	Version        string
	RequiresPython string
	// RequiresDist are the Requires-Dist lines, parsed.
	RequiresDist []pep508.Requirement
	// Extras are the Provides-Extra names, normalised.
	Extras []string
	// License is the licence the distribution declares: License-Expression
	// (PEP 639), else License, else its one "License ::" classifier's last
	// part; "" when none.
	License string
}

// Parse reads METADATA (RFC 822 style headers; the body is the
// description and is ignored).
func Parse(data []byte) (Metadata, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	h, err := r.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return Metadata{}, fmt.Errorf("METADATA: %v", err)
	}
	m := Metadata{
		Name:           h.Get("Name"),
		Version:        h.Get("Version"),
		RequiresPython: h.Get("Requires-Python"),
	}
	if m.Name == "" || m.Version == "" {
		return Metadata{}, fmt.Errorf("METADATA: no Name or Version")
	}
	for _, line := range h.Values("Requires-Dist") {
		req, err := pep508.Parse(line)
		if err != nil {
			return Metadata{}, fmt.Errorf("METADATA of %s %s: Requires-Dist: %v", m.Name, m.Version, err)
		}
		m.RequiresDist = append(m.RequiresDist, req)
	}
	for _, e := range h.Values("Provides-Extra") {
		m.Extras = append(m.Extras, pep508.NormaliseName(strings.TrimSpace(e)))
	}
	m.License = strings.TrimSpace(h.Get("License-Expression"))
	if m.License == "" {
		m.License = strings.TrimSpace(h.Get("License"))
	}
	var classifiers []string
	for _, c := range h.Values("Classifier") {
		if rest, ok := strings.CutPrefix(c, "License :: "); ok {
			if i := strings.LastIndex(rest, "::"); i >= 0 {
				rest = rest[i+2:]
			}
			classifiers = append(classifiers, strings.TrimSpace(rest))
		}
	}
	if m.License == "" && len(classifiers) == 1 {
		m.License = classifiers[0]
	}
	return m, nil
}

// FromWheel reads METADATA from a wheel's .dist-info directory.
func FromWheel(wheel []byte) (Metadata, error) {
	zr, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		return Metadata{}, fmt.Errorf("wheel: %v", err)
	}
	return FromZip(zr)
}

// FromZip reads METADATA from an open wheel (possibly a remote one read
// by ranges).
func FromZip(zr *zip.Reader) (Metadata, error) {
	for _, f := range zr.File {
		dir, file, ok := strings.Cut(f.Name, "/")
		if ok && file == "METADATA" && strings.HasSuffix(dir, ".dist-info") {
			rc, err := f.Open()
			if err != nil {
				return Metadata{}, err
			}
			data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
			rc.Close()
			if err != nil {
				return Metadata{}, fmt.Errorf("%s: %v", f.Name, err)
			}
			return Parse(data)
		}
	}
	return Metadata{}, fmt.Errorf("wheel: no .dist-info/METADATA")
}

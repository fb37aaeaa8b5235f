// Package metadata reads a distribution's core metadata (the METADATA file
// of a wheel, or a PEP 658 .metadata file): the fields resolution needs.
package metadata

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep440"
	"github.com/envkit/envkit/internal/pypi/pep508"
	"github.com/envkit/envkit/internal/pypi/tags"
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
	return parse(bufio.NewReader(bytes.NewReader(data)))
}

func parse(br *bufio.Reader) (Metadata, error) {
	h, err := textproto.NewReader(br).ReadMIMEHeader()
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

// Bounds of what reading a wheel's METADATA may cost, whatever the wheel
// (a local file beside a definition, a remote one read by ranges):
// archive/zip reads the whole zip directory into memory (a few hundred
// bytes an entry, and it reads entries until one is malformed, whatever
// the directory says it holds), and only METADATA's header block is used.
const (
	// maxDirectory bounds the bytes read to open the zip, its directory
	// with its end record: real wheels have directories of a few MB
	// (torch's ~15,000 entries take 1.7 MB), and 8 MiB of 46-byte
	// entries make some 40 MB in memory.
	maxDirectory = 8 << 20
	// maxHeaders bounds METADATA's header block (the description after
	// it is not read, nor decompressed).
	maxHeaders = 1 << 20
)

// FromWheel reads METADATA from a wheel in memory.
func FromWheel(wheel []byte) (Metadata, error) {
	return FromWheelFile(bytes.NewReader(wheel), int64(len(wheel)))
}

// FromWheelFile reads METADATA from the .dist-info directory of a wheel
// of size bytes read through r (a file, a remote wheel read by ranges),
// reading at most maxDirectory bytes of its zip directory and
// maxHeaders of METADATA.
func FromWheelFile(r io.ReaderAt, size int64) (Metadata, error) {
	br := &budgetReader{r: r, left: maxDirectory}
	zr, err := zip.NewReader(br, size)
	switch {
	case errors.Is(err, errOverBudget):
		return Metadata{}, fmt.Errorf("not a wheel: its zip directory is larger than %d MiB, where a wheel's takes a few", maxDirectory>>20)
	case err != nil:
		return Metadata{}, fmt.Errorf("not a wheel: %v", err)
	}
	br.left = maxHeaders + 64<<10 // METADATA's local header and header block
	for _, f := range zr.File {
		dir, file, ok := strings.Cut(f.Name, "/")
		if !ok || file != "METADATA" || !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return Metadata{}, fmt.Errorf("%s: %v", f.Name, err)
		}
		defer rc.Close()
		lr := &io.LimitedReader{R: rc, N: maxHeaders + 1}
		m, err := parse(bufio.NewReader(lr))
		switch {
		case lr.N == 0 || errors.Is(err, errOverBudget):
			return Metadata{}, fmt.Errorf("%s: its header block does not end within its first %d MiB", f.Name, maxHeaders>>20)
		case err != nil:
			return Metadata{}, fmt.Errorf("%s: %v", f.Name, err)
		}
		return m, nil
	}
	return Metadata{}, fmt.Errorf("wheel: no .dist-info/METADATA")
}

var errOverBudget = errors.New("read budget exhausted")

// budgetReader fails reads once left bytes have been read.
type budgetReader struct {
	r    io.ReaderAt
	left int64
}

func (b *budgetReader) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.left {
		return 0, errOverBudget
	}
	b.left -= int64(len(p))
	return b.r.ReadAt(p, off)
}

// Matches checks m against the name and version of the wheel file it
// was read from: pip refuses a wheel whose METADATA disagrees with its
// file name.
func (m Metadata) Matches(w tags.Wheel) error {
	if pep508.NormaliseName(m.Name) != pep508.NormaliseName(w.Name) {
		return fmt.Errorf("METADATA names project %s, the file name %s", m.Name, w.Name)
	}
	mv, err := pep440.Parse(m.Version)
	fv, ferr := pep440.Parse(w.Version)
	if err != nil || ferr != nil || pep440.Compare(mv, fv) != 0 {
		return fmt.Errorf("METADATA says version %s, the file name %s", m.Version, w.Version)
	}
	return nil
}

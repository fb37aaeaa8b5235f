// Package wheel installs Python wheels (PEP 427) into a prefix without pip:
// the files in lib/pythonX.Y/site-packages and the .data directories in
// their schemes, console scripts, and the dist-info files pip writes
// (RECORD, INSTALLER, REQUESTED, direct_url.json). The archive's sha256
// and every RECORD hash are checked before anything is written, and a
// rejected wheel leaves nothing behind.
package wheel

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options describe one installation.
type Options struct {
	// SHA256 is the archive's expected hex digest (from the lock); it is
	// required.
	SHA256 string
	// URL, when set, is recorded in direct_url.json as pip records the
	// archive it installed from.
	URL string
	// Installer goes into INSTALLER (default "envkit").
	Installer string
	// Requested writes REQUESTED: the package was asked for by name, not
	// pulled in as a dependency.
	Requested bool
	// ModTime is every written file's mtime (SOURCE_DATE_EPOCH for
	// reproducible layers); zero keeps the time of writing.
	ModTime time.Time
	// Python is the interpreter scripts run with (default
	// PREFIX/bin/pythonX.Y).
	Python string
}

// Installed says what was installed.
type Installed struct {
	Name, Version string
	// Files are the written paths relative to the prefix, sorted.
	Files []string
}

// SourceDateEpoch reads $SOURCE_DATE_EPOCH ("" gives the zero time).
func SourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// Install installs the wheel at archivePath into prefix for CPython
// pythonVersion ("3.11").
func Install(archivePath, prefix, pythonVersion string, opts Options) (*Installed, error) {
	data, err := os.ReadFile(archivePath)
	if err != nil {
		return nil, err
	}
	inst, err := InstallBytes(path.Base(archivePath), data, prefix, pythonVersion, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archivePath, err)
	}
	return inst, nil
}

// member is one file to write: its destination relative to the prefix.
type member struct {
	dest string
	data []byte
	exec bool
}

var scriptShebang = regexp.MustCompile(`^#!python(w)?(\s|$)`)

// InstallBytes installs a wheel held in memory; filename is its name
// (for messages and the dist-info directory check).
func InstallBytes(filename string, data []byte, prefix, pythonVersion string, opts Options) (*Installed, error) {
	if opts.SHA256 == "" {
		return nil, fmt.Errorf("no sha256 to check the wheel against")
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != strings.ToLower(opts.SHA256) {
		return nil, fmt.Errorf("sha256 %s, the lock says %s: refused", got, opts.SHA256)
	}
	major, minor, ok := strings.Cut(pythonVersion, ".")
	if !ok || major == "" || minor == "" {
		return nil, fmt.Errorf("python version %q: want major.minor", pythonVersion)
	}
	if i := strings.IndexByte(minor, '.'); i >= 0 {
		minor = minor[:i]
	}
	py := "python" + major + "." + minor
	sitePackages := path.Join("lib", py, "site-packages")
	if opts.Python == "" {
		opts.Python = path.Join(prefix, "bin", py)
	}
	if opts.Installer == "" {
		opts.Installer = "envkit"
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %v", err)
	}
	files := map[string][]byte{}
	modes := map[string]bool{}
	var order []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if err := safePath(f.Name); err != nil {
			return nil, err
		}
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("%s: twice in the archive", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		files[f.Name] = b
		modes[f.Name] = f.Mode()&0o111 != 0
		order = append(order, f.Name)
	}
	info, err := distInfo(order)
	if err != nil {
		return nil, err
	}
	name, version, _ := strings.Cut(strings.TrimSuffix(info, ".dist-info"), "-")
	if err := checkWheelFile(files[info+"/WHEEL"]); err != nil {
		return nil, fmt.Errorf("%s/WHEEL: %v", info, err)
	}
	if err := checkRecord(info, files); err != nil {
		return nil, err
	}

	dataDir := strings.TrimSuffix(info, ".dist-info") + ".data/"
	var members []member
	for _, n := range order {
		if n == info+"/RECORD" || n == info+"/INSTALLER" || n == info+"/REQUESTED" || n == info+"/direct_url.json" ||
			strings.HasPrefix(n, info+"/RECORD.") {
			continue
		}
		m := member{data: files[n], exec: modes[n]}
		rest, inData := strings.CutPrefix(n, dataDir)
		if !inData {
			m.dest = path.Join(sitePackages, n)
			members = append(members, m)
			continue
		}
		scheme, rel, _ := strings.Cut(rest, "/")
		switch scheme {
		case "purelib", "platlib":
			m.dest = path.Join(sitePackages, rel)
		case "scripts":
			m.dest = path.Join("bin", rel)
			m.exec = true
			m.data = scriptShebang.ReplaceAll(m.data, []byte("#!"+opts.Python+"$2"))
		case "headers":
			m.dest = path.Join("include", py, name, rel)
		case "data":
			m.dest = rel
		default:
			return nil, fmt.Errorf("%s: unknown .data directory %q (want purelib, platlib, scripts, headers or data)", n, scheme)
		}
		members = append(members, m)
	}
	scripts, err := consoleScripts(files[info+"/entry_points.txt"], opts.Python)
	if err != nil {
		return nil, fmt.Errorf("%s/entry_points.txt: %v", info, err)
	}
	members = append(members, scripts...)
	infoDir := path.Join(sitePackages, info)
	members = append(members, member{dest: path.Join(infoDir, "INSTALLER"), data: []byte(opts.Installer + "\n")})
	if opts.Requested {
		members = append(members, member{dest: path.Join(infoDir, "REQUESTED")})
	}
	if opts.URL != "" {
		members = append(members, member{dest: path.Join(infoDir, "direct_url.json"), data: directURL(opts.URL, opts.SHA256)})
	}
	members = append(members, member{dest: path.Join(infoDir, "RECORD"), data: record(members, sitePackages, path.Join(infoDir, "RECORD"))})

	written, err := write(prefix, members, opts.ModTime)
	if err != nil {
		return nil, err
	}
	return &Installed{Name: name, Version: version, Files: written}, nil
}

// safePath refuses absolute paths and ".." in archive members.
func safePath(name string) error {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name || strings.HasPrefix(name, "../") || name == ".." {
		return fmt.Errorf("%s: unsafe path in the archive", name)
	}
	return nil
}

// distInfo finds the one top-level NAME-VERSION.dist-info directory.
func distInfo(names []string) (string, error) {
	found := ""
	for _, n := range names {
		dir, _, ok := strings.Cut(n, "/")
		if !ok || !strings.HasSuffix(dir, ".dist-info") || dir == found {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("two .dist-info directories: %s and %s", found, dir)
		}
		found = dir
	}
	if found == "" {
		return "", fmt.Errorf("no .dist-info directory")
	}
	if !strings.Contains(found, "-") {
		return "", fmt.Errorf("%s: want NAME-VERSION.dist-info", found)
	}
	return found, nil
}

func checkWheelFile(data []byte) error {
	if data == nil {
		return fmt.Errorf("missing")
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(data))).ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return err
	}
	v := h.Get("Wheel-Version")
	if major, _, _ := strings.Cut(v, "."); major != "1" {
		return fmt.Errorf("Wheel-Version %q: envkit installs version 1 wheels", v)
	}
	return nil
}

// checkRecord verifies every member against RECORD, as pip does: a member
// missing from RECORD or with another hash or size is refused.
func checkRecord(info string, files map[string][]byte) error {
	rec, ok := files[info+"/RECORD"]
	if !ok {
		return fmt.Errorf("%s/RECORD: missing", info)
	}
	rows, err := csv.NewReader(bytes.NewReader(rec)).ReadAll()
	if err != nil {
		return fmt.Errorf("%s/RECORD: %v", info, err)
	}
	listed := map[string]bool{}
	for i, row := range rows {
		if len(row) != 3 {
			return fmt.Errorf("%s/RECORD:%d: want path,hash,size", info, i+1)
		}
		p, hash, size := row[0], row[1], row[2]
		listed[p] = true
		data, ok := files[p]
		if !ok || hash == "" {
			continue
		}
		algo, digest, _ := strings.Cut(hash, "=")
		if algo != "sha256" {
			return fmt.Errorf("%s/RECORD:%d: %s: hash %s, want sha256", info, i+1, p, algo)
		}
		sum := sha256.Sum256(data)
		if base64.RawURLEncoding.EncodeToString(sum[:]) != strings.TrimRight(digest, "=") {
			return fmt.Errorf("%s: does not match its RECORD hash", p)
		}
		if size != "" && size != strconv.Itoa(len(data)) {
			return fmt.Errorf("%s: %d bytes, RECORD says %s", p, len(data), size)
		}
	}
	for p := range files {
		if !listed[p] && p != info+"/RECORD" && !strings.HasPrefix(p, info+"/RECORD.") {
			return fmt.Errorf("%s: not listed in RECORD", p)
		}
	}
	return nil
}

// directURL is PEP 610's direct_url.json for an archive.
func directURL(url, sha string) []byte {
	q := strconv.Quote
	return []byte(`{"archive_info": {"hash": ` + q("sha256="+sha) + `, "hashes": {"sha256": ` + q(sha) + `}}, "url": ` + q(url) + "}")
}

// record writes RECORD as pip does: paths relative to site-packages, the
// urlsafe-base64 sha256 without padding and the size; RECORD itself has
// neither.
func record(members []member, sitePackages, self string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, m := range members {
		sum := sha256.Sum256(m.data)
		w.Write([]string{relTo(sitePackages, m.dest), "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]), strconv.Itoa(len(m.data))})
	}
	w.Write([]string{relTo(sitePackages, self), "", ""})
	w.Flush()
	return b.Bytes()
}

// relTo gives p relative to dir ("../../../bin/x" for bin/x from
// lib/python3.11/site-packages).
func relTo(dir, p string) string {
	if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
		return rest
	}
	return strings.Repeat("../", strings.Count(dir, "/")+1) + p
}

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
// pythonVersion ("3.11"). The archive is read in place, never whole into
// memory: wheels of ML libraries run to gigabytes.
func Install(archivePath, prefix, pythonVersion string, opts Options) (*Installed, error) {
	f, err := os.Open(archivePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkSHA256(opts.SHA256, f); err != nil {
		return nil, fmt.Errorf("%s: %w", archivePath, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	inst, err := install(f, st.Size(), prefix, pythonVersion, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archivePath, err)
	}
	return inst, nil
}

// InstallBytes installs a wheel held in memory; filename is its name
// (for messages).
func InstallBytes(filename string, data []byte, prefix, pythonVersion string, opts Options) (*Installed, error) {
	if err := checkSHA256(opts.SHA256, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	return install(bytes.NewReader(data), int64(len(data)), prefix, pythonVersion, opts)
}

// checkSHA256 compares the archive's digest with the lock's.
func checkSHA256(want string, r io.Reader) error {
	if want == "" {
		return fmt.Errorf("no sha256 to check the wheel against")
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(want) {
		return fmt.Errorf("sha256 %s, the lock says %s: refused", got, want)
	}
	return nil
}

// member is one file to write: its destination relative to the prefix,
// and either its content (generated files, scripts) or the archive member
// streamed into place, checked against want, its RECORD entry.
type member struct {
	dest string
	data []byte
	src  *zip.File
	want recordEntry
	exec bool
	// sum and size are those of the staged file, for the new RECORD.
	sum  [sha256.Size]byte
	size int64
}

// maxMetadata bounds the members read whole (WHEEL, RECORD,
// entry_points.txt, scripts).
const maxMetadata = 64 << 20

var scriptShebang = regexp.MustCompile(`^#!python(w)?(\s|$)`)

func install(ra io.ReaderAt, size int64, prefix, pythonVersion string, opts Options) (*Installed, error) {
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
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %v", err)
	}
	entries := map[string]*zip.File{}
	var order []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if err := safePath(f.Name); err != nil {
			return nil, err
		}
		if _, dup := entries[f.Name]; dup {
			return nil, fmt.Errorf("%s: twice in the archive", f.Name)
		}
		entries[f.Name] = f
		order = append(order, f.Name)
	}
	read := func(name string) ([]byte, error) {
		f := entries[name]
		if f == nil {
			return nil, nil
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxMetadata+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if len(b) > maxMetadata {
			return nil, fmt.Errorf("%s: over %d MB", name, maxMetadata>>20)
		}
		return b, nil
	}
	info, err := distInfo(order)
	if err != nil {
		return nil, err
	}
	name, version, _ := strings.Cut(strings.TrimSuffix(info, ".dist-info"), "-")
	wheelFile, err := read(info + "/WHEEL")
	if err != nil {
		return nil, err
	}
	if err := checkWheelFile(wheelFile); err != nil {
		return nil, fmt.Errorf("%s/WHEEL: %v", info, err)
	}
	if entries[info+"/RECORD"] == nil {
		return nil, fmt.Errorf("%s/RECORD: missing", info)
	}
	recordFile, err := read(info + "/RECORD")
	if err != nil {
		return nil, err
	}
	listed, err := parseRecord(info, recordFile)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		if _, ok := listed[n]; !ok && n != info+"/RECORD" && !strings.HasPrefix(n, info+"/RECORD.") {
			return nil, fmt.Errorf("%s: not listed in RECORD", n)
		}
	}

	dataDir := strings.TrimSuffix(info, ".dist-info") + ".data/"
	var members []member
	for _, n := range order {
		if n == info+"/RECORD" || n == info+"/INSTALLER" || n == info+"/REQUESTED" || n == info+"/direct_url.json" ||
			strings.HasPrefix(n, info+"/RECORD.") {
			continue
		}
		m := member{src: entries[n], want: listed[n], exec: entries[n].Mode()&0o111 != 0}
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
			// Scripts are read whole, checked, and get the env's python.
			data, err := read(n)
			if err != nil {
				return nil, err
			}
			if err := m.want.check(n, data); err != nil {
				return nil, err
			}
			m.dest = path.Join("bin", rel)
			m.exec = true
			m.src = nil
			m.data = scriptShebang.ReplaceAll(data, []byte("#!"+opts.Python+"$2"))
		case "headers":
			m.dest = path.Join("include", py, name, rel)
		case "data":
			m.dest = rel
		default:
			return nil, fmt.Errorf("%s: unknown .data directory %q (want purelib, platlib, scripts, headers or data)", n, scheme)
		}
		members = append(members, m)
	}
	entryPoints, err := read(info + "/entry_points.txt")
	if err != nil {
		return nil, err
	}
	scripts, err := consoleScripts(entryPoints, opts.Python)
	if err != nil {
		return nil, fmt.Errorf("%s/entry_points.txt: %v", info, err)
	}
	members = append(members, scripts...)
	infoDir := path.Join(sitePackages, info)
	members = append(members, member{dest: path.Join(infoDir, "INSTALLER"), data: []byte(opts.Installer + "\n")})
	if opts.Requested {
		members = append(members, member{dest: path.Join(infoDir, "REQUESTED"), data: []byte{}})
	}
	if opts.URL != "" {
		members = append(members, member{dest: path.Join(infoDir, "direct_url.json"), data: directURL(opts.URL, opts.SHA256)})
	}
	written, err := write(prefix, members, sitePackages, path.Join(infoDir, "RECORD"), opts.ModTime)
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

// recordEntry is a RECORD row's hash (urlsafe base64 of the sha256,
// without padding) and size; either may be empty.
type recordEntry struct{ digest, size string }

// check compares data with the entry, as pip does.
func (e recordEntry) check(name string, data []byte) error {
	sum := sha256.Sum256(data)
	return e.checkSum(name, sum, int64(len(data)))
}

func (e recordEntry) checkSum(name string, sum [sha256.Size]byte, size int64) error {
	if e.digest == "" {
		return nil // RECORD lists it without a hash: nothing to check
	}
	if base64.RawURLEncoding.EncodeToString(sum[:]) != e.digest {
		return fmt.Errorf("%s: does not match its RECORD hash", name)
	}
	if e.size != "" && e.size != strconv.FormatInt(size, 10) {
		return fmt.Errorf("%s: %d bytes, RECORD says %s", name, size, e.size)
	}
	return nil
}

// parseRecord reads a wheel's RECORD: every member must be listed, and
// listed members are checked against the hash (sha256 only) and size
// given, as pip does.
func parseRecord(info string, rec []byte) (map[string]recordEntry, error) {
	rows, err := csv.NewReader(bytes.NewReader(rec)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s/RECORD: %v", info, err)
	}
	listed := make(map[string]recordEntry, len(rows))
	for i, row := range rows {
		if len(row) != 3 {
			return nil, fmt.Errorf("%s/RECORD:%d: want path,hash,size", info, i+1)
		}
		p, hash, size := row[0], row[1], row[2]
		e := recordEntry{size: size}
		if hash != "" {
			algo, digest, _ := strings.Cut(hash, "=")
			if algo != "sha256" {
				return nil, fmt.Errorf("%s/RECORD:%d: %s: hash %s, want sha256", info, i+1, p, algo)
			}
			e.digest = strings.TrimRight(digest, "=")
		}
		listed[p] = e
	}
	return listed, nil
}

// directURL is PEP 610's direct_url.json for an archive.
func directURL(url, sha string) []byte {
	q := strconv.Quote
	return []byte(`{"archive_info": {"hash": ` + q("sha256="+sha) + `, "hashes": {"sha256": ` + q(sha) + `}}, "url": ` + q(url) + "}")
}

// record writes RECORD as pip does: paths relative to site-packages, the
// urlsafe-base64 sha256 without padding and the size of each staged file;
// RECORD itself has neither.
func record(members []member, sitePackages, self string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, m := range members {
		w.Write([]string{relTo(sitePackages, m.dest), "sha256=" + base64.RawURLEncoding.EncodeToString(m.sum[:]), strconv.FormatInt(m.size, 10)})
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

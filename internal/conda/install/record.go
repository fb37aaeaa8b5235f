package install

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// PrefixRecord is conda-meta/<name>-<version>-<build>.json, the record
// conda, micromamba and rattler read to know what an environment holds.
// As in rattler, it nests the channel's record (the solver's view) and adds
// what linking learnt. The file form is prefixRecordFile.
type PrefixRecord struct {
	// Record is the channel's record; linking sets the archive's digests,
	// size, noarch kind and file name.
	repodata.Record
	// Arch, Platform and PythonSitePackagesPath come from info/index.json;
	// the solver does not read them.
	Arch, Platform, PythonSitePackagesPath string
	Files                                  []string
	PathsData                              PathsData
	Link                                   LinkInfo
	RequestedSpec                          string
}

// prefixRecordFile is the record's JSON form: fields in alphabetical order,
// as rattler writes them; depends, constrains, md5, sha256, channel and
// subdir always present; track_features one comma-separated string.
// extracted_package_dir and link.source would name host paths and are
// written empty: the same package and prefix must give the same bytes
// everywhere.
type prefixRecordFile struct {
	Arch                   string    `json:"arch,omitempty"`
	Build                  string    `json:"build"`
	BuildNumber            int64     `json:"build_number"`
	Channel                string    `json:"channel"`
	Constrains             []string  `json:"constrains"`
	Depends                []string  `json:"depends"`
	ExtractedPackageDir    string    `json:"extracted_package_dir"`
	Features               string    `json:"features,omitempty"`
	Files                  []string  `json:"files"`
	Filename               string    `json:"fn"`
	License                string    `json:"license,omitempty"`
	LicenseFamily          string    `json:"license_family,omitempty"`
	Link                   LinkInfo  `json:"link"`
	MD5                    string    `json:"md5"`
	Name                   string    `json:"name"`
	Noarch                 string    `json:"noarch,omitempty"`
	PathsData              PathsData `json:"paths_data"`
	Platform               string    `json:"platform,omitempty"`
	PythonSitePackagesPath string    `json:"python_site_packages_path,omitempty"`
	RequestedSpec          string    `json:"requested_spec"`
	SHA256                 string    `json:"sha256"`
	Size                   int64     `json:"size"`
	Subdir                 string    `json:"subdir"`
	Timestamp              int64     `json:"timestamp,omitempty"`
	TrackFeatures          string    `json:"track_features,omitempty"`
	URL                    string    `json:"url"`
	Version                string    `json:"version"`
}

// LinkInfo is how the files got into the prefix; type 3 is conda's LinkType
// "copy", which is what envkit does (layers cannot share inodes).
type LinkInfo struct {
	Source string `json:"source"`
	Type   int    `json:"type"`
}

const linkCopy = 3

// Dist is name-version-build, the record's file name without ".json".
func (r *PrefixRecord) Dist() string { return r.Name + "-" + r.Version + "-" + r.Build }

// MarshalJSON writes the file form. Specs keep ">" and "<" as they are (no
// HTML escaping), as conda does.
func (r PrefixRecord) MarshalJSON() ([]byte, error) {
	rec := &r.Record
	f := prefixRecordFile{
		Arch: r.Arch, Build: rec.Build, BuildNumber: rec.BuildNumber, Channel: rec.Channel,
		Constrains: nonNil(rec.Constrains), Depends: nonNil(rec.Depends), Features: rec.Features,
		Files: r.Files, Filename: rec.Filename, License: rec.License, LicenseFamily: rec.LicenseFamily,
		Link: r.Link, MD5: rec.MD5, Name: rec.Name, Noarch: rec.Noarch, PathsData: r.PathsData,
		Platform: r.Platform, PythonSitePackagesPath: r.PythonSitePackagesPath, RequestedSpec: r.RequestedSpec,
		SHA256: rec.SHA256, Size: rec.Size, Subdir: rec.Subdir, Timestamp: rec.Timestamp,
		TrackFeatures: strings.Join(rec.TrackFeatures, ","), URL: rec.URL, Version: rec.Version,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads the file form (and shadows repodata.Record's).
func (r *PrefixRecord) UnmarshalJSON(b []byte) error {
	var f prefixRecordFile
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*r = PrefixRecord{
		Record: repodata.Record{
			Name: f.Name, Version: f.Version, Build: f.Build, BuildNumber: f.BuildNumber,
			Depends: f.Depends, Constrains: f.Constrains, TrackFeatures: repodata.SplitFeatures(f.TrackFeatures),
			Features: f.Features, License: f.License, LicenseFamily: f.LicenseFamily, MD5: f.MD5, SHA256: f.SHA256,
			Size: f.Size, Subdir: f.Subdir, Timestamp: f.Timestamp, Noarch: f.Noarch, Filename: f.Filename,
			URL: f.URL, Channel: f.Channel,
		},
		Arch: f.Arch, Platform: f.Platform, PythonSitePackagesPath: f.PythonSitePackagesPath,
		Files: f.Files, PathsData: f.PathsData, Link: f.Link, RequestedSpec: f.RequestedSpec,
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// newPrefixRecord starts from info/index.json, read as repodata reads a
// record, and lets the channel's record (when given) supply where the
// package came from.
func newPrefixRecord(idx map[string]json.RawMessage, rec *repodata.Record) (*PrefixRecord, error) {
	raw, _ := json.Marshal(idx)
	r := &PrefixRecord{Link: LinkInfo{Type: linkCopy}}
	if err := r.Record.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("info/index.json: %v", err)
	}
	var extra struct {
		Arch         *string `json:"arch"`
		Platform     *string `json:"platform"`
		SitePackages string  `json:"python_site_packages_path"`
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		return nil, fmt.Errorf("info/index.json: %v", err)
	}
	if extra.Arch != nil {
		r.Arch = *extra.Arch
	}
	if extra.Platform != nil {
		r.Platform = *extra.Platform
	}
	r.PythonSitePackagesPath = extra.SitePackages
	// Where the archive came from and its digests are the channel's and the
	// linker's to say, not the archive's own.
	r.MD5, r.SHA256, r.Size, r.Filename, r.URL, r.Channel = "", "", 0, "", "", ""
	if r.Name == "" || r.Version == "" || r.Build == "" {
		return nil, fmt.Errorf("info/index.json lacks name, version or build")
	}
	if err := checkDist(r.Name, r.Version, r.Build); err != nil {
		return nil, fmt.Errorf("info/index.json: %w", err)
	}
	if rec != nil {
		if rec.Name != "" && (rec.Name != r.Name || rec.Version != r.Version || rec.Build != r.Build) {
			return nil, fmt.Errorf("record is for %s but the archive holds %s", rec, r.Dist())
		}
		r.Channel, r.URL, r.Filename = rec.Channel, rec.URL, rec.Filename
		if rec.Subdir != "" {
			r.Subdir = rec.Subdir
		}
		// The channel's depends win: repodata patches fix them there.
		if rec.Depends != nil {
			r.Depends = rec.Depends
		}
		if rec.Constrains != nil {
			r.Constrains = rec.Constrains
		}
		if rec.Timestamp != 0 {
			r.Timestamp = rec.Timestamp
		}
	}
	return r, nil
}

// encode is the record as written: indented, keys in order, final newline.
func (r *PrefixRecord) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// checkDist refuses a name, version or build that could not be one
// component of a file name: they make conda-meta/NAME-VERSION-BUILD.json
// and Finalize's bin/.NAME-post-link.sh.
func checkDist(name, version, build string) error {
	for _, f := range []struct{ field, value string }{{"name", name}, {"version", version}, {"build", build}} {
		if f.value == "" || strings.ContainsAny(f.value, "/\\\x00") || strings.Contains(f.value, "..") {
			return fmt.Errorf("%s %q is empty or has a /, \\, .. or NUL: it would name a path outside conda-meta or bin", f.field, f.value)
		}
	}
	return nil
}

// ReadRecords reads every conda-meta/*.json of the prefix at dir, sorted
// by name.
func ReadRecords(dir string) ([]*PrefixRecord, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readRecords(root)
}

// readRecords reads the records through root, refusing any whose name,
// version or build is not a plain file name component (a record is
// a file like any other: a package can ship one).
func readRecords(root *os.Root) ([]*PrefixRecord, error) {
	files, err := fs.Glob(root.FS(), "conda-meta/*.json")
	if err != nil {
		return nil, err
	}
	var out []*PrefixRecord
	for _, f := range files {
		b, err := root.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r PrefixRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		if err := checkDist(r.Name, r.Version, r.Build); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, &r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// writeRecord writes r into dir/conda-meta.
func writeRecord(root *os.Root, r *PrefixRecord) error {
	b, err := r.encode()
	if err != nil {
		return err
	}
	if err := root.MkdirAll("conda-meta", 0o755); err != nil {
		return err
	}
	return root.WriteFile(path.Join("conda-meta", r.Dist()+".json"), b, 0o644)
}

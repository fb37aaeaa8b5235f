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
// Fields are in alphabetical order, as rattler writes them. Fields that
// would name host paths (extracted_package_dir, link.source) are written
// empty: the same package and prefix must give the same bytes everywhere.
type PrefixRecord struct {
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

// Record returns the repodata view of the record.
func (r *PrefixRecord) Record() *repodata.Record {
	rec := &repodata.Record{
		Name: r.Name, Version: r.Version, Build: r.Build, BuildNumber: r.BuildNumber,
		Depends: r.Depends, Constrains: r.Constrains, MD5: r.MD5, SHA256: r.SHA256, Size: r.Size,
		Subdir: r.Subdir, Timestamp: r.Timestamp, Noarch: r.Noarch, Filename: r.Filename, URL: r.URL, Channel: r.Channel,
		License: r.License, LicenseFamily: r.LicenseFamily, Features: r.Features,
	}
	if r.TrackFeatures != "" {
		rec.TrackFeatures = repodata.SplitFeatures(r.TrackFeatures)
	}
	return rec
}

// newPrefixRecord starts from info/index.json and lets the channel's record
// (when given) supply where the package came from.
func newPrefixRecord(idx map[string]json.RawMessage, rec *repodata.Record) (*PrefixRecord, error) {
	var base struct {
		Name          string          `json:"name"`
		Version       string          `json:"version"`
		Build         string          `json:"build"`
		BuildNumber   int64           `json:"build_number"`
		Depends       []string        `json:"depends"`
		Constrains    []string        `json:"constrains"`
		Subdir        string          `json:"subdir"`
		Arch          *string         `json:"arch"`
		Platform      *string         `json:"platform"`
		License       string          `json:"license"`
		LicenseFamily string          `json:"license_family"`
		Features      string          `json:"features"`
		Timestamp     int64           `json:"timestamp"`
		TrackFeatures json.RawMessage `json:"track_features"`
		SitePackages  string          `json:"python_site_packages_path"`
	}
	raw, _ := json.Marshal(idx)
	if err := json.Unmarshal(raw, &base); err != nil {
		return nil, fmt.Errorf("info/index.json: %v", err)
	}
	if base.Name == "" || base.Version == "" || base.Build == "" {
		return nil, fmt.Errorf("info/index.json lacks name, version or build")
	}
	if err := checkDist(base.Name, base.Version, base.Build); err != nil {
		return nil, fmt.Errorf("info/index.json: %w", err)
	}
	r := &PrefixRecord{
		Name: base.Name, Version: base.Version, Build: base.Build, BuildNumber: base.BuildNumber,
		Depends: base.Depends, Constrains: base.Constrains, Subdir: base.Subdir,
		License: base.License, LicenseFamily: base.LicenseFamily, Features: base.Features,
		Timestamp: base.Timestamp, PythonSitePackagesPath: base.SitePackages,
		Link: LinkInfo{Type: linkCopy},
	}
	if base.Arch != nil {
		r.Arch = *base.Arch
	}
	if base.Platform != nil {
		r.Platform = *base.Platform
	}
	var tf string
	if json.Unmarshal(base.TrackFeatures, &tf) == nil {
		r.TrackFeatures = tf
	} else {
		var list []string
		if json.Unmarshal(base.TrackFeatures, &list) == nil {
			r.TrackFeatures = strings.Join(list, ",")
		}
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
	if r.Depends == nil {
		r.Depends = []string{}
	}
	if r.Constrains == nil {
		r.Constrains = []string{}
	}
	return r, nil
}

// encode is the record as written: indented, keys in order, final newline.
// Specs keep ">" and "<" as they are (no HTML escaping), as conda does.
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

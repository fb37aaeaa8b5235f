package repodata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Info is repodata.json's "info" object, the parts envkit uses.
type Info struct {
	// Subdir is the platform subdir the file describes ("linux-64", "noarch").
	Subdir string `json:"subdir"`
	// BaseURL (CEP 15) is where the archives live when not beside the
	// repodata; it may be relative to the repodata.json URL.
	BaseURL string `json:"base_url"`
}

// Repodata is one parsed channel subdir.
type Repodata struct {
	Info Info
	// RepodataVersion is 1, or 2 when base_url is meaningful.
	RepodataVersion int
	// Records are sorted by filename; a ".conda" archive has replaced the
	// ".tar.bz2" of the same stem.
	Records []Record
	// Removed lists the filenames the channel withdrew (never in Records).
	Removed []string
}

// document is the top level of repodata.json; unknown keys are ignored as
// CEP 36 requires.
type document struct {
	Info            *Info                `json:"info"`
	RepodataVersion int                  `json:"repodata_version"`
	Packages        map[string]rawRecord `json:"packages"`
	PackagesConda   map[string]rawRecord `json:"packages.conda"`
	Removed         []string             `json:"removed"`
}

// Parse reads a repodata.json served at <channel>/<subdir>/repodata.json.
// channel is the channel's canonical URL without subdir (it becomes
// Record.Channel); subdir is the subdir the file was fetched from and is
// used when neither the file's info nor a record names one.
//
// Parse also accepts the flat "filename → record" maps of conda's test
// data (tests/data/index*.json): a top-level object with none of the
// repodata keys. Each record then lives in its own subdir under channel.
func Parse(channel, subdir string, data []byte) (*Repodata, error) {
	return ParseMirrored(channel, channel, subdir, data)
}

// ParseMirrored is Parse for a channel read from a mirror: records keep
// channel as their identity but their URLs point into location, the URL
// (without subdir) the file was fetched from. An absolute info.base_url
// is used as given.
func ParseMirrored(channel, location, subdir string, data []byte) (*Repodata, error) {
	channel = strings.TrimRight(channel, "/")
	location = strings.TrimRight(location, "/")
	if isFlat(data) {
		return parseFlat(channel, location, subdir, data)
	}
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, positioned(data, err)
	}
	rd := &Repodata{RepodataVersion: doc.RepodataVersion, Removed: doc.Removed}
	if doc.Info != nil {
		rd.Info = *doc.Info
	}
	if rd.Info.Subdir == "" {
		rd.Info.Subdir = subdir
	}
	base, err := archiveBase(location, rd.Info)
	if err != nil {
		return nil, err
	}
	removed := make(map[string]bool, len(doc.Removed))
	for _, fn := range doc.Removed {
		removed[fn] = true
	}
	records := make([]Record, 0, len(doc.Packages)+len(doc.PackagesConda))
	add := func(m map[string]rawRecord, skip func(fn string) bool) error {
		for fn, raw := range m {
			if removed[fn] || skip(fn) {
				continue
			}
			r, err := raw.record()
			if err != nil {
				return fmt.Errorf("package %s: %w", fn, err)
			}
			r.Filename = fn
			if r.Subdir == "" {
				r.Subdir = rd.Info.Subdir
			}
			r.Channel = channel
			r.URL = base + fn
			if base == "" {
				r.URL = location + "/" + r.Subdir + "/" + fn
			}
			records = append(records, r)
		}
		return nil
	}
	// A .conda archive replaces the .tar.bz2 of the same stem (conda's
	// subdir_data, rattler): the same package, a better format.
	hasConda := func(fn string) bool {
		stem, ok := strings.CutSuffix(fn, ".tar.bz2")
		if !ok {
			return false
		}
		_, dup := doc.PackagesConda[stem+".conda"]
		return dup
	}
	if err := add(doc.Packages, hasConda); err != nil {
		return nil, err
	}
	if err := add(doc.PackagesConda, func(string) bool { return false }); err != nil {
		return nil, err
	}
	sortRecords(records)
	rd.Records = records
	return rd, nil
}

// parseFlat reads conda's flat test index. Records carry their own subdir
// (noarch ones "noarch"); subdir is the fallback for records that don't.
func parseFlat(channel, location, subdir string, data []byte) (*Repodata, error) {
	var flat map[string]rawRecord
	if err := json.Unmarshal(data, &flat); err != nil {
		return nil, positioned(data, fmt.Errorf("neither repodata nor a filename → record map: %w", err))
	}
	records := make([]Record, 0, len(flat))
	for fn, raw := range flat {
		if !IsArchiveName(fn) {
			return nil, fmt.Errorf("flat index: key %q is not a package filename (.tar.bz2 or .conda)", fn)
		}
		r, err := raw.record()
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", fn, err)
		}
		r.Filename = fn
		if r.Subdir == "" {
			r.Subdir = subdir
		}
		r.Channel = channel
		r.URL = location + "/" + r.Subdir + "/" + fn
		records = append(records, r)
	}
	sortRecords(records)
	return &Repodata{Info: Info{Subdir: subdir}, Records: records}, nil
}

// IsArchiveName reports whether fn names a conda package archive.
func IsArchiveName(fn string) bool {
	return strings.HasSuffix(fn, ".tar.bz2") || strings.HasSuffix(fn, ".conda")
}

// archiveBase is the URL prefix of the subdir's archives, ending in "/";
// "" when neither the file nor the caller names the subdir, so each
// record's own subdir places it (test data mixing noarch and platform
// records).
func archiveBase(location string, info Info) (string, error) {
	if info.Subdir == "" && info.BaseURL == "" {
		return "", nil
	}
	dir := location + "/" + info.Subdir + "/"
	if info.BaseURL == "" {
		return dir, nil
	}
	// CEP 15: base_url may be absolute or relative to the repodata.json URL.
	ref, err := url.Parse(info.BaseURL)
	if err != nil {
		return "", fmt.Errorf("info.base_url %q: %w", info.BaseURL, err)
	}
	from, err := url.Parse(dir + "repodata.json")
	if err != nil {
		return "", fmt.Errorf("channel location %q: %w", location, err)
	}
	return strings.TrimRight(from.ResolveReference(ref).String(), "/") + "/", nil
}

func sortRecords(rs []Record) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Filename < rs[j].Filename })
}

// isFlat tells the flat test index from repodata by its first key: a
// package filename rather than one of repodata's keys.
func isFlat(data []byte) bool {
	rest := bytes.TrimLeft(data, " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte("{"))
	if !ok {
		return false
	}
	rest, ok = bytes.CutPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(`"`))
	if !ok {
		return false
	}
	end := bytes.IndexByte(rest, '"')
	return end > 0 && IsArchiveName(string(rest[:end]))
}

// positioned turns encoding/json's byte offsets into LINE:COL.
func positioned(data []byte, err error) error {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset - 1 // the offset is just past the bad byte
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 || offset > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(data[:offset], '\n')
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

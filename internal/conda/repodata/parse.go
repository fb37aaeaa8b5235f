package repodata

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
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

// Parse reads a repodata.json served at <channel>/<subdir>/repodata.json.
// channel is the channel's canonical URL without subdir (it becomes
// Record.Channel); subdir is the subdir the file was fetched from and is
// used when neither the file's info nor a record names one.
//
// Parse also accepts the flat "filename → record" maps of conda's test
// data (tests/data/index*.json), told apart by a first key that is a
// package filename. Each record then lives in its own subdir under
// channel. Errors about the JSON start with LINE:COL.
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
	rd := &Repodata{}
	// Place picks the records kept from both maps.
	var packages, conda []Record
	d := newDecoder(data)
	err := d.document(&rd.Info, &rd.RepodataVersion, &rd.Removed, func(isConda bool) error {
		return d.records(func(fn string, r Record) error {
			if isConda {
				conda = append(conda, named(fn, r))
			} else {
				packages = append(packages, named(fn, r))
			}
			return archiveKey(fn)
		})
	})
	if err != nil {
		return nil, positioned(data, err)
	}
	if rd.Info.Subdir == "" {
		rd.Info.Subdir = subdir
	}
	if rd.Records, err = Place(channel, location, rd.Info, packages, conda, rd.Removed); err != nil {
		return nil, err
	}
	return rd, nil
}

// Place turns the records of one subdir, as read from any encoding
// (repodata.json, CEP 16 shards) with Filename set, into what a channel
// offers: packages and conda are the "packages" and "packages.conda"
// maps. It drops the removed filenames and the .tar.bz2 archives a
// .conda of packages.conda replaces, sorts by filename (a filename
// repeated keeps its last record, packages.conda last) and locates each
// record (subdir, channel, URL). info.Subdir is the subdir read;
// info.BaseURL (CEP 15/16) is resolved against location/<subdir>/.
func Place(channel, location string, info Info, packages, conda []Record, removed []string) ([]Record, error) {
	channel = strings.TrimRight(channel, "/")
	location = strings.TrimRight(location, "/")
	base, err := archiveBase(location, info)
	if err != nil {
		return nil, err
	}
	skip := make(map[string]bool, len(removed)+len(conda))
	for _, fn := range removed {
		skip[fn] = true
	}
	for i := range conda {
		// A .conda archive replaces the .tar.bz2 of the same stem
		// (conda's subdir_data, rattler): the same package, a better
		// format.
		if stem, ok := strings.CutSuffix(conda[i].Filename, ".conda"); ok {
			skip[stem+".tar.bz2"] = true
		}
	}
	records := selectSorted(skip, packages, conda)
	locate(records, channel, location, info.Subdir, base)
	return records, nil
}

// locate sets where each record comes from: its subdir (subdir when it
// names none), its channel, and its URL, under base or, when base is "",
// under location/<the record's subdir>/.
func locate(records []Record, channel, location, subdir, base string) {
	for i := range records {
		r := &records[i]
		if r.Subdir == "" {
			r.Subdir = subdir
		}
		r.Channel = channel
		r.URL = base + r.Filename
		if base == "" {
			r.URL = location + "/" + r.Subdir + "/" + r.Filename
		}
	}
}

func archiveKey(fn string) error {
	if !IsArchiveName(fn) {
		return fmt.Errorf("key %q is not a package filename (.tar.bz2 or .conda)", fn)
	}
	return nil
}

// named sets the record's filename from its repodata key.
func named(fn string, r Record) Record {
	r.Filename = fn
	return r
}

// selectSorted returns the records of parts not skipped, sorted by
// filename; a filename repeated keeps its last record (parts in order).
// Sorting pointers copies each (large) record once instead of swapping
// records, and the parts are never joined into one slice.
func selectSorted(skip map[string]bool, parts ...[]Record) []Record {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	idx := make([]*Record, 0, n)
	for _, p := range parts {
		for i := range p {
			if !skip[p[i].Filename] {
				idx = append(idx, &p[i])
			}
		}
	}
	slices.SortStableFunc(idx, func(a, b *Record) int { return strings.Compare(a.Filename, b.Filename) })
	out := make([]Record, 0, len(idx))
	for k, r := range idx {
		if k+1 < len(idx) && idx[k+1].Filename == r.Filename {
			continue // a later record of the same filename follows
		}
		out = append(out, *r)
	}
	return out
}

// info decodes repodata's "info" object (or null).
func (d *decoder) info(info *Info) error {
	if d.null() {
		return nil
	}
	return d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "subdir":
			info.Subdir, err = d.str()
		case "base_url":
			info.BaseURL, err = d.str()
		default:
			err = d.skip()
		}
		return err
	})
}

// parseFlat reads conda's flat test index. Records carry their own subdir
// (noarch ones "noarch"); subdir is the fallback for records that don't.
func parseFlat(channel, location, subdir string, data []byte) (*Repodata, error) {
	var records []Record
	d := newDecoder(data)
	err := d.records(func(fn string, r Record) error {
		records = append(records, named(fn, r))
		return archiveKey(fn)
	})
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return nil, positioned(data, err)
	}
	records = selectSorted(nil, records)
	locate(records, channel, location, subdir, "")
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

// positioned turns a decoding error's byte offset into LINE:COL.
func positioned(data []byte, err error) error {
	var se *syntaxError
	if !errors.As(err, &se) {
		return err
	}
	offset := min(se.offset, len(data))
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := offset - bytes.LastIndexByte(data[:offset], '\n')
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

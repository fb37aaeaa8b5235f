package install

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/envkit/envkit/internal/conda/pkg"
)

// Path types of paths.json, plus those conda adds for generated files.
const (
	HardLink             = "hardlink"
	SoftLink             = "softlink"
	Directory            = "directory"
	PycFile              = "pyc_file"
	UnixPythonEntryPoint = "unix_python_entry_point"
)

// PathEntry is one entry of info/paths.json, and of paths_data in a
// conda-meta record (which adds sha256_in_prefix). Fields are in
// alphabetical order, as rattler writes them.
type PathEntry struct {
	Path              string `json:"_path"`
	FileMode          string `json:"file_mode,omitempty"`
	NoLink            bool   `json:"no_link,omitempty"`
	PathType          string `json:"path_type"`
	PrefixPlaceholder string `json:"prefix_placeholder,omitempty"`
	SHA256            string `json:"sha256,omitempty"`
	SHA256InPrefix    string `json:"sha256_in_prefix,omitempty"`
	SizeInBytes       *int64 `json:"size_in_bytes,omitempty"`
}

// PathsData is info/paths.json.
type PathsData struct {
	Paths        []PathEntry `json:"paths"`
	PathsVersion int         `json:"paths_version"`
}

// linkJSON is info/link.json.
type linkJSON struct {
	Noarch struct {
		Type        string   `json:"type"`
		EntryPoints []string `json:"entry_points"`
	} `json:"noarch"`
}

// info holds what linking needs from a package's info/ directory.
type info struct {
	index       map[string]json.RawMessage
	paths       []PathEntry
	fromListing bool // no paths.json nor info/files: the payload itself is the list
	noarch      string
	entryPoints []string
}

// readInfo parses the info files collected from the archive. Without
// paths.json it rebuilds the list from info/files, info/has_prefix and
// info/no_link, as conda does for old packages.
func readInfo(name string, files map[string][]byte) (*info, error) {
	in := &info{}
	raw, ok := files["info/index.json"]
	if !ok {
		return nil, fmt.Errorf("%s: no info/index.json", name)
	}
	if err := json.Unmarshal(raw, &in.index); err != nil {
		return nil, fmt.Errorf("%s: info/index.json: %v", name, err)
	}
	if b, ok := files["info/link.json"]; ok {
		var l linkJSON
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("%s: info/link.json: %v", name, err)
		}
		in.noarch = l.Noarch.Type
		in.entryPoints = l.Noarch.EntryPoints
	}
	if in.noarch == "" {
		in.noarch = stringField(in.index, "noarch")
		if b, ok := in.index["noarch"]; ok && string(b) == "true" {
			in.noarch = "generic"
		}
	}
	switch {
	case files["info/paths.json"] != nil:
		var pd PathsData
		if err := json.Unmarshal(files["info/paths.json"], &pd); err != nil {
			return nil, fmt.Errorf("%s: info/paths.json: %v", name, err)
		}
		in.paths = pd.Paths
	case files["info/files"] != nil:
		in.paths = pathsFromDeprecated(files["info/files"], files["info/has_prefix"], files["info/no_link"])
	default:
		in.fromListing = true
	}
	for i := range in.paths {
		p := &in.paths[i]
		clean, err := pkg.CleanPath(p.Path)
		if err != nil || clean == "" {
			return nil, &pkg.UnsafePathError{Package: name, Path: p.Path, Reason: "in info/paths.json"}
		}
		p.Path = clean
		if p.PathType == "" {
			p.PathType = HardLink
		}
		if p.PrefixPlaceholder != "" && p.FileMode == "" {
			p.FileMode = "text"
		}
	}
	return in, nil
}

func stringField(m map[string]json.RawMessage, key string) string {
	var s string
	json.Unmarshal(m[key], &s)
	return s
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// pathsFromDeprecated rebuilds paths.json from the pre-paths.json files.
// A has_prefix line is "path" (text mode, default placeholder) or
// "placeholder mode path", possibly quoted.
func pathsFromDeprecated(files, hasPrefix, noLink []byte) []PathEntry {
	type prefixInfo struct{ placeholder, mode string }
	prefixes := map[string]prefixInfo{}
	for _, l := range lines(hasPrefix) {
		f := splitQuoted(l)
		switch len(f) {
		case 1:
			prefixes[f[0]] = prefixInfo{DefaultPlaceholder, "text"}
		case 3:
			prefixes[f[2]] = prefixInfo{f[0], f[1]}
		}
	}
	noLinks := map[string]bool{}
	for _, l := range lines(noLink) {
		noLinks[l] = true
	}
	var out []PathEntry
	for _, p := range lines(files) {
		e := PathEntry{Path: p, PathType: HardLink, NoLink: noLinks[p]}
		if pi, ok := prefixes[p]; ok {
			e.PrefixPlaceholder, e.FileMode = pi.placeholder, pi.mode
		}
		out = append(out, e)
	}
	return out
}

func splitQuoted(l string) []string {
	var out []string
	for _, f := range strings.Fields(l) {
		out = append(out, strings.Trim(f, `"'`))
	}
	return out
}

// linkTargets works around archives written by early
// conda-package-handling (Anaconda's zlib-1.2.11 in both formats): their
// tar stores a symlink as an empty target or an empty regular file, while
// paths.json still says softlink and records the sha256 of the file it
// points to. The target is the package's regular file with that digest,
// preferably in the same directory. The result maps link path to target.
func linkTargets(paths []PathEntry) map[string]string {
	bySum := map[string][]string{}
	for _, p := range paths {
		if p.PathType == HardLink && p.SHA256 != "" {
			bySum[p.SHA256] = append(bySum[p.SHA256], p.Path)
		}
	}
	targets := map[string]string{}
	for _, p := range paths {
		cands := bySum[p.SHA256]
		if p.PathType != SoftLink || len(cands) == 0 {
			continue
		}
		sort.Strings(cands)
		best := cands[0]
		for _, c := range cands {
			if path.Dir(c) == path.Dir(p.Path) {
				best = c
				break
			}
		}
		if rel, err := filepath.Rel(path.Dir(p.Path), best); err == nil {
			targets[p.Path] = filepath.ToSlash(rel)
		}
	}
	return targets
}

package lock

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// FromRecord is the lock entry of a solved conda record for platform (the
// platform solved for, also for noarch records). Virtual packages are not
// locked, as in conda-lock: FromRecords drops them.
func FromRecord(platform string, r *repodata.Record) Package {
	return Package{
		Name:         r.Name,
		Version:      r.Version,
		Manager:      Conda,
		Platform:     platform,
		Dependencies: dependencies(r.Depends),
		URL:          r.URL,
		Hash:         Hash{MD5: r.MD5, SHA256: r.SHA256},
		Category:     "main",
		Size:         max(r.Size, 0),
	}
}

// FromRecords converts a solution, dropping virtual packages (names
// starting with "__").
func FromRecords(platform string, records []*repodata.Record) []Package {
	out := make([]Package, 0, len(records))
	for _, r := range records {
		if strings.HasPrefix(r.Name, "__") {
			continue
		}
		out = append(out, FromRecord(platform, r))
	}
	return out
}

// dependencies splits "name rest" specs into conda-lock's name → rest map.
// A name listed twice (libblas lists libopenblas twice) keeps both version
// ranges joined with "," (their intersection); when either has a build
// part, which "," cannot join, the first stays.
func dependencies(depends []string) map[string]string {
	out := make(map[string]string, len(depends))
	for _, d := range depends {
		name, rest, _ := strings.Cut(strings.TrimSpace(d), " ")
		rest = strings.TrimSpace(rest)
		prev, seen := out[name]
		switch {
		case !seen || prev == "":
			out[name] = rest
		case rest == "" || rest == prev || strings.Contains(prev, " ") || strings.Contains(rest, " "):
		default:
			out[name] = prev + "," + rest
		}
	}
	return out
}

// Record rebuilds the repodata record of a conda entry. conda-lock v1
// does not store everything a record has, so:
//   - Filename, Subdir and Channel come from the URL
//     (<channel>/<subdir>/<filename>);
//   - Build is the entry's build, else the filename's last "-" part;
//   - BuildNumber is the build string's trailing "_N" (conda-build's
//     convention), else 0;
//   - Noarch is "python" for a noarch record that depends on python,
//     "generic" for other noarch ones (the archive's info/index.json has
//     the truth; the installer reads it);
//   - Depends are "name rest" joined from Dependencies, sorted;
//   - Size is the entry's Size (custom_metadata), 0 when unknown;
//     Constrains, Timestamp and License are not in the lock.
func (p *Package) Record() (repodata.Record, error) {
	if p.Manager != Conda {
		return repodata.Record{}, fmt.Errorf("package %s: manager %s has no conda record", p.Name, p.Manager)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		return repodata.Record{}, fmt.Errorf("package %s: url: %w", p.Name, err)
	}
	fn := path.Base(u.Path)
	stem, ok := strings.CutSuffix(fn, ".conda")
	if !ok {
		stem, ok = strings.CutSuffix(fn, ".tar.bz2")
	}
	if !ok {
		return repodata.Record{}, fmt.Errorf("package %s: url %s does not name a .conda or .tar.bz2 archive", p.Name, p.URL)
	}
	build := p.Build
	if build == "" {
		prefix := p.Name + "-" + p.Version + "-"
		if !strings.HasPrefix(stem, prefix) {
			return repodata.Record{}, fmt.Errorf("package %s: archive %s is not %s<build>", p.Name, fn, prefix)
		}
		build = stem[len(prefix):]
	}
	dir := path.Dir(u.Path)
	subdir := path.Base(dir)
	channelURL := *u
	channelURL.Path = path.Dir(dir)
	channelURL.RawPath = ""
	r := repodata.Record{
		Name: p.Name, Version: p.Version, Build: build, BuildNumber: buildNumber(build),
		Depends: p.dependList(), MD5: p.Hash.MD5, SHA256: p.Hash.SHA256, Size: p.Size,
		Subdir: subdir, Filename: fn, URL: p.URL, Channel: channelURL.String(),
	}
	if subdir == "noarch" {
		r.Noarch = "generic"
		if _, ok := p.Dependencies["python"]; ok {
			r.Noarch = "python"
		}
	}
	return r, nil
}

func (p *Package) dependList() []string {
	var out []string
	for name, rest := range p.Dependencies {
		out = append(out, strings.TrimSpace(name+" "+rest))
	}
	slices.Sort(out)
	return out
}

func buildNumber(build string) int64 {
	i := strings.LastIndexByte(build, '_')
	n, err := strconv.ParseInt(build[i+1:], 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Records returns the conda records of one platform, in the lock's order.
func (l *Lock) Records(platform string) ([]repodata.Record, error) {
	var out []repodata.Record
	for _, p := range l.ForPlatform(platform) {
		if p.Manager != Conda {
			continue
		}
		r, err := p.Record()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

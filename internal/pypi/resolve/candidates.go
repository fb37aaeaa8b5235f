package resolve

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/pypi/index"
	"github.com/envkit/envkit/internal/pypi/metadata"
	"github.com/envkit/envkit/internal/pypi/pep440"
	"github.com/envkit/envkit/internal/pypi/pep508"
	"github.com/envkit/envkit/internal/pypi/tags"
)

// candidate is the best wheel of one version for the target.
type candidate struct {
	version pep440.Version
	file    index.File
	rank    int
}

// project is what the indexes offer for one name.
type project struct {
	// all holds one candidate per version, newest first.
	all []*candidate
	// every holds every installable wheel, newest version first, best
	// tag first within a version (for hash-checked requirements, which
	// may name a wheel that is not the best one).
	every []*candidate
	// skipped says why other files cannot be used ("x.tar.gz: an sdist").
	skipped []string
}

// candidates lists the versions every constraint allows, newest first.
func (r *resolver) candidates(name string, cs []constraint) ([]*candidate, error) {
	for _, c := range cs {
		if c.req.URL != "" {
			return r.direct(name, c, cs)
		}
	}
	p, err := r.project(name)
	if err != nil {
		return nil, err
	}
	allowPre := r.pre
	for _, c := range cs {
		allowPre = allowPre || c.req.Specifiers.NamesPrerelease()
	}
	pool := p.all
	for _, c := range cs {
		if len(c.hashes) > 0 {
			pool = p.every
		}
	}
	seen := map[string]bool{}
	var final, pre []*candidate
	for _, cand := range pool {
		if seen[cand.version.String()] {
			continue
		}
		ok := true
		for _, c := range cs {
			ok = ok && c.allows(cand)
		}
		if ok {
			seen[cand.version.String()] = true
		}
		switch {
		case !ok:
		case cand.version.IsPrerelease() && !allowPre:
			pre = append(pre, cand)
		default:
			final = append(final, cand)
		}
	}
	// Pre-releases are used when nothing else matches (as pip does).
	if len(final) == 0 {
		return pre, nil
	}
	return final, nil
}

// direct is the candidate of a "name @ url" requirement.
func (r *resolver) direct(name string, c constraint, cs []constraint) ([]*candidate, error) {
	raw := c.req.URL
	want := ""
	if _, frag, ok := strings.Cut(raw, "#"); ok {
		if algo, digest, ok := strings.Cut(frag, "="); ok && algo == "sha256" {
			want = digest
		}
	}
	file := index.File{Filename: path.Base(stripFragment(raw)), URL: stripFragment(raw), SHA256: want}
	w, err := tags.ParseWheelName(file.Filename)
	if err != nil {
		return nil, fmt.Errorf("%s: envkit installs wheels only: %v", c, err)
	}
	if pep508.NormaliseName(w.Name) != name {
		return nil, fmt.Errorf("%s: the wheel is of project %s", c, w.Name)
	}
	rank, ok := r.ranking.Rank(w)
	if !ok {
		return nil, &conflict{fmt.Sprintf("%s: the wheel does not install on python %s %s", c, r.target.PythonVersion, r.target.Subdir)}
	}
	v, err := pep440.Parse(w.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	cand := &candidate{version: v, file: file, rank: rank}
	for _, o := range cs {
		if o.req.URL == "" && !o.req.Specifiers.Contains(v) || o.req.URL != "" && stripFragment(o.req.URL) != file.URL {
			return nil, &conflict{fmt.Sprintf("%s conflicts with %s", o, c)}
		}
	}
	r.projects[name] = done(&project{all: []*candidate{cand}})
	return []*candidate{cand}, nil
}

// pending is a project page being read in the background.
type pending struct {
	ready chan struct{}
	p     *project
	err   error
	// newest is the metadata of the newest final release's wheel, read
	// ahead because the search tries it first (nil when not read).
	newest    *metadata.Metadata
	newestURL string
}

func done(p *project) *pending {
	f := &pending{ready: make(chan struct{}), p: p}
	close(f.ready)
	return f
}

// prefetchers bounds the project pages read at once.
const prefetchers = 8

// prefetch starts reading the pages of names not asked for yet, so that
// the search rarely waits for the network: it visits them in this order.
func (r *resolver) prefetch(names []string) {
	for _, name := range names {
		if _, ok := r.projects[name]; ok {
			continue
		}
		if _, ok := r.provided[name]; ok {
			continue
		}
		f := &pending{ready: make(chan struct{})}
		r.projects[name] = f
		go func() {
			r.sem <- struct{}{}
			f.p, f.err = r.loadProject(name)
			if f.err == nil {
				f.newestURL, f.newest = r.readAhead(f.p)
			}
			<-r.sem
			close(f.ready)
		}()
	}
}

// readAhead reads the metadata of the wheel the search will try first
// (network errors are left for the search to meet and report).
func (r *resolver) readAhead(p *project) (string, *metadata.Metadata) {
	for _, c := range p.all {
		if c.version.IsPrerelease() && !r.pre {
			continue
		}
		if c.file.SHA256 == "" {
			return "", nil
		}
		m, err := r.client.Metadata(r.ctx, c.file)
		if err != nil {
			return "", nil
		}
		return c.file.URL, &m
	}
	return "", nil
}

// project waits for name's page.
func (r *resolver) project(name string) (*project, error) {
	r.prefetch([]string{name})
	f := r.projects[name]
	<-f.ready
	return f.p, f.err
}

// loadProject reads one project's files; it runs on its own goroutine and
// reads only the resolver's immutable fields.
func (r *resolver) loadProject(name string) (*project, error) {
	files, err := r.client.Files(r.ctx, name)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", name, err)
	}
	p := &project{}
	best := map[string]*candidate{}
	for _, f := range files {
		if f.Yanked {
			p.skipped = append(p.skipped, f.Filename+": yanked")
			continue
		}
		w, err := tags.ParseWheelName(f.Filename)
		if err != nil {
			p.skipped = append(p.skipped, f.Filename+": not a wheel (envkit installs wheels only)")
			continue
		}
		rank, ok := r.ranking.Rank(w)
		if !ok {
			p.skipped = append(p.skipped, f.Filename+": no compatible tag")
			continue
		}
		if ok, err := tags.RequiresPython(f.RequiresPython, r.pyVersion); err != nil || !ok {
			p.skipped = append(p.skipped, f.Filename+": Requires-Python "+f.RequiresPython)
			continue
		}
		v, err := pep440.Parse(w.Version)
		if err != nil {
			p.skipped = append(p.skipped, f.Filename+": "+err.Error())
			continue
		}
		cand := &candidate{version: v, file: f, rank: rank}
		p.every = append(p.every, cand)
		key := v.String()
		if old, ok := best[key]; !ok || rank < old.rank {
			best[key] = cand
		}
	}
	slices.SortStableFunc(p.every, func(a, b *candidate) int {
		if c := pep440.Compare(b.version, a.version); c != 0 {
			return c
		}
		return a.rank - b.rank
	})
	for _, c := range best {
		p.all = append(p.all, c)
	}
	slices.SortFunc(p.all, func(a, b *candidate) int { return pep440.Compare(b.version, a.version) })
	return p, nil
}

// metadata reads a candidate's core metadata (index.Client.Metadata: the
// PEP 658 file, ranges of the remote wheel, or the whole wheel); a file
// the index gives no sha256 for (a find-links directory) is read whole to
// compute the hash the lock needs.
func (r *resolver) metadata(name string, c *candidate) (*metadata.Metadata, error) {
	if m, ok := r.meta[c.file.URL]; ok {
		return m, nil
	}
	var m metadata.Metadata
	if f := r.projects[name]; f != nil && f.newest != nil && f.newestURL == c.file.URL {
		m = *f.newest
	} else if c.file.SHA256 == "" {
		// The pin needs the hash: read the whole file.
		data, err := r.client.Fetch(r.ctx, c.file.URL, "")
		if err != nil {
			return nil, err
		}
		c.file.SHA256 = sha256hex(data)
		if m, err = metadata.FromWheel(data); err != nil {
			return nil, fmt.Errorf("%s: %w", c.file.Filename, err)
		}
	} else {
		var err error
		if m, err = r.client.Metadata(r.ctx, c.file); err != nil {
			return nil, fmt.Errorf("%s: %w", c.file.Filename, err)
		}
	}
	w, _ := tags.ParseWheelName(c.file.Filename)
	if err := m.Matches(w); err != nil {
		return nil, fmt.Errorf("%s: %v", c.file.Filename, err)
	}
	if ok, err := tags.RequiresPython(m.RequiresPython, r.pyVersion); err != nil || !ok {
		return nil, &conflict{fmt.Sprintf("%s requires python %s", c.file.Filename, m.RequiresPython)}
	}
	r.meta[c.file.URL] = &m
	return &m, nil
}

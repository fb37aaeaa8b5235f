package pep508

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep440"
)

// Requirement is one PEP 508 dependency specification.
type Requirement struct {
	// Name as written; Normalised() gives the comparable form.
	Name   string
	Extras []string
	// Specifiers constrain the version; URL is set instead for
	// "name @ url" requirements.
	Specifiers pep440.Specifiers
	URL        string
	// Marker is nil when the requirement always applies.
	Marker Marker
}

var (
	nameRE      = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)
	normaliseRE = regexp.MustCompile(`[-_.]+`)
)

// NormaliseName gives a project name's PEP 503 form ("Foo.Bar_baz" ->
// "foo-bar-baz"), which indexes and comparisons use.
func NormaliseName(name string) string {
	return strings.ToLower(normaliseRE.ReplaceAllString(name, "-"))
}

// Normalised is the requirement's normalised project name.
func (r Requirement) Normalised() string { return NormaliseName(r.Name) }

// Parse reads "name[extra1,extra2] (>=1.0,<2) ; marker" or "name @ url ;
// marker".
func Parse(s string) (Requirement, error) {
	text := strings.TrimSpace(s)
	var r Requirement
	name := nameRE.FindString(text)
	if name == "" {
		return r, fmt.Errorf("requirement %q: expected a project name", s)
	}
	r.Name = name
	rest := strings.TrimSpace(text[len(name):])
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return r, fmt.Errorf("requirement %q: missing ] after the extras", s)
		}
		for _, e := range strings.Split(rest[1:end], ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if nameRE.FindString(e) != e {
				return r, fmt.Errorf("requirement %q: invalid extra %q", s, e)
			}
			r.Extras = append(r.Extras, NormaliseName(e))
		}
		slices.Sort(r.Extras)
		r.Extras = slices.Compact(r.Extras)
		rest = strings.TrimSpace(rest[end+1:])
	}
	marker := ""
	if strings.HasPrefix(rest, "@") {
		// A URL ends at whitespace; the marker follows " ;".
		url := strings.TrimSpace(rest[1:])
		if i := strings.Index(url, " ;"); i >= 0 {
			marker = url[i+2:]
			url = strings.TrimSpace(url[:i])
			if strings.TrimSpace(marker) == "" {
				return r, fmt.Errorf("requirement %q: empty marker after ;", s)
			}
		}
		if strings.ContainsAny(url, " \t") {
			return r, fmt.Errorf("requirement %q: a URL requirement's marker follows \" ;\"", s)
		}
		if url == "" {
			return r, fmt.Errorf("requirement %q: no URL after @", s)
		}
		r.URL = url
	} else {
		spec := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			spec, marker = rest[:i], rest[i+1:]
			if strings.TrimSpace(marker) == "" {
				return r, fmt.Errorf("requirement %q: empty marker after ;", s)
			}
		}
		spec = strings.TrimSpace(spec)
		if strings.HasPrefix(spec, "(") {
			if !strings.HasSuffix(spec, ")") {
				return r, fmt.Errorf("requirement %q: missing ) after the version", s)
			}
			spec = spec[1 : len(spec)-1]
		}
		ss, err := pep440.ParseSpecifiers(spec)
		if err != nil {
			return r, fmt.Errorf("requirement %q: %v", s, err)
		}
		r.Specifiers = ss
	}
	if strings.TrimSpace(marker) != "" {
		m, err := ParseMarker(marker)
		if err != nil {
			return r, fmt.Errorf("requirement %q: %v", s, err)
		}
		r.Marker = m
	}
	return r, nil
}

// String prints the requirement in canonical spelling.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		b.WriteString("[" + strings.Join(r.Extras, ",") + "]")
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if r.Marker != nil {
			b.WriteByte(' ')
		}
	} else {
		b.WriteString(r.Specifiers.String())
	}
	if r.Marker != nil {
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}

// Applies evaluates the marker (true without one).
func (r Requirement) Applies(env Env, extras []string) bool {
	return r.Marker == nil || r.Marker.Eval(env, extras)
}

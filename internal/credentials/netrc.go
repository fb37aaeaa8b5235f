package credentials

import (
	"strings"
)

// Netrc is a parsed netrc file: machine entries and the default one.
type Netrc struct {
	Machines map[string]Basic
	Default  *Basic
}

// ParseNetrc reads a netrc file as curl and Python's netrc do: tokens
// separated by white space, "machine NAME" or "default" opening an entry,
// "login" and "password" filling it, "account" skipped, "macdef NAME"
// skipping its macro up to the next empty line, "#" starting a comment.
// The first entry for a machine wins, as in curl.
func ParseNetrc(data string) *Netrc {
	n := &Netrc{Machines: map[string]Basic{}}
	var cur *Basic
	var name string
	flush := func() {
		switch {
		case cur == nil:
		case name == "":
			if n.Default == nil {
				n.Default = cur
			}
		default:
			if _, seen := n.Machines[name]; !seen {
				n.Machines[name] = *cur
			}
		}
		cur = nil
	}
	var toks []string
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if c := strings.IndexByte(line, '#'); c >= 0 && strings.TrimSpace(line[:c]) == "" {
			continue
		}
		f := strings.Fields(line)
		for j := 0; j < len(f); j++ {
			if f[j] == "macdef" {
				// The macro runs to the next empty line.
				for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
					i++
				}
				break
			}
			toks = append(toks, f[j])
		}
	}
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			flush()
			name, cur = strings.ToLower(next()), &Basic{}
		case "default":
			flush()
			name, cur = "", &Basic{}
		case "login":
			if v := next(); cur != nil {
				cur.User = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.Password = v
			}
		case "account":
			next()
		}
	}
	flush()
	return n
}

// For is the entry for host (a name without port), else the default.
func (n *Netrc) For(host string) *Basic {
	if b, ok := n.Machines[strings.ToLower(host)]; ok {
		return &b
	}
	return n.Default
}

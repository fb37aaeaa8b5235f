// Package lint finds what makes an environment definition fragile or
// unsafe, modelled on Azure ML's environment definition analysis
// (how-to-troubleshoot-environments): unpinned packages, python version
// missing or given twice, untagged base images, pip without pip, missing
// channels, credentials in the file.
package lint

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/spec"
)

// Severity of a finding.
type Severity string

const (
	Warning Severity = "warning"
	Error   Severity = "error" // credentials: the file should not be shared as is
)

// Finding is one problem, at a position.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Pos      spec.Pos `json:"pos"`
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	return f.Pos.String() + ": " + string(f.Severity) + ": " + f.Message + " [" + f.Rule + "]"
}

// Rule ids.
const (
	RuleUnpinnedConda = "unpinned-conda-dependency"
	RuleUnpinnedPip   = "unpinned-pip-dependency"
	RuleNoPython      = "python-version-missing"
	RuleManyPython    = "python-version-multiple"
	RuleBaseUntagged  = "base-image-untagged"
	RuleBaseLatest    = "base-image-latest"
	RulePipMissing    = "pip-not-specified"
	RuleNoChannels    = "conda-channels-missing"
	RuleCredentials   = "credentials-in-definition"
	RuleGitRef        = "git-context-ref-moves"
)

// Rules describes every rule, for documentation and `envkit lint --rules`.
var Rules = map[string]string{
	RuleUnpinnedConda: "a conda dependency without a version: the image gets whatever is newest when it is built",
	RuleUnpinnedPip:   "a pip requirement without a version",
	RuleNoPython:      "the conda environment does not pin python",
	RuleManyPython:    "python is listed more than once",
	RuleBaseUntagged:  "the base image has neither tag nor digest",
	RuleBaseLatest:    "the base image uses the moving tag latest and no digest",
	RulePipMissing:    "pip packages are listed but pip is not a conda dependency",
	RuleNoChannels:    "no conda channels: conda's defaults may change",
	RuleCredentials:   "a credential written in the definition (variable named like a secret, user:password@ in a URL)",
	RuleGitRef:        "a git build context names a branch or tag, not a commit: the file does not say what is built",
}

// Check returns the findings for def, sorted by position.
func Check(def *spec.Definition) []Finding {
	var out []Finding
	add := func(rule string, sev Severity, pos spec.Pos, msg string) {
		out = append(out, Finding{Rule: rule, Severity: sev, Pos: pos, Message: msg})
	}
	checkBase(def.Base, add)
	if c := def.Conda; c != nil {
		var pythons []spec.Requirement
		hasPip := false
		for _, r := range c.Dependencies {
			name, versioned := condaName(r.Spec)
			switch name {
			case "python":
				pythons = append(pythons, r)
			case "pip":
				hasPip = true
			}
			// A dependency without a position is one envkit added (the
			// pip of a requirements.txt): nothing the user can pin.
			if !versioned && r.Pos.File != "" {
				add(RuleUnpinnedConda, Warning, r.Pos, "conda dependency "+r.Spec+" has no version")
			}
		}
		switch {
		case len(pythons) == 0:
			add(RuleNoPython, Warning, c.Pos, "no python version: add python=3.X to the conda dependencies")
		case len(pythons) > 1:
			for _, p := range pythons[1:] {
				add(RuleManyPython, Warning, p.Pos, "python is listed more than once (first at "+pythons[0].Pos.String()+")")
			}
		}
		if len(c.Channels) == 0 {
			add(RuleNoChannels, Warning, c.Pos, "no channels: conda falls back to defaults, which may change; list them")
		}
		// An MLflow file's conda part is envkit's reading of it (python
		// alone): there is no conda dependency list to add pip to.
		if !hasPip && (len(c.Pip) > 0 || len(def.Pip) > 0) && def.Source.Format != spec.FormatMLflow {
			at := c.Pos
			for _, q := range c.Pip {
				if q.Pos.File == c.Pos.File { // a line of the file, not of a -r or -c file it reads
					at = q.Pos
					break
				}
			}
			add(RulePipMissing, Warning, at, "pip packages without pip in the conda dependencies: add pip (pinned)")
		}
		for _, ch := range c.Channels {
			checkURL(ch.Name, ch.Pos, add)
		}
		checkVars(c.Variables, add)
	}
	bounded := constrained(append(condaPip(def), def.Pip...))
	for _, list := range [][]spec.Requirement{condaPip(def), def.Pip} {
		for _, r := range list {
			if strings.HasPrefix(r.Spec, "-") {
				checkURL(r.Spec, r.Pos, add)
				continue
			}
			checkURL(r.Spec, r.Pos, add)
			if r.Constraint {
				continue // limits a version; pins nothing by itself
			}
			if req, _, err := spec.ParsePipRequirement(r.Spec); err == nil && bounded[req.Normalised()] {
				continue
			}
			if !pipVersioned(r.Spec) {
				add(RuleUnpinnedPip, Warning, r.Pos, "pip requirement "+r.Spec+" has no version")
			}
		}
	}
	checkVars(def.Env, add)
	if s := def.Spark; s != nil {
		for _, repo := range s.Repositories {
			checkURL(repo, s.Pos, add)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return out
}

func condaPip(def *spec.Definition) []spec.Requirement {
	if def.Conda == nil {
		return nil
	}
	return def.Conda.Pip
}

func checkBase(b spec.Base, add func(string, Severity, spec.Pos, string)) {
	if g := b.Git; g != nil && !g.Exact() {
		ref := "the default branch"
		if g.Ref != "" {
			ref = "the branch or tag " + g.Ref
		}
		add(RuleGitRef, Warning, b.Pos, fmt.Sprintf("the git build context %s names %s, not a commit: the hash and the build follow the commit envkit lock records, blind to what is pushed later (envkit lock --update moves it); write a commit after # to make the file itself exact", g, ref))
	}
	if b.Image != "" {
		checkImage(b.Image, b.Pos, add)
		return
	}
	if b.Dockerfile == "" {
		return
	}
	ast, err := parser.Parse(strings.NewReader(b.Dockerfile))
	if err != nil {
		return // validation reports it
	}
	stages := map[string]bool{"scratch": true}
	for _, n := range ast.AST.Children {
		if !strings.EqualFold(n.Value, "from") || n.Next == nil {
			continue
		}
		img := n.Next.Value
		// Build arguments and earlier stages are not registry images.
		if !strings.Contains(img, "$") && !stages[strings.ToLower(img)] {
			at := b.Pos
			if b.DockerfileFile != "" {
				at = spec.Pos{File: b.DockerfileFile, Line: n.StartLine, Col: 1}
			}
			checkImage(img, at, add)
		}
		if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
			stages[strings.ToLower(as.Next.Value)] = true
		}
	}
}

func checkImage(image string, at spec.Pos, add func(string, Severity, spec.Pos, string)) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return // validation reports it
	}
	_, tagged := named.(reference.Tagged)
	_, digested := named.(reference.Digested)
	switch {
	case !tagged && !digested:
		add(RuleBaseUntagged, Warning, at, "base image "+image+" has no tag or digest: pin it (name:tag@sha256:...)")
	case tagged && !digested && named.(reference.Tagged).Tag() == "latest":
		add(RuleBaseLatest, Warning, at, "base image "+image+" uses the moving tag latest: pin a version or digest")
	}
}

// condaName returns a MatchSpec's package name and whether it constrains
// the version.
func condaName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "::"); i >= 0 {
		s = s[i+2:]
	}
	end := strings.IndexAny(s, " =<>!~[")
	if end < 0 {
		return strings.ToLower(s), false
	}
	rest := strings.TrimSpace(s[end:])
	versioned := rest != "" && !strings.HasPrefix(rest, "[") || strings.Contains(rest, "version=")
	return strings.ToLower(s[:end]), versioned
}

// constrained are the projects whose version a -c file's line bounds:
// their requirements count as pinned.
func constrained(lines []spec.Requirement) map[string]bool {
	out := map[string]bool{}
	for _, q := range lines {
		if req, _, err := spec.ParsePipRequirement(q.Spec); q.Constraint && err == nil && (req.URL != "" || len(req.Specifiers) > 0) {
			out[req.Normalised()] = true
		}
	}
	return out
}

// pipVersioned says whether a requirement pins or bounds the version, as
// the lock reads it (a marker's comparison is no version bound). A URL or
// VCS reference counts as pinned to that source; a bare one names no
// project and so does not parse as a requirement.
func pipVersioned(s string) bool {
	req, _, err := spec.ParsePipRequirement(s)
	return err != nil || req.URL != "" || len(req.Specifiers) > 0
}

var secretName = regexp.MustCompile(`(?i)(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|_KEY$|^KEY$|CREDENTIAL)`)

func checkVars(vars []spec.EnvVar, add func(string, Severity, spec.Pos, string)) {
	for _, v := range vars {
		checkURL(v.Value, v.Pos, add)
		if secretName.MatchString(v.Name) && v.Value != "" {
			add(RuleCredentials, Error, v.Pos, "variable "+v.Name+" looks like a credential: pass it as a build secret, not in the file")
		}
	}
}

func checkURL(text string, pos spec.Pos, add func(string, Severity, spec.Pos, string)) {
	for _, raw := range credentials.URLs(text) {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if u.User == nil {
			if bare := credentials.StripURL(u); bare.Path != u.Path {
				add(RuleCredentials, Error, pos, "URL "+bare.String()+" carries a /t/<token>/ in its path: give the token in ~/.netrc, the file $RATTLER_AUTH_FILE names or a build secret (docs/private-channels.md)")
			}
			continue
		}
		// A token may sit in the user part alone; "git@" and ${VAR}
		// references (expanded by pip from the environment) are not secrets.
		secret, hasPass := u.User.Password()
		if !hasPass {
			secret = u.User.Username()
		}
		if strings.HasPrefix(secret, "$") || (!hasPass && secret == "git") {
			continue
		}
		add(RuleCredentials, Error, pos, "URL "+u.Redacted()+" carries credentials: give them in ~/.netrc, the file $RATTLER_AUTH_FILE names or a build secret (docs/private-channels.md)")
	}
}

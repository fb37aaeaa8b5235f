// Package matchspec parses conda MatchSpecs (CEP 29), the query language of
// dependencies, constraints and user requests ("numpy >=1.21,<2",
// "conda-forge/linux-64::python=3.11", "pytorch[build=*cuda*]"), prints
// them in a canonical form, and matches them against repodata records.
//
// conda (conda/models/match_spec.py) is the oracle; docs/matchspec.md lists
// where envkit deliberately differs.
package matchspec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/envkit/envkit/internal/conda/version"
)

// MatchSpec is a parsed spec. Empty or nil fields match anything.
type MatchSpec struct {
	// Name is the package name, lower-cased; "*" (or a glob) for any.
	Name string
	// Channel is a channel name ("conda-forge", "pkgs/main", "defaults") or
	// URL, without subdir; "" for any. It may be a glob.
	Channel string
	// Subdir is a platform subdir ("linux-64", "noarch"); "" for any.
	Subdir string
	// Version is the version specifier; nil for any.
	Version version.Spec
	// Build matches the build string; nil for any.
	Build *Glob
	// BuildNumber matches the build number; nil for any.
	BuildNumber *BuildNumber
	// Exact fields; "" for any.
	MD5, SHA256, URL, Filename string
	// License and LicenseFamily match case-insensitively; nil for any.
	License, LicenseFamily *Glob
	// TrackFeatures and Features match a record whose set of features is
	// exactly this set; nil for any.
	TrackFeatures, Features []string
	// Extras are optional-dependency groups ("pkg[extras=[a,b]]", or
	// pip-style "ray[default,data]"), sorted; not matched on records.
	Extras []string
	// Flags are CEP-style variant flags ("pkg[flags=[cpu]]"), sorted; not
	// matched on records.
	Flags []string
	// When is a condition ("pkg[when=__win]", or "pkg if __win"): the
	// dependency applies only when it holds. Matching ignores it; deciding
	// it is the solver's job.
	When string

	name    *Glob // Name when it is a glob
	channel *Glob // Channel when it is a glob
}

// Error reports a spec that does not parse; Reason names the offending part.
type Error struct {
	Spec   string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid match spec %q: %s", e.Spec, e.Reason)
}

// knownSubdirs are conda's KNOWN_SUBDIRS: a last channel path component
// among them is a subdir, not part of the channel.
var knownSubdirs = []string{"noarch", "emscripten-wasm32", "wasi-wasm32", "freebsd-64",
	"linux-32", "linux-64", "linux-aarch64", "linux-armv6l", "linux-armv7l", "linux-ppc64",
	"linux-ppc64le", "linux-riscv64", "linux-s390x", "osx-64", "osx-arm64", "win-32",
	"win-64", "win-arm64", "zos-z"}

// KnownSubdir tells whether s is one of conda's KNOWN_SUBDIRS.
func KnownSubdir(s string) bool { return slices.Contains(knownSubdirs, s) }

// Parse parses a MatchSpec as conda does:
//
//	(channel(/subdir):(namespace):)name(version(build))([key=value,...])
//
// plus package URLs and paths ("https://.../linux-64/x-1.0-0.conda"), the
// legacy "feature@" and "(optional)" forms, and pip-style extras. A trailing
// "# comment" is ignored; "pkg if cond" is read as pkg[when='cond'].
func Parse(s string) (*MatchSpec, error) {
	ms, reason := parse(s)
	if reason != "" {
		return nil, &Error{Spec: s, Reason: reason}
	}
	return ms, nil
}

// MustParse is Parse for specs known to be valid; it panics on error.
func MustParse(s string) *MatchSpec {
	ms, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return ms
}

func parse(in string) (*MatchSpec, string) {
	s := strings.TrimSpace(in)
	if s == "" {
		return nil, "empty spec"
	}
	if !utf8.ValidString(s) {
		return nil, "not valid UTF-8"
	}
	if feature, ok := strings.CutSuffix(s, "@"); ok {
		// Legacy "mkl@" means any package that tracks feature mkl.
		if err := checkFeature(feature); err != "" {
			return nil, err
		}
		return &MatchSpec{Name: "*", TrackFeatures: []string{feature}}, ""
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	when := ""
	if i := strings.Index(s, " if "); i >= 0 {
		s, when = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+4:])
		if when == "" {
			return nil, "empty condition after \" if \""
		}
	}
	if s == "" {
		return nil, "empty spec"
	}
	s = stripLegacyParens(s)
	if (strings.HasSuffix(s, ".conda") || strings.HasSuffix(s, ".tar.bz2")) && strings.Contains(s, "/") {
		return parsePackageURL(s)
	}

	ms := &MatchSpec{}
	var brackets []keyValue
	if i := strings.IndexByte(s, '['); i >= 0 {
		if extras, end, ok := parseExtras(s, i); ok {
			// "ray[default,data] >=2.9": pip-style extras, which conda
			// accepts and ignores when matching.
			ms.Extras = extras
			s = s[:i] + s[end:]
		}
	}
	if i := strings.IndexByte(s, '['); i >= 0 {
		kvs, end, reason := parseBrackets(s, i)
		if reason != "" {
			return nil, reason
		}
		if rest := strings.TrimSpace(s[end:]); rest != "" {
			return nil, fmt.Sprintf("unexpected %q after the brackets", rest)
		}
		brackets, s = kvs, strings.TrimSpace(s[:i])
	}

	// channel:namespace:spec, split from the right so URLs keep their ':'.
	channelText := ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		rest := s[:i]
		s = s[i+1:]
		if j := strings.LastIndexByte(rest, ':'); j >= 0 {
			channelText = rest[:j] // rest[j+1:] is the namespace, which conda ignores
		}
	}
	if strings.ContainsAny(channelText, " \t'\"[],") {
		return nil, fmt.Sprintf("invalid channel %q", channelText)
	}
	if channelText != "" {
		if ms.Channel, ms.Subdir = splitChannel(channelText); ms.Channel == "*" {
			ms.Channel = ""
		}
	}

	// The name runs to the first space or operator character.
	nameEnd := strings.IndexAny(s, " =<>!~")
	if nameEnd < 0 {
		nameEnd = len(s)
	}
	if nameEnd == 0 {
		return nil, fmt.Sprintf("no package name found in %q", s)
	}
	ms.Name = strings.ToLower(s[:nameEnd])
	if reason := checkName(ms.Name); reason != "" {
		return nil, reason
	}

	if rest := strings.TrimSpace(s[nameEnd:]); rest != "" {
		if strings.ContainsAny(rest, `'"`) {
			return nil, fmt.Sprintf("unexpected quote in %q", rest)
		}
		versionText, buildText, hasBuild := splitVersionBuild(rest)
		if hasBuild && strings.ContainsAny(buildText, "()") {
			// Not a build string conda could have written; a stray legacy
			// section or a version missing its operator.
			return nil, fmt.Sprintf("parentheses in build %q", buildText)
		}
		if versionText == "=" && !hasBuild {
			versionText = "*" // conda reads "numpy=" as "numpy"
		}
		if hasBuild {
			if reason := ms.setBuild(buildText); reason != "" {
				return nil, reason
			}
		}
		if reason := ms.setVersion(sanitizeVersion(versionText, hasBuild)); reason != "" {
			return nil, reason
		}
	}

	// Bracket values override positional ones, except the name.
	for _, kv := range brackets {
		if reason := ms.set(kv.key, kv.value); reason != "" {
			return nil, reason
		}
	}
	if ms.Name == "" {
		ms.Name = "*"
	}
	if when != "" {
		if ms.When != "" {
			return nil, "condition given both as \" if \" and as when="
		}
		if strings.ContainsRune(when, '\'') && strings.ContainsRune(when, '"') {
			return nil, fmt.Sprintf("condition %q holds both quote characters", when)
		}
		ms.When = when
	}
	return ms, ms.compile()
}

// stripLegacyParens drops a trailing "(optional)" / "(target=...)" section
// of the classic solver, as conda does; other parentheses stay (they group
// versions).
func stripLegacyParens(s string) string {
	if !strings.HasSuffix(s, ")") {
		return s
	}
	open := strings.LastIndexByte(s, '(')
	if open < 0 {
		return s
	}
	body := s[open+1 : len(s)-1]
	for _, kv := range strings.Split(body, ",") {
		kv = strings.TrimSpace(kv)
		if kv != "optional" && !strings.HasPrefix(kv, "optional=") && !strings.HasPrefix(kv, "target=") {
			return s
		}
	}
	return strings.TrimSpace(s[:open])
}

// splitVersionBuild is conda's _parse_version_plus_build, the regex
// ((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$: the build
// is the longest suffix after a space or '=' that is not preceded by an
// operator character and holds no operator, '-' or '='. Spaces are then
// dropped from the version.
func splitVersionBuild(s string) (ver, build string, hasBuild bool) {
	for k := 1; k < len(s)-1; k++ {
		if (s[k] == ' ' || s[k] == '=') && !strings.ContainsRune("=!|,<>~", rune(s[k-1])) &&
			!strings.ContainsAny(s[k+1:], "-=,|<>~") {
			ver, build, hasBuild = s[:k], strings.TrimSpace(s[k+1:]), true
			break
		}
	}
	if !hasBuild {
		ver = s
	}
	return strings.ReplaceAll(ver, " ", ""), build, hasBuild
}

// sanitizeVersion is conda's _sanitize_version_str: "==1.2" without a build
// is "1.2" (exact), "=1.2" without a build is "1.2*" (fuzzy), and with a
// build both are "1.2" (exact).
func sanitizeVersion(v string, hasBuild bool) string {
	if v == "==" || v == "=" || !strings.HasPrefix(v, "=") {
		return v
	}
	bare := strings.TrimLeft(v, "=")
	if strings.HasPrefix(v, "==") && !hasBuild {
		return bare
	}
	if !strings.ContainsAny(bare, "=,|") {
		if !hasBuild && !strings.HasSuffix(bare, "*") {
			return bare + "*"
		}
		return bare
	}
	return v
}

// splitChannel separates a known subdir from the end of a channel name or
// URL: "conda-forge/linux-64" is ("conda-forge", "linux-64").
func splitChannel(c string) (channel, subdir string) {
	c = strings.TrimRight(c, "/")
	if i := strings.LastIndexByte(c, '/'); i >= 0 && slices.Contains(knownSubdirs, c[i+1:]) {
		return c[:i], c[i+1:]
	}
	return c, ""
}

// checkName follows CEP 26 names (lower case letters, digits, '.', '_',
// '-', not starting with '.' or '-'), with '*' for globs.
func checkName(name string) string {
	if name == "" || name[0] == '.' || name[0] == '-' {
		return fmt.Sprintf("invalid package name %q", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '*') {
			return fmt.Sprintf("invalid package name %q", name)
		}
	}
	return ""
}

func checkFeature(f string) string {
	if f == "" || strings.ContainsAny(f, " ,[]='\"#") {
		return fmt.Sprintf("invalid feature %q", f)
	}
	return ""
}

// parsePackageURL handles a spec naming a package archive: a URL, or an
// absolute path taken as a file:// URL. Under a known subdir the URL gives
// channel, subdir, name, version and build; otherwise only the URL.
func parsePackageURL(s string) (*MatchSpec, string) {
	u := s
	if !strings.Contains(u, "://") {
		if !strings.HasPrefix(u, "/") {
			return nil, fmt.Sprintf("package path %q is not absolute", s)
		}
		u = "file://" + u
	}
	if strings.ContainsAny(u, " '\"[]") {
		return nil, fmt.Sprintf("unsupported character in package URL %q", u)
	}
	ms := &MatchSpec{Name: "*", URL: u}
	dir, fn := u[:strings.LastIndexByte(u, '/')], u[strings.LastIndexByte(u, '/')+1:]
	channel, subdir := splitChannel(dir)
	if subdir == "" || strings.HasSuffix(channel, "/") || strings.HasSuffix(channel, ":") {
		return ms, ms.compile()
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(fn, ".conda"), ".tar.bz2")
	parts := strings.Split(stem, "-")
	if len(parts) < 3 || slices.Contains(parts[len(parts)-2:], "") {
		return nil, fmt.Sprintf("package file name %q is not name-version-build", fn)
	}
	name := strings.Join(parts[:len(parts)-2], "-")
	ms.Channel, ms.Subdir, ms.Name = channel, subdir, strings.ToLower(name)
	if reason := checkName(ms.Name); reason != "" {
		return nil, reason
	}
	ver, build := strings.ReplaceAll(parts[len(parts)-2], "%21", "!"), parts[len(parts)-1]
	if _, err := version.Parse(ver); err != nil || strings.ContainsAny(ver, "*") || strings.ContainsAny(build, "*^$") {
		return nil, fmt.Sprintf("package file name %q has no plain version and build", fn)
	}
	if reason := ms.setVersion(ver); reason != "" {
		return nil, reason
	}
	if reason := ms.setBuild(build); reason != "" {
		return nil, reason
	}
	return ms, ms.compile()
}

type keyValue struct{ key, value string }

// parseExtras reads "[a,b]" at s[open] when it is a list of names (no '='),
// returning the sorted names and the index after ']'.
func parseExtras(s string, open int) ([]string, int, bool) {
	end := strings.IndexByte(s[open:], ']')
	if end < 0 {
		return nil, 0, false
	}
	body := s[open+1 : open+end]
	var names []string
	for _, n := range strings.Split(body, ",") {
		n = strings.TrimSpace(n)
		if n == "" || n == "optional" || strings.IndexFunc(n, func(r rune) bool { return !(r < 0x80 && isKeyChar(byte(r)) || r == '.') }) >= 0 {
			return nil, 0, false
		}
		names = append(names, n)
	}
	return extrasSet(strings.Join(names, ",")), open + end + 1, true
}

func extrasSet(value string) []string {
	xs := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' })
	slices.Sort(xs)
	return slices.Compact(xs)
}

// parseList reads "a", "[a, b]" or "['a', 'b']" (a trailing comma is
// allowed, an empty item is not) into a sorted set.
func parseList(key, value string) ([]string, string) {
	body := strings.TrimSpace(value)
	if strings.HasPrefix(body, "[") {
		if !strings.HasSuffix(body, "]") {
			return nil, fmt.Sprintf("%s: unbalanced brackets in %q", key, value)
		}
		body = strings.TrimSuffix(strings.TrimSpace(body[1:len(body)-1]), ",")
	}
	var out []string
	for _, item := range strings.Split(body, ",") {
		item = strings.Trim(strings.TrimSpace(item), `'"`)
		if item == "" || strings.ContainsAny(item, "[]'\",") {
			return nil, fmt.Sprintf("%s: invalid list %q", key, value)
		}
		out = append(out, item)
	}
	slices.Sort(out)
	return slices.Compact(out), ""
}

// parseBrackets reads "[k=v, k='v w', k="v"]" starting at s[open] == '['.
// Pairs are separated by commas and/or spaces; values with spaces, commas,
// '=' or brackets must be quoted. It returns the pairs and the index after
// the closing ']'.
func parseBrackets(s string, open int) ([]keyValue, int, string) {
	var kvs []keyValue
	i := open + 1
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return nil, 0, "missing \"]\""
		}
		if s[i] == ']' {
			return kvs, i + 1, ""
		}
		start := i
		for i < len(s) && isKeyChar(s[i]) {
			i++
		}
		key := s[start:i]
		if key == "optional" && (i >= len(s) || s[i] != '=') {
			continue // legacy bare flag of the classic solver, ignored as conda does
		}
		if key == "" || i >= len(s) || s[i] != '=' {
			return nil, 0, fmt.Sprintf("expected key=value in brackets at %q", s[start:])
		}
		i++
		var value string
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return nil, 0, fmt.Sprintf("unterminated quote at %q", s[i:])
			}
			value = s[i+1 : i+1+end]
			i += end + 2
		} else {
			// Unquoted: up to a space, ',' or ']' outside nested brackets
			// ("extras=[a,b]", "when=python[version='>=3']").
			vs, depth := i, 0
			for i < len(s) && (depth > 0 || !strings.ContainsRune(" ,]", rune(s[i]))) {
				switch s[i] {
				case '[':
					depth++
				case ']':
					depth--
				case '\'', '"':
					if depth == 0 {
						return nil, 0, fmt.Sprintf("unexpected %q in value at %q", s[i], s[vs:])
					}
					end := strings.IndexByte(s[i+1:], s[i])
					if end < 0 {
						return nil, 0, fmt.Sprintf("unterminated quote at %q", s[i:])
					}
					i += end + 1
				}
				i++
			}
			if depth > 0 {
				return nil, 0, fmt.Sprintf("unbalanced brackets in %q", s[vs:])
			}
			value = s[vs:i]
		}
		if strings.TrimSpace(value) == "" {
			return nil, 0, fmt.Sprintf("empty value for %q in brackets", key)
		}
		if strings.ContainsRune(value, '\'') && strings.ContainsRune(value, '"') {
			return nil, 0, fmt.Sprintf("value %q holds both quote characters", value)
		}
		if slices.ContainsFunc(kvs, func(kv keyValue) bool { return kv.key == key }) {
			return nil, 0, fmt.Sprintf("key %q given twice in brackets", key)
		}
		kvs = append(kvs, keyValue{key, value})
		if i < len(s) && !strings.ContainsRune(" ,]", rune(s[i])) {
			return nil, 0, fmt.Sprintf("expected ',' or ']' at %q", s[i:])
		}
	}
}

func isKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// set applies one bracket key.
func (ms *MatchSpec) set(key, value string) string {
	switch key {
	case "name":
		// CEP 29: a name in brackets is ignored; the positional one wins.
	case "version":
		return ms.setVersion(sanitizeVersion(value, false))
	case "build":
		return ms.setBuild(value)
	case "build_number":
		bn, reason := parseBuildNumber(value)
		if reason != "" {
			return reason
		}
		ms.BuildNumber = bn
	case "channel":
		channel, subdir := splitChannel(value)
		if channel != "" {
			ms.Channel = channel
		}
		if ms.Channel == "*" {
			ms.Channel = ""
		}
		if subdir != "" {
			ms.Subdir = subdir
		}
	case "subdir":
		ms.Subdir = value
	case "md5":
		ms.MD5 = value
	case "sha256":
		ms.SHA256 = value
	case "url":
		ms.URL = value
	case "fn":
		ms.Filename = value
	case "license":
		ms.License = newGlob(value, true)
	case "license_family":
		ms.LicenseFamily = newGlob(value, true)
	case "track_features":
		ms.TrackFeatures = featureSet(value)
	case "features":
		ms.Features = featureSet(value)
	case "extras", "flags":
		list, reason := parseList(key, value)
		if reason != "" {
			return reason
		}
		if key == "extras" {
			ms.Extras = list
		} else {
			ms.Flags = list
		}
	case "when":
		ms.When = strings.TrimSpace(value)
	default:
		return fmt.Sprintf("cannot match on field %q", key)
	}
	return ""
}

func (ms *MatchSpec) setVersion(text string) string {
	if text == "*" {
		ms.Version = nil
		return ""
	}
	spec, err := version.ParseSpec(text)
	if err != nil {
		if se, ok := err.(*version.SpecError); ok {
			return se.Reason
		}
		return err.Error()
	}
	if _, any := spec.(version.Any); any {
		spec = nil
	}
	ms.Version = spec
	return ""
}

func (ms *MatchSpec) setBuild(text string) string {
	if text == "*" {
		ms.Build = nil
		return ""
	}
	g := newGlob(text, false)
	if g.err != nil {
		return fmt.Sprintf("build %q: %v", text, g.err)
	}
	ms.Build = g
	return ""
}

// compile prepares the glob matchers of the name and channel.
func (ms *MatchSpec) compile() string {
	ms.name, ms.channel = nil, nil
	if ms.Name != "*" && strings.IndexByte(ms.Name, '*') >= 0 {
		ms.name = newGlob(ms.Name, false)
	}
	if ms.name != nil && ms.name.err != nil {
		return fmt.Sprintf("name %q: %v", ms.Name, ms.name.err)
	}
	if strings.IndexByte(ms.Channel, '*') >= 0 {
		// A channel glob matches the URL or any of its trailing path parts.
		re, err := regexp.Compile("^(?:.*/)?(?:" + globRegex(ms.Channel) + ")$")
		if err != nil {
			return fmt.Sprintf("channel %q: %v", ms.Channel, err)
		}
		ms.channel = &Glob{text: ms.Channel, re: re}
	}
	for _, g := range []*Glob{ms.Build, ms.License, ms.LicenseFamily} {
		if g != nil && g.err != nil {
			return fmt.Sprintf("%q: %v", g.text, g.err)
		}
	}
	return ""
}

func featureSet(value string) []string {
	fs := strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == ',' })
	slices.Sort(fs)
	return slices.Compact(fs)
}

// BuildNumber matches a build number: exactly, with an operator (==, !=,
// <, <=, >, >=, and = meaning ==), or with a "^...$" regex on its decimal
// form.
type BuildNumber struct {
	op   string // "", "==", "!=", "<", "<=", ">", ">="
	n    int64
	re   *regexp.Regexp
	text string
}

func parseBuildNumber(s string) (*BuildNumber, string) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return nil, ""
	}
	if strings.HasPrefix(s, "^") && strings.HasSuffix(s, "$") && len(s) > 1 {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Sprintf("build_number regex %q: %v", s, err)
		}
		return &BuildNumber{re: re, text: s}, ""
	}
	op := ""
	for _, o := range []string{"==", "!=", "<=", ">=", "<", ">", "="} {
		if strings.HasPrefix(s, o) {
			op = o
			break
		}
	}
	n, err := strconv.ParseInt(s[len(op):], 10, 64)
	if err != nil || s[len(op):] == "" || s[len(op)] == '+' || s[len(op)] == '-' && op != "" {
		return nil, fmt.Sprintf("invalid build_number %q", s)
	}
	if op == "=" || op == "==" {
		op = ""
	}
	text := op + strconv.FormatInt(n, 10)
	return &BuildNumber{op: op, n: n, text: text}, ""
}

// Matches reports whether n satisfies the build-number constraint.
func (b *BuildNumber) Matches(n int64) bool {
	if b.re != nil {
		return b.re.MatchString(strconv.FormatInt(n, 10))
	}
	switch b.op {
	case "!=":
		return n != b.n
	case "<":
		return n < b.n
	case "<=":
		return n <= b.n
	case ">":
		return n > b.n
	case ">=":
		return n >= b.n
	}
	return n == b.n
}

func (b *BuildNumber) String() string { return b.text }

// Glob matches strings as conda's GlobStrMatch: "^...$" is a regex, a value
// with '*' is a glob, anything else must be equal. Fold makes the match
// case-insensitive (license fields).
type Glob struct {
	text string
	re   *regexp.Regexp
	fold bool
	err  error
}

func newGlob(text string, fold bool) *Glob {
	g := &Glob{text: text, fold: fold}
	if fold {
		g.text = strings.ToLower(text)
	}
	switch {
	case len(text) > 1 && text[0] == '^' && text[len(text)-1] == '$':
		g.re, g.err = regexp.Compile(g.text)
	case strings.IndexByte(text, '*') >= 0:
		g.re, g.err = regexp.Compile("^(?:" + globRegex(g.text) + ")$")
	}
	return g
}

func globRegex(glob string) string {
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, ".*")
}

// Matches reports whether s matches the glob.
func (g *Glob) Matches(s string) bool {
	if g.fold {
		s = strings.ToLower(s)
	}
	if g.re != nil {
		return g.re.MatchString(s)
	}
	return s == g.text
}

// IsExact reports whether the glob matches one string only.
func (g *Glob) IsExact() bool { return g.re == nil }

func (g *Glob) String() string { return g.text }

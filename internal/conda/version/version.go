// Package version parses conda version literals and orders them (CEP 33),
// and parses and evaluates version specifiers such as ">=1.21,<2|1.19.*"
// (the version part of a CEP 29 MatchSpec).
//
// The oracle is conda itself (conda/models/version.py): every rule here,
// including its quirks, is what conda's VersionOrder and VersionSpec do, and
// the tests hold it to conda's own parse of 28,530 real version strings.
package version

import (
	"fmt"
	"strings"
)

// Version is a parsed conda version. The zero value orders like "0".
//
// Components are split once at parse time so that Compare walks two small
// slices without allocating: the solver compares versions millions of times.
type Version struct {
	src   string // the text as given, trimmed (regex and "@" specs match it)
	norm  string // lower-cased, '-' turned into '_' when conda does so
	parts []part // epoch and main segments, then local segments
	local int    // index in parts where the local version starts
	// numeric: every segment is one number that fits in uint64 and there is
	// no local part ("1.21.3"), the common case Compare takes a shortcut for.
	numeric bool
}

// kind orders the numeric kinds among themselves: num < big < inf. Strings
// sort below every numeric kind.
type kind uint8

const (
	kindStr kind = iota
	kindNum      // fits in uint64
	kindBig      // a digit run too long for uint64; str holds it without leading zeros
	kindInf      // "post"
)

// part is one component: a run of digits, of letters, or of '*'. first marks
// the first component of a segment (segments are separated by '.' or '_').
type part struct {
	str   string
	num   uint64
	kind  kind
	first bool
}

// dev is how conda stores "dev": upper case sorts before '*'-free lower-case
// strings and '_', so "1.0dev" < "1.0_" < "1.0a".
const dev = "DEV"

// ParseError reports a version literal conda rejects.
type ParseError struct {
	Input  string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid version %q: %s", e.Input, e.Reason)
}

// MustParse is Parse for literals known to be valid (tests, tables); it panics
// on error.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Parse parses a conda version literal as conda's VersionOrder does: case is
// ignored, '-' counts as '_' when the text has no '_', an optional "N!" epoch
// and "+local" suffix are split off, a trailing '_' stays attached to the last
// segment (the openssl convention), "dev" and "post" are special runs.
func Parse(s string) (Version, error) {
	src := strings.TrimSpace(s)
	if src == "" {
		return Version{}, &ParseError{s, "empty version string"}
	}
	norm := src
	if hasUpper(norm) {
		norm = strings.ToLower(norm)
	}
	if !validChars(norm) {
		if strings.IndexByte(norm, '-') >= 0 && strings.IndexByte(norm, '_') < 0 {
			norm = strings.ReplaceAll(norm, "-", "_")
		}
		if !validChars(norm) {
			return Version{}, &ParseError{s, "invalid character(s)"}
		}
	}

	rest := norm
	epoch := "0"
	if i := strings.IndexByte(rest, '!'); i >= 0 {
		if strings.IndexByte(rest[i+1:], '!') >= 0 {
			return Version{}, &ParseError{s, "duplicated epoch separator '!'"}
		}
		epoch, rest = rest[:i], rest[i+1:]
		if epoch == "" || !allDigits(epoch) {
			return Version{}, &ParseError{s, "epoch must be an integer"}
		}
	}
	localText, hasLocal := "", false
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		if strings.IndexByte(rest[i+1:], '+') >= 0 {
			return Version{}, &ParseError{s, "duplicated local version separator '+'"}
		}
		rest, localText, hasLocal = rest[:i], rest[i+1:], true
	}
	if rest == "" && hasLocal {
		return Version{}, &ParseError{s, "missing version before local version separator '+'"}
	}
	if rest == "" {
		return Version{}, &ParseError{s, "missing version after epoch"}
	}

	parts := make([]part, 0, estimateParts(norm))
	parts = appendSegment(parts, epoch)
	var ok bool
	if parts, ok = appendSegments(parts, rest, true); !ok {
		return Version{}, &ParseError{s, "empty version component"}
	}
	local := len(parts)
	if hasLocal {
		if parts, ok = appendSegments(parts, localText, false); !ok {
			return Version{}, &ParseError{s, "empty version component"}
		}
	}
	numeric := local == len(parts)
	for _, p := range parts {
		numeric = numeric && p.first && p.kind == kindNum
	}
	return Version{src: src, norm: norm, parts: parts, local: local, numeric: numeric}, nil
}

// appendSegments splits text at '.' and '_' into segments. In the main
// version (not the local one) a final '_' stays part of the last segment, as
// conda's openssl convention asks: "1.1_" is [1], [1, "_"].
func appendSegments(parts []part, text string, main bool) ([]part, bool) {
	end := len(text)
	trailing := main && text[end-1] == '_'
	if trailing {
		end--
	}
	start := 0
	for i := 0; i <= end; i++ {
		if i < end && text[i] != '.' && text[i] != '_' {
			continue
		}
		seg := text[start:i]
		if trailing && i == end {
			seg = text[start:]
		}
		if seg == "" {
			return parts, false
		}
		parts = appendSegment(parts, seg)
		start = i + 1
	}
	return parts, true
}

// appendSegment splits one non-empty segment into runs of digits, of '*' and
// of anything else; a segment not starting with a digit gets a leading 0 so
// that numbers and strings stay in phase ("1.1.a1" == "1.1.0a1").
func appendSegment(parts []part, seg string) []part {
	first := true
	if !isDigit(seg[0]) {
		parts = append(parts, part{kind: kindNum, first: true})
		first = false
	}
	for i := 0; i < len(seg); {
		j := i + 1
		switch c := seg[i]; {
		case isDigit(c):
			for j < len(seg) && isDigit(seg[j]) {
				j++
			}
			parts = append(parts, numberPart(seg[i:j], first))
		case c == '*':
			for j < len(seg) && seg[j] == '*' {
				j++
			}
			parts = append(parts, part{kind: kindStr, str: seg[i:j], first: first})
		default:
			for j < len(seg) && !isDigit(seg[j]) && seg[j] != '*' {
				j++
			}
			switch run := seg[i:j]; run {
			case "post":
				parts = append(parts, part{kind: kindInf, first: first})
			case "dev":
				parts = append(parts, part{kind: kindStr, str: dev, first: first})
			default:
				parts = append(parts, part{kind: kindStr, str: run, first: first})
			}
		}
		first = false
		i = j
	}
	return parts
}

func numberPart(digits string, first bool) part {
	var n uint64
	for i := 0; i < len(digits); i++ {
		d := uint64(digits[i] - '0')
		if n > (1<<64-1-d)/10 {
			return part{kind: kindBig, str: strings.TrimLeft(digits, "0"), first: first}
		}
		n = n*10 + d
	}
	return part{kind: kindNum, num: n, first: first}
}

func estimateParts(s string) int {
	n := 2
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '_' || c == '+' {
			n++
		}
	}
	return n
}

// validChars is conda's version_check_re: ^[*.+!_0-9a-z]+$.
func validChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || 'a' <= c && c <= 'z' || c == '*' || c == '.' || c == '+' || c == '!' || c == '_') {
			return false
		}
	}
	return true
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' || s[i] >= 0x80 {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// String returns the version as it was written (trimmed).
func (v Version) String() string { return v.src }

// Normalized returns conda's normalised text: lower case, with '-' read as
// '_' when conda does so.
func (v Version) Normalized() string { return v.norm }

// IsZero reports whether v is the zero Version (never returned by Parse).
func (v Version) IsZero() bool { return v.parts == nil }

// Compare orders v and o as conda's VersionOrder: -1, 0 or +1.
func (v Version) Compare(o Version) int {
	if v.numeric && o.numeric {
		return compareNumeric(v.parts, o.parts)
	}
	if c := compareRuns(v.parts[:v.local], o.parts[:o.local]); c != 0 {
		return c
	}
	return compareRuns(v.parts[v.local:], o.parts[o.local:])
}

// Equal reports whether v and o are equal in conda's order ("1.1" == "1.1.0").
func (v Version) Equal(o Version) bool { return v.Compare(o) == 0 }

// Less reports v < o.
func (v Version) Less(o Version) bool { return v.Compare(o) < 0 }

// compareNumeric is compareRuns for one-number segments: missing ones are 0.
func compareNumeric(a, b []part) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i].num
		}
		if i < len(b) {
			y = b[i].num
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// compareRuns compares two lists of segments; a missing segment is empty and
// a missing component is the number 0, so "1.1" == "1.1.0".
func compareRuns(a, b []part) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		ie, je := segmentEnd(a, i), segmentEnd(b, j)
		for k := 0; i+k < ie || j+k < je; k++ {
			pa, pb := zeroPart, zeroPart
			if i+k < ie {
				pa = a[i+k]
			}
			if j+k < je {
				pb = b[j+k]
			}
			if c := comparePart(pa, pb); c != 0 {
				return c
			}
		}
		i, j = ie, je
	}
	return 0
}

var zeroPart = part{kind: kindNum}

func segmentEnd(p []part, i int) int {
	if i >= len(p) {
		return i
	}
	for i++; i < len(p) && !p[i].first; i++ {
	}
	return i
}

// comparePart follows conda: strings sort below numbers, "post" (infinity)
// above every number, strings compare by code point.
func comparePart(a, b part) int {
	if a.kind == kindStr || b.kind == kindStr {
		switch {
		case a.kind != kindStr:
			return 1
		case b.kind != kindStr:
			return -1
		}
		return strings.Compare(a.str, b.str)
	}
	if a.kind != b.kind {
		if a.kind < b.kind {
			return -1
		}
		return 1
	}
	switch a.kind {
	case kindNum:
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
	case kindBig:
		if len(a.str) != len(b.str) {
			if len(a.str) < len(b.str) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.str, b.str)
	}
	return 0
}

// StartsWith reports whether v matches the prefix p as conda's
// VersionOrder.startswith does ("1.7.*" and "=1.7" specs): the segments of p
// before its last one equal v's, the components of p's last segment before
// its last one equal v's, and p's last component equals v's corresponding
// one or, when it is a string, is a prefix of it ("0.4.1p1" starts with
// "0.4.1p"). When p has a local part, v's main version must equal p's and
// the test applies to the local parts.
func (v Version) StartsWith(p Version) bool {
	t1, t2 := v.parts[:v.local], p.parts[:p.local]
	if p.local < len(p.parts) {
		if compareRuns(t1, t2) != 0 {
			return false
		}
		t1, t2 = v.parts[v.local:], p.parts[p.local:]
	}
	if len(t2) == 0 {
		return true
	}
	i, j := 0, 0
	for {
		ie, je := segmentEnd(t1, i), segmentEnd(t2, j)
		if je < len(t2) {
			if compareRuns(t1[i:ie], t2[j:je]) != 0 {
				return false
			}
			i, j = ie, je
			continue
		}
		v1, v2 := t1[i:ie], t2[j:je]
		last := len(v2) - 1
		for k := 0; k < last; k++ {
			c1 := zeroPart
			if k < len(v1) {
				c1 = v1[k]
			}
			if comparePart(c1, v2[k]) != 0 {
				return false
			}
		}
		c1, c2 := zeroPart, v2[last]
		if last < len(v1) {
			c1 = v1[last]
		}
		if c2.kind == kindStr {
			return c1.kind == kindStr && strings.HasPrefix(c1.str, c2.str)
		}
		return comparePart(c1, c2) == 0
	}
}

package version

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Spec is a parsed version specifier: a tree of AllOf (",") and AnyOf ("|")
// over clauses (*Constraint, *Pattern, ExactText, Any).
type Spec interface {
	// Matches reports whether v satisfies the specifier.
	Matches(v Version) bool
	// String is the canonical text; ParseSpec(s.String()) gives an equal Spec.
	String() string
}

// Op is the comparison a Constraint makes.
type Op uint8

const (
	OpEq            Op = iota // "==1.2" or a bare "1.2": equal in version order
	OpNe                      // "!=1.2"
	OpLt                      // "<1.2"
	OpLe                      // "<=1.2"
	OpGt                      // ">1.2"
	OpGe                      // ">=1.2"
	OpStartsWith              // "1.2.*", "1.2*", "=1.2": StartsWith
	OpNotStartsWith           // "!=1.2.*"
	OpCompatible              // "~=1.2": >=1.2 and StartsWith(1)
)

// Constraint compares a version against one literal.
type Constraint struct {
	Op      Op
	Version Version
	// prefix is Version without its last '.'-separated part, for OpCompatible.
	prefix *Version
	// written is the clause as given, kept when the literal holds a '*'
	// (a canonical rewrite would read back differently).
	written string
	// doubleEq records that OpEq was spelled "==", which conda keeps.
	doubleEq bool
}

// Matches implements Spec.
func (c *Constraint) Matches(v Version) bool {
	switch c.Op {
	case OpEq:
		return v.Compare(c.Version) == 0
	case OpNe:
		return v.Compare(c.Version) != 0
	case OpLt:
		return v.Compare(c.Version) < 0
	case OpLe:
		return v.Compare(c.Version) <= 0
	case OpGt:
		return v.Compare(c.Version) > 0
	case OpGe:
		return v.Compare(c.Version) >= 0
	case OpStartsWith:
		return v.StartsWith(c.Version)
	case OpNotStartsWith:
		return !v.StartsWith(c.Version)
	case OpCompatible:
		return v.Compare(c.Version) >= 0 && v.StartsWith(*c.prefix)
	}
	return false
}

// String is the clause in canonical form: starts-with as "1.7.*", other
// operators followed by the literal as written.
func (c *Constraint) String() string {
	lit := c.Version.String()
	switch {
	case c.written != "":
		return c.written
	case c.Op == OpStartsWith:
		return lit + ".*"
	case c.Op == OpNotStartsWith:
		return "!=" + lit + ".*"
	case c.Op == OpEq && !c.doubleEq:
		return lit
	}
	return opText[c.Op] + lit
}

// Pattern matches the version text against a regular expression: a clause
// written "^...$", or a literal with a '*' that is not trailing ("1.*.1").
// Like conda, it sees the version as written, not normalised.
type Pattern struct {
	re   *regexp.Regexp
	text string
}

func (p *Pattern) Matches(v Version) bool { return p.re.MatchString(v.src) }
func (p *Pattern) String() string         { return p.text }

// ExactText matches the version text exactly. conda reads a literal
// containing '@' this way; as '@' is never part of a valid version, such a
// clause matches nothing here, but the spec still parses as in conda.
type ExactText string

func (e ExactText) Matches(v Version) bool { return v.src == string(e) }
func (e ExactText) String() string         { return string(e) }

// Any is "*": every version.
type Any struct{}

func (Any) Matches(Version) bool { return true }
func (Any) String() string       { return "*" }

// AllOf is a ","-joined conjunction.
type AllOf []Spec

func (a AllOf) Matches(v Version) bool {
	for _, s := range a {
		if !s.Matches(v) {
			return false
		}
	}
	return true
}

// String parenthesises "|" groups, which bind weaker than ",".
func (a AllOf) String() string {
	var b strings.Builder
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if _, or := s.(AnyOf); or {
			b.WriteString("(" + s.String() + ")")
		} else {
			b.WriteString(s.String())
		}
	}
	return b.String()
}

// AnyOf is a "|"-joined disjunction.
type AnyOf []Spec

func (a AnyOf) Matches(v Version) bool {
	for _, s := range a {
		if s.Matches(v) {
			return true
		}
	}
	return false
}

func (a AnyOf) String() string {
	var b strings.Builder
	for i, s := range a {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// SpecError reports a version specifier conda rejects; Reason names the
// offending part.
type SpecError struct {
	Input  string
	Reason string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("invalid version spec %q: %s", e.Input, e.Reason)
}

// MustParseSpec is ParseSpec for specifiers known to be valid; it panics on
// error.
func MustParseSpec(s string) Spec {
	spec, err := ParseSpec(s)
	if err != nil {
		panic(err)
	}
	return spec
}

// ParseSpec parses a version specifier as conda's VersionSpec does: ","
// (and) binds tighter than "|" (or), parentheses group, and each clause is a
// regex "^...$", "*", an operator (==, !=, <, <=, >, >=, =, ~=) and a
// literal, a literal with a trailing "*" or ".*" (starts-with), a literal
// with an inner "*" (a glob on the text), or a bare literal (equality).
// Spaces around operators and separators are ignored.
func ParseSpec(s string) (Spec, error) {
	p := specParser{in: s}
	spec, reason := p.parse()
	if reason != "" {
		return nil, &SpecError{Input: s, Reason: reason}
	}
	return spec, nil
}

type specParser struct {
	in  string
	pos int
	// lastSep is where the separator or "(" before the current position
	// starts, so an empty clause can be shown with its neighbours (",,").
	lastSep int
}

func (p *specParser) parse() (Spec, string) {
	if strings.TrimSpace(p.in) == "" {
		return nil, "empty version spec"
	}
	if !utf8.ValidString(p.in) {
		return nil, "not valid UTF-8"
	}
	spec, reason := p.parseOr()
	if reason != "" {
		return nil, reason
	}
	p.skipSpace()
	if p.pos < len(p.in) {
		if p.in[p.pos] == ')' {
			return nil, fmt.Sprintf("unmatched \")\" at %q", p.in[p.pos:])
		}
		return nil, fmt.Sprintf("unexpected %q", p.in[p.pos:])
	}
	return spec, ""
}

func (p *specParser) skipSpace() {
	for p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
	}
}

func (p *specParser) parseOr() (Spec, string) {
	var buf [8]Spec // most specifiers have one or two clauses: no allocation
	alts := buf[:0]
	for {
		s, reason := p.parseAnd()
		if reason != "" {
			return nil, reason
		}
		if nested, ok := s.(AnyOf); ok {
			alts = append(alts, nested...)
		} else {
			alts = append(alts, s)
		}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '|' {
			break
		}
		p.lastSep = p.pos
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], ""
	}
	return slices.Clone(AnyOf(alts)), ""
}

func (p *specParser) parseAnd() (Spec, string) {
	var buf [8]Spec
	all := buf[:0]
	for {
		s, reason := p.parseAtom()
		if reason != "" {
			return nil, reason
		}
		if nested, ok := s.(AllOf); ok {
			all = append(all, nested...)
		} else {
			all = append(all, s)
		}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ',' {
			break
		}
		p.lastSep = p.pos
		p.pos++
	}
	if len(all) == 1 {
		return all[0], ""
	}
	return slices.Clone(AllOf(all)), ""
}

func (p *specParser) parseAtom() (Spec, string) {
	p.skipSpace()
	if p.pos >= len(p.in) {
		return nil, fmt.Sprintf("empty version constraint after %q", strings.TrimSpace(p.in[p.lastSep:]))
	}
	switch p.in[p.pos] {
	case '(':
		p.lastSep = p.pos
		p.pos++
		s, reason := p.parseOr()
		if reason != "" {
			return nil, reason
		}
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ')' {
			return nil, "missing \")\""
		}
		p.pos++
		return s, ""
	case ',', '|', ')':
		ctx := strings.ReplaceAll(p.in[p.lastSep:p.pos+1], " ", "")
		if p.pos == 0 {
			ctx = p.in[:1]
		}
		return nil, fmt.Sprintf("empty version constraint at %q", ctx)
	}
	start := p.pos
	end := start
	if p.in[start] == '^' {
		// A regex runs to the first '$' and may contain separators.
		if i := strings.IndexByte(p.in[start:], '$'); i >= 0 {
			end = start + i + 1
		}
	}
	if end == start {
		for end < len(p.in) && !strings.ContainsRune("()|,", rune(p.in[end])) {
			end++
		}
	}
	p.pos = end
	// The same white space as skipSpace: strings.TrimSpace would also
	// take Unicode spaces such as U+00A0, leaving an empty clause.
	clause := strings.TrimFunc(p.in[start:end], func(r rune) bool { return r < utf8.RuneSelf && isSpace(byte(r)) })
	if clause == "" {
		return nil, fmt.Sprintf("empty version constraint at %q", p.in[start:end])
	}
	s, err := parseClause(clause)
	if err != "" {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.in) && !strings.ContainsRune("|,)", rune(p.in[p.pos])) {
		return nil, fmt.Sprintf("unexpected %q after %q", p.in[p.pos:], clause)
	}
	return s, ""
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// parseClause is conda's VersionSpec.get_matcher for one clause. It returns
// the reason when the clause is invalid.
func parseClause(c string) (Spec, string) {
	switch {
	case c[0] == '^' || c[len(c)-1] == '$':
		if c[0] != '^' || c[len(c)-1] != '$' || len(c) < 2 {
			return nil, fmt.Sprintf("regex %q must start with '^' and end with '$'", c)
		}
		re, err := regexp.Compile(c)
		if err != nil {
			return nil, fmt.Sprintf("regex %q: %v", c, err)
		}
		return &Pattern{re: re, text: c}, ""
	case strings.ContainsRune("=<>!~", rune(c[0])):
		return parseOperator(c)
	case c == "*":
		return Any{}, ""
	case strings.Contains(strings.TrimRight(c, "*"), "*"):
		// A non-trailing '*' makes the literal a glob on the version text.
		var b strings.Builder
		b.WriteString("^(?:")
		for i, part := range strings.Split(c, "*") {
			if i > 0 {
				b.WriteString(".*")
			}
			b.WriteString(regexp.QuoteMeta(part))
		}
		b.WriteString(")$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, fmt.Sprintf("glob %q: %v", c, err)
		}
		return &Pattern{re: re, text: c}, ""
	case c[len(c)-1] == '*':
		// conda rewrites "1.7*" as "1.7.*" and starts-with the text before
		// ".*" with trailing dots removed.
		var lit string
		if strings.HasSuffix(c, ".*") {
			lit = strings.TrimRight(strings.TrimRight(c, "*"), ".")
		} else {
			lit = strings.TrimRight(c[:len(c)-1], ".")
		}
		return newConstraint(OpStartsWith, lit, c)
	case strings.IndexByte(c, '@') >= 0:
		return ExactText(c), ""
	}
	return newConstraint(OpEq, c, c)
}

// parseOperator handles conda's version_relation_re,
// ^(=|==|!=|<=|>=|<|>|~=)(?![=<>!~])(\S+)$, and its ".*" suffix rules.
func parseOperator(c string) (Spec, string) {
	var o Op
	n := 2
	switch {
	case strings.HasPrefix(c, "=="):
		o = OpEq
	case strings.HasPrefix(c, "!="):
		o = OpNe
	case strings.HasPrefix(c, "<="):
		o = OpLe
	case strings.HasPrefix(c, ">="):
		o = OpGe
	case strings.HasPrefix(c, "~="):
		o = OpCompatible
	case c[0] == '=':
		o, n = OpStartsWith, 1
	case c[0] == '<':
		o, n = OpLt, 1
	case c[0] == '>':
		o, n = OpGt, 1
	default:
		return nil, fmt.Sprintf("invalid operator in %q", c)
	}
	op := c[:n]
	lit := c[len(op):]
	if lit == "" {
		return nil, fmt.Sprintf("operator %q without a version", op)
	}
	if strings.ContainsRune("=<>!~", rune(lit[0])) {
		return nil, fmt.Sprintf("invalid operator in %q", c)
	}
	if strings.IndexFunc(lit, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) >= 0 {
		return nil, fmt.Sprintf("space after operator in %q", c)
	}
	if base, ok := strings.CutSuffix(lit, ".*"); ok {
		switch o {
		case OpNe:
			o = OpNotStartsWith
		case OpCompatible:
			return nil, fmt.Sprintf("%q: '.*' cannot follow ~=", c)
		}
		// conda drops ".*" after =, >=, and (deprecated) <, <=, >, ==.
		lit = base
	}
	return newConstraint(o, lit, c)
}

// newConstraint parses lit. A literal containing '*' keeps the clause as
// written: its canonical rewrite would read back differently.
func newConstraint(op Op, lit, clause string) (Spec, string) {
	v, err := Parse(lit)
	if err != nil {
		return nil, err.Error()
	}
	c := &Constraint{Op: op, Version: v, doubleEq: op == OpEq && strings.HasPrefix(clause, "==")}
	if strings.IndexByte(lit, '*') >= 0 {
		c.written = clause
	}
	if op == OpCompatible {
		// conda: x >= y and x.startswith(".".join(str(y).split(".")[:-1])).
		i := strings.LastIndexByte(v.norm, '.')
		if i < 0 {
			return nil, fmt.Sprintf("%q: ~= needs a version with at least two components", clause)
		}
		prefix, err := Parse(v.norm[:i])
		if err != nil {
			return nil, fmt.Sprintf("%q: ~= prefix: %v", clause, err)
		}
		c.prefix = &prefix
	}
	return c, ""
}

var opText = [...]string{OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=", OpCompatible: "~="}

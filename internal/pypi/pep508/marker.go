// Package pep508 parses dependency specifications ("name[extra]>=1;
// python_version<'3.11'") and evaluates their environment markers for a
// target interpreter and platform, as PEP 508 defines them.
package pep508

import (
	"fmt"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep440"
)

// Env holds marker variable values ("python_version": "3.11"). "extra" is
// set by the evaluator, not here.
type Env map[string]string

// markerVars are the variables PEP 508 defines.
var markerVars = map[string]bool{
	"python_version": true, "python_full_version": true, "os_name": true, "sys_platform": true,
	"platform_release": true, "platform_system": true, "platform_version": true,
	"platform_machine": true, "platform_python_implementation": true,
	"implementation_name": true, "implementation_version": true, "extra": true,
}

// Marker is a parsed marker expression; nil is "always true".
type Marker interface {
	// Eval evaluates with env; extras are the extras requested ("extra ==
	// 'x'" holds when x is among them).
	Eval(env Env, extras []string) bool
	String() string
}

type and struct{ l, r Marker }
type or struct{ l, r Marker }

// compare is "lhs op rhs" where each side is a variable or a quoted string.
type compare struct {
	lhs, rhs       string
	lhsVar, rhsVar bool
	op             string
}

func (m and) Eval(env Env, extras []string) bool {
	return m.l.Eval(env, extras) && m.r.Eval(env, extras)
}
func (m or) Eval(env Env, extras []string) bool {
	return m.l.Eval(env, extras) || m.r.Eval(env, extras)
}
func (m and) String() string { return paren(m.l, true) + " and " + paren(m.r, true) }
func (m or) String() string  { return m.l.String() + " or " + m.r.String() }

func paren(m Marker, inAnd bool) string {
	if _, ok := m.(or); ok && inAnd {
		return "(" + m.String() + ")"
	}
	return m.String()
}

func (c compare) String() string {
	side := func(s string, isVar bool) string {
		if isVar {
			return s
		}
		if strings.Contains(s, `"`) {
			return "'" + s + "'"
		}
		return `"` + s + `"`
	}
	return side(c.lhs, c.lhsVar) + " " + c.op + " " + side(c.rhs, c.rhsVar)
}

func (c compare) Eval(env Env, extras []string) bool {
	if (c.lhsVar && c.lhs == "extra") || (c.rhsVar && c.rhs == "extra") {
		return c.evalExtra(extras)
	}
	l, r := c.lhs, c.rhs
	if c.lhsVar {
		l = env[c.lhs]
	}
	if c.rhsVar {
		r = env[c.rhs]
	}
	return evalOp(l, c.op, r)
}

// evalExtra compares the normalised extra names: "extra == 'Foo_Bar'"
// holds for the requested extra "foo-bar".
func (c compare) evalExtra(extras []string) bool {
	value := c.rhs
	if c.rhsVar {
		value = c.lhs
	}
	for _, e := range extras {
		if evalOp(NormaliseName(e), c.op, NormaliseName(value)) {
			return c.op != "!=" && c.op != "not in"
		}
	}
	return c.op == "!=" || c.op == "not in"
}

// evalOp compares as PEP 440 versions when the operator is a version
// operator and the right side is a valid specifier, else as strings.
func evalOp(l, op, r string) bool {
	switch op {
	case "in":
		return strings.Contains(r, l)
	case "not in":
		return !strings.Contains(r, l)
	}
	if sp, err := pep440.ParseSpecifier(op + r); err == nil {
		if v, err := pep440.Parse(l); err == nil {
			return sp.Contains(v)
		}
	}
	switch op {
	case "==", "===":
		return l == r
	case "!=":
		return l != r
	case "<":
		return l < r
	case "<=":
		return l <= r
	case ">":
		return l > r
	case ">=":
		return l >= r
	}
	return false
}

// ParseMarker reads a marker expression (the part after ";").
func ParseMarker(s string) (Marker, error) {
	p := &parser{s: s}
	m, err := p.marker()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q", p.s[p.i:])
	}
	return m, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("marker %q, column %d: %s", p.s, p.i+1, fmt.Sprintf(format, a...))
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// keyword consumes word when it stands alone ("and" but not "android").
func (p *parser) keyword(word string) bool {
	p.space()
	if !strings.HasPrefix(p.s[p.i:], word) {
		return false
	}
	end := p.i + len(word)
	if end < len(p.s) && isIdent(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

func isIdent(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) marker() (Marker, error) {
	l, err := p.markerAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.markerAnd()
		if err != nil {
			return nil, err
		}
		l = or{l, r}
	}
	return l, nil
}

func (p *parser) markerAnd() (Marker, error) {
	l, err := p.markerExpr()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.markerExpr()
		if err != nil {
			return nil, err
		}
		l = and{l, r}
	}
	return l, nil
}

func (p *parser) markerExpr() (Marker, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		m, err := p.marker()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errorf("missing )")
		}
		p.i++
		return m, nil
	}
	lhs, lhsVar, err := p.value()
	if err != nil {
		return nil, err
	}
	op, err := p.op()
	if err != nil {
		return nil, err
	}
	rhs, rhsVar, err := p.value()
	if err != nil {
		return nil, err
	}
	return compare{lhs: lhs, lhsVar: lhsVar, op: op, rhs: rhs, rhsVar: rhsVar}, nil
}

func (p *parser) value() (string, bool, error) {
	p.space()
	if p.i >= len(p.s) {
		return "", false, p.errorf("expected a variable or a quoted string")
	}
	if q := p.s[p.i]; q == '"' || q == '\'' {
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return "", false, p.errorf("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return v, false, nil
	}
	start := p.i
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	name := p.s[start:p.i]
	// Setuptools' legacy spellings, which pip still accepts.
	switch name {
	case "os.name":
		name = "os_name"
	case "sys.platform":
		name = "sys_platform"
	case "platform.version":
		name = "platform_version"
	case "platform.machine":
		name = "platform_machine"
	case "platform.python_implementation", "python_implementation":
		name = "platform_python_implementation"
	}
	if !markerVars[name] {
		p.i = start
		return "", false, p.errorf("unknown marker variable %q", name)
	}
	return name, true, nil
}

func (p *parser) op() (string, error) {
	p.space()
	for _, op := range []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			p.i += len(op)
			return op, nil
		}
	}
	if p.keyword("in") {
		return "in", nil
	}
	save := p.i
	if p.keyword("not") && p.keyword("in") {
		return "not in", nil
	}
	p.i = save
	return "", p.errorf("expected a comparison operator")
}

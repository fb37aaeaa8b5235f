package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// NoAssertion is SPDX's word for "not known": no licence declared.
const NoAssertion = "NOASSERTION"

// License is a package's licence: what the package declares and its SPDX
// expression.
type License struct {
	// Declared is the licence text as the package gives it, "" when none is
	// known.
	Declared string
	// Expression is Declared as an SPDX licence expression: identifiers
	// where every part maps (NormalizeLicense), else one LicenseRef- that
	// stands for Declared verbatim, else NoAssertion.
	Expression string
	// Ref says Expression is a LicenseRef- for Declared.
	Ref bool
}

// AnyOfLicenses is the licence of a package usable under any one of
// declared (a POM's licences): their SPDX expressions joined by OR when
// every one maps, else one LicenseRef- for the texts joined by " OR ".
func AnyOfLicenses(declared []string) License {
	declared = slices.DeleteFunc(slices.Clone(declared), func(d string) bool { return strings.TrimSpace(d) == "" })
	if len(declared) <= 1 {
		return NormalizeLicense(strings.Join(declared, ""))
	}
	text := strings.Join(declared, " OR ")
	var exprs []string
	for _, d := range declared {
		l := NormalizeLicense(d)
		if l.Ref {
			return License{Declared: text, Expression: licenseRef(text), Ref: true}
		}
		if strings.Contains(l.Expression, " ") {
			l.Expression = "(" + l.Expression + ")"
		}
		exprs = append(exprs, l.Expression)
	}
	return License{Declared: text, Expression: strings.Join(exprs, " OR ")}
}

// licenseAliases maps the spellings conda recipes, wheel METADATA and
// POMs use (lower-cased, spaces and underscores as "-") to SPDX
// identifiers. Spellings that name a family but not a licence ("BSD",
// "GPL", "Apache") are deliberately absent: they stay LicenseRef-.
var licenseAliases = map[string]string{
	"mit": "MIT", "mit-license": "MIT", "the-mit-license": "MIT", "expat": "MIT",
	"bsd-2-clause": "BSD-2-Clause", "bsd-2": "BSD-2-Clause", "bsd-2clause": "BSD-2-Clause", "simplified-bsd": "BSD-2-Clause",
	"bsd-3-clause": "BSD-3-Clause", "3-clause-bsd": "BSD-3-Clause", "bsd-3": "BSD-3-Clause", "bsd-3clause": "BSD-3-Clause", "new-bsd": "BSD-3-Clause",
	"new-bsd-license": "BSD-3-Clause", "modified-bsd": "BSD-3-Clause", "bsd-license-(3-clause)": "BSD-3-Clause",
	"0bsd": "0BSD", "bsd-4-clause": "BSD-4-Clause",
	"apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache2": "Apache-2.0", "apache-v2": "Apache-2.0",
	"apache-license-2.0": "Apache-2.0", "apache-license-version-2.0": "Apache-2.0", "apache-software-license-2.0": "Apache-2.0",
	"apache-license,-version-2.0": "Apache-2.0", "the-apache-software-license,-version-2.0": "Apache-2.0",
	"the-apache-license,-version-2.0": "Apache-2.0", "apache-2.0-license": "Apache-2.0",
	"eclipse-public-license---v-1.0": "EPL-1.0", "eclipse-public-license---v-2.0": "EPL-2.0", "eclipse-public-license-2.0": "EPL-2.0", "asl-2.0": "Apache-2.0", "apache-1.1": "Apache-1.1",
	"gpl-2.0-only": "GPL-2.0-only", "gpl-2.0": "GPL-2.0-only", "gpl-2": "GPL-2.0-only", "gplv2": "GPL-2.0-only", "gpl2": "GPL-2.0-only",
	"gpl-(>=-2)": "GPL-2.0-or-later", "gpl-(>=-2.0)": "GPL-2.0-or-later", "gpl-(>=-3)": "GPL-3.0-or-later",
	"lgpl-(>=-2)": "LGPL-2.0-or-later", "lgpl-(>=-2.1)": "LGPL-2.1-or-later",
	"gpl-2.0-or-later": "GPL-2.0-or-later", "gpl-2.0+": "GPL-2.0-or-later", "gpl-2+": "GPL-2.0-or-later", "gplv2+": "GPL-2.0-or-later",
	"gpl-3.0-only": "GPL-3.0-only", "gpl-3.0": "GPL-3.0-only", "gpl-3": "GPL-3.0-only", "gplv3": "GPL-3.0-only", "gpl3": "GPL-3.0-only",
	"gpl-3.0-or-later": "GPL-3.0-or-later", "gpl-3.0+": "GPL-3.0-or-later", "gpl-3+": "GPL-3.0-or-later", "gplv3+": "GPL-3.0-or-later",
	"lgpl-2.0-only": "LGPL-2.0-only", "lgpl-2.0": "LGPL-2.0-only", "lgpl-2": "LGPL-2.0-only", "lgplv2": "LGPL-2.0-only", "lgpl2": "LGPL-2.0-only",
	"lgpl-2.0-or-later": "LGPL-2.0-or-later", "lgpl-2.0+": "LGPL-2.0-or-later", "lgplv2+": "LGPL-2.0-or-later",
	"lgpl-2.1-only": "LGPL-2.1-only", "lgpl-2.1": "LGPL-2.1-only", "lgplv2.1": "LGPL-2.1-only",
	"lgpl-2.1-or-later": "LGPL-2.1-or-later", "lgpl-2.1+": "LGPL-2.1-or-later", "lgplv2.1+": "LGPL-2.1-or-later",
	"lgpl-3.0-only": "LGPL-3.0-only", "lgpl-3.0": "LGPL-3.0-only", "lgpl-3": "LGPL-3.0-only", "lgplv3": "LGPL-3.0-only",
	"lgpl-3.0-or-later": "LGPL-3.0-or-later", "lgpl-3.0+": "LGPL-3.0-or-later", "lgplv3+": "LGPL-3.0-or-later",
	"agpl-3.0-only": "AGPL-3.0-only", "agpl-3.0": "AGPL-3.0-only", "agpl-3": "AGPL-3.0-only", "agplv3": "AGPL-3.0-only", "agpl-3.0-or-later": "AGPL-3.0-or-later",
	"mpl-2.0": "MPL-2.0", "mpl2": "MPL-2.0", "mplv2.0": "MPL-2.0", "mozilla-public-license-2.0": "MPL-2.0", "mpl-1.1": "MPL-1.1",
	"epl-1.0": "EPL-1.0", "epl-2.0": "EPL-2.0", "cddl-1.0": "CDDL-1.0", "cddl-1.1": "CDDL-1.1",
	"isc": "ISC", "zlib": "Zlib", "libpng": "Libpng", "curl": "curl", "openssl": "OpenSSL", "ncsa": "NCSA", "postgresql": "PostgreSQL",
	"psf-2.0": "PSF-2.0", "psf": "PSF-2.0", "python-2.0": "Python-2.0", "python-software-foundation-license": "PSF-2.0",
	"unlicense": "Unlicense", "the-unlicense": "Unlicense", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0",
	"bsl-1.0": "BSL-1.0", "boost": "BSL-1.0", "boost-1.0": "BSL-1.0",
	"cc-by-4.0": "CC-BY-4.0", "cc-by-sa-4.0": "CC-BY-SA-4.0", "wtfpl": "WTFPL", "x11": "X11", "hpnd": "HPND",
	"llvm-exception": "LLVM-exception", "classpath-exception-2.0": "Classpath-exception-2.0",
	"gcc-exception-3.1": "GCC-exception-3.1",
}

// NormalizeLicense turns a declared licence into an SPDX expression:
// "" gives NoAssertion; a declared text whose every licence maps
// (licenseAliases, joined by AND/OR/WITH and parentheses, in any case,
// or R's "|" for OR)
// gives the expression of SPDX identifiers; anything else gives a
// LicenseRef- standing for the text verbatim.
func NormalizeLicense(declared string) License {
	declared = strings.TrimSpace(declared)
	if declared == "" {
		return License{Expression: NoAssertion}
	}
	if id := licenseAliases[aliasKey(declared)]; id != "" {
		return License{Declared: declared, Expression: id}
	}
	if expr, ok := normalizeExpression(declared); ok {
		return License{Declared: declared, Expression: expr}
	}
	return License{Declared: declared, Expression: licenseRef(declared), Ref: true}
}

func aliasKey(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '_' || r == '\t' }), "-")
}

// normalizeExpression maps an expression token by token; ok is false when
// a licence does not map or the operators do not make an expression.
func normalizeExpression(s string) (string, bool) {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	var out []string
	depth, wantLicense := 0, true
	for _, tok := range strings.Fields(s) {
		op := strings.ToUpper(tok)
		if op == "|" {
			op = "OR"
		}
		switch {
		case tok == "(" && wantLicense:
			depth++
			out = append(out, tok)
		case tok == ")" && !wantLicense && depth > 0:
			depth--
			out = append(out, tok)
		case (op == "AND" || op == "OR" || op == "WITH") && !wantLicense:
			out = append(out, op)
			wantLicense = true
		case wantLicense:
			id := licenseAliases[aliasKey(tok)]
			if id == "" {
				return "", false
			}
			out = append(out, id)
			wantLicense = false
		default:
			return "", false
		}
	}
	if wantLicense || depth != 0 {
		return "", false
	}
	return strings.NewReplacer("( ", "(", " )", ")").Replace(strings.Join(out, " ")), true
}

// licenseRef is "LicenseRef-" and the text in the characters SPDX allows
// (letters, digits, "." and "-"), with a short digest of the text when
// that changed it, so that two texts never share a reference.
func licenseRef(text string) string {
	var b strings.Builder
	dash := false
	for _, r := range text {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.Trim(b.String(), "-")
	if id != text {
		sum := sha256.Sum256([]byte(text))
		id = strings.TrimPrefix(id+"-"+hex.EncodeToString(sum[:4]), "-")
	}
	return "LicenseRef-" + id
}

// Denied says whether a licence expression (License.Expression) leaves
// no choice free of the denied identifiers (compared case-insensitively;
// NoAssertion and LicenseRef-s are identifiers too): an identifier is
// denied when deny names it, "X WITH e" when X or e is, "A AND B" when
// either is, "A OR B" when both are.
func Denied(expr string, deny []string) bool {
	d := denial{toks: strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(expr)), deny: map[string]bool{}}
	for _, id := range deny {
		d.deny[strings.ToLower(strings.TrimSpace(id))] = true
	}
	return d.or()
}

// denial is a recursive-descent reading of an SPDX expression (WITH binds
// tighter than AND, AND than OR) that evaluates Denied as it goes.
type denial struct {
	toks []string
	deny map[string]bool
}

func (d *denial) next(op string) bool {
	if len(d.toks) > 0 && strings.EqualFold(d.toks[0], op) {
		d.toks = d.toks[1:]
		return true
	}
	return false
}

func (d *denial) or() bool {
	denied := d.and()
	for d.next("OR") {
		denied = d.and() && denied
	}
	return denied
}

func (d *denial) and() bool {
	denied := d.with()
	for d.next("AND") {
		denied = d.with() || denied
	}
	return denied
}

func (d *denial) with() bool {
	denied := d.primary()
	if d.next("WITH") {
		denied = d.primary() || denied
	}
	return denied
}

func (d *denial) primary() bool {
	if d.next("(") {
		denied := d.or()
		d.next(")")
		return denied
	}
	if len(d.toks) == 0 {
		return false
	}
	id := d.toks[0]
	d.toks = d.toks[1:]
	return d.deny[strings.ToLower(id)]
}

package version

import (
	"bufio"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// pyRepr renders the epoch and main segments of v the way conda prints
// VersionOrder(...).version, e.g. [[0], [1], [1, 'DEV', 1]].
func pyRepr(v Version) string {
	var b strings.Builder
	b.WriteByte('[')
	main := v.parts[:v.local]
	for i := 0; i < len(main); {
		e := segmentEnd(main, i)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('[')
		for k, p := range main[i:e] {
			if k > 0 {
				b.WriteString(", ")
			}
			switch p.kind {
			case kindNum:
				b.WriteString(strconv.FormatUint(p.num, 10))
			case kindBig:
				b.WriteString(p.str)
			case kindInf:
				b.WriteString("inf")
			case kindStr:
				b.WriteString("'" + p.str + "'")
			}
		}
		b.WriteByte(']')
		i = e
	}
	b.WriteByte(']')
	return b.String()
}

// TestParsedVersions checks every line of rattler's parsed_versions.txt:
// 28,530 versions from real repodata, each with conda's own parse.
func TestParsedVersions(t *testing.T) {
	f, err := os.Open(conformance.Dir(t, "versions", "parsed_versions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, failed := 0, 0
	for line := 0; sc.Scan(); {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		// Versions never contain "=[", conda's list always starts with it.
		i := strings.Index(text, "=[")
		if i < 0 {
			t.Fatalf("line %d: unexpected format %q", line, text)
		}
		in, want := text[:i], text[i+1:]
		n++
		v, err := Parse(in)
		if err != nil {
			t.Errorf("line %d: Parse(%q): %v", line, in, err)
		} else if got := pyRepr(v); got != want {
			t.Errorf("line %d: Parse(%q) = %s, conda: %s", line, in, got, want)
		}
		if t.Failed() {
			if failed++; failed > 20 {
				t.Fatal("too many failures")
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 28000 {
		t.Fatalf("read only %d versions", n)
	}
	t.Logf("%d versions parsed as conda parses them", n)
}

// From conda tests/models/test_version.py::test_version_order: literals, in
// ascending order, with conda's parse.
var condaVersionOrder = []struct{ in, parsed string }{
	{"0.4", "[[0], [0], [4]]"},
	{"0.4.0", "[[0], [0], [4], [0]]"},
	{"0.4.1a.vc11", "[[0], [0], [4], [1, 'a'], [0, 'vc', 11]]"},
	{"0.4.1.rc", "[[0], [0], [4], [1], [0, 'rc']]"},
	{"0.4.1.vc11", "[[0], [0], [4], [1], [0, 'vc', 11]]"},
	{"0.4.1", "[[0], [0], [4], [1]]"},
	{"0.5*", "[[0], [0], [5, '*']]"},
	{"0.5a1", "[[0], [0], [5, 'a', 1]]"},
	{"0.5b3", "[[0], [0], [5, 'b', 3]]"},
	{"0.5C1", "[[0], [0], [5, 'c', 1]]"},
	{"0.5z", "[[0], [0], [5, 'z']]"},
	{"0.5za", "[[0], [0], [5, 'za']]"},
	{"0.5", "[[0], [0], [5]]"},
	{"0.5_5", "[[0], [0], [5], [5]]"},
	{"0.5-5", "[[0], [0], [5], [5]]"},
	{"0.9.6", "[[0], [0], [9], [6]]"},
	{"0.960923", "[[0], [0], [960923]]"},
	{"1.0", "[[0], [1], [0]]"},
	{"1.0.4a3", "[[0], [1], [0], [4, 'a', 3]]"},
	{"1.0.4b1", "[[0], [1], [0], [4, 'b', 1]]"},
	{"1.0.4", "[[0], [1], [0], [4]]"},
	{"1.1dev1", "[[0], [1], [1, 'DEV', 1]]"},
	{"1.1_", "[[0], [1], [1, '_']]"},
	{"1.1a1", "[[0], [1], [1, 'a', 1]]"},
	{"1.1.dev1", "[[0], [1], [1], [0, 'DEV', 1]]"},
	{"1.1.a1", "[[0], [1], [1], [0, 'a', 1]]"},
	{"1.1", "[[0], [1], [1]]"},
	{"1.1.post1", "[[0], [1], [1], [0, inf, 1]]"},
	{"1.1.1dev1", "[[0], [1], [1], [1, 'DEV', 1]]"},
	{"1.1.1rc1", "[[0], [1], [1], [1, 'rc', 1]]"},
	{"1.1.1", "[[0], [1], [1], [1]]"},
	{"1.1.1post1", "[[0], [1], [1], [1, inf, 1]]"},
	{"1.1post1", "[[0], [1], [1, inf, 1]]"},
	{"2g6", "[[0], [2, 'g', 6]]"},
	{"2.0b1pr0", "[[0], [2], [0, 'b', 1, 'pr', 0]]"},
	{"2.2be.ta29", "[[0], [2], [2, 'be'], [0, 'ta', 29]]"},
	{"2.2be5ta29", "[[0], [2], [2, 'be', 5, 'ta', 29]]"},
	{"2.2beta29", "[[0], [2], [2, 'beta', 29]]"},
	{"2.2.0.1", "[[0], [2], [2], [0], [1]]"},
	{"3.1.1.6", "[[0], [3], [1], [1], [6]]"},
	{"3.2.p.r0", "[[0], [3], [2], [0, 'p'], [0, 'r', 0]]"},
	{"3.2.pr0", "[[0], [3], [2], [0, 'pr', 0]]"},
	{"3.2.pr.1", "[[0], [3], [2], [0, 'pr'], [1]]"},
	{"5.5.kw", "[[0], [5], [5], [0, 'kw']]"},
	{"11g", "[[0], [11, 'g']]"},
	{"14.3.1", "[[0], [14], [3], [1]]"},
	{"14.3.1.post26.g9d75ca2", "[[0], [14], [3], [1], [0, inf, 26], [0, 'g', 9, 'd', 75, 'ca', 2]]"},
	{"1996.07.12", "[[0], [1996], [7], [12]]"},
	{"1!0.4.1", "[[1], [0], [4], [1]]"},
	{"1!3.1.1.6", "[[1], [3], [1], [1], [6]]"},
	{"2!0.4.1", "[[2], [0], [4], [1]]"},
}

func TestVersionOrder(t *testing.T) {
	var vs []Version
	for _, c := range condaVersionOrder {
		v, err := Parse(c.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		if got := pyRepr(v); got != c.parsed {
			t.Errorf("Parse(%q) = %s, want %s", c.in, got, c.parsed)
		}
		if got, want := v.Normalized(), strings.ReplaceAll(strings.ToLower(c.in), "-", "_"); got != want {
			t.Errorf("Parse(%q).Normalized() = %q, want %q", c.in, got, want)
		}
		vs = append(vs, v)
	}
	// conda checks the list is already sorted (a stable sort keeps equal
	// neighbours, e.g. "0.4" and "0.4.0", in place).
	assertSorted(t, vs)
}

// assertSorted shuffles vs, sorts it with Compare, and expects the original
// order back, up to versions that compare equal.
func assertSorted(t *testing.T, vs []Version) {
	t.Helper()
	for i := 1; i < len(vs); i++ {
		if vs[i-1].Compare(vs[i]) > 0 {
			t.Errorf("%s > %s, want <=", vs[i-1], vs[i])
		}
		if vs[i].Compare(vs[i-1]) < 0 {
			t.Errorf("%s < %s, want >=", vs[i], vs[i-1])
		}
	}
	shuffled := slices.Clone(vs)
	r := rand.New(rand.NewSource(1))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	slices.SortStableFunc(shuffled, Version.Compare)
	for i := range vs {
		if !shuffled[i].Equal(vs[i]) {
			t.Errorf("sorted[%d] = %s, want %s", i, shuffled[i], vs[i])
		}
	}
}

func mustAll(t *testing.T, in ...string) []Version {
	t.Helper()
	out := make([]Version, len(in))
	for i, s := range in {
		v, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		out[i] = v
	}
	return out
}

func TestVersionEquality(t *testing.T) {
	// conda test_version_order "check __eq__".
	for _, c := range []struct {
		a, b string
		eq   bool
	}{
		{"0.4.1.rc", "  0.4.1.RC  ", true},
		{"  0.4.rc  ", "0.4.RC", true},
		{"0.4", "0.4.0", true},
		{"0.4", "0.4.1", false},
		{"0.4.a1", "0.4.0a1", true},
		{"0.4.a1", "0.4.1a1", false},
		// CEP 33: the local part only decides between equal main versions.
		{"0.4.1+0", "0.4.1", true},
		{"1.1.0dev1", "1.1.dev1", true},
		{"1.1.0post1", "1.1.post1", true},
		{"007", "7", true},
		{"123456789012345678901234567890", "00123456789012345678901234567890", true},
	} {
		a, b := mustAll(t, c.a, c.b)[0], mustAll(t, c.a, c.b)[1]
		if got := a.Equal(b); got != c.eq {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.eq)
		}
	}
}

func TestOpenSSLConvention(t *testing.T) {
	// conda test_version.py::test_openssl_convention, ascending.
	assertSorted(t, mustAll(t, "1.0.1dev", "1.0.1_", "1.0.1a", "1.0.1b", "1.0.1c", "1.0.1d",
		"1.0.1r", "1.0.1rc", "1.0.1rc1", "1.0.1rc2", "1.0.1s", "1.0.1", "1.0.1post.a",
		"1.0.1post.b", "1.0.1post.z", "1.0.1post.za", "1.0.2"))
}

func TestPEP440Order(t *testing.T) {
	// conda test_version.py::test_pep440 (from the PEP 440 suite), ascending.
	var in []string
	for _, epoch := range []string{"", "1!"} {
		for _, v := range []string{"1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
			"1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0c1.dev456", "1.0c1", "1.0c3",
			"1.0rc2", "1.0.dev456", "1.0", "1.0.post456.dev34", "1.0.post456", "1.1.dev1",
			"1.2.r32+123456", "1.2.rev33+123456", "1.2+abc", "1.2+abc123def", "1.2+abc123",
			"1.2+123abc", "1.2+123abc456", "1.2+1234.abc", "1.2+123456"} {
			in = append(in, epoch+v)
		}
	}
	assertSorted(t, mustAll(t, in...))
}

func TestCEP33Order(t *testing.T) {
	// The VersionOrder docstring / CEP 33 ordering, plus the local-version
	// examples of CEP 33 and conda's test_hexrd.
	assertSorted(t, mustAll(t, "0.4", "0.4.0", "0.4.1.rc", "0.4.1.RC", "0.4.1", "0.5a1", "0.5b3",
		"0.5C1", "0.5", "0.9.6", "0.960923", "1.0", "1.1dev1", "1.1_", "1.1a1", "1.1.0dev1",
		"1.1.dev1", "1.1.a1", "1.1.0rc1", "1.1.0", "1.1", "1.1.0post1", "1.1.post1", "1.1post1",
		"1996.07.12", "1!0.4.1", "1!3.1.1.6", "2!0.4.1"))
	assertSorted(t, mustAll(t, "0.4.1+local", "0.4.1", "0.4.1+0", "0.4.1+1.local"))
	assertSorted(t, mustAll(t, "0.3.0.dev", "0.3.3"))
	// conda#12568, kept by CEP 33: "1.1.0rc" == "1.1.rc" > "1.1rc".
	assertSorted(t, mustAll(t, "1.1rc", "1.1.rc", "1.1.0rc"))
	// Digit runs beyond 64 bits still order numerically.
	assertSorted(t, mustAll(t, "18446744073709551615", "18446744073709551616", "99999999999999999999", "100000000000000000000", "100000000000000000000post"))
}

func TestStartsWith(t *testing.T) {
	// conda test_version_order "check startswith".
	for _, c := range []struct {
		v, p string
		want bool
	}{
		{"0.4.1", "0", true},
		{"0.4.1", "0.4", true},
		{"0.4.1p1", "0.4", true},
		{"0.4.1p1", "0.4.1p", true},
		{"0.4.1p1", "0.4.1q1", false},
		{"0.4", "0.4.1", false},
		{"0.4.1+1.3", "0.4.1", true},
		{"0.4.1+1.3", "0.4.1+1", true},
		{"0.4.1", "0.4.1+1.3", false},
		{"0.4.1+1", "0.4.1+1.3", false},
		{"1.0", "1.0.0", true},
		{"2013ab", "2013a", true},
		{"1.0dev", "1.0d", false}, // "dev" is stored as "DEV"
	} {
		vs := mustAll(t, c.v, c.p)
		if got := vs[0].StartsWith(vs[1]); got != c.want {
			t.Errorf("%q.StartsWith(%q) = %v, want %v", c.v, c.p, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	// conda test_version_order's invalid list, test_invalid_version_specs'
	// local-separator cases, and the CEP 33 / rattler edge cases.
	for _, in := range []string{"", "  ", "3.5&1", "5.5++", "5.5..mw", "!", "a!1.0", "a!b!1.0",
		"1!2!3", "1.2+", "+1.2", "+1.2+", "++", "1.0+a+b", "1..0", ".1", "1.", "1.0+.a",
		"1-0_1", "é", "1 0", "1!"} {
		if v, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, pyRepr(v))
		} else if !strings.Contains(err.Error(), strconv.Quote(in)) {
			t.Errorf("Parse(%q) error %q does not name the input", in, err)
		}
	}
	// Accepted edge cases, with conda's parse.
	for _, c := range []struct{ in, parsed string }{
		{"1__", "[[0], [1], [0, '_']]"},
		{"1--", "[[0], [1], [0, '_']]"},
		{"_", "[[0], [0, '_']]"},
		{"1._", "[[0], [1], [0, '_']]"},
		{"1.0-", "[[0], [1], [0, '_']]"},
		{"1.2devdev", "[[0], [1], [2, 'devdev']]"},
		{"1.2postpost", "[[0], [1], [2, 'postpost']]"},
		{"00!1", "[[0], [1]]"},
	} {
		v, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := pyRepr(v); got != c.parsed {
			t.Errorf("Parse(%q) = %s, want %s", c.in, got, c.parsed)
		}
	}
}

// compareGeneral is Compare without the all-numeric shortcut.
func compareGeneral(v, o Version) int {
	if c := compareRuns(v.parts[:v.local], o.parts[:o.local]); c != 0 {
		return c
	}
	return compareRuns(v.parts[v.local:], o.parts[o.local:])
}

// TestCompareShortcut checks the all-numeric shortcut against the general
// comparison on pairs of real versions.
func TestCompareShortcut(t *testing.T) {
	var vs []Version
	for _, s := range []string{"1", "1.0", "1.0.0", "1.21.3", "1.21.10", "2", "0.0.20190712172645",
		"18446744073709551615", "1.2.3.4.5", "3.10", "3.9", "1.0a1", "1.0.post1", "1!1.0", "1.0+1"} {
		vs = append(vs, MustParse(s))
	}
	for _, a := range vs {
		for _, b := range vs {
			if got, want := a.Compare(b), compareGeneral(a, b); got != want {
				t.Errorf("Compare(%s, %s) = %d, general order says %d", a, b, got, want)
			}
		}
	}
}

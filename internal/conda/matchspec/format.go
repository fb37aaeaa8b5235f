package matchspec

import (
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/conda/version"
)

// String returns the canonical form, conda's rules (CEP 29, Appendix A):
// channel(/subdir):: before the name; an exact version as "==1.2" and a
// starts-with one as "=1.2" after it, with an exact build as "=build";
// everything else in brackets, comma-separated, quoted when needed:
//
//	conda-forge/linux-64::numpy==1.21.0=py39h_0
//	numpy=1.21[build=py39*]
//	numpy[version='>=1.21,<2']
//
// Parse(ms.String()) gives back an equal spec.
func (ms *MatchSpec) String() string {
	var b strings.Builder
	var brackets []string
	add := func(key, value string, quote bool) {
		brackets = append(brackets, key+"="+quoteValue(value, quote))
	}

	positionalChannel := ms.Channel != "" && ms.channel == nil && !strings.ContainsAny(ms.Channel, "[]#'\" ,")
	switch {
	case positionalChannel:
		b.WriteString(ms.Channel)
		if ms.Subdir != "" && slices.Contains(knownSubdirs, ms.Subdir) {
			b.WriteString("/" + ms.Subdir)
		} else if ms.Subdir != "" {
			add("subdir", ms.Subdir, false)
		}
		b.WriteString("::")
	case ms.Channel != "":
		add("channel", ms.Channel, false)
		fallthrough
	default:
		if ms.Subdir != "" {
			add("subdir", ms.Subdir, false)
		}
	}
	if ms.Name == "" {
		b.WriteString("*")
	} else {
		b.WriteString(ms.Name)
	}

	exact := false
	if ms.Version != nil {
		text := ms.Version.String()
		c, _ := ms.Version.(*version.Constraint)
		lit := ""
		if c != nil && !strings.Contains(c.Version.String(), "*") {
			lit = c.Version.String()
		} else {
			c = nil // star literals keep their written form, in brackets
		}
		switch {
		case c != nil && c.Op == version.OpEq && (text == lit || text == "=="+lit):
			b.WriteString("==" + lit)
			exact = true
		case c != nil && c.Op == version.OpStartsWith && text == lit+".*":
			b.WriteString("=" + lit)
		case c != nil && ms.Build == nil && (c.Op == version.OpNe && text == "!="+lit ||
			c.Op == version.OpNotStartsWith && text == "!="+lit+".*" ||
			c.Op == version.OpCompatible && text == "~="+lit):
			b.WriteString(text)
		default:
			if strings.HasPrefix(text, "=") {
				// Parse reads a bracket version starting with '=' as conda's
				// _sanitize_version_str does; parentheses keep it as is.
				text = "(" + text + ")"
			}
			add("version", text, true)
		}
	}
	if ms.Build != nil {
		if exact && ms.Build.IsExact() && isPositionalBuild(ms.Build.String()) {
			b.WriteString("=" + ms.Build.String())
		} else {
			add("build", ms.Build.String(), false)
		}
	}
	if ms.BuildNumber != nil {
		add("build_number", ms.BuildNumber.String(), false)
	}
	for _, kv := range []struct{ key, value string }{
		{"track_features", strings.Join(ms.TrackFeatures, " ")},
		{"features", strings.Join(ms.Features, " ")},
		{"url", ms.URL},
		{"md5", ms.MD5},
		{"sha256", ms.SHA256},
		{"license", globText(ms.License)},
		{"license_family", globText(ms.LicenseFamily)},
		{"fn", ms.Filename},
	} {
		if kv.value != "" {
			add(kv.key, kv.value, false)
		}
	}
	if len(ms.Extras) > 0 {
		brackets = append(brackets, "extras=["+strings.Join(ms.Extras, ",")+"]")
	}
	if len(ms.Flags) > 0 {
		brackets = append(brackets, "flags=["+strings.Join(ms.Flags, ",")+"]")
	}
	if ms.When != "" {
		add("when", ms.When, false)
	}
	if len(brackets) > 0 {
		b.WriteString("[" + strings.Join(brackets, ",") + "]")
	}
	return b.String()
}

func globText(g *Glob) string {
	if g == nil {
		return ""
	}
	return g.String()
}

// isPositionalBuild reports whether a build string reads back unchanged
// after "name==version=": no separator, operator or special character.
func isPositionalBuild(b string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '+' || c == '!') {
			return false
		}
	}
	return b != ""
}

// quoteValue quotes a bracket value when it needs it (always for versions
// with operators, as conda does), with single quotes unless the value holds
// one.
func quoteValue(v string, isVersion bool) string {
	need := strings.ContainsAny(v, ", =[]'\"") || isVersion && strings.ContainsAny(v, "><$^|,")
	if !need {
		return v
	}
	if strings.IndexByte(v, '\'') >= 0 {
		return `"` + v + `"`
	}
	return "'" + v + "'"
}

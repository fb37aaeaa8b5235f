package sbom

import (
	"maps"
	"slices"
	"strings"
)

// purl is a package URL (github.com/package-url/purl-spec):
// pkg:type/namespace/name@version?qualifiers, each part percent-encoded,
// qualifiers sorted by key and empty ones left out.
func purl(typ, namespace, name, version string, qualifiers map[string]string) string {
	var b strings.Builder
	b.WriteString("pkg:" + typ + "/")
	if namespace != "" {
		for _, seg := range strings.Split(namespace, "/") {
			b.WriteString(purlEscape(seg) + "/")
		}
	}
	b.WriteString(purlEscape(name))
	if version != "" {
		b.WriteString("@" + purlEscape(version))
	}
	sep := "?"
	for _, k := range slices.Sorted(maps.Keys(qualifiers)) {
		if v := qualifiers[k]; v != "" {
			b.WriteString(sep + k + "=" + purlEscape(v))
			sep = "&"
		}
	}
	return b.String()
}

// purlEscape percent-encodes everything but the unreserved characters,
// which every purl parser decodes back to the same string.
func purlEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// pypiName is a PyPI project name as the purl spec's pypi type wants it:
// lower-cased, "_" as "-".
func pypiName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

package spec

import "strings"

// ValidMavenName says whether s can be a Maven group segment, artifact,
// version or classifier as envkit resolves them: letters, digits and
// ._-+, not starting with '.', '-' or '+' (so never "." or ".."). The
// parts become repository URL paths and jar file names, where a '/' or
// ".." would leave the repository layout or the jar directory.
func ValidMavenName(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '-' || s[0] == '+' {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._-+", r)) {
			return false
		}
	}
	return true
}

// ValidMavenGroup is a group of dot-separated ValidMavenName segments.
func ValidMavenGroup(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if !ValidMavenName(seg) {
			return false
		}
	}
	return true
}

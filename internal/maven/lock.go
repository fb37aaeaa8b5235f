package maven

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/spec"
)

// CustomPrefix starts the conda-lock custom_metadata keys that hold Spark
// pins. conda-lock v1 has no package kind for Maven jars (its readers take
// manager conda or pip), but keeps custom_metadata as string pairs, so the
// jars travel there: "spark-jar:GROUP:ARTIFACT:VERSION[:CLASSIFIER]" ->
// "URL#sha256=HEX".
const CustomPrefix = "spark-jar:"

// ToCustom adds the jars to a lock's custom_metadata map (creating it when
// nil), replacing earlier Spark pins.
func ToCustom(custom map[string]string, jars []Jar) map[string]string {
	if custom == nil {
		custom = map[string]string{}
	}
	maps.DeleteFunc(custom, func(k, _ string) bool { return strings.HasPrefix(k, CustomPrefix) })
	for _, j := range jars {
		key := CustomPrefix + j.String()
		if j.Classifier != "" {
			key += ":" + j.Classifier
		}
		custom[key] = j.URL + "#sha256=" + j.SHA256
	}
	return custom
}

// FromCustom reads the jars back, sorted by coordinate.
func FromCustom(custom map[string]string) ([]Jar, error) {
	var out []Jar
	for _, k := range slices.Sorted(maps.Keys(custom)) {
		rest, ok := strings.CutPrefix(k, CustomPrefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, ":")
		if len(parts) != 3 && len(parts) != 4 {
			return nil, fmt.Errorf("custom_metadata %q: want %sgroup:artifact:version[:classifier]", k, CustomPrefix)
		}
		url, sha, ok := strings.Cut(custom[k], "#sha256=")
		if !ok || len(sha) != 64 || url == "" {
			return nil, fmt.Errorf("custom_metadata %q: want URL#sha256=HEX, got %q", k, custom[k])
		}
		j := Jar{Coordinate: Coordinate{parts[0], parts[1], parts[2]}, URL: url, SHA256: sha}
		if len(parts) == 4 {
			j.Classifier = parts[3]
		}
		if err := j.check(); err != nil {
			return nil, fmt.Errorf("custom_metadata %q: %w", k, err)
		}
		if j.Classifier != "" && !spec.ValidMavenName(j.Classifier) {
			return nil, fmt.Errorf("custom_metadata %q: classifier %q: want letters, digits and ._-+", k, j.Classifier)
		}
		out = append(out, j)
	}
	return out, nil
}

// Package maven resolves Spark packages: Maven coordinates and their
// transitive dependencies read from POMs over the definition's
// repositories, with Maven's nearest-wins mediation, and pins every jar by
// sha256.
package maven

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/envkit/envkit/internal/spec"
)

// Coordinate is groupId:artifactId:version.
type Coordinate struct {
	Group, Artifact, Version string
}

func (c Coordinate) String() string { return c.Group + ":" + c.Artifact + ":" + c.Version }

// key is the coordinate without its version: what mediation compares.
func (c Coordinate) key() string { return c.Group + ":" + c.Artifact }

// ParseCoordinate reads "group:artifact:version".
func ParseCoordinate(s string) (Coordinate, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Coordinate{}, fmt.Errorf("maven coordinate %q: want group:artifact:version", s)
	}
	c := Coordinate{parts[0], parts[1], parts[2]}
	if err := c.check(); err != nil {
		return Coordinate{}, fmt.Errorf("maven coordinate %q: %w", s, err)
	}
	return c, nil
}

// check refuses coordinates that could not name a file of a repository
// layout: the parts become URL path segments and jar file names (in the
// image and under envkit create's prefix), so a "/" or ".." from a
// definition, a lock or a repository's POM must not reach them.
func (c Coordinate) check() error {
	if !spec.ValidMavenGroup(c.Group) {
		return fmt.Errorf("group %q: want dot-separated names of letters, digits and _-+", c.Group)
	}
	if !spec.ValidMavenName(c.Artifact) {
		return fmt.Errorf("artifact %q: want letters, digits and ._-+", c.Artifact)
	}
	if !spec.ValidMavenName(c.Version) {
		return fmt.Errorf("version %q: want letters, digits and ._-+", c.Version)
	}
	return nil
}

// path is the repository layout directory of the coordinate.
func (c Coordinate) path() string {
	return strings.ReplaceAll(c.Group, ".", "/") + "/" + c.Artifact + "/" + c.Version + "/"
}

// pom holds the POM fields resolution reads.
type pom struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Packaging  string `xml:"packaging"`
	Parent     *struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
		Version    string `xml:"version"`
	} `xml:"parent"`
	Properties struct {
		Entries []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"properties"`
	DependencyManagement struct {
		Dependencies []dependency `xml:"dependencies>dependency"`
	} `xml:"dependencyManagement"`
	Dependencies []dependency `xml:"dependencies>dependency"`
	// Licenses are the names of the POM's licences (any one applies).
	Licenses []string `xml:"licenses>license>name"`
}

type dependency struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Type       string `xml:"type"`
	Classifier string `xml:"classifier"`
	Scope      string `xml:"scope"`
	Optional   string `xml:"optional"`
	Exclusions []struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
	} `xml:"exclusions>exclusion"`
}

func parsePOM(data []byte) (*pom, error) {
	var p pom
	if err := xml.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

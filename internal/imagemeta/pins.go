package imagemeta

import (
	"encoding/json"
	"slices"
	"strings"
)

// LabelPins holds the pins of an image's pip packages and Spark jars
// (Pins, JSON): what the lock says of them and the image's files do not
// (a wheel's archive sha256 and URL, the edges between wheels, a jar's
// URL), so that an image's SBOM is its definition and lock's. Conda
// packages need none: their conda-meta records carry their pins.
const LabelPins = "dev.envkit.pins"

// Pins are the label's content.
type Pins struct {
	Pip  []PipPin `json:"pip,omitempty"`
	Jars []JarPin `json:"jars,omitempty"`
}

// PipPin is one installed wheel as locked.
type PipPin struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	URL     string   `json:"url"`
	SHA256  string   `json:"sha256"`
	Depends []string `json:"depends,omitempty"`
}

// JarPin is one precached jar as locked: group:artifact:version, its
// classifier, where it came from.
type JarPin struct {
	Coordinate string `json:"coordinate"`
	Classifier string `json:"classifier,omitempty"`
	URL        string `json:"url"`
	SHA256     string `json:"sha256"`
}

// Encode is the label value: sorted, compact, the same for the same pins;
// "" for none.
func (p Pins) Encode() string {
	if len(p.Pip) == 0 && len(p.Jars) == 0 {
		return ""
	}
	p.Pip = slices.Clone(p.Pip)
	slices.SortFunc(p.Pip, func(a, b PipPin) int { return strings.Compare(a.Name, b.Name) })
	p.Jars = slices.Clone(p.Jars)
	slices.SortFunc(p.Jars, func(a, b JarPin) int {
		return strings.Compare(a.Coordinate+" "+a.Classifier, b.Coordinate+" "+b.Classifier)
	})
	b, _ := json.Marshal(p) // strings and slices only: cannot fail
	return string(b)
}

// DecodePins reads a label value; no label gives no pins.
func DecodePins(label string) (Pins, error) {
	var p Pins
	if label == "" {
		return p, nil
	}
	err := json.Unmarshal([]byte(label), &p)
	return p, err
}

package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/credentials"
)

// Inputs are what determines a solve besides the channels' contents: a
// lock whose content_hash differs from ContentHash of the current inputs
// is stale.
type Inputs struct {
	// Channels in priority order, as written in the definition (names or
	// URLs; mirrors and the channel alias are transport, not identity).
	Channels []string
	// Specs are the conda MatchSpecs asked for; order does not matter.
	Specs []string
	// PipSpecs are the pip requirement lines; order does not matter.
	PipSpecs []string
	// VirtualOverrides are the CONDA_OVERRIDE_* settings as "NAME=value"
	// (virtual.Overrides); order does not matter.
	VirtualOverrides []string
	// Spark is the definition's spark section; nil when it names no
	// packages.
	Spark *SparkInputs
}

// SparkInputs are what the Spark pins and spark-defaults.conf follow from.
type SparkInputs struct {
	// Packages are Maven coordinates (group:artifact:version); order does
	// not matter.
	Packages []string
	// Repositories are searched in order, so their order is hashed.
	Repositories []string
	Precache     bool
}

// hashVersion changes whenever the hashed document changes meaning, so a
// new envkit never takes an old hash for a match by accident.
const hashVersion = 1

// ContentHash is the hex sha256 of a canonical JSON document of the
// inputs and the platform: channels in order, the spec lists trimmed,
// inner whitespace collapsed, sorted and deduplicated. docs/lock.md shows
// the document. A "spark" member is present only when the definition has
// Spark packages, so the hashes of definitions without them are the ones
// earlier versions wrote. URLs count without their credentials: a new
// token does not stale the lock, and the hash says nothing of it.
func ContentHash(in Inputs, platform string) string {
	type sparkDoc struct {
		Packages     []string `json:"packages"`
		Repositories []string `json:"repositories"`
		Precache     bool     `json:"precache"`
	}
	doc := struct {
		Version  int       `json:"envkit-lock-inputs"`
		Platform string    `json:"platform"`
		Channels []string  `json:"channels"`
		Specs    []string  `json:"specs"`
		Pip      []string  `json:"pip"`
		Virtual  []string  `json:"virtual"`
		Spark    *sparkDoc `json:"spark,omitempty"`
	}{
		Version:  hashVersion,
		Platform: platform,
		Channels: normalise(bases(in.Channels), false),
		Specs:    normalise(in.Specs, true),
		Pip:      normalise(in.PipSpecs, true),
		Virtual:  normalise(in.VirtualOverrides, true),
	}
	if in.Spark != nil && len(in.Spark.Packages) > 0 {
		doc.Spark = &sparkDoc{
			Packages:     normalise(in.Spark.Packages, true),
			Repositories: normalise(in.Spark.Repositories, false),
			Precache:     in.Spark.Precache,
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		panic(err) // strings and ints always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// bases are channel URLs without their credentials, a last /t/<token>
// included (credentials.StripBase).
func bases(channels []string) []string {
	out := make([]string, len(channels))
	for i, c := range channels {
		if out[i] = credentials.StripBase(c); out[i] == "" {
			out[i] = c
		}
	}
	return out
}

func normalise(ss []string, set bool) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		fields := strings.Fields(s)
		for i, f := range fields {
			if bare := credentials.Strip(f); bare != "" {
				fields[i] = bare
			}
		}
		if s = strings.Join(fields, " "); s != "" {
			out = append(out, s)
		}
	}
	if set {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// Current reports whether the lock covers platform with inputs in.
func (l *Lock) Current(in Inputs, platform string) bool {
	return l.Metadata.ContentHash[platform] == ContentHash(in, platform)
}

package gitctx

import (
	"maps"
	"strings"
)

// CustomPrefix starts the custom_metadata key of a lock entry pinning a
// git context's branch or tag: "git-context:<remote>#<ref>" → commit. The
// key leaves out the subdirectory: one ref is one commit for every
// context read from it.
const CustomPrefix = "git-context:"

func (r Ref) key() string { return CustomPrefix + r.Remote + "#" + r.Ref }

// Pin returns the commit r is built from: the one its URL names, else the
// one a lock's custom_metadata records for its remote and ref; "" when
// neither does (the CLI then resolves the ref, BuildKit resolves it in a
// build without a lock).
func (r Ref) Pin(custom map[string]string) string {
	switch {
	case r.Commit != "":
		return r.Commit
	case IsCommit(r.Ref):
		return r.Ref
	}
	return custom[r.key()]
}

// Record returns custom with the git pins replaced by pins (key → commit,
// as Fetcher.Pins gives them). With no pins and no custom it stays nil,
// so a lock without git contexts keeps its bytes.
func Record(custom, pins map[string]string) map[string]string {
	if custom == nil && len(pins) == 0 {
		return nil
	}
	out := maps.Clone(custom)
	if out == nil {
		out = map[string]string{}
	}
	maps.DeleteFunc(out, func(k, _ string) bool { return strings.HasPrefix(k, CustomPrefix) })
	maps.Copy(out, pins)
	if len(out) == 0 {
		return nil
	}
	return out
}

// Pinned returns the git pins of a lock's custom_metadata.
func Pinned(custom map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range custom {
		if strings.HasPrefix(k, CustomPrefix) {
			out[k] = v
		}
	}
	return out
}

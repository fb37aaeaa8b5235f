package matchspec

import (
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/version"
)

// defaultsChannels are the canonical URLs conda's "defaults" stands for.
var defaultsChannels = []string{
	"https://repo.anaconda.com/pkgs/main",
	"https://repo.anaconda.com/pkgs/r",
	"https://repo.anaconda.com/pkgs/msys2",
	"https://repo.anaconda.com/pkgs/free",
}

// Matches reports whether r satisfies every field of the spec. It parses
// r.Version; callers matching many specs against the same records should
// parse versions once and use MatchesParsed.
func (ms *MatchSpec) Matches(r *repodata.Record) bool {
	if ms.Version == nil {
		return ms.matchesFields(r)
	}
	v, err := version.Parse(r.Version)
	if err != nil {
		return false // no version spec can hold for a version conda rejects
	}
	return ms.MatchesParsed(r, v)
}

// MatchesParsed is Matches with r.Version already parsed as v.
func (ms *MatchSpec) MatchesParsed(r *repodata.Record, v version.Version) bool {
	if !ms.MatchesName(r.Name) {
		return false
	}
	if ms.Version != nil && !ms.Version.Matches(v) {
		return false
	}
	return ms.matchesFields(r)
}

// MatchesName reports whether the spec's name (or name glob) accepts name;
// an empty Name, as in a MatchSpec built by hand, accepts any.
func (ms *MatchSpec) MatchesName(name string) bool {
	switch {
	case ms.name != nil:
		return ms.name.Matches(name)
	case ms.Name == "*" || ms.Name == "":
		return true
	}
	return ms.Name == name
}

// matchesFields checks everything but the version.
func (ms *MatchSpec) matchesFields(r *repodata.Record) bool {
	switch {
	case !ms.MatchesName(r.Name),
		ms.Build != nil && !ms.Build.Matches(r.Build),
		ms.BuildNumber != nil && !ms.BuildNumber.Matches(r.BuildNumber),
		ms.Subdir != "" && ms.Subdir != r.Subdir,
		ms.MD5 != "" && ms.MD5 != r.MD5,
		ms.SHA256 != "" && ms.SHA256 != r.SHA256,
		ms.URL != "" && ms.URL != r.URL,
		ms.Filename != "" && ms.Filename != r.Filename,
		ms.License != nil && !ms.License.Matches(r.License),
		ms.LicenseFamily != nil && !ms.LicenseFamily.Matches(r.LicenseFamily),
		ms.TrackFeatures != nil && !sameSet(ms.TrackFeatures, r.TrackFeatures),
		ms.Features != nil && !sameSet(ms.Features, featureSet(r.Features)),
		ms.Channel != "" && !ms.MatchesChannel(r.Channel):
		return false
	}
	return true
}

// MatchesChannel reports whether the spec's channel accepts a record from
// the channel with canonical URL channelURL. A URL must be equal; a name
// matches the URL's trailing path ("conda-forge" matches
// https://conda.anaconda.org/conda-forge and any mirror or local directory
// named conda-forge), "defaults" matches Anaconda's default channels, a glob
// matches the URL or any trailing part of its path.
func (ms *MatchSpec) MatchesChannel(channelURL string) bool {
	if ms.Channel == "" {
		return true
	}
	channelURL = strings.TrimRight(channelURL, "/")
	switch {
	case ms.channel != nil:
		return ms.channel.Matches(channelURL)
	case strings.Contains(ms.Channel, "://"):
		return strings.TrimRight(ms.Channel, "/") == channelURL
	case ms.Channel == "defaults":
		return slices.Contains(defaultsChannels, channelURL) || channelURL == "defaults"
	}
	return channelURL == ms.Channel || strings.HasSuffix(channelURL, "/"+ms.Channel)
}

// sameSet compares a sorted, de-duplicated set with a record's list.
func sameSet(set, list []string) bool {
	if len(list) == 0 {
		return len(set) == 0
	}
	other := featureSet(strings.Join(list, ","))
	return slices.Equal(set, other)
}

// Package repodata holds conda package records and reads repodata.json
// (CEP 36) into them.
package repodata

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Record is one package as described by a channel's repodata, plus where it
// came from. It is the unit the solver chooses, the lock pins and the
// installer links.
type Record struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Build         string   `json:"build"`
	BuildNumber   int64    `json:"build_number"`
	Depends       []string `json:"depends,omitempty"`
	Constrains    []string `json:"constrains,omitempty"`
	TrackFeatures []string `json:"track_features,omitempty"`
	Features      string   `json:"features,omitempty"`
	License       string   `json:"license,omitempty"`
	LicenseFamily string   `json:"license_family,omitempty"`
	MD5           string   `json:"md5,omitempty"`
	SHA256        string   `json:"sha256,omitempty"`
	Size          int64    `json:"size,omitempty"`
	Subdir        string   `json:"subdir,omitempty"`
	// Timestamp is in milliseconds since the epoch (values in seconds are
	// converted on read, as conda does).
	Timestamp int64 `json:"timestamp,omitempty"`
	// Noarch is "", "generic" or "python".
	Noarch string `json:"noarch,omitempty"`

	// Filename is the archive's file name (the repodata key).
	Filename string `json:"fn,omitempty"`
	// URL is the archive's full download URL.
	URL string `json:"url,omitempty"`
	// Channel is the canonical channel URL (without subdir) the record came from.
	Channel string `json:"channel,omitempty"`
}

// String is name-version-build, conda's usual display form.
func (r *Record) String() string { return r.Name + "-" + r.Version + "-" + r.Build }

// TimestampMillis normalises a repodata timestamp to milliseconds:
// values before 2^40 ms (year 2004) can only be seconds.
func TimestampMillis(ts float64) int64 {
	ms := int64(ts)
	if ms > 0 && ms < 1<<40 {
		ms *= 1000
	}
	return ms
}

// SplitFeatures splits a track_features string, which separates features
// by commas or spaces (conda's _FeaturesField).
func SplitFeatures(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' })
}

// rawRecord mirrors the JSON encodings seen in real repodata: noarch as a
// bool or string, track_features as a string or list, timestamps in
// seconds or milliseconds.
type rawRecord struct {
	Name          string          `json:"name"`
	Version       string          `json:"version"`
	Build         string          `json:"build"`
	BuildNumber   int64           `json:"build_number"`
	Depends       []string        `json:"depends"`
	Constrains    []string        `json:"constrains"`
	TrackFeatures json.RawMessage `json:"track_features"`
	Features      string          `json:"features"`
	License       string          `json:"license"`
	LicenseFamily string          `json:"license_family"`
	MD5           string          `json:"md5"`
	SHA256        string          `json:"sha256"`
	Size          int64           `json:"size"`
	Subdir        string          `json:"subdir"`
	Timestamp     float64         `json:"timestamp"`
	Noarch        json.RawMessage `json:"noarch"`
	Filename      string          `json:"fn"`
	URL           string          `json:"url"`
	Channel       string          `json:"channel"`
}

// UnmarshalJSON accepts the variants found in real repodata.
func (r *Record) UnmarshalJSON(b []byte) error {
	var raw rawRecord
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	rec, err := raw.record()
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// record normalises the JSON variants into a Record.
func (raw *rawRecord) record() (Record, error) {
	r := Record{
		Name: raw.Name, Version: raw.Version, Build: raw.Build, BuildNumber: raw.BuildNumber,
		Depends: raw.Depends, Constrains: raw.Constrains, Features: raw.Features,
		License: raw.License, LicenseFamily: raw.LicenseFamily, MD5: raw.MD5, SHA256: raw.SHA256,
		Size: raw.Size, Subdir: raw.Subdir, Filename: raw.Filename, URL: raw.URL, Channel: raw.Channel,
	}
	r.Timestamp = TimestampMillis(raw.Timestamp)
	if len(raw.TrackFeatures) > 0 && string(raw.TrackFeatures) != "null" {
		var s string
		var list []string
		switch {
		case json.Unmarshal(raw.TrackFeatures, &s) == nil:
			r.TrackFeatures = SplitFeatures(s)
		case json.Unmarshal(raw.TrackFeatures, &list) == nil:
			r.TrackFeatures = list
		default:
			return Record{}, fmt.Errorf("track_features: unexpected value %s", raw.TrackFeatures)
		}
	}
	if len(raw.Noarch) > 0 && string(raw.Noarch) != "null" {
		var s string
		var b bool
		switch {
		case json.Unmarshal(raw.Noarch, &s) == nil:
			r.Noarch = s
		case json.Unmarshal(raw.Noarch, &b) == nil:
			if b {
				r.Noarch = "generic"
			}
		default:
			return Record{}, fmt.Errorf("noarch: unexpected value %s", raw.Noarch)
		}
	}
	return r, nil
}

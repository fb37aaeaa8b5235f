// Package shards reads and writes CEP 16 sharded repodata: a subdir's
// index, repodata_shards.msgpack.zst (package name → sha256 of its
// shard), and one <sha256 hex>.msgpack.zst shard per package name
// holding that name's records. A shard is content-addressed: its bytes
// are checked against the index's sha256 before anything is decoded,
// and a cached shard is never fetched again.
package shards

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// IndexFile is the index's file name in a subdir.
const IndexFile = "repodata_shards.msgpack.zst"

// Version is the index version this package reads and writes.
const Version = 1

// MaxIndex bounds a decompressed index: conda-forge's linux-64 (about
// 25,000 names, 36 bytes of name and hash each) is under 2 MB.
const MaxIndex = 256 << 20

// MaxShard bounds a decompressed shard: conda-forge's largest (names
// with thousands of builds) are a few MB.
const MaxShard = 128 << 20

// Sum is a shard's sha256: its name and its checksum.
type Sum [32]byte

// String is the lower-case hex form used in shard file names.
func (s Sum) String() string { return hex.EncodeToString(s[:]) }

// File is the shard's file name, <sha256 hex>.msgpack.zst.
func (s Sum) File() string { return s.String() + ".msgpack.zst" }

// Index is a subdir's shard index.
type Index struct {
	Version int
	Info    Info
	// Shards maps each package name to its shard's sha256.
	Shards map[string]Sum
}

// Info is the index's "info" map, the parts envkit uses.
type Info struct {
	// BaseURL is where the archives live, absolute or relative to the
	// index's URL; "" is the index's directory.
	BaseURL string
	// ShardsBaseURL is where the shards live, likewise; "" is the
	// index's directory.
	ShardsBaseURL string
	Subdir        string
	// CreatedAt is an RFC 3339 time, when the writer gives one.
	CreatedAt string
}

// Shard is one package name's records, not yet placed (see
// repodata.Place): Filename set from the keys, URL and Channel as the
// shard states them (usually not at all).
type Shard struct {
	// Packages are the .tar.bz2 records, Conda the .conda ones.
	Packages []repodata.Record
	Conda    []repodata.Record
	// Removed lists the filenames the channel withdrew.
	Removed []string
}

// DecodeIndex reads a repodata_shards.msgpack.zst.
func DecodeIndex(zst []byte) (*Index, error) {
	data, err := fetch.Decompress(bytes.NewReader(zst), fetch.Zstd, MaxIndex)
	if err != nil {
		return nil, err
	}
	return parseIndex(data)
}

// parseIndex reads the msgpack of an index.
func parseIndex(data []byte) (*Index, error) {
	r := newReader(data)
	ix := &Index{Shards: map[string]Sum{}}
	n, err := r.mapLen("index")
	for i := 0; err == nil && i < n; i++ {
		var key string
		if key, err = r.str("index key"); err != nil {
			break
		}
		switch key {
		case "version":
			var v int64
			v, err = r.integer("version")
			ix.Version = int(v)
			if err == nil && v > Version {
				err = fmt.Errorf("index version %d: envkit reads version %d (CEP 16)", v, Version)
			}
		case "info":
			err = r.info(&ix.Info)
		case "shards":
			err = r.shardSums(ix.Shards)
		default:
			err = r.skip(1)
		}
	}
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, fmt.Errorf("shard index: %w", err)
	}
	return ix, nil
}

func (r *reader) info(info *Info) error {
	n, err := r.mapLen("info")
	for i := 0; err == nil && i < n; i++ {
		var key string
		if key, err = r.str("info key"); err != nil {
			break
		}
		switch key {
		case "base_url":
			info.BaseURL, err = r.str("info.base_url")
		case "shards_base_url":
			info.ShardsBaseURL, err = r.str("info.shards_base_url")
		case "subdir":
			info.Subdir, err = r.str("info.subdir")
		case "created_at":
			if c, _ := r.peek(); msgpcode.IsString(c) {
				info.CreatedAt, err = r.str("info.created_at")
			} else {
				err = r.skip(1)
			}
		default:
			err = r.skip(1)
		}
	}
	return err
}

func (r *reader) shardSums(into map[string]Sum) error {
	n, err := r.mapLen("shards")
	for i := 0; err == nil && i < n; i++ {
		var name, sum string
		if name, err = r.str("shards key"); err != nil {
			break
		}
		if sum, err = r.digest("shards."+name, sha256.Size); err != nil {
			break
		}
		if sum == "" {
			return fmt.Errorf("shards.%s: no sha256", name)
		}
		var s Sum
		hex.Decode(s[:], []byte(sum))
		into[name] = s
	}
	return err
}

// ChecksumError is a shard whose bytes are not the ones its index names.
type ChecksumError struct {
	Want, Got Sum
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("sha256 %s, the index says %s: the shard is damaged or was replaced", e.Got, e.Want)
}

// DecodeShard checks that zst has the sha256 want, then decompresses
// (at most MaxShard bytes) and reads it. Nothing of a shard that does
// not match is decompressed.
func DecodeShard(zst []byte, want Sum) (*Shard, error) {
	if got := Sum(sha256.Sum256(zst)); got != want {
		return nil, &ChecksumError{Want: want, Got: got}
	}
	data, err := fetch.Decompress(bytes.NewReader(zst), fetch.Zstd, MaxShard)
	if err != nil {
		return nil, err
	}
	return parseShard(data)
}

// parseShard reads the msgpack of a shard.
func parseShard(data []byte) (*Shard, error) {
	r := newReader(data)
	s := &Shard{}
	n, err := r.mapLen("shard")
	for i := 0; err == nil && i < n; i++ {
		var key string
		if key, err = r.str("shard key"); err != nil {
			break
		}
		switch key {
		case "packages":
			s.Packages, err = r.records("packages", s.Packages)
		case "packages.conda":
			s.Conda, err = r.records("packages.conda", s.Conda)
		case "removed":
			var list []string
			list, err = r.strList("removed")
			s.Removed = append(s.Removed, list...)
		default:
			err = r.skip(1)
		}
	}
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// records reads a filename → record map.
func (r *reader) records(what string, into []repodata.Record) ([]repodata.Record, error) {
	n, err := r.mapLen(what)
	for i := 0; err == nil && i < n; i++ {
		var fn string
		if fn, err = r.str(what + " key"); err != nil {
			break
		}
		if !repodata.IsArchiveName(fn) {
			return nil, fmt.Errorf("%s: key %q is not a package filename (.tar.bz2 or .conda)", what, fn)
		}
		var rec repodata.Record
		var newer bool
		if rec, newer, err = r.record(); err != nil {
			return nil, fmt.Errorf("%s: package %s: %w", what, fn, err)
		}
		if newer {
			// As repodata.json's readers and conda: a record_version
			// above 1 announces fields this reader may misread.
			continue
		}
		rec.Filename = fn
		into = append(into, rec)
	}
	return into, err
}

// record reads one package record with the normalisations of
// repodata.json's readers (timestamps in seconds, track_features as a
// string, noarch as a boolean). newer reports a record_version above 1.
func (r *reader) record() (rec repodata.Record, newer bool, err error) {
	n, err := r.mapLen("record")
	for i := 0; err == nil && i < n; i++ {
		var k []byte
		if k, err = r.raw("record key", false); err != nil {
			break
		}
		// A switch on string(k) compares without allocating.
		switch string(k) {
		case "record_version":
			var v int64
			v, err = r.integer("record_version")
			newer = v > 1
		case "name":
			rec.Name, err = r.interned("name")
		case "version":
			rec.Version, err = r.interned("version")
		case "build":
			rec.Build, err = r.str("build")
		case "build_number":
			rec.BuildNumber, err = r.integer("build_number")
		case "depends":
			rec.Depends, err = r.strList("depends")
		case "constrains":
			rec.Constrains, err = r.strList("constrains")
		case "track_features":
			rec.TrackFeatures, err = r.trackFeatures()
		case "features":
			rec.Features, err = r.interned("features")
		case "license":
			rec.License, err = r.interned("license")
		case "license_family":
			rec.LicenseFamily, err = r.interned("license_family")
		case "md5":
			rec.MD5, err = r.digest("md5", 16)
		case "sha256":
			rec.SHA256, err = r.digest("sha256", sha256.Size)
		case "size":
			rec.Size, err = r.integer("size")
		case "subdir":
			rec.Subdir, err = r.interned("subdir")
		case "timestamp":
			var ts float64
			ts, err = r.number("timestamp")
			rec.Timestamp = repodata.TimestampMillis(ts)
		case "noarch":
			rec.Noarch, err = r.noarch()
		case "fn":
			// The key names the file; a record's own fn is ignored, as
			// repodata.json's readers overwrite it with the key.
			err = r.skip(1)
		case "url":
			rec.URL, err = r.str("url")
		case "channel":
			rec.Channel, err = r.interned("channel")
		default:
			err = r.skip(1)
		}
	}
	return rec, newer, err
}

func (r *reader) trackFeatures() ([]string, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if msgpcode.IsString(c) {
		s, err := r.str("track_features")
		return repodata.SplitFeatures(s), err
	}
	return r.strList("track_features")
}

// noarch reads "generic"/"python", a legacy boolean (true is generic)
// or nil.
func (r *reader) noarch() (string, error) {
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	switch {
	case c == msgpcode.True:
		r.in.ReadByte()
		return "generic", nil
	case c == msgpcode.False:
		r.in.ReadByte()
		return "", nil
	}
	return r.interned("noarch")
}

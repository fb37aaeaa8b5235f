package shards

import (
	"fmt"
	"net/url"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
)

// Subdir is a channel subdir read through its shard index: where its
// shards are and how their records are placed. It does no I/O: the
// Fetcher, or a BuildKit frontend fetching shards as checksummed
// sources, supplies the bytes.
type Subdir struct {
	Channel channel.Channel
	// Name is the subdir ("linux-64", "noarch").
	Name  string
	Index *Index
	// URL is the index's URL.
	URL    string
	shards *url.URL      // where shard files live, ending in "/"
	info   repodata.Info // subdir and base_url for placing records
}

// NewSubdir is the subdir of ch whose index ix was read from indexURL
// (<location>/<subdir>/repodata_shards.msgpack.zst).
func NewSubdir(ch channel.Channel, subdir, indexURL string, ix *Index) (*Subdir, error) {
	sd := &Subdir{Channel: ch, Name: subdir, Index: ix, URL: indexURL,
		info: repodata.Info{Subdir: ix.Info.Subdir, BaseURL: ix.Info.BaseURL}}
	if sd.info.Subdir == "" {
		sd.info.Subdir = subdir
	}
	base, err := url.Parse(indexURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sd.where(), err)
	}
	// CEP 16: shards_base_url is relative to the index ("" is its
	// directory, as conda-index's first shards have it).
	rel := ix.Info.ShardsBaseURL
	if rel == "" {
		rel = "./"
	}
	ref, err := url.Parse(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: info.shards_base_url %q: %w", sd.where(), indexURL, rel, err)
	}
	sd.shards = base.ResolveReference(ref)
	if p := sd.shards.Path; p == "" || p[len(p)-1] != '/' {
		sd.shards.Path += "/"
	}
	return sd, nil
}

// where names the subdir in errors.
func (sd *Subdir) where() string {
	return fmt.Sprintf("channel %s, subdir %s", sd.Channel.Name, sd.Name)
}

// ShardURL is where the shard of sum is fetched from.
func (sd *Subdir) ShardURL(sum Sum) string {
	return sd.shards.JoinPath(sum.File()).String()
}

// Records reads the shard of package name, zst (checked against the
// index's sha256 before anything is decompressed), into records placed
// as repodata.Parse places them: channel, subdir, URL under base_url.
func (sd *Subdir) Records(name string, zst []byte) ([]repodata.Record, error) {
	sum, ok := sd.Index.Shards[name]
	if !ok {
		return nil, fmt.Errorf("%s: package %s: not in the shard index", sd.where(), name)
	}
	s, err := DecodeShard(zst, sum)
	if err != nil {
		return nil, fmt.Errorf("%s: package %s: shard %s: %w", sd.where(), name, sum, err)
	}
	recs, err := repodata.Place(sd.Channel.URL, sd.Channel.Location, sd.info, s.Packages, s.Conda, s.Removed)
	if err != nil {
		return nil, fmt.Errorf("%s: package %s: %w", sd.where(), name, err)
	}
	return recs, nil
}

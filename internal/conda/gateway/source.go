package gateway

import (
	"context"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
)

// source is one channel subdir being read: sharded (records fetched per
// name as the closure grows) or monolithic (scanned once, decoded at the
// end), or empty (a platform subdir the channel lacks).
type source struct {
	ch     channel.Channel
	subdir string

	sharded *shards.Subdir
	got     map[string][]repodata.Record // sharded: records by name

	scan *repodata.Scan // monolithic
	url  string         // the repodata.json read, for errors
}

// open reads the subdir's shard index, else scans its repodata.json
// (.zst first over HTTP; fetch's order and cache).
func (g *Gateway) open(ctx context.Context, s *source) error {
	sd, err := g.Transport.OpenShards(ctx, s.ch, s.subdir)
	if err != nil {
		return err
	}
	if sd != nil {
		s.sharded, s.got = sd, map[string][]repodata.Record{}
		return nil
	}
	u, data, ok, err := g.Transport.RepodataJSON(ctx, s.ch, s.subdir)
	if err != nil || !ok {
		return err
	}
	if s.scan, err = repodata.ScanMirrored(s.ch.URL, s.ch.Location, s.subdir, data); err != nil {
		return fetch.Located(u, err)
	}
	s.url = u
	return nil
}

// fetch gets the shards of names (a monolithic subdir has all its
// names already).
func (g *Gateway) fetch(ctx context.Context, s *source, names []string) error {
	if s.sharded == nil {
		return nil
	}
	recs, err := g.Transport.ShardRecords(ctx, s.sharded, names)
	for name, rs := range recs {
		s.got[name] = rs
	}
	return err
}

// depends lists the depends specs of name's records in the subdir.
func (s *source) depends(name string) []string {
	if s.scan != nil {
		return s.scan.Depends(name)
	}
	var out []string
	for _, r := range s.got[name] {
		out = append(out, r.Depends...)
	}
	return out
}

// records returns the subdir's records of names (sorted), and lets go of
// what the subdir held: a monolithic file's bytes are garbage once its
// records are decoded.
func (s *source) records(names []string) ([]repodata.Record, error) {
	switch {
	case s.sharded != nil:
		var out []repodata.Record
		for _, n := range names {
			out = append(out, s.got[n]...)
		}
		s.got = nil
		return out, nil
	case s.scan != nil:
		recs, err := s.scan.Records(names)
		s.scan = nil
		if err != nil {
			return nil, fetch.Located(s.url, err)
		}
		return recs, nil
	}
	return nil, nil
}

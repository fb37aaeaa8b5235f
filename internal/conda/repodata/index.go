package repodata

import (
	"cmp"
	"slices"
	"strings"
)

// Index holds the records of several channels and subdirs for one solve,
// with the channels' priority order.
type Index struct {
	channels []string
	rank     map[string]int
	byName   map[string][]*Record
	names    []string
}

// NewIndex indexes records under the channel priority order channels
// (canonical channel URLs, highest priority first). Records of a channel
// not in the list, such as virtual packages, rank after all listed ones.
// The records are referenced, not copied: keep the slices alive and
// unchanged while the Index is in use.
func NewIndex(channels []string, records ...[]Record) *Index {
	ix := &Index{
		channels: make([]string, 0, len(channels)),
		rank:     make(map[string]int, len(channels)),
		byName:   map[string][]*Record{},
	}
	for _, c := range channels {
		c = strings.TrimRight(c, "/")
		if _, dup := ix.rank[c]; !dup {
			ix.rank[c] = len(ix.channels)
			ix.channels = append(ix.channels, c)
		}
	}
	for _, rs := range records {
		for i := range rs {
			r := &rs[i]
			ix.byName[r.Name] = append(ix.byName[r.Name], r)
		}
	}
	ix.names = make([]string, 0, len(ix.byName))
	for name, rs := range ix.byName {
		ix.names = append(ix.names, name)
		// A stable order whatever order the subdirs were loaded in.
		slices.SortFunc(rs, func(a, b *Record) int {
			return cmp.Or(
				cmp.Compare(ix.ChannelRank(a.Channel), ix.ChannelRank(b.Channel)),
				cmp.Compare(a.Subdir, b.Subdir),
				cmp.Compare(a.Filename, b.Filename),
			)
		})
	}
	slices.Sort(ix.names)
	return ix
}

// ByName returns the records of a package name, highest-priority channel
// first, then by subdir and filename. The slice is shared: do not modify it.
func (ix *Index) ByName(name string) []*Record { return ix.byName[name] }

// Names returns every package name in the index, sorted.
func (ix *Index) Names() []string { return ix.names }

// Channels returns the channel priority order given to NewIndex.
func (ix *Index) Channels() []string { return ix.channels }

// ChannelRank is the priority of a channel URL: 0 for the first channel,
// len(Channels()) for channels not listed.
func (ix *Index) ChannelRank(channel string) int {
	if r, ok := ix.rank[channel]; ok {
		return r
	}
	return len(ix.channels)
}

// Len is the number of records.
func (ix *Index) Len() int {
	n := 0
	for _, rs := range ix.byName {
		n += len(rs)
	}
	return n
}

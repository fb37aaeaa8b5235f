package matchspec

import "sync"

// Cache memoizes Parse: repodata repeats the same depends strings across
// thousands of records. The specs it returns are shared and must not be
// modified. The zero Cache is ready; it is safe for concurrent use.
type Cache struct {
	m sync.Map // string → cached
}

type cached struct {
	ms  *MatchSpec
	err error
}

// Parse is Parse, remembering the result (errors included) for s.
func (c *Cache) Parse(s string) (*MatchSpec, error) {
	if v, ok := c.m.Load(s); ok {
		e := v.(cached)
		return e.ms, e.err
	}
	ms, err := Parse(s)
	c.m.Store(s, cached{ms, err})
	return ms, err
}

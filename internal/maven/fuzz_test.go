package maven

import "testing"

// FuzzPOM: reading a POM and expanding its properties never panics or
// loops.
func FuzzPOM(f *testing.F) {
	f.Add([]byte(`<project><groupId>g</groupId><properties><a>${b}</a><b>${a}</b></properties><dependencies><dependency><groupId>${a}</groupId><artifactId>x</artifactId></dependency></dependencies></project>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePOM(data)
		if err != nil {
			return
		}
		e := &effective{props: map[string]string{}, managed: map[string]dependency{}}
		for _, entry := range p.Properties.Entries {
			e.props[entry.XMLName.Local] = entry.Value
		}
		for _, d := range p.Dependencies {
			e.apply(d)
		}
	})
}

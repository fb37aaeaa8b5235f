package repodata

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"
)

// Scan is a subdir's repodata read in two passes, so that a channel of
// hundreds of thousands of records costs memory only for the records a
// solve can reach. ScanMirrored, the first pass, keeps of each record
// only its name, its dependency specs (interned: builds repeat them) and
// where it lies in the input; Records, the second, decodes in full the
// records of the names asked for. Parse's decoder primitives do both, so
// the records are the ones ParseMirrored gives. The input is referenced,
// not copied: keep it unchanged while the Scan is in use.
type Scan struct {
	channel, location string
	data              []byte
	info              Info
	removed           []string
	// flat holds the records of conda's flat test format, decoded in
	// full (it is small); recs then index it.
	flat []Record

	strs []string         // interned names and depends specs
	ids  map[string]int32 // text → index in strs
	recs []scanned        // in input order
	deps []int32          // the depends of all records, in runs
	// byName[first[id]:first[id+1]] index the records named strs[id]:
	// one counting sort after the first pass, not a slice per name.
	first, byName []int32
}

// scanned is one record as the first pass keeps it: 16 bytes for a
// record of about 500 (repodata is at most fetch.MaxRepodata, 1 GiB).
type scanned struct {
	// at is the offset of its filename key in the input (its index in
	// flat for the flat format).
	at uint32
	// name indexes strs; deps[deps:next record's deps] are its depends.
	name, deps int32
	conda      bool // from packages.conda
}

// ScanMirrored is the first pass of ParseMirrored's reading of data: the
// whole input is checked as JSON, each record's name and depends are
// kept. Records decodes the rest; a record nothing asks for is checked
// for syntax only, not for its fields' types.
func ScanMirrored(channel, location, subdir string, data []byte) (*Scan, error) {
	if int64(len(data)) > math.MaxUint32 {
		return nil, fmt.Errorf("repodata of %d bytes: the most envkit reads is %d", len(data), uint32(math.MaxUint32))
	}
	s := &Scan{
		channel:  strings.TrimRight(channel, "/"),
		location: strings.TrimRight(location, "/"),
		data:     data,
		ids:      map[string]int32{},
		// Sized for real repodata (about 500 bytes and 6 depends a
		// record): growing by append copied 140 MB for conda-forge's
		// linux-64.
		recs: make([]scanned, 0, len(data)/256),
		deps: make([]int32, 0, len(data)/64),
	}
	if isFlat(data) {
		rd, err := parseFlat(s.channel, s.location, subdir, data)
		if err != nil {
			return nil, err
		}
		s.info, s.flat = rd.Info, rd.Records
		for i := range s.flat {
			s.recs = append(s.recs, scanned{at: uint32(i), name: s.intern([]byte(s.flat[i].Name)), deps: int32(len(s.deps))})
			for _, dep := range s.flat[i].Depends {
				s.deps = append(s.deps, s.intern([]byte(dep)))
			}
		}
		s.index()
		return s, nil
	}
	d := newDecoder(data)
	var version int
	err := d.document(&s.info, &version, &s.removed, func(isConda bool) error {
		return s.scanRecords(d, isConda)
	})
	if err != nil {
		return nil, positioned(data, err)
	}
	if s.info.Subdir == "" {
		s.info.Subdir = subdir
	}
	s.index()
	return s, nil
}

// index sorts the records by name id into first and byName.
func (s *Scan) index() {
	s.first = make([]int32, len(s.strs)+1)
	for _, r := range s.recs {
		s.first[r.name+1]++
	}
	for i := 1; i < len(s.first); i++ {
		s.first[i] += s.first[i-1]
	}
	s.byName = make([]int32, len(s.recs))
	next := slices.Clone(s.first[:len(s.strs)])
	for i, r := range s.recs {
		s.byName[next[r.name]] = int32(i)
		next[r.name]++
	}
}

// Depends returns the distinct depends specs of the records named name,
// in the order first met; none for a name the subdir lacks.
func (s *Scan) Depends(name string) []string {
	id, ok := s.ids[name]
	if !ok {
		return nil
	}
	var out []string
	seen := map[int32]bool{}
	for _, i := range s.byName[s.first[id]:s.first[id+1]] {
		end := int32(len(s.deps))
		if int(i)+1 < len(s.recs) {
			end = s.recs[i+1].deps
		}
		for _, dep := range s.deps[s.recs[i].deps:end] {
			if !seen[dep] {
				seen[dep] = true
				out = append(out, s.strs[dep])
			}
		}
	}
	return out
}

// Records decodes the records of names and places them as ParseMirrored
// does (Place): the same records ParseMirrored would give of those names.
func (s *Scan) Records(names []string) ([]Record, error) {
	want := make([]bool, len(s.strs))
	for _, n := range names {
		if id, ok := s.ids[n]; ok {
			want[id] = true
		}
	}
	var packages, conda []Record
	if s.flat != nil {
		for _, r := range s.recs {
			if want[r.name] {
				packages = append(packages, s.flat[r.at])
			}
		}
		return packages, nil
	}
	d := newDecoder(s.data)
	for _, r := range s.recs {
		if !want[r.name] {
			continue
		}
		d.pos = int(r.at)
		key, err := d.rawString()
		if err == nil {
			err = d.expect(':')
		}
		if err != nil {
			return nil, positioned(s.data, err)
		}
		fn := string(key)
		rec, err := d.record()
		if err != nil {
			return nil, positioned(s.data, fmt.Errorf("package %s: %w", fn, err))
		}
		if r.conda {
			conda = append(conda, named(fn, rec))
		} else {
			packages = append(packages, named(fn, rec))
		}
	}
	return Place(s.channel, s.location, s.info, packages, conda, s.removed)
}

// scanRecords reads a filename → record object (or null) for names and
// depends, as records does for whole records.
func (s *Scan) scanRecords(d *decoder, conda bool) error {
	if d.null() {
		return nil
	}
	return d.elements('{', '}', func() error {
		d.ws()
		at := d.pos
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		r := scanned{at: uint32(at), deps: int32(len(s.deps)), conda: conda}
		newer, err := s.scanRecord(d, &r)
		if err != nil {
			return fmt.Errorf("package %s: %w", key, err)
		}
		if newer {
			// Skipped, as records skips it.
			s.deps = s.deps[:r.deps]
			return nil
		}
		s.recs = append(s.recs, r)
		// key (the input's bytes, or its unescaped copy) is never
		// changed and archiveKey keeps nothing of it: no copy of every
		// filename.
		return archiveKey(unsafe.String(unsafe.SliceData(key), len(key)))
	})
}

// scanRecord reads one record's name and depends into r (the depends
// appended to s.deps); every other field is skipped, checked as JSON.
func (s *Scan) scanRecord(d *decoder, r *scanned) (newer bool, err error) {
	r.name = s.intern(nil)
	if d.null() {
		return false, nil
	}
	err = d.object(func(key []byte) error {
		switch string(key) {
		case "record_version":
			v, err := d.integer("record_version")
			newer = v > 1
			return err
		case "name":
			b, err := s.nullableString(d)
			r.name = s.intern(b)
			return err
		case "depends":
			// A repeated key replaces the earlier list, as in record.
			s.deps = s.deps[:r.deps]
			if d.null() {
				return nil
			}
			return d.array(func() error {
				b, err := s.nullableString(d)
				s.deps = append(s.deps, s.intern(b))
				return err
			})
		}
		return d.skip()
	})
	return newer, err
}

// nullableString reads a string's bytes, or null as no bytes.
func (s *Scan) nullableString(d *decoder) ([]byte, error) {
	if d.null() {
		return nil, nil
	}
	return d.rawString()
}

// intern returns the index of b's text in strs, adding it once.
func (s *Scan) intern(b []byte) int32 {
	if id, ok := s.ids[string(b)]; ok { // no allocation for the lookup
		return id
	}
	str := string(b)
	id := int32(len(s.strs))
	s.strs = append(s.strs, str)
	s.ids[str] = id
	return id
}

package frontend

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// BenchmarkRequestToSolve100Packages times the frontend from the request
// to the build solve submitted, for a definition locked to 100 real
// packages (Anaconda's index in the conformance data): reading the inputs,
// parsing, hashing, reading and checking the lock, resolving (from memory
// here) and converting. The daemon's own time is not in it.
func BenchmarkRequestToSolve100Packages(b *testing.B) {
	dt, err := os.ReadFile(conformance.Dir(b, "repodata", "conda-index4.json"))
	if err != nil {
		b.Fatal(err)
	}
	var index map[string]*repodata.Record
	if err := json.Unmarshal(dt, &index); err != nil {
		b.Fatal(err)
	}
	fns := make([]string, 0, len(index))
	for fn := range index {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	seen := map[string]bool{}
	var records []*repodata.Record
	definition := "base:\n  image: busybox:1.36\nconda:\n  channels: [defaults]\n  dependencies:\n"
	for _, fn := range fns {
		r := index[fn]
		if r.SHA256 == "" || seen[r.Name] || r.Subdir != "linux-64" {
			continue
		}
		seen[r.Name] = true
		r.Filename = fn
		r.URL = "https://repo.anaconda.com/pkgs/main/linux-64/" + fn
		records = append(records, r)
		definition += "    - " + r.Name + "=" + r.Version + "\n"
		if len(records) == 100 {
			break
		}
	}
	lockData := lockFor(b, definition, records)
	b.ReportAllocs()
	for b.Loop() {
		g := condaGateway(b, definition, lockData, nil)
		if _, err := Build(context.Background(), g); err != nil {
			b.Fatal(err)
		}
		if len(g.solves) != 1 {
			b.Fatalf("%d solves", len(g.solves))
		}
	}
}

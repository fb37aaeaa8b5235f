package solve

import (
	"fmt"

	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
)

// checkSolution verifies a solution without the solver: one record per
// name, every requested spec matched, every depends of every chosen record
// met by a chosen record, and every constrains respected by the chosen
// record of that name, if any. It returns the violations found.
func checkSolution(solution []*repodata.Record, specs []string) []string {
	var problems []string
	byName := map[string]*repodata.Record{}
	for _, r := range solution {
		if prev, dup := byName[r.Name]; dup {
			problems = append(problems, fmt.Sprintf("two records named %s: %s and %s", r.Name, prev, r))
		}
		byName[r.Name] = r
	}
	met := func(spec string) (ok bool, name string, installed bool, err error) {
		ms, err := matchspec.Parse(spec)
		if err != nil {
			return false, "", false, err
		}
		r, installed := byName[ms.Name]
		return installed && ms.Matches(r), ms.Name, installed, nil
	}
	for _, s := range specs {
		if ok, _, _, err := met(s); err != nil || !ok {
			problems = append(problems, fmt.Sprintf("requested %q is not met (%v)", s, err))
		}
	}
	for _, r := range solution {
		for _, d := range r.Depends {
			if ok, _, _, err := met(d); err != nil || !ok {
				problems = append(problems, fmt.Sprintf("%s depends on %q, not met (%v)", r, d, err))
			}
		}
		for _, c := range r.Constrains {
			ok, _, installed, err := met(c)
			if err == nil && installed && !ok {
				problems = append(problems, fmt.Sprintf("%s constrains %q, violated", r, c))
			}
		}
	}
	return problems
}

package matchspec

import (
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
)

func FuzzParseMatchSpec(f *testing.F) {
	for _, s := range []string{"numpy", "numpy >=1.21,<2", "conda-forge/linux-64::python=3.11=h1_0",
		"numpy[version='>=1.8,<2|1.9', build=py3*]", "*/linux-64::foo>=1.0", "mkl@",
		"https://conda.anaconda.org/c/linux-64/x-1.0-0.conda", "pytorch 2.1.* *cuda*",
		"__glibc >=2.17,<3.0.a0", "numpy ~=1.10.1 py38_0", "x[build_number='>=3',license='MIT*']",
		"defaults::numpy=1.8=py27_0 [name=\"pytorch\" channel='anaconda',version=\">=1.8,<2|1.9\", build='3']"} {
		f.Add(s)
	}
	r := &repodata.Record{Name: "numpy", Version: "1.21.0", Build: "py39h_0", BuildNumber: 0,
		Subdir: "linux-64", Channel: "https://conda.anaconda.org/conda-forge"}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := Parse(s)
		if err != nil {
			return
		}
		canon := ms.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("Parse(%q): canonical %q reads back as %q", s, canon, again.String())
		}
		if ms.Matches(r) != again.Matches(r) {
			t.Fatalf("Parse(%q) and its canonical %q disagree", s, canon)
		}
	})
}

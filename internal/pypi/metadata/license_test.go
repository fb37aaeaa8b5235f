package metadata

import "testing"

// The declared licence: License-Expression, else License, else a single
// licence classifier (setuptools 66.1.1 declares only that one).
func TestLicense(t *testing.T) {
	const head = "Metadata-Version: 2.1\nName: x\nVersion: 1\n"
	for meta, want := range map[string]string{
		"License-Expression: MIT OR Apache-2.0\nLicense: MIT\n":                                                    "MIT OR Apache-2.0",
		"License: MIT\nClassifier: License :: OSI Approved :: MIT License\n":                                       "MIT",
		"Classifier: Intended Audience :: Developers\nClassifier: License :: OSI Approved :: MIT License\n":        "MIT License",
		"Classifier: License :: Public Domain\n":                                                                   "Public Domain",
		"Classifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved :: BSD License\n": "",
		"": "",
	} {
		m, err := Parse([]byte(head + meta))
		if err != nil || m.License != want {
			t.Errorf("%q: licence %q (%v), want %q", meta, m.License, err, want)
		}
	}
}

package virtual

import "testing"

// FuzzPackages: no platform or override value panics, and every package
// made has a name, version and build and belongs to the platform.
func FuzzPackages(f *testing.F) {
	f.Add("linux-64", "2.17", "12.4", "zen4")
	f.Add("osx-arm64", "", "", "")
	f.Add("win-64", " 1 ", "x", "")
	f.Fuzz(func(t *testing.T, platform, glibc, cuda, arch string) {
		rs, err := Packages(platform, env(EnvGlibc, glibc, EnvCUDA, cuda, EnvArchspec, arch))
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Name == "" || r.Version == "" || r.Build == "" || r.Subdir != platform || r.Channel != Channel {
				t.Fatalf("%s: %+v", platform, r)
			}
		}
	})
}

package hash

import "testing"

// Credentials in URLs do not enter the hash: a rotated token keeps the
// image key, as it keeps a lock's content_hash.
func TestCredentialsLeaveTheHash(t *testing.T) {
	env := func(channel, index, repo string) string {
		return "base:\n  image: debian\nconda:\n  channels:\n    - " + channel + "\n  dependencies:\n    - python\n    - pip:\n      - --index-url " + index + "\n      - requests\n" +
			"spark:\n  repositories:\n    - " + repo + "\n  packages:\n    - group: org.example\n      artifact: lib\n      version: \"1.0\"\n"
	}
	want := hashText(t, env("https://conda.example/private", "https://pypi.example/simple", "https://maven.example/repo"))
	for _, e := range []string{
		env("https://conda.example/t/tk-1/private", "https://pypi.example/simple", "https://maven.example/repo"),
		env("https://user:pw@conda.example/private", "https://pypi.example/simple", "https://maven.example/repo"),
		env("https://conda.example/private", "https://user:pw@pypi.example/simple", "https://maven.example/repo"),
		env("https://conda.example/private", "https://pypi.example/simple", "https://token@maven.example/repo"),
	} {
		if got := hashText(t, e); got != want {
			t.Errorf("%s\nhash %s, want %s (the same environment without credentials)", e, got, want)
		}
	}
	if hashText(t, env("https://conda.example/other", "https://pypi.example/simple", "https://maven.example/repo")) == want {
		t.Error("another channel gives the same hash")
	}
}

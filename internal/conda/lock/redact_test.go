package lock

import (
	"strings"
	"testing"
)

// No URL is written with its credentials, in the lock or the explicit
// file: userinfo and /t/<token>/ segments give way to the bare URL.
func TestWriteStripsCredentials(t *testing.T) {
	const secret = "tok-SECRET-42"
	l := &Lock{
		Packages: []Package{
			{Name: "a", Version: "1", Manager: Conda, Platform: "linux-64", Hash: Hash{MD5: "0123456789abcdef0123456789abcdef"},
				URL: "https://conda.example/t/" + secret + "/private/linux-64/a-1-0.conda"},
			{Name: "b", Version: "2", Manager: Pip, Platform: "linux-64", Hash: Hash{SHA256: strings.Repeat("0", 64)},
				URL: "http://user:" + secret + "@127.0.0.1:8080/files/b-2-py3-none-any.whl"},
		},
	}
	l.Metadata.Platforms = []string{"linux-64"}
	l.Metadata.Custom = map[string]string{"spark:a:b:1": "https://ci:" + secret + "@maven.example/a/b/1/b-1.jar#sha256=00", "note": "x: y"}
	l.Metadata.Channels = []Channel{{URL: "https://conda.example/t/" + secret + "/private"}, {URL: "conda-forge"}, {URL: "https://whole.example/t/" + secret}}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	explicit, err := l.Explicit("linux-64")
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"lock": string(data), "explicit": string(explicit)} {
		if strings.Contains(out, secret) || strings.Contains(out, "user") {
			t.Errorf("%s carries the credential:\n%s", name, out)
		}
		for _, want := range []string{"https://conda.example/private/linux-64/a-1-0.conda", "http://127.0.0.1:8080/files/b-2-py3-none-any.whl"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %s:\n%s", name, want, out)
			}
		}
	}
	if !strings.Contains(string(data), "https://maven.example/a/b/1/b-1.jar#sha256=00") || !strings.Contains(string(data), "note: 'x: y'") {
		t.Errorf("custom_metadata:\n%s", data)
	}
	if !strings.Contains(string(data), "url: https://conda.example/private\n") || !strings.Contains(string(data), "url: conda-forge\n") {
		t.Errorf("channels:\n%s", data)
	}
}

// The content hash counts URLs without their credentials.
func TestContentHashIgnoresCredentials(t *testing.T) {
	bare := Inputs{Channels: []string{"https://conda.example/private", "https://whole.example"}, PipSpecs: []string{"--index-url http://127.0.0.1/simple", "b"}}
	with := Inputs{Channels: []string{"https://conda.example/t/tok-1/private", "https://whole.example/t/tok-3"}, PipSpecs: []string{"--index-url http://u:tok-2@127.0.0.1/simple", "b"}}
	if ContentHash(bare, "linux-64") != ContentHash(with, "linux-64") {
		t.Error("a token changes the content hash")
	}
	with.PipSpecs[1] = "c"
	if ContentHash(bare, "linux-64") == ContentHash(with, "linux-64") {
		t.Error("another requirement keeps the content hash")
	}
}

// A URL without credentials is written as it came, escapes included.
func TestWriteKeepsBareURLs(t *testing.T) {
	const u = "https://download.example/whl/torch-2.0.0%2Bcu118-cp311-cp311-linux_x86_64.whl"
	l := &Lock{Packages: []Package{{Name: "torch", Version: "2.0.0+cu118", Manager: Pip, Platform: "linux-64", URL: u}}}
	l.Metadata.Platforms = []string{"linux-64"}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "url: "+u+"\n") {
		t.Errorf("url rewritten:\n%s", data)
	}
}

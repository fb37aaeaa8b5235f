package index

import (
	"strings"
	"testing"
)

// The client keeps index and find-links credentials out of the URLs it
// lists, and so out of every page URL, message and pin.
func TestNewStripsCredentials(t *testing.T) {
	c := New(Options{
		IndexURL:       "https://ci:SECRET-1@pip.example/simple",
		ExtraIndexURLs: []string{"https://pip.example/t/SECRET-2/simple"},
		FindLinks:      []string{"https://ci:SECRET-3@links.example/wheels/", "/srv/wheels"},
	})
	got := strings.Join(append(c.Indexes(), c.opts.FindLinks...), " ")
	if want := "https://pip.example/simple https://pip.example/simple https://links.example/wheels/ /srv/wheels"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

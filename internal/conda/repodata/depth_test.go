package repodata

import (
	"encoding/json"
	"strings"
	"testing"
)

// deepRecord is repodata with one record whose unknown key holds arrays
// nested n deep: three levels (top, packages, record) plus n.
func deepRecord(n int) []byte {
	return []byte(`{"packages": {"a-1-0.tar.bz2": {"name": "a", "x": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}}`)
}

// TestDeepNestingRefused: 10⁷ nested arrays overflowed the stack (a
// fatal error, exit 2); now an error with the position.
func TestDeepNestingRefused(t *testing.T) {
	data := []byte(`{"packages": {"a-1-0.tar.bz2": {"x": ` + strings.Repeat("[", 10_000_000))
	_, err := Parse("https://x/c", "linux-64", data)
	if err == nil || !strings.Contains(err.Error(), "1:10035: package a-1-0.tar.bz2: nested deeper than 10000 levels") {
		t.Fatalf("got %v, want the nesting refused at 1:10035", err)
	}
	// Record.UnmarshalJSON (encoding/json) stops at the same depth.
	var r Record
	if err := json.Unmarshal(data[31:], &r); err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Fatalf("encoding/json: got %v", err)
	}
}

// TestDepthLimitIsEncodingJSONs: the decoder accepts exactly the nesting
// encoding/json accepts.
func TestDepthLimitIsEncodingJSONs(t *testing.T) {
	for _, n := range []int{MaxDepth - 3, MaxDepth - 2} {
		data := deepRecord(n)
		_, err := Parse("https://x/c", "linux-64", data)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Errorf("%d levels: Parse error %v, encoding/json valid %v", n+3, err, valid)
		}
	}
}

package lock

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// conda-lock's JSON schema for v1 (conda/conda-lock,
// conda_lock/lockfile/v1/conda-lock-v1.schema.json) forbids unknown keys
// at every level (conda-lock's models are strict): what envkit writes must
// use only the keys it allows and have all it requires.
var condaLockSchema = map[string]struct{ allowed, required []string }{
	"lockfile": {[]string{"version", "package", "metadata"}, []string{"package", "metadata"}},
	"metadata": {[]string{"content_hash", "channels", "platforms", "sources", "time_metadata", "git_metadata", "inputs_metadata", "custom_metadata"},
		[]string{"content_hash", "channels", "platforms", "sources"}},
	"channel": {[]string{"url", "used_env_vars"}, []string{"url", "used_env_vars"}},
	"package": {[]string{"name", "version", "manager", "platform", "dependencies", "url", "hash", "source", "build", "category", "optional"},
		[]string{"name", "version", "manager", "platform", "url", "hash", "optional"}},
	"hash": {[]string{"md5", "sha256"}, nil},
}

func checkKeys(t *testing.T, what string, m map[string]any) {
	t.Helper()
	rule := condaLockSchema[what]
	for k := range m {
		if !slices.Contains(rule.allowed, k) {
			t.Errorf("%s: key %q is not in conda-lock's schema", what, k)
		}
	}
	for _, k := range rule.required {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: required key %q missing", what, k)
		}
	}
}

func TestOutputFollowsCondaLockSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "golden", "numpy-conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "lockfile", doc)
	if doc["version"] != 1 {
		t.Errorf("version %#v, want the integer 1", doc["version"])
	}
	md := doc["metadata"].(map[string]any)
	checkKeys(t, "metadata", md)
	for _, c := range md["channels"].([]any) {
		checkKeys(t, "channel", c.(map[string]any))
	}
	// custom_metadata is Dict[str, str] (the sizes are there).
	custom, _ := md["custom_metadata"].(map[string]any)
	if len(custom) == 0 {
		t.Error("no custom_metadata: the golden lock should hold the packages' sizes")
	}
	for k, v := range custom {
		if _, ok := v.(string); !ok {
			t.Errorf("custom_metadata %s: %#v is not a string", k, v)
		}
	}
	for _, p := range doc["package"].([]any) {
		pm := p.(map[string]any)
		checkKeys(t, "package", pm)
		checkKeys(t, "hash", pm["hash"].(map[string]any))
		if _, ok := pm["optional"].(bool); !ok {
			t.Errorf("%v: optional is not a boolean", pm["name"])
		}
		if _, ok := pm["version"].(string); !ok {
			t.Errorf("%v: version %#v is not a string", pm["name"], pm["version"])
		}
		for dep, spec := range pm["dependencies"].(map[string]any) {
			if _, ok := spec.(string); !ok {
				t.Errorf("%v: dependency %s: %#v is not a string", pm["name"], dep, spec)
			}
		}
	}
}

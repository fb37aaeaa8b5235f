package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/curated"
)

const schemaPath = "../../docs/environment.schema.json"

func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("environment.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("environment.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlValue decodes YAML into the plain JSON values the validator takes.
func yamlValue(t *testing.T, p string) any {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The native examples and test files conform to docs/environment.schema.json,
// and what the reader rejects for shape the schema rejects too.
func TestSchema(t *testing.T) {
	s := loadSchema(t)
	for _, p := range []string{
		"../../examples/minimal/environment.yml",
		"testdata/full.yml",
		"../hash/testdata/equiv/native.yml",
		"../hash/testdata/equiv/reformatted.yml",
		"testdata/extends/my-sklearn.yml",
		"testdata/extends/spark-extended.yml",
	} {
		if err := s.Validate(yamlValue(t, filepath.FromSlash(p))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for name, text := range map[string]string{
		"unknown key":          "nmae: x\n",
		"image and dockerfile": "base: {image: a, dockerfile: b}\n",
		"steps not a list":     "steps: RUN true\n",
		"file and inline":      "conda: {file: c.yml, channels: [a]}\n",
		"unknown curated":      "from: curated/sklean\n",
	} {
		var v any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: schema accepts %q", name, text)
		}
	}
}

// The schema names exactly the keys the reader accepts.
func TestSchemaKeys(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	sorted := func(s []string) []string {
		out := append([]string(nil), s...)
		sort.Strings(out)
		return out
	}
	var top []string
	for k := range schema.Properties {
		top = append(top, k)
	}
	sort.Strings(top)
	if !reflect.DeepEqual(top, sorted(nativeKeys)) {
		t.Errorf("schema top-level keys %v, reader %v", top, sorted(nativeKeys))
	}
	for key, want := range map[string][]string{"base": nativeBaseKeys, "python": nativePyKeys, "spark": nativeSparkKeys, "azureml": nativeAzureKeys} {
		if got := keys(schema.Properties[key].Properties); !reflect.DeepEqual(got, sorted(want)) {
			t.Errorf("schema %s keys %v, reader %v", key, got, sorted(want))
		}
	}
}

// The schema's from: values are the curated environments envkit ships.
func TestSchemaFrom(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			From struct {
				Enum []string `json:"enum"`
			} `json:"from"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range curated.Names() {
		want = append(want, curated.Prefix+name)
	}
	if got := schema.Properties.From.Enum; !reflect.DeepEqual(got, want) {
		t.Errorf("schema from: enum %v, curated environments %v", got, want)
	}
}

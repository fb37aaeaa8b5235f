package resolve

import (
	"slices"
	"testing"

	"github.com/envkit/envkit/internal/spec"
)

func TestEnvDefaults(t *testing.T) {
	env := map[string]string{
		"PIP_INDEX_URL":       "http://mirror/simple",
		"PIP_EXTRA_INDEX_URL": " http://a/simple  http://b/simple\n",
		"PIP_FIND_LINKS":      "/wheels",
		"PIP_NO_INDEX":        "true",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	lines := func(specs ...string) []spec.Requirement {
		var out []spec.Requirement
		for i, s := range specs {
			out = append(out, spec.Requirement{Spec: s, Pos: spec.Pos{File: "env.yml", Line: i + 1, Col: 7}})
		}
		return out
	}

	in, err := ParseLines(lines("requests==2.32.3"))
	if err != nil {
		t.Fatal(err)
	}
	in.EnvDefaults(lookup)
	if in.Index.IndexURL != "http://mirror/simple" || !slices.Equal(in.Index.ExtraIndexURLs, []string{"http://a/simple", "http://b/simple"}) ||
		!slices.Equal(in.Index.FindLinks, []string{"/wheels"}) || !in.Index.NoIndex {
		t.Errorf("lines without options: %+v, want every variable applied", in.Index)
	}

	in, err = ParseLines(lines("--index-url http://own/simple", "--extra-index-url http://c/simple", "--find-links http://d/links", "requests==2.32.3"))
	if err != nil {
		t.Fatal(err)
	}
	delete(env, "PIP_NO_INDEX")
	in.EnvDefaults(lookup)
	if in.Index.IndexURL != "http://own/simple" || !slices.Equal(in.Index.ExtraIndexURLs, []string{"http://c/simple"}) ||
		!slices.Equal(in.Index.FindLinks, []string{"http://d/links"}) || in.Index.NoIndex {
		t.Errorf("lines with options: %+v, want the lines to win", in.Index)
	}

	in = Input{}
	in.EnvDefaults(func(string) (string, bool) { return "", false })
	if in.Index.IndexURL != "" || in.Index.ExtraIndexURLs != nil || in.Index.FindLinks != nil || in.Index.NoIndex {
		t.Errorf("no variables: %+v, want pip's defaults untouched", in.Index)
	}
}

// A URL alone in the pip lines (which validate lets through: it is pip's
// own form) is refused by the lock with what to write instead, not with
// the requirement parser's "invalid specifier" at its "+" or ":". The
// lines are real: Azure/azureml-assets assets/data-labeling/environments/
// data-labeling-sam/context/conda_dependencies.yaml @ 4b41f8cc line 26,
// Azure/MachineLearningNotebooks how-to-use-azureml/
// automated-machine-learning/automl_env.yml @ f1aff553 line 26, and
// CompVis/stable-diffusion environment.yaml @ 21f890f9 line 30.
func TestParseLinesURLAndEditable(t *testing.T) {
	for line, want := range map[string]error{
		"git+https://github.com/facebookresearch/segment-anything.git":         spec.ErrBareURL,
		"https://aka.ms/automl-resources/packages/en_core_web_sm-3.7.1.tar.gz": spec.ErrBareURL,
		"-e git+https://github.com/openai/CLIP.git@main#egg=clip":              spec.ErrEditable,
	} {
		_, err := ParseLines([]spec.Requirement{{Spec: line, Pos: spec.Pos{File: "conda.yml", Line: 26, Col: 5}}})
		if err == nil || err.Error() != "conda.yml:26:5: "+line+": "+want.Error() {
			t.Errorf("%s: %v", line, err)
		}
	}
}

package sbom

import (
	"reflect"
	"testing"

	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/maven"
	envllb "github.com/envkit/envkit/llb"
)

// The pins label gives an image's wheels their archive sha256, URL and
// dependencies and its jars their URL, as the lock has them; a wheel or
// jar the label does not name (or names at another version or digest)
// keeps what the image holds.
func TestApplyPins(t *testing.T) {
	pins := imagemeta.Pins{
		Pip: []imagemeta.PipPin{
			{Name: "Colour_Util", Version: "1.0", URL: "http://idx/colour_util-1.0-py3-none-any.whl", SHA256: "aa", Depends: nil},
			{Name: "greet", Version: "2.0", URL: "http://idx/greet-2.0-py3-none-any.whl", SHA256: "bb", Depends: []string{"colour-util"}},
			{Name: "old", Version: "0.9", URL: "http://idx/old-0.9.whl", SHA256: "cc"},
		},
		Jars: []imagemeta.JarPin{{Coordinate: "org.demo:util:1.0", URL: "http://maven/util-1.0.jar", SHA256: "dd"}},
	}
	util, err := maven.ParseCoordinate("org.demo:util:1.0")
	if err != nil {
		t.Fatal(err)
	}
	env := Environment{
		Wheels: []envllb.Wheel{{Name: "colour-util", Version: "1.0"}, {Name: "greet", Version: "2.0"}, {Name: "old", Version: "1.0"}},
		Jars:   []maven.Jar{{Coordinate: util, SHA256: "dd"}},
	}
	if err := applyPins(&env, pins.Encode()); err != nil {
		t.Fatal(err)
	}
	want := []envllb.Wheel{
		{Name: "colour-util", Version: "1.0", URL: "http://idx/colour_util-1.0-py3-none-any.whl", SHA256: "aa"},
		{Name: "greet", Version: "2.0", URL: "http://idx/greet-2.0-py3-none-any.whl", SHA256: "bb"},
		{Name: "old", Version: "1.0"},
	}
	if !reflect.DeepEqual(env.Wheels, want) {
		t.Errorf("wheels %+v, want %+v", env.Wheels, want)
	}
	if !reflect.DeepEqual(env.WheelDepends, map[string][]string{"greet": {"colour-util"}}) {
		t.Errorf("depends %v", env.WheelDepends)
	}
	if env.Jars[0].URL != "http://maven/util-1.0.jar" {
		t.Errorf("jar URL %q", env.Jars[0].URL)
	}
	if err := applyPins(&env, "{"); err == nil {
		t.Error("a damaged label accepted")
	}
}

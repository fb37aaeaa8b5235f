package maven

import (
	"context"
	"slices"
	"testing"
)

// A POM's licences, its parent's when it names none (as Spark's artifacts
// inherit spark-parent's).
func TestLicenses(t *testing.T) {
	r := newRepo(t)
	const apache = `<licenses><license><name>Apache 2.0 License</name><url>http://www.apache.org/licenses/LICENSE-2.0.html</url></license></licenses>`
	r.add("org.demo:parent:1.0", apache, "pom")
	r.add("org.demo:child:1.0", `<parent><groupId>org.demo</groupId><artifactId>parent</artifactId><version>1.0</version></parent>`, "jar")
	r.add("org.demo:dual:1.0", `<parent><groupId>org.demo</groupId><artifactId>parent</artifactId><version>1.0</version></parent>
<licenses><license><name> EPL 2.0 </name></license><license><name>GNU General Public License, version 2 with the GNU Classpath Exception</name></license></licenses>`, "jar")
	r.add("org.demo:none:1.0", "", "jar")
	jars := []Jar{}
	for _, c := range []string{"org.demo:child:1.0", "org.demo:dual:1.0", "org.demo:none:1.0"} {
		coord, _ := ParseCoordinate(c)
		jars = append(jars, Jar{Coordinate: coord})
	}
	got, err := Licenses(context.Background(), jars, Options{Repositories: []string{r.url()}, NoCentral: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"org.demo:child:1.0": {"Apache 2.0 License"},
		"org.demo:dual:1.0":  {"EPL 2.0", "GNU General Public License, version 2 with the GNU Classpath Exception"},
		"org.demo:none:1.0":  nil,
	}
	for c, w := range want {
		coord, _ := ParseCoordinate(c)
		if !slices.Equal(got[coord], w) {
			t.Errorf("%s: %q, want %q", c, got[coord], w)
		}
	}
	if _, err := Licenses(context.Background(), []Jar{{Coordinate: Coordinate{"org.demo", "absent", "1.0"}}}, Options{Repositories: []string{r.url()}, NoCentral: true}); err == nil {
		t.Error("a POM not found: want an error")
	}
}

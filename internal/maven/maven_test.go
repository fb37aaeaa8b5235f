package maven

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/spec"
)

// repo is a Maven repository layout served on 127.0.0.1: path -> content.
type repo struct {
	files map[string]string
	srv   *httptest.Server
}

func newRepo(t testing.TB) *repo {
	r := &repo{files: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, ok := r.files[strings.TrimPrefix(req.URL.Path, "/maven2/")]
		if !ok {
			http.NotFound(w, req)
			return
		}
		fmt.Fprint(w, data)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *repo) url() string { return r.srv.URL + "/maven2" }

// add publishes a POM and, unless the packaging is pom, a jar with its
// .sha1, as Maven Central lays them out.
func (r *repo) add(coord, body string, packaging string) {
	c, _ := ParseCoordinate(coord)
	dir := c.path()
	r.files[dir+c.Artifact+"-"+c.Version+".pom"] = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version>
  <packaging>%s</packaging>
  %s
</project>`, c.Group, c.Artifact, c.Version, packaging, body)
	if packaging != "pom" {
		jar := "PK fake jar of " + coord
		sum := sha1.Sum([]byte(jar))
		r.files[dir+c.Artifact+"-"+c.Version+".jar"] = jar
		r.files[dir+c.Artifact+"-"+c.Version+".jar.sha1"] = hex.EncodeToString(sum[:]) + "  " + c.Artifact + "-" + c.Version + ".jar\n"
	}
}

func dep(coord, extra string) string {
	parts := strings.Split(coord, ":")
	v := ""
	if len(parts) == 3 {
		v = "<version>" + parts[2] + "</version>"
	}
	return fmt.Sprintf("<dependency><groupId>%s</groupId><artifactId>%s</artifactId>%s%s</dependency>", parts[0], parts[1], v, extra)
}

func deps(ds ...string) string { return "<dependencies>" + strings.Join(ds, "") + "</dependencies>" }

func world(t *testing.T) (*repo, *repo) {
	a, b := newRepo(t), newRepo(t)
	a.add("com.example:parent:1", `<properties><lib.version>2.0</lib.version></properties>
  <dependencyManagement>`+deps(dep("com.example:managed:3.0", ""))+`</dependencyManagement>`, "pom")
	a.add("com.example:app:1.0", `<parent><groupId>com.example</groupId><artifactId>parent</artifactId><version>1</version></parent>`+deps(
		dep("com.example:lib:${lib.version}", ""),
		dep("com.example:managed", ""),
		dep("junit:junit:4.13", "<scope>test</scope>"),
		dep("com.example:opt:1.0", "<optional>true</optional>"),
		dep("com.example:shared:1.0", ""),
		dep("com.example:dad:1.0", "<exclusions><exclusion><groupId>com.example</groupId><artifactId>excluded</artifactId></exclusion></exclusions>"),
	), "jar")
	a.add("com.example:lib:2.0", deps(dep("com.example:shared:2.0", ""), dep("com.example:core:${project.version}", "")), "jar")
	a.add("com.example:core:2.0", "", "jar")
	a.add("com.example:shared:1.0", "", "jar")
	a.add("com.example:shared:2.0", "", "jar")
	a.add("com.example:dad:1.0", deps(dep("com.example:excluded:1.0", ""), dep("com.example:kid:1.0", "")), "jar")
	a.add("com.example:kid:1.0", "", "jar")
	b.add("com.example:managed:3.0", "", "jar")
	return a, b
}

func TestResolve(t *testing.T) {
	a, b := world(t)
	jars, err := Resolve(context.Background(), []Coordinate{{"com.example", "app", "1.0"}},
		Options{Repositories: []string{a.url(), b.url()}, NoCentral: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jars {
		got = append(got, j.String()+" <- "+j.RequiredBy)
		sum := sha256.Sum256([]byte("PK fake jar of " + j.String()))
		if j.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasSuffix(j.URL, "/"+j.Filename()) {
			t.Errorf("%+v", j)
		}
	}
	// shared 1.0 is nearer to the root than lib's shared 2.0; excluded,
	// optional and test dependencies are left out.
	want := []string{
		"com.example:app:1.0 <- ",
		"com.example:lib:2.0 <- com.example:app:1.0",
		"com.example:managed:3.0 <- com.example:app:1.0",
		"com.example:shared:1.0 <- com.example:app:1.0",
		"com.example:dad:1.0 <- com.example:app:1.0",
		"com.example:core:2.0 <- com.example:lib:2.0",
		"com.example:kid:1.0 <- com.example:dad:1.0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(jars[2].URL, b.url()) {
		t.Errorf("managed should come from the second repository: %s", jars[2].URL)
	}
}

func TestFailures(t *testing.T) {
	a, b := world(t)
	opts := Options{Repositories: []string{a.url()}, NoCentral: true}
	_, err := Resolve(context.Background(), []Coordinate{{"com.example", "app", "1.0"}}, opts)
	if err == nil || !strings.Contains(err.Error(), "com.example:managed:3.0 (required by com.example:app:1.0)") {
		t.Errorf("missing artifact: %v", err)
	}
	a.files["com/example/kid/1.0/kid-1.0.jar"] = "tampered"
	opts.Repositories = append(opts.Repositories, b.url())
	_, err = Resolve(context.Background(), []Coordinate{{"com.example", "app", "1.0"}}, opts)
	if err == nil || !strings.Contains(err.Error(), ".sha1") {
		t.Errorf("tampered jar: %v", err)
	}
	a.add("com.example:ranged:1.0", deps(dep("com.example:kid:[1.0,2.0)", "")), "jar")
	_, err = Resolve(context.Background(), []Coordinate{{"com.example", "ranged", "1.0"}}, opts)
	if err == nil || !strings.Contains(err.Error(), "ranges") {
		t.Errorf("range: %v", err)
	}
	if _, err := ParseCoordinate("a:b"); err == nil {
		t.Error("a:b accepted")
	}
	// A part that would leave the repository layout or the jar directory
	// (a definition's, a lock's or a POM's) is refused before any fetch.
	for _, c := range []string{"org.x:../../etc:1.0", "org..x:a:1.0", "org.x:a:1.0/../..", "..:a:1", "org.x:.:1"} {
		if _, err := ParseCoordinate(c); err == nil {
			t.Errorf("%s accepted", c)
		}
	}
	a.add("com.example:sneaky:1.0", deps(dep("com.example:../../../tmp/x:1.0", "")), "jar")
	_, err = Resolve(context.Background(), []Coordinate{{"com.example", "sneaky", "1.0"}}, opts)
	if err == nil || !strings.Contains(err.Error(), `artifact "../../../tmp/x"`) {
		t.Errorf("a POM's dependency outside the layout: %v", err)
	}
	if _, err := FromCustom(map[string]string{CustomPrefix + "org.x:../x:1.0": "http://r/x.jar#sha256=" + strings.Repeat("0", 64)}); err == nil {
		t.Error("a lock's jar outside the jar directory accepted")
	}
}

func TestSparkDefaults(t *testing.T) {
	jars := []Jar{{Coordinate: Coordinate{"io.delta", "delta-spark_2.12", "3.2.0"}}, {Coordinate: Coordinate{"io.delta", "delta-storage", "3.2.0"}}}
	roots := []Coordinate{jars[0].Coordinate}
	if got := SparkDefaults("/opt/conda", jars, roots, nil, true); !strings.Contains(got,
		"spark.jars /opt/conda/share/envkit/spark/jars/delta-spark_2.12-3.2.0.jar,/opt/conda/share/envkit/spark/jars/delta-storage-3.2.0.jar\n") {
		t.Error(got)
	}
	if got := SparkDefaults("/opt/conda", jars, roots, []string{"https://repo.example/maven"}, false); !strings.Contains(got,
		"spark.jars.packages io.delta:delta-spark_2.12:3.2.0\nspark.jars.repositories https://repo.example/maven\n") {
		t.Error(got)
	}
}

func TestInstall(t *testing.T) {
	a, b := world(t)
	roots, opts := FromSpec(&spec.Spark{Repositories: []string{a.url(), b.url()}, Packages: []spec.MavenPackage{{Group: "com.example", Artifact: "app", Version: "1.0"}}})
	opts.NoCentral = true
	jars, err := Resolve(context.Background(), roots, opts)
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	if err := Install(context.Background(), prefix, jars, roots, opts.Repositories, true, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(prefix, JarDir))
	conf, _ := os.ReadFile(filepath.Join(prefix, ConfDir, "spark-defaults.conf"))
	if len(entries) != len(jars) || !strings.Contains(string(conf), "spark.jars "+prefix+"/"+JarDir+"/app-1.0.jar,") {
		t.Errorf("%v\n%s", entries, conf)
	}
	jars[1].SHA256 = strings.Repeat("0", 64)
	other := t.TempDir()
	if err := Install(context.Background(), other, jars, roots, nil, true, nil); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("%v", err)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
}

func TestLockRoundTrip(t *testing.T) {
	a, b := world(t)
	jars, err := Resolve(context.Background(), []Coordinate{{"com.example", "app", "1.0"}}, Options{Repositories: []string{a.url(), b.url()}, NoCentral: true})
	if err != nil {
		t.Fatal(err)
	}
	l := &lock.Lock{Metadata: lock.Metadata{Platforms: []string{"linux-64"}, ContentHash: map[string]string{"linux-64": "x"},
		Custom: ToCustom(map[string]string{"other": "kept"}, jars)}}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := lock.Read("conda-lock.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCustom(back.Metadata.Custom)
	if err != nil || len(got) != len(jars) || back.Metadata.Custom["other"] != "kept" {
		t.Fatalf("%v %v\n%s", got, err, data)
	}
	for _, j := range got {
		if !slices.ContainsFunc(jars, func(x Jar) bool { return x.Coordinate == j.Coordinate && x.URL == j.URL && x.SHA256 == j.SHA256 }) {
			t.Errorf("%+v not resolved", j)
		}
	}
	if _, err := FromCustom(map[string]string{CustomPrefix + "a:b": "x"}); err == nil {
		t.Error("bad key accepted")
	}
}

package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/pypi/pypitest"
)

// testWheel is a wheel of project name at version, as pip builds one.
func testWheel(name, version string) []byte {
	return pypitest.Dist{Name: name, Version: version}.Build()
}

// condaWithPip is a conda file whose pip part holds the lines given.
func condaWithPip(lines ...string) []byte {
	return []byte("channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n    - " + strings.Join(lines, "\n    - ") + "\n")
}

func TestConstraintFiles(t *testing.T) {
	files := fstest.MapFS{
		"c/constraints.txt": {Data: []byte("# pins\nnumpy<2 ; python_version >= \"3\"\n-c more.txt\n-r reqs.txt\n--index-url https://pypi.example/simple\n")},
		"c/more.txt":        {Data: []byte("  pandas==2.1.*\n")},
		"c/reqs.txt":        {Data: []byte("\ufeffrich\n")}, // a byte order mark, as Notepad writes
	}
	def, err := Parse("env.yml", condaWithPip("scipy", "-c c/constraints.txt"), files)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		spec, pos  string
		constraint bool
	}
	var got []line
	for _, q := range def.Conda.Pip {
		got = append(got, line{q.Spec, q.Pos.String(), q.Constraint})
	}
	// As pip reads them: -c inside a constraints file reads constraints,
	// -r inside it reads requirements, an option applies to all.
	want := []line{
		{"scipy", "env.yml:5:7", false},
		{`numpy<2 ; python_version >= "3"`, "c/constraints.txt:2:1", true},
		{"pandas==2.1.*", "c/more.txt:1:3", true},
		{"rich", "c/reqs.txt:1:1", false},
		{"--index-url https://pypi.example/simple", "c/constraints.txt:5:1", false},
	}
	if len(got) != len(want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if strings.Join(def.Source.Files, ",") != "c/constraints.txt,c/more.txt,c/reqs.txt" {
		t.Errorf("files read: %v", def.Source.Files)
	}
	// A constraint is not the requirement it limits.
	if PipKey(def.Conda.Pip[1]) == PipKey(Requirement{Spec: def.Conda.Pip[1].Spec}) {
		t.Error("a constraint keys as a requirement")
	}
}

func TestConstraintErrors(t *testing.T) {
	deep, wide := fstest.MapFS{}, fstest.MapFS{}
	for i := 0; i < 12; i++ {
		deep[string(rune('a'+i))+".txt"] = &fstest.MapFile{Data: []byte("-c " + string(rune('a'+i+1)) + ".txt\n")}
		// Each file includes the next twice: 2^12 reads without a bound.
		wide[string(rune('a'+i))+".txt"] = &fstest.MapFile{Data: []byte(strings.Repeat("-r "+string(rune('a'+i+1))+".txt\n", 2))}
	}
	wide["m.txt"] = &fstest.MapFile{Data: []byte("numpy\n")}
	for _, c := range []struct {
		name  string
		files fstest.MapFS
		line  string
		want  string
	}{
		{"extras", fstest.MapFS{"c.txt": {Data: []byte("ok==1\n\n  requests[socks]<3\n")}}, "-c c.txt", `c.txt:3:3: pip requirement "requests[socks]<3": constraints cannot have extras (as in pip): drop [socks] here`},
		{"unnamed", fstest.MapFS{"c.txt": {Data: []byte("https://x.example/p-1.0-py3-none-any.whl\n")}}, "-c c.txt", "c.txt:1:1: pip requirement \"https://x.example/p-1.0-py3-none-any.whl\": a constraint must name its project"},
		{"template pin", fstest.MapFS{"c.txt": {Data: []byte("azureml-core=={{latest-pypi-version}}\n")}}, "--constraint=c.txt", "c.txt:1:1: pip requirement \"azureml-core=={{latest-pypi-version}}\""},
		{"missing", fstest.MapFS{}, "-c nothere.txt", `env.yml:6:7: -c: cannot read "nothere.txt"`},
		{"remote", fstest.MapFS{}, "-c https://x.example/c.txt", "a remote constraints file is not locked"},
		{"escapes", fstest.MapFS{}, "-c ../c.txt", "escapes the context directory"},
		{"deep", deep, "-c a.txt", "i.txt:1:1: -c j.txt: requirement files nested deeper than 8"},
		{"wide", wide, "-c a.txt", "more than 64 -r and -c files read for one definition"},
		{"cycle", fstest.MapFS{"a.txt": {Data: []byte("x\n-r sub/b.txt\n")}, "sub/b.txt": {Data: []byte("-c ../a.txt\n")}}, "-c a.txt", "sub/b.txt:1:1: -c ../a.txt: the file includes itself (a.txt -> sub/b.txt -> a.txt)"},
		{"wheel in constraints", fstest.MapFS{"c.txt": {Data: []byte("./x-1.0-py3-none-any.whl\n")}, "x-1.0-py3-none-any.whl": {Data: testWheel("x", "1.0")}}, "-c c.txt", "a constraints file cannot name a wheel file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("env.yml", condaWithPip("scipy", c.line), c.files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestLocalWheel(t *testing.T) {
	whl := testWheel("x", "1.0")
	sum := sha256.Sum256(whl)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	files := fstest.MapFS{
		"proj/wheels/x-1.0-py3-none-any.whl": {Data: whl},
		"proj/sub/reqs.txt":                  {Data: []byte("../wheels/x-1.0-py3-none-any.whl\n")},
		"proj/moved/x-1.0-py3-none-any.whl":  {Data: whl},
		"proj/wheels/badname.whl":            {Data: whl},
	}
	def, err := Parse("proj/env.yml", condaWithPip("./wheels/x-1.0-py3-none-any.whl"), files)
	if err != nil {
		t.Fatal(err)
	}
	q := def.Conda.Pip[0]
	if q.Wheel == nil || *q.Wheel != (FileDigest{Path: "wheels/x-1.0-py3-none-any.whl", Digest: digest}) {
		t.Fatalf("wheel %+v, want its path from the definition and %s", q.Wheel, digest)
	}
	// Through a -r file in another directory: the path is the wheel's
	// from the definition, as a written definition names it.
	viaR, err := Parse("proj/env.yml", condaWithPip("-r sub/reqs.txt"), files)
	if err != nil {
		t.Fatal(err)
	}
	if w := viaR.Conda.Pip[0].Wheel; w == nil || w.Path != "wheels/x-1.0-py3-none-any.whl" {
		t.Fatalf("wheel through -r: %+v", w)
	}
	if got := pipTexts(viaR.Conda.Pip); got[0] != "./wheels/x-1.0-py3-none-any.whl" {
		t.Errorf("written as %q", got[0])
	}
	// Content, not place: the same bytes elsewhere key the same, one
	// changed byte does not.
	moved, err := Parse("proj/env.yml", condaWithPip("moved/x-1.0-py3-none-any.whl"), files)
	if err != nil {
		t.Fatal(err)
	}
	if PipKey(moved.Conda.Pip[0]) != PipKey(q) {
		t.Errorf("moved wheel keys %q, was %q", PipKey(moved.Conda.Pip[0]), PipKey(q))
	}
	files["proj/moved/x-1.0-py3-none-any.whl"] = &fstest.MapFile{Data: pypitest.Dist{Name: "x", Version: "1.0", Files: map[string]string{"x/more.py": ""}}.Build()}
	changed, err := Parse("proj/env.yml", condaWithPip("moved/x-1.0-py3-none-any.whl"), files)
	if err != nil {
		t.Fatal(err)
	}
	if PipKey(changed.Conda.Pip[0]) == PipKey(q) {
		t.Error("a changed wheel keys the same")
	}
	for line, want := range map[string]string{
		"./wheels/nothere-1.0-py3-none-any.whl": "proj/env.yml:5:7: ./wheels/nothere-1.0-py3-none-any.whl: cannot read the wheel: file does not exist",
		"/abs/x-1.0-py3-none-any.whl":           "absolute path",
		"./wheels/badname.whl":                  "proj/env.yml:5:7: pip requirement \"./wheels/badname.whl\": badname.whl: want name-version(-build)-python-abi-platform.whl",
	} {
		if _, err := Parse("proj/env.yml", condaWithPip(line), files); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", line, err, want)
		}
	}
}

func TestWriteRefusesConstraints(t *testing.T) {
	def, err := Parse("env.yml", condaWithPip("-c c.txt"), fstest.MapFS{"c.txt": {Data: []byte("numpy<2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Write(def, FormatNative, true); err == nil || !strings.Contains(err.Error(), "c.txt:1:1: a constraint read from a -c file") {
		t.Fatalf("write: %v", err)
	}
}

// Extending a curated environment keeps a constraint beside the
// requirement it limits (the merge keys them apart).
func TestConstraintInExtension(t *testing.T) {
	def, err := Parse("env.yml", []byte("from: curated/sklearn\nconda:\n  dependencies:\n    - pip:\n      - mlflow\n      - -c c.txt\n"), fstest.MapFS{"c.txt": {Data: []byte("mlflow<3\n")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range def.Conda.Pip {
		got = append(got, PipKey(q))
	}
	if strings.Join(got, ",") != "mlflow,-c mlflow<3" {
		t.Errorf("pip lines %q", got)
	}
}

// A wheel file's line takes extras and a marker as pip reads them on a
// path; they enter its key and its written form.
func TestLocalWheelExtrasAndMarker(t *testing.T) {
	files := fstest.MapFS{"w/x-1.0-py3-none-any.whl": {Data: testWheel("x", "1.0")}}
	plain, err := Parse("env.yml", condaWithPip("./w/x-1.0-py3-none-any.whl"), files)
	if err != nil {
		t.Fatal(err)
	}
	def, err := Parse("env.yml", condaWithPip(`./w/x-1.0-py3-none-any.whl[gpu, cli]; python_version >= "3.10"`), files)
	if err != nil {
		t.Fatal(err)
	}
	q := def.Conda.Pip[0]
	if q.Wheel == nil || q.Wheel.Path != "w/x-1.0-py3-none-any.whl" || PipKey(q) == PipKey(plain.Conda.Pip[0]) {
		t.Fatalf("wheel %+v keyed %q", q.Wheel, PipKey(q))
	}
	if got, want := pipTexts(def.Conda.Pip)[0], `./w/x-1.0-py3-none-any.whl[cli,gpu] ; python_version >= "3.10"`; got != want {
		t.Errorf("written %q, want %q", got, want)
	}
	out, _, err := Write(def, FormatNative, false)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("out.yml", out, files)
	if err != nil || PipKey(back.Conda.Pip[0]) != PipKey(q) {
		t.Errorf("read back %v: %v", back, err)
	}
	if _, err := Parse("env.yml", condaWithPip("./w/x-1.0-py3-none-any.whl; python_version >>= 3"), files); err == nil || !strings.Contains(err.Error(), `env.yml:5:7: pip requirement "./w/x-1.0-py3-none-any.whl; python_version >>= 3"`) {
		t.Errorf("bad marker: %v", err)
	}
}

// On the host a wheel file is read as the build reads its context: a link
// leading out of it is refused, one inside it is followed.
func TestLocalWheelSymlinks(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside-1.0-py3-none-any.whl")
	ctx := filepath.Join(dir, "ctx")
	for name, data := range map[string][]byte{outside: []byte("secret"), filepath.Join(ctx, "w", "in-1.0-py3-none-any.whl"): testWheel("in", "1.0")} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"out-1.0-py3-none-any.whl": outside, "in-1.0-py3-none-any.whl": "w/in-1.0-py3-none-any.whl"} {
		if err := os.Symlink(target, filepath.Join(ctx, link)); err != nil {
			t.Fatal(err)
		}
	}
	write := func(line string) string {
		p := filepath.Join(ctx, "environment.yml")
		if err := os.WriteFile(p, condaWithPip(line), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if def, err := Load(write("./in-1.0-py3-none-any.whl")); err != nil || def.Conda.Pip[0].Wheel == nil {
		t.Errorf("a link inside the context: %v", err)
	}
	_, err := Load(write("./out-1.0-py3-none-any.whl"))
	if err == nil || !strings.Contains(err.Error(), "environment.yml:5:7: ./out-1.0-py3-none-any.whl leads out of the build context through a symlink") {
		t.Errorf("a link out of the context: %v", err)
	}
	// One error for a missing wheel, not a second from the line's syntax.
	_, err = Load(write("./none-1.0-py3-none-any.whl"))
	if list, ok := err.(ErrorList); !ok || len(list) != 1 {
		t.Errorf("missing wheel: %v", err)
	}
}

// A wheel file that is no zip, or whose METADATA disagrees with its file
// name, fails validate at its line, as the lock would refuse it; a
// hostile zip (a directory larger than any wheel's, generated here) is
// refused without being read whole.
func TestLocalWheelMetadata(t *testing.T) {
	files := fstest.MapFS{
		"w/ok-1.0-py3-none-any.whl":    {Data: testWheel("OK", "1.0.0")},
		"w/text-1.0-py3-none-any.whl":  {Data: []byte("<html>404 Not Found</html>\n")},
		"w/named-1.0-py3-none-any.whl": {Data: testWheel("other", "1.0")},
		"w/ver-1.0-py3-none-any.whl":   {Data: testWheel("ver", "1.1")},
		"w/bomb-1.0-py3-none-any.whl":  {Data: pypitest.RepeatedEntries(3<<16 + 1)},
	}
	_, err := Parse("env.yml", condaWithPip("./w/ok-1.0-py3-none-any.whl", "./w/text-1.0-py3-none-any.whl", "./w/named-1.0-py3-none-any.whl", "./w/ver-1.0-py3-none-any.whl", "./w/bomb-1.0-py3-none-any.whl"), files)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v", err)
	}
	want := []string{
		"env.yml:6:7: ./w/text-1.0-py3-none-any.whl: not a wheel: zip: not a valid zip file (a wheel is a zip archive with a .dist-info/METADATA: build it again with pip wheel, or download it again)",
		"env.yml:7:7: ./w/named-1.0-py3-none-any.whl: METADATA names project other, the file name named (pip refuses such a wheel: rename the file after its METADATA, or build it again)",
		"env.yml:8:7: ./w/ver-1.0-py3-none-any.whl: METADATA says version 1.1, the file name 1.0 (pip refuses such a wheel: rename the file after its METADATA, or build it again)",
		"env.yml:9:7: ./w/bomb-1.0-py3-none-any.whl: not a wheel: its zip directory is larger than 8 MiB",
	}
	if len(list) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d:\n got %s\nwant %s…", i, list[i], w)
		}
	}
}

package wheel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompileIsReproducibleAtTheFinalPath installs a wheel into two
// staging roots, compiles each with the host's python for the final
// prefix, and checks that the .pyc are byte-identical, name the final
// source path, and are listed in RECORD.
func TestCompileIsReproducibleAtTheFinalPath(t *testing.T) {
	python, err := exec.LookPath("python3.11")
	if err != nil {
		t.Skip("no python3.11 on this machine")
	}
	data := tool.Build()
	const prefix = "/opt/env"
	final := prefix + "/lib/python3.11/site-packages"
	var pycs [2][]byte
	for i := range pycs {
		root := t.TempDir()
		staged := filepath.Join(root, prefix)
		inst, err := InstallBytes(tool.Filename(), data, staged, "3.11", Options{SHA256: sha(data), Python: prefix + "/bin/python3.11"})
		if err != nil {
			t.Fatal(err)
		}
		if err := Compile(python, filepath.Join(staged, "lib/python3.11/site-packages"), final); err != nil {
			t.Fatal(err)
		}
		added, err := RecordCompiled(staged, inst)
		if err != nil {
			t.Fatal(err)
		}
		want := "lib/python3.11/site-packages/__pycache__/_demo.cpython-311.pyc lib/python3.11/site-packages/demo_tool/__pycache__/__init__.cpython-311.pyc lib/python3.11/site-packages/demo_tool/__pycache__/cli.cpython-311.pyc"
		if strings.Join(added, " ") != want {
			t.Errorf("recorded %q, want %q", added, want)
		}
		pyc := filepath.Join(staged, "lib/python3.11/site-packages/demo_tool/__pycache__/cli.cpython-311.pyc")
		if pycs[i], err = os.ReadFile(pyc); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, "-c", "import marshal, sys; f = open(sys.argv[1], 'rb'); f.seek(16); print(marshal.loads(f.read()).co_filename)", pyc).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != final+"/demo_tool/cli.py" {
			t.Errorf("co_filename %q (%v), want %s/demo_tool/cli.py", out, err, final)
		}
		rec, err := os.ReadFile(filepath.Join(staged, "lib/python3.11/site-packages/demo_tool-1.2.dist-info/RECORD"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rec), "demo_tool/__pycache__/cli.cpython-311.pyc,sha256=") || !strings.HasSuffix(string(rec), "demo_tool-1.2.dist-info/RECORD,,\n") {
			t.Errorf("RECORD:\n%s", rec)
		}
	}
	if !bytes.Equal(pycs[0], pycs[1]) {
		t.Error("two compilations of the same source differ")
	}
	// unchecked-hash: flags word 0b01 (hash-based, unchecked).
	if len(pycs[0]) < 16 || pycs[0][4] != 1 {
		t.Errorf("pyc flags %v, want hash-based unchecked", pycs[0][4:8])
	}
}

// A module that does not compile (here python 2 syntax) gets no .pyc and
// does not fail the others, as with pip; a python that cannot run fails.
func TestCompileSkipsWhatDoesNotCompile(t *testing.T) {
	python, err := exec.LookPath("python3.11")
	if err != nil {
		t.Skip("no python3.11 on this machine")
	}
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "good.py"), []byte("X = 1\n"), 0o644)
	os.WriteFile(filepath.Join(site, "py2.py"), []byte("print 'old'\n"), 0o644)
	if err := Compile(python, site, "/opt/env/lib/python3.11/site-packages"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(site, "__pycache__", "good.cpython-311.pyc")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(site, "__pycache__", "py2.cpython-311.pyc")); err == nil {
		t.Error("a .pyc for a module that does not compile")
	}
	if err := Compile(filepath.Join(site, "no-python"), site, "/x"); err == nil {
		t.Error("a missing python compiled")
	}
}

// CompileInstalled compiles what one wheel installed in place (envkit
// create): the same bytes as Compile gives at that path, and nothing else
// in site-packages.
func TestCompileInstalledTouchesOnlyTheWheel(t *testing.T) {
	python, err := exec.LookPath("python3.11")
	if err != nil {
		t.Skip("no python3.11 on this machine")
	}
	data := tool.Build()
	prefix := t.TempDir()
	site := filepath.Join(prefix, "lib/python3.11/site-packages")
	os.MkdirAll(site, 0o755)
	os.WriteFile(filepath.Join(site, "other.py"), []byte("Y = 2\n"), 0o644)
	inst, err := InstallBytes(tool.Filename(), data, prefix, "3.11", Options{SHA256: sha(data)})
	if err != nil {
		t.Fatal(err)
	}
	if err := CompileInstalled(python, prefix, inst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(site, "__pycache__", "other.cpython-311.pyc")); err == nil {
		t.Error("compiled a module the wheel did not install")
	}
	got, err := os.ReadFile(filepath.Join(site, "demo_tool/__pycache__/cli.cpython-311.pyc"))
	if err != nil {
		t.Fatal(err)
	}
	again := t.TempDir()
	os.MkdirAll(filepath.Join(again, "demo_tool"), 0o755)
	src, _ := os.ReadFile(filepath.Join(site, "demo_tool/cli.py"))
	os.WriteFile(filepath.Join(again, "demo_tool/cli.py"), src, 0o644)
	if err := Compile(python, again, site); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(again, "demo_tool/__pycache__/cli.cpython-311.pyc"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("CompileInstalled and Compile give different .pyc for the same source and path")
	}
	if added, err := RecordCompiled(prefix, inst); err != nil || len(added) != 3 {
		t.Errorf("RecordCompiled: %q, %v; want the wheel's 3 .pyc", added, err)
	}
}

// CompileFiles makes the bytes py_compile makes in unchecked-hash mode
// for the same source and recorded path, while python itself writes
// nothing.
func TestCompileFilesMatchesPyCompile(t *testing.T) {
	python, err := exec.LookPath("python3.11")
	if err != nil {
		t.Skip("no python3.11 on this machine")
	}
	dir := t.TempDir()
	src := "import os\nS = {'a', 'b', frozenset({1, 2})}\ndef f(x):\n    return [y * 2 for y in x if y]\n"
	os.MkdirAll(filepath.Join(dir, "pkg"), 0o755)
	os.WriteFile(filepath.Join(dir, "pkg/m.py"), []byte(src), 0o644)
	os.WriteFile(filepath.Join(dir, "pkg/bad.py"), []byte("print 'py2'\n"), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	pycs, err := CompileFiles(python, nil, root, []string{"pkg/m.py", "pkg/bad.py"}, func(s string) string { return "/opt/env/" + s })
	if err != nil || len(pycs) != 1 || pycs[0].Path != "pkg/__pycache__/m.cpython-311.pyc" {
		t.Fatalf("%+v %v", pycs, err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, pycs[0].Path))
	ref := filepath.Join(t.TempDir(), "ref.pyc")
	cmd := exec.Command(python, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile='/opt/env/pkg/m.py', doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)", filepath.Join(dir, "pkg/m.py"), ref)
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want, _ := os.ReadFile(ref)
	if !bytes.Equal(got, want) {
		t.Error("CompileFiles and py_compile differ")
	}
}

// A __pycache__ planted as a link out of the prefix does not take the
// .pyc out: python compiled the files in place and followed it.
func TestCompileInstalledPlantedPycache(t *testing.T) {
	python, err := exec.LookPath("python3.11")
	if err != nil {
		t.Skip("no python3.11 on this machine")
	}
	data := tool.Build()
	parent := t.TempDir()
	prefix, out := filepath.Join(parent, "env"), filepath.Join(parent, "out")
	os.Mkdir(out, 0o755)
	inst, err := InstallBytes(tool.Filename(), data, prefix, "3.11", Options{SHA256: sha(data)})
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink("../../../../../out", filepath.Join(prefix, "lib/python3.11/site-packages/demo_tool/__pycache__"))
	if err := CompileInstalled(python, prefix, inst); err == nil || !strings.Contains(err.Error(), "__pycache__") {
		t.Errorf("got %v, want the planted __pycache__ refused", err)
	}
	if ls, _ := os.ReadDir(out); len(ls) != 0 {
		t.Errorf("written outside the prefix: %v", ls)
	}
}

// The environment's PYTHON* settings do not reach the .pyc: with
// PYTHONOPTIMIZE=2 (a base image's ENV) python compiled -OO bytecode,
// docstrings and asserts gone, under the plain .pyc's name.
func TestCompileFilesIgnoresPythonEnv(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.py"), []byte("\"\"\"doc\"\"\"\nassert True\n"), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	path := "PATH=" + os.Getenv("PATH")
	var got [2][]byte
	for i, env := range [][]string{{path}, {path, "PYTHONOPTIMIZE=2", "PYTHONPATH=/nonexistent", "PYTHONHASHSEED=7"}} {
		pycs, err := CompileFiles(python, env, root, []string{"m.py"}, func(s string) string { return "/opt/env/" + s })
		if err != nil || len(pycs) != 1 {
			t.Fatalf("%+v %v", pycs, err)
		}
		got[i], _ = os.ReadFile(filepath.Join(dir, pycs[0].Path))
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Error("PYTHONOPTIMIZE, PYTHONPATH or PYTHONHASHSEED changed the .pyc")
	}
	if !bytes.Contains(got[1], []byte("doc")) {
		t.Error("the docstring is not in the .pyc")
	}
}

// A python whose ELF interpreter is missing (conda's python on a base
// without glibc) is said to be so, not "no such file" for a file that is
// there.
func TestCompileFilesPythonCannotRun(t *testing.T) {
	dir := t.TempDir()
	python := filepath.Join(dir, "python3.11")
	// An ELF header naming a loader that does not exist.
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip(err)
	}
	i := bytes.Index(elf, []byte("/lib64/ld-linux-x86-64.so.2"))
	if i < 0 {
		t.Skip("/bin/true names no x86-64 glibc loader")
	}
	copy(elf[i:], "/lib64/ld-linux-x86-99.so.2")
	os.WriteFile(python, elf, 0o755)
	os.WriteFile(filepath.Join(dir, "m.py"), []byte("x = 1\n"), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, err = CompileFiles(python, nil, root, []string{"m.py"}, func(s string) string { return s })
	if err == nil || !strings.Contains(err.Error(), "cannot run: the system's dynamic loader") {
		t.Errorf("got %v", err)
	}
}

package wheel

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Compile writes the .pyc files of the .py files under staged (a
// site-packages directory as written under a staging root) with python,
// recording final (the same directory's path in the image) as their
// source path, so tracebacks and inspect point where the files will be.
//
// The .pyc are reproducible: unchecked-hash mode embeds a hash of the
// source instead of its mtime, and PYTHONHASHSEED=0 fixes the order in
// which marshal writes sets and frozensets. A file that does not compile
// (wheels carry templates and code for other python versions) is left
// without .pyc, as pip leaves it; only a python that cannot run fails.
func Compile(python, staged, final string) error {
	const script = "import compileall, py_compile, sys\n" +
		"compileall.compile_dir(sys.argv[1], ddir=sys.argv[2], quiet=2,\n" +
		"    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
	return runPython(python, script, "", staged, final)
}

// CompileInstalled writes the .pyc files of the .py files inst put in
// site-packages under prefix, where they stay (envkit create), the same
// way as Compile; the rest of the prefix is left alone.
func CompileInstalled(python, prefix string, inst *Installed) error {
	var files []string
	for _, f := range inst.Files {
		if strings.HasSuffix(f, ".py") && strings.Contains(f, "/site-packages/") {
			files = append(files, filepath.Join(prefix, filepath.FromSlash(f)))
		}
	}
	if len(files) == 0 {
		return nil
	}
	const script = "import compileall, py_compile, sys\n" +
		"for f in sys.stdin.read().split('\\0'):\n" +
		"    compileall.compile_file(f, quiet=2,\n" +
		"        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
	return runPython(python, script, strings.Join(files, "\x00"))
}

// runPython runs script with python, PYTHONHASHSEED=0 (marshal's order of
// sets) and nothing that would redirect or suppress the .pyc.
func runPython(python, script, stdin string, args ...string) error {
	cmd := exec.Command(python, append([]string{"-Wi", "-c", script}, args...)...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PYTHONHASHSEED=") || strings.HasPrefix(kv, "PYTHONDONTWRITEBYTECODE=") || strings.HasPrefix(kv, "PYTHONPYCACHEPREFIX=")
	}), "PYTHONHASHSEED=0")
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling .pyc with %s: %v\n%s", python, err, out)
	}
	return nil
}

// RecordCompiled adds the .pyc files compiled from inst's .py files
// (PEP 3147 __pycache__ names) to its RECORD under prefix, as pip records
// the files it compiles. It returns the added paths, relative to prefix.
func RecordCompiled(prefix string, inst *Installed) ([]string, error) {
	recordPath := ""
	for _, f := range inst.Files {
		if path.Base(f) == "RECORD" && strings.HasSuffix(path.Dir(f), ".dist-info") {
			recordPath = f
		}
	}
	if recordPath == "" {
		return nil, fmt.Errorf("%s %s: no RECORD among the installed files", inst.Name, inst.Version)
	}
	sitePackages := path.Dir(path.Dir(recordPath))
	var rows [][]string
	var added []string
	for _, f := range inst.Files {
		if !strings.HasSuffix(f, ".py") || !strings.HasPrefix(f, sitePackages+"/") {
			continue
		}
		stem := strings.TrimSuffix(path.Base(f), ".py")
		pycs, err := filepath.Glob(filepath.Join(prefix, filepath.FromSlash(path.Dir(f)), "__pycache__", stem+".*.pyc"))
		if err != nil {
			return nil, err
		}
		slices.Sort(pycs)
		for _, p := range pycs {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			rel := path.Join(path.Dir(f), "__pycache__", filepath.Base(p))
			sum := sha256.Sum256(data)
			rows = append(rows, []string{relTo(sitePackages, rel), "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]), strconv.Itoa(len(data))})
			added = append(added, rel)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	file := filepath.Join(prefix, filepath.FromSlash(recordPath))
	old, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	existing, err := csv.NewReader(bytes.NewReader(old)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	// RECORD's own row (no hash, no size) stays last.
	self := relTo(sitePackages, recordPath)
	existing = slices.DeleteFunc(existing, func(r []string) bool { return len(r) > 0 && r[0] == self })
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(append(append(existing, rows...), []string{self, "", ""}))
	if err := w.Error(); err != nil {
		return nil, err
	}
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, b.Bytes(), st.Mode().Perm()); err != nil {
		return nil, err
	}
	return added, nil
}

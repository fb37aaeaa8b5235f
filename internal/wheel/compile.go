package wheel

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io/fs"
	"os"
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
// It walks staged as compileall.compile_dir does: __pycache__ and links to
// directories are not entered. See CompileFiles for what the .pyc hold.
func Compile(python, staged, final string) error {
	root, err := os.OpenRoot(staged)
	if err != nil {
		return err
	}
	defer root.Close()
	var srcs []string
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "__pycache__":
			return fs.SkipDir
		case d.IsDir() || !strings.HasSuffix(p, ".py"):
			return nil
		}
		if st, err := root.Stat(p); err == nil && st.Mode().IsRegular() {
			srcs = append(srcs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = CompileFiles(python, nil, root, srcs, func(src string) string { return path.Join(final, src) })
	return err
}

// CompileInstalled writes the .pyc files of the .py files inst put in
// site-packages under prefix, where they stay (envkit create), the same
// way as Compile; the rest of the prefix is left alone.
func CompileInstalled(python, prefix string, inst *Installed) error {
	var srcs []string
	for _, f := range inst.Files {
		if strings.HasSuffix(f, ".py") && strings.Contains(f, "/site-packages/") {
			srcs = append(srcs, f)
		}
	}
	if len(srcs) == 0 {
		return nil
	}
	root, err := os.OpenRoot(prefix)
	if err != nil {
		return err
	}
	defer root.Close()
	_, err = CompileFiles(python, nil, root, srcs, func(src string) string { return filepath.Join(prefix, filepath.FromSlash(src)) })
	return err
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
	root, err := os.OpenRoot(prefix)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var rows [][]string
	var added []string
	for _, f := range inst.Files {
		if !strings.HasSuffix(f, ".py") || !strings.HasPrefix(f, sitePackages+"/") {
			continue
		}
		stem := strings.TrimSuffix(path.Base(f), ".py")
		pycs, err := fs.Glob(root.FS(), path.Join(globQuote(path.Dir(f)), "__pycache__", globQuote(stem)+".*.pyc"))
		if err != nil {
			return nil, err
		}
		slices.Sort(pycs)
		for _, rel := range pycs {
			data, err := root.ReadFile(rel)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(data)
			rows = append(rows, []string{relTo(sitePackages, rel), "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]), strconv.Itoa(len(data))})
			added = append(added, rel)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	old, err := root.ReadFile(recordPath)
	if err != nil {
		return nil, err
	}
	existing, err := csv.NewReader(bytes.NewReader(old)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", recordPath, err)
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
	st, err := root.Stat(recordPath)
	if err != nil {
		return nil, err
	}
	if err := root.WriteFile(recordPath, b.Bytes(), st.Mode().Perm()); err != nil {
		return nil, err
	}
	return added, nil
}

// globQuote escapes the pattern characters of a literal path part.
func globQuote(s string) string {
	return globMeta.Replace(s)
}

var globMeta = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// checkPrefixPath refuses a prefix whose path crosses a symbolic link in
// root, the base image's file system as the finalize step sees it. The
// package layers hold the environment at the prefix as directories, and a
// layer's directory replaces a link of a lower layer: the image would lose
// the base's link (and, behind it, the base's files at that path). Where
// the path does not exist in the base, the layers create it.
func checkPrefixPath(root, prefix string) error {
	parts := strings.Split(strings.Trim(path.Clean(prefix), "/"), "/")
	for i := range parts {
		p := "/" + path.Join(parts[:i+1]...)
		fi, err := os.Lstat(filepath.Join(root, p))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("conda prefix %s: %w", prefix, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(filepath.Join(root, p))
			return fmt.Errorf("conda prefix %s: the base image's %s is a symbolic link (to %s), which the environment's layers would replace with a directory; set the definition's conda prefix to a path without symbolic links (where the link leads)", prefix, p, target)
		}
		if !fi.IsDir() {
			return fmt.Errorf("conda prefix %s: the base image's %s is not a directory", prefix, p)
		}
	}
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/conda/install"
	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
)

func init() { commands = append(commands, newLinkCmd) }

func newLinkCmd() *cobra.Command {
	var (
		prefix, dest, python, requested string
		finalize, compile               bool
		wheels, records                 []string
	)
	cmd := &cobra.Command{
		Use:   "link --prefix PREFIX (--dest DIR [--python X.Y [--compile]] [--record JSON] [--requested-spec SPEC] ARCHIVE | --dest DIR [--python X.Y [--compile]] --record JSON ARCHIVE --record JSON ARCHIVE... | --finalize | --dest DIR --python X.Y [--compile] --wheel WHEEL#sha256=HEX...)",
		Short: "Link conda packages or pip wheels into DIR/PREFIX, or finalize an environment (the BuildKit step)",
		Long: `link is what envkit runs inside BuildKit, one step per package layer.

With ARCHIVE it verifies the archive against --record's sha256/md5 (a JSON
repodata record) when given, then writes the package's files as they must
appear at PREFIX, under DIR (DIR/PREFIX/...): placeholders replaced by PREFIX,
noarch: python files placed for --python, entry points and the
conda-meta/<name>-<version>-<build>.json record included. No script runs, and
every file gets the mtime SOURCE_DATE_EPOCH (default 0). It needs no shell,
/tmp or /proc. With --compile, PREFIX/bin/pythonX.Y (the environment's
python, in the step's root) compiles the .py files of noarch: python
packages to reproducible .pyc naming their final paths, which join the
package's record; --finalize then leaves them alone.

With several ARCHIVEs (a layer shared by a group of packages) each needs its
own --record, paired in order: the n-th --record is the n-th ARCHIVE's.
Every archive is verified before anything is written, they are linked in
the order given, and if any fails nothing of the run stays under DIR.

With --finalize it runs in the merged environment: pre- and post-link scripts
in dependency order, .pyc compilation with the environment's python, and
conda-meta/history; what it writes gets the mtime SOURCE_DATE_EPOCH.

With --wheel (repeatable) it installs pip wheels as they must appear at
PREFIX, under DIR: each archive is checked against the sha256 in its
#sha256= suffix, then installed for python X.Y (site-packages, RECORD,
INSTALLER, console scripts whose #! names PREFIX/bin/pythonX.Y). With
--compile, PREFIX/bin/pythonX.Y (the environment's, already in place)
compiles their .py files to reproducible .pyc naming their final paths,
which join RECORD. Everything under DIR gets the mtime SOURCE_DATE_EPOCH.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if prefix == "" || !filepath.IsAbs(prefix) {
				return usagef("link: --prefix must be an absolute path")
			}
			epoch, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			if len(wheels) > 0 {
				if len(args) != 0 || finalize || len(records) != 0 || requested != "" {
					return usagef("link --wheel takes --prefix, --dest, --python and --compile only")
				}
				return linkWheels(wheels, prefix, dest, python, compile, epoch)
			}
			if finalize {
				if len(args) != 0 || dest != "" || python != "" || len(records) != 0 || requested != "" || compile {
					return usagef("link --finalize takes only --prefix")
				}
				if err := checkPrefixPath("/", prefix); err != nil {
					return err
				}
				return install.Finalize(prefix, install.FinalizeOptions{Epoch: epoch, Command: "envkit link --finalize", Messages: cmd.ErrOrStderr()})
			}
			return linkConda(args, records, prefix, dest, python, requested, compile, epoch)
		},
	}
	f := cmd.Flags()
	f.StringVar(&prefix, "prefix", "", "absolute path the environment has in the image")
	f.StringVar(&dest, "dest", "", "output directory; files go to DIR/PREFIX")
	f.StringVar(&python, "python", "", "the environment's python X.Y (for noarch: python packages)")
	f.StringArrayVar(&records, "record", nil, "the package's repodata record as JSON (checksums, channel, url); one per ARCHIVE, in order, when there are several")
	f.StringVar(&requested, "requested-spec", "", "the spec the user asked for, kept in conda-meta")
	f.BoolVar(&finalize, "finalize", false, "run link scripts, compile .pyc and write history in PREFIX")
	f.StringArrayVar(&wheels, "wheel", nil, "a pip wheel to install, as PATH#sha256=HEX (repeatable)")
	f.BoolVar(&compile, "compile", false, "with --wheel or noarch: python ARCHIVEs: compile .pyc with PREFIX/bin/pythonX.Y")
	return cmd
}

// linkConda links conda archives into dest/prefix, each checked against
// its record (the n-th record is the n-th archive's), then gives the whole
// of dest the epoch as mtime.
func linkConda(archives, records []string, prefix, dest, python, requested string, compile bool, epoch time.Time) error {
	switch {
	case len(archives) == 0 || dest == "":
		return usagef("link: expected --dest DIR and an ARCHIVE")
	case len(archives) == 1 && len(records) > 1:
		return usagef("link: %d --record for one ARCHIVE", len(records))
	case len(archives) > 1 && len(records) != len(archives):
		return usagef("link: %d ARCHIVEs need %d --record, one for each in order (got %d)", len(archives), len(archives), len(records))
	case len(archives) > 1 && requested != "":
		return usagef("link: --requested-spec goes with one ARCHIVE")
	case compile && python == "":
		return usagef("link: --compile needs --python X.Y")
	}
	opts := install.Options{Prefix: prefix, RequestedSpec: requested}
	if python != "" {
		if !isMajorMinor(python) {
			return usagef("link: --python %q is not X.Y", python)
		}
		opts.Python = &install.Python{Version: python}
	}
	pkgs := make([]install.Package, len(archives))
	for i, archive := range archives {
		pkgs[i] = install.Package{Archive: archive, Options: opts}
		if i < len(records) {
			var rec repodata.Record
			if err := json.Unmarshal([]byte(records[i]), &rec); err != nil {
				return usagef("link: --record for %s: %v", archive, err)
			}
			pkgs[i].Options.Record = &rec
		}
	}
	staged := filepath.Join(dest, prefix)
	created, err := firstMissing(staged)
	if err != nil {
		return err
	}
	// A failure after the first package was written (one that only
	// linking or compiling finds) takes back what the run wrote: DIR is
	// the step's own output, so that is everything from the first
	// directory the run created.
	if err := linkAndCompile(pkgs, staged, prefix, python, compile); err != nil {
		if created != "" {
			os.RemoveAll(created)
		}
		return err
	}
	// DIR is the step's own output: everything in it gets the epoch, the
	// directories leading to PREFIX included.
	return pkg.SetTreeMtime(dest, epoch)
}

// linkAndCompile links pkgs into staged and, with compile, compiles the
// .py files of its noarch: python packages with PREFIX/bin/pythonX.Y (the
// environment's, in the step's root), so that finalizing the environment
// does not compile them again.
func linkAndCompile(pkgs []install.Package, staged, prefix, python string, compile bool) error {
	recs, err := install.LinkAll(pkgs, staged)
	if err != nil || !compile {
		return err
	}
	root, err := os.OpenRoot(staged)
	if err != nil {
		return err
	}
	defer root.Close()
	return install.CompileNoarch(root, prefix, path.Join(prefix, "bin", "python"+python), nil, recs)
}

// firstMissing is the shallowest directory on the way to dir that does
// not exist yet ("" when dir exists).
func firstMissing(dir string) (string, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Lstat(dir); err == nil {
		return "", nil
	} else if !os.IsNotExist(err) {
		return "", err
	}
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir, nil
		}
		if _, err := os.Lstat(parent); err == nil {
			return dir, nil
		} else if !os.IsNotExist(err) {
			return "", err
		}
		dir = parent
	}
}

// sourceDateEpoch is SOURCE_DATE_EPOCH (seconds), 0 when unset.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", v)
	}
	return time.Unix(n, 0), nil
}

func isMajorMinor(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	_, e1 := strconv.Atoi(major)
	_, e2 := strconv.Atoi(minor)
	return ok && e1 == nil && e2 == nil
}

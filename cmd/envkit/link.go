package main

import (
	"encoding/json"
	"fmt"
	"os"
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
		prefix, dest, python, recordJSON, requested string
		finalize, compile                           bool
		wheels                                      []string
	)
	cmd := &cobra.Command{
		Use:   "link --prefix PREFIX (--dest DIR [--python X.Y] [--record JSON] [--requested-spec SPEC] ARCHIVE | --finalize | --dest DIR --python X.Y [--compile] --wheel WHEEL#sha256=HEX...)",
		Short: "Link one conda package or pip wheels into DIR/PREFIX, or finalize an environment (the BuildKit step)",
		Long: `link is what envkit runs inside BuildKit, one package per step.

With ARCHIVE it verifies the archive against --record's sha256/md5 (a JSON
repodata record) when given, then writes the package's files as they must
appear at PREFIX, under DIR (DIR/PREFIX/...): placeholders replaced by PREFIX,
noarch: python files placed for --python, entry points and the
conda-meta/<name>-<version>-<build>.json record included. No script runs, and
every file gets the mtime SOURCE_DATE_EPOCH (default 0). It needs no shell,
/tmp or /proc.

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
				if len(args) != 0 || finalize || recordJSON != "" || requested != "" {
					return usagef("link --wheel takes --prefix, --dest, --python and --compile only")
				}
				return linkWheels(wheels, prefix, dest, python, compile, epoch)
			}
			if compile {
				return usagef("link: --compile goes with --wheel")
			}
			if finalize {
				if len(args) != 0 || dest != "" || python != "" || recordJSON != "" || requested != "" {
					return usagef("link --finalize takes only --prefix")
				}
				return install.Finalize(prefix, install.FinalizeOptions{Epoch: epoch, Command: "envkit link --finalize", Messages: cmd.ErrOrStderr()})
			}
			if len(args) != 1 || dest == "" {
				return usagef("link: expected --dest DIR and one ARCHIVE")
			}
			opts := install.Options{Prefix: prefix, RequestedSpec: requested}
			if python != "" {
				if !isMajorMinor(python) {
					return usagef("link: --python %q is not X.Y", python)
				}
				opts.Python = &install.Python{Version: python}
			}
			if recordJSON != "" {
				var rec repodata.Record
				if err := json.Unmarshal([]byte(recordJSON), &rec); err != nil {
					return usagef("link: --record: %v", err)
				}
				opts.Record = &rec
			}
			if _, err := install.Link(args[0], filepath.Join(dest, prefix), opts); err != nil {
				return err
			}
			// DIR is the step's own output: everything in it gets the epoch,
			// the directories leading to PREFIX included.
			return pkg.SetTreeMtime(dest, epoch)
		},
	}
	f := cmd.Flags()
	f.StringVar(&prefix, "prefix", "", "absolute path the environment has in the image")
	f.StringVar(&dest, "dest", "", "output directory; files go to DIR/PREFIX")
	f.StringVar(&python, "python", "", "the environment's python X.Y (for noarch: python packages)")
	f.StringVar(&recordJSON, "record", "", "the package's repodata record as JSON (checksums, channel, url)")
	f.StringVar(&requested, "requested-spec", "", "the spec the user asked for, kept in conda-meta")
	f.BoolVar(&finalize, "finalize", false, "run link scripts, compile .pyc and write history in PREFIX")
	f.StringArrayVar(&wheels, "wheel", nil, "a pip wheel to install, as PATH#sha256=HEX (repeatable)")
	f.BoolVar(&compile, "compile", false, "with --wheel: compile .pyc with PREFIX/bin/pythonX.Y")
	return cmd
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

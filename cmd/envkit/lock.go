package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/relock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/envlock"
	"github.com/envkit/envkit/internal/gitctx"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/pypi/pipenv"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newLockCmd) }

func newLockCmd() *cobra.Command {
	var opts lockOptions
	cmd := &cobra.Command{
		Use:   "lock FILE [-o conda-lock.yml] [--platform SUBDIR]... [--update [PKG...]] [--dry-run] [--json]",
		Short: "Solve the conda and pip parts of a definition and write a conda-lock file",
		Long: `lock reads an environment definition in any supported format, solves its
conda dependencies for each platform (default: the definition's platforms,
else linux-64), then its pip lines against those conda packages, and writes
a conda-lock v1 file, by default conda-lock.yml beside the definition,
printing what changed. Precached Spark packages are pinned in its
custom_metadata, beside the conda packages' archive sizes (which decide
the image's layers beyond the layer budget; docs/lock.md).

Pins move only when asked:
  - a lock whose content hash matches the definition is left untouched;
  - a stale lock (the definition changed) is solved again keeping every
    locked package whose record still fits: only packages whose spec the
    lock no longer satisfies, and those that must move with them, change;
  - --update re-solves from scratch (newest everything);
  - --update PKG... (names after FILE) moves only the named packages, to
    at least the versions a fresh lock would hold, and what must move
    with them;
  - the pip part of a platform whose conda part is solved again is
    resolved again from scratch.
--dry-run prints the changes without writing; --json prints them as JSON.
--check writes nothing: it exits 0 when the lock is current for every
platform and 1 with the reasons when not (the one-line CI guard).
A new lock replaces the old one atomically.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: expected FILE", cmd.CommandPath())
			}
			if opts.check && (opts.update || opts.dryRun || opts.asJSON) {
				return usagef("%s: --check goes alone (no --update, --dry-run or --json)", cmd.CommandPath())
			}
			if len(args) > 1 && !opts.update {
				return usagef("%s: package names need --update (envkit lock FILE --update %s)", cmd.CommandPath(), strings.Join(args[1:], " "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file, opts.names = args[0], args[1:]
			return runLock(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.out, "output", "o", "", "lock file to write (default: conda-lock.yml beside FILE)")
	f.StringArrayVar(&opts.platforms, "platform", nil, "platform subdir to lock for (repeatable)")
	f.BoolVar(&opts.update, "update", false, "re-solve: all packages, or only the PKG names after FILE")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the changes without writing the lock")
	f.BoolVar(&opts.asJSON, "json", false, "print the result as JSON")
	f.BoolVar(&opts.check, "check", false, "only check that the lock is current for every platform: exit 1 and say why when not; write nothing")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "say on stderr how the channels were read (sharded or not, names, records, requests, bytes)")
	return cmd
}

type lockOptions struct {
	file, out      string
	platforms      []string
	update         bool
	names          []string // packages to update; none with update means all
	dryRun, asJSON bool
	verbose        bool // say how the channels were read
	// quietWhenCurrent says nothing of a lock that is up to date (envkit
	// build checks the lock on every build).
	quietWhenCurrent bool
	// check only says whether the lock is current (--check).
	check bool
}

// lockReport is the --json output.
type lockReport struct {
	Lock     string          `json:"lock"`
	UpToDate bool            `json:"up_to_date"`
	Written  bool            `json:"written"`
	Changes  []relock.Change `json:"changes"`
	// Unreadable is why the old lock could not be read (--update wrote
	// it from scratch; Changes is empty).
	Unreadable string `json:"unreadable,omitempty"`
	// SizesRecorded: the new lock records archive sizes the old lacked.
	SizesRecorded bool `json:"sizes_recorded,omitempty"`
}

func runLock(ctx context.Context, stdout, stderr io.Writer, opts *lockOptions) error {
	file := opts.file
	out := opts.out
	if out == "" {
		// Inside a definition directory (an MLflow model folder, a saved
		// Azure ML environment), where a build of the folder reads it.
		out = besideLock(file)
	}
	fresh := opts.update && len(opts.names) == 0
	// Git contexts' branches and tags keep the commits the lock records
	// unless everything is updated, as packages keep their pins.
	def, pins, err := loadWithGit(ctx, file, out, fresh)
	if err != nil {
		return err
	}
	if def.Conda == nil {
		if len(pins) == 0 {
			return fmt.Errorf("%s: no conda environment to lock", file)
		}
		old, err := lock.ReadFile(out)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return lockGitOnly(stderr, file, out, old, pins, opts)
	}
	platforms, err := lockPlatforms(opts.platforms)
	if err != nil {
		return err
	}
	if len(platforms) == 0 {
		if platforms, err = buildplan.Subdirs(def); err != nil {
			return err
		}
	}
	in := envlock.Inputs(def, os.LookupEnv)
	channels := in.Channels
	old, err := lock.ReadFile(out)
	// unreadable is why an old lock --update replaces could not be read:
	// with no pins to compare, a diff would list every package as added.
	var unreadable error
	var sizesErr *lock.SizesError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil && fresh:
		old, unreadable = nil, err // replaced from scratch: its pins do not matter
	case errors.As(err, &sizesErr):
		return err // says how to mend it keeping the pins
	case err != nil:
		return fmt.Errorf("%w (envkit lock --update solves it again from scratch, moving every pin)", err)
	}
	if opts.check {
		if stale := gitPinsStale(old, pins); old != nil && stale != "" {
			return fmt.Errorf("%s: %s: run envkit lock %s", out, stale, file)
		}
		return checkLock(stderr, out, file, old, in, platforms)
	}
	if !opts.update && old != nil && lockIsCurrent(old, in, platforms) && gitPinsStale(old, pins) == "" {
		if opts.asJSON {
			return writeJSON(stdout, lockReport{Lock: out, UpToDate: true, Changes: []relock.Change{}})
		}
		if !opts.quietWhenCurrent {
			fmt.Fprintf(stderr, "%s is up to date\n", out)
		}
		return nil
	}
	if err := checkUpdateNames(out, old, opts.names); err != nil {
		return err
	}
	source, err := filepath.Rel(filepath.Dir(out), file)
	if err != nil {
		source = file
	}
	l := &lock.Lock{Metadata: lock.Metadata{
		ContentHash: map[string]string{},
		Platforms:   platforms,
		Sources:     []string{filepath.ToSlash(source)},
	}}
	for _, c := range channels {
		l.Metadata.Channels = append(l.Metadata.Channels, lock.Channel{URL: c})
	}
	for _, platform := range platforms {
		pkgs, kept, err := lockPlatform(ctx, old, out, in, platform, opts, fresh)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", file, platform, err)
		}
		if !kept {
			// The pip part is resolved again whenever the conda part is:
			// its pins depend on the conda packages (python, overlap).
			pipPkgs, res, err := pipenv.Lock(ctx, def, platform, pkgs)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", file, platform, err)
			}
			for _, o := range res.Overlap {
				fmt.Fprintf(stderr, "pip: %s is provided by conda (%s), not installed again\n", o.Name, o.CondaVersion)
			}
			pkgs = append(pkgs, pipPkgs...)
		}
		l.Packages = append(l.Packages, pkgs...)
		l.Metadata.ContentHash[platform] = lock.ContentHash(in, platform)
	}
	if l.Metadata.Custom, err = sparkJars(ctx, def); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	l.Metadata.Custom = gitctx.Record(l.Metadata.Custom, pins)
	l.Sort()
	var before []lock.Package
	if old != nil {
		before = old.Packages
	}
	report := lockReport{Lock: out, Changes: relock.Changes(before, l.Packages)}
	if unreadable != nil {
		report.Changes, report.Unreadable = nil, unreadable.Error()
	}
	report.SizesRecorded = old != nil && l.Unsized() < old.Unsized()
	if !opts.dryRun {
		if _, err := l.WriteFile(out); err != nil {
			return err
		}
		report.Written = true
	}
	if opts.asJSON {
		if report.Changes == nil {
			report.Changes = []relock.Change{}
		}
		return writeJSON(stdout, report)
	}
	switch {
	case unreadable != nil:
		fmt.Fprintf(stderr, "the old %s could not be read (%v): solved from scratch, no changes to show\n", out, unreadable)
	case len(report.Changes) == 0 && report.SizesRecorded:
		fmt.Fprintln(stdout, "no pin changes; recorded archive sizes")
	default:
		if err := relock.WriteChanges(stdout, report.Changes); err != nil {
			return err
		}
	}
	if opts.dryRun {
		fmt.Fprintf(stderr, "dry run: %s not written\n", out)
	} else {
		fmt.Fprintf(stderr, "wrote %s (%d packages)\n", out, len(l.Packages))
	}
	return nil
}

// sparkJars are the custom_metadata entries pinning the definition's
// Spark packages when it precaches them (the image holds the jars), else
// none.
func sparkJars(ctx context.Context, def *spec.Definition) (map[string]string, error) {
	if !def.PrecachesSpark() {
		return nil, nil
	}
	roots, mo := maven.FromSpec(def.Spark)
	jars, err := maven.Resolve(ctx, roots, mo)
	if err != nil {
		return nil, fmt.Errorf("spark packages: %w", err)
	}
	return maven.ToCustom(nil, jars), nil
}

// lockPlatform returns the lock entries of one platform: all the old ones
// (conda and pip, kept is true) when that platform is current and no
// update was asked, else the conda entries of a fresh solve when there is
// nothing to keep or --update names nothing, or of a re-solve keeping the
// old pins (relock.Solve).
func lockPlatform(ctx context.Context, old *lock.Lock, oldPath string, in lock.Inputs, platform string, opts *lockOptions, fresh bool) (pkgs []lock.Package, kept bool, err error) {
	var locked []repodata.Record
	if old != nil && !fresh && slices.Contains(old.Metadata.Platforms, platform) {
		if !opts.update && old.Current(in, platform) {
			return old.ForPlatform(platform), true, nil
		}
		if locked, err = old.Records(platform); err != nil {
			return nil, false, fmt.Errorf("%s: %w", oldPath, err)
		}
	}
	var report io.Writer
	if opts.verbose {
		report = os.Stderr
	}
	_, u, err := loadUniverse(ctx, in.Channels, platform, in.Specs, report)
	if err != nil {
		return nil, false, err
	}
	sopts := solve.Options{Platform: platform}
	var recs []*repodata.Record
	if len(locked) == 0 {
		recs, _, err = solve.Solve(u.Index(), in.Specs, sopts)
	} else {
		update := opts.names
		if !opts.update {
			update = relock.Outdated(in.Specs, locked)
		}
		recs, err = relock.Solve(u, relock.Request{Specs: in.Specs, Locked: locked, Update: update}, sopts)
	}
	if err != nil {
		return nil, false, err
	}
	return lock.FromRecords(platform, recs), false, nil
}

// checkUpdateNames refuses --update names the lock does not hold, which
// are most likely typos.
func checkUpdateNames(path string, old *lock.Lock, names []string) error {
	var missing []string
	for _, n := range names {
		if old == nil || !slices.ContainsFunc(old.Packages, func(p lock.Package) bool { return p.Name == n }) {
			missing = append(missing, n)
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case old == nil:
		return fmt.Errorf("%s: no lock to update %s in (run envkit lock without package names first)", path, strings.Join(missing, ", "))
	}
	return fmt.Errorf("%s: --update %s: not in the lock", path, strings.Join(missing, ", "))
}

// lockIsCurrent tells whether the lock covers exactly these platforms
// with these inputs, so it can be left as it is.
func lockIsCurrent(l *lock.Lock, in lock.Inputs, platforms []string) bool {
	return len(lockStaleness(l, in, platforms)) == 0
}

// lockStaleness says why a lock is not current for the definition's
// inputs and platforms, one reason a line; none when it is.
func lockStaleness(l *lock.Lock, in lock.Inputs, platforms []string) []string {
	var why []string
	for _, p := range platforms {
		switch {
		case !slices.Contains(l.Metadata.Platforms, p):
			why = append(why, "not locked for "+p)
		case !l.Current(in, p):
			why = append(why, "stale for "+p+": the definition's conda, pip or Spark part (or a CONDA_OVERRIDE_* variable) changed since it was locked")
		}
	}
	for _, p := range l.Metadata.Platforms {
		if !slices.Contains(platforms, p) {
			why = append(why, "locks "+p+", which the definition no longer names")
		}
	}
	return why
}

// checkLock is lock --check: exit 0 when the lock at out is current for
// every platform, else an error (exit 1) that says why; nothing written.
func checkLock(stderr io.Writer, out, file string, l *lock.Lock, in lock.Inputs, platforms []string) error {
	if l == nil {
		return fmt.Errorf("%s: no lock: run envkit lock %s", out, file)
	}
	if why := lockStaleness(l, in, platforms); len(why) > 0 {
		return fmt.Errorf("%s: %s: run envkit lock %s", out, strings.Join(why, "; "), file)
	}
	fmt.Fprintf(stderr, "%s is up to date\n", out)
	if n := l.Unsized(); n > 0 {
		fmt.Fprintf(stderr, "note: %d conda packages have no archive size recorded, so a build beyond the layer budget groups them by name only (envkit lock --update NAME, any one package, records the sizes)\n", n)
	}
	return nil
}

// channelEnv is os.Getenv with the credentials in ENVKIT_CHANNEL_ALIAS and
// ENVKIT_CHANNEL_MIRRORS kept in memory for the downloads
// (credentials.RememberBase) and taken out of the URLs, so that channels are
// resolved, shown and locked bare.
func channelEnv(key string) string {
	v := os.Getenv(key)
	switch key {
	case channel.EnvAlias:
		return credentials.RememberBase(v)
	case channel.EnvMirrors:
		mirrors := strings.Split(v, ",")
		for i, m := range mirrors {
			if from, to, ok := strings.Cut(m, "="); ok {
				mirrors[i] = from + "=" + credentials.RememberBase(strings.TrimSpace(to))
			}
		}
		return strings.Join(mirrors, ",")
	}
	return v
}

// bareChannels are channels (names or URLs) with their credentials kept
// in memory for the downloads and taken out.
func bareChannels(channels []string) []string {
	out := make([]string, len(channels))
	for i, c := range channels {
		out[i] = credentials.RememberBase(c)
	}
	return out
}

// lockPlatforms reads --platform values: conda subdirs (linux-aarch64; any
// of conda's, since a lock may be for a machine envkit does not build
// for) or the OCI platforms a definition's platforms: key names
// (linux/arm64), each once, in the order given.
func lockPlatforms(flags []string) ([]string, error) {
	var out []string
	for _, f := range flags {
		subdir := f
		switch {
		case strings.Contains(f, "/"):
			p, err := platform.Parse(f)
			if err != nil {
				return nil, usagef("--platform %s: %v", f, err)
			}
			subdir = p.Subdir
		case f == "noarch" || !matchspec.KnownSubdir(f):
			var builds []string
			for _, p := range platform.All() {
				builds = append(builds, p.Subdir)
			}
			return nil, usagef("--platform %q is not a conda platform subdir: envkit builds %s; conda also knows osx-64, osx-arm64, win-64 and others (a definition's platforms: takes the OCI names, linux/arm64)", f, strings.Join(builds, ", "))
		}
		if !slices.Contains(out, subdir) {
			out = append(out, subdir)
		}
	}
	return out, nil
}

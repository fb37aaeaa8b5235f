package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/install"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/pypi/pipenv"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newCreateCmd) }

func newCreateCmd() *cobra.Command {
	var (
		noScripts                  bool
		prefix, lockFile, platform string
		channels                   []string
		allowUnverified            bool
	)
	cmd := &cobra.Command{
		Use:   "create --prefix DIR (--lock FILE | [--channel C]... [--platform SUBDIR] SPEC...)",
		Short: "Create a conda environment on this machine, without conda",
		Long: `create installs a conda environment at DIR, like micromamba create: from a
conda-lock file, or by solving SPECs against the channels. Packages are
downloaded once into $ENVKIT_PKGS_DIR (default ~/.cache/envkit/pkgs) and
verified, linked in dependency order into a temporary directory beside DIR,
which is then renamed to DIR; pre- and post-link scripts run (arbitrary code
from the packages, as with conda; --no-scripts skips them), .pyc files are
compiled with the environment's python, and every file gets the mtime
SOURCE_DATE_EPOCH (default 0). DIR must not exist or be empty; if anything
fails, or envkit is interrupted, DIR is removed. A package whose record has
neither sha256 nor md5 is refused unless --allow-unverified is given.`,
		RunE: func(cmd *cobra.Command, specs []string) error {
			if prefix == "" {
				return usagef("create: --prefix is required")
			}
			if (lockFile == "") == (len(specs) == 0) {
				return usagef("create: give either --lock FILE or at least one SPEC")
			}
			if lockFile != "" && len(channels) > 0 {
				return usagef("create: --channel does not apply to --lock")
			}
			abs, err := filepath.Abs(prefix)
			if err != nil {
				return err
			}
			epoch, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			cacheDir, err := pkg.DefaultCacheDir(os.Getenv)
			if err != nil {
				return err
			}
			var (
				recs   []*repodata.Record
				locked *lock.Lock // with --lock: its pip packages install after conda
			)
			requested := map[string]string{}
			if lockFile != "" {
				locked, platform, recs, err = lockRecords(lockFile, platform)
				if err == nil {
					rememberLockSources(lockFile, locked)
				}
			} else {
				if platform == "" {
					platform = defaultPlatform
				}
				if len(channels) == 0 {
					channels = []string{channel.Default}
				}
				var ix *repodata.Index
				if _, ix, err = loadIndex(cmd.Context(), channels, platform, specs, nil); err == nil {
					recs, _, err = solve.Solve(ix, specs, solve.Options{Platform: platform})
				}
				for _, s := range specs {
					requested[install.SpecName(s)] = s
				}
			}
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			var progress io.Writer
			if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				progress = stderr
			}
			var pip []lock.Package
			if locked != nil {
				pip = slices.DeleteFunc(locked.ForPlatform(platform), func(p lock.Package) bool { return p.Manager != lock.Pip })
			}
			popts := pipenv.InstallOptions{CacheDir: filepath.Join(cacheDir, "wheels"), Dir: filepath.Dir(lockFile), ModTime: epoch, Compile: true}
			if len(pip) > 0 {
				// Fetched and checked first, so a bad wheel stops the
				// creation before anything is written.
				if err := pipenv.Prefetch(cmd.Context(), pip, platform, popts); err != nil {
					return fmt.Errorf("%s: %w", lockFile, err)
				}
			}
			if err := install.Create(cmd.Context(), recs, install.CreateOptions{
				Prefix: abs, Cache: &pkg.Cache{Dir: cacheDir, AllowUnverified: allowUnverified}, Epoch: epoch,
				Command: "envkit create", RequestedSpecs: requested, Progress: progress,
				Warn:     func(s string) { fmt.Fprintln(stderr, "envkit: warning: "+s) },
				Messages: stderr, NoScripts: noScripts,
			}); err != nil {
				return err
			}
			if len(pip) > 0 {
				if err := pipenv.Install(cmd.Context(), pip, platform, abs, locked.ForPlatform(platform), popts); err != nil {
					// install.Create made the prefix: nothing half-written.
					os.RemoveAll(abs)
					return fmt.Errorf("%s: %w", lockFile, err)
				}
			}
			// An interrupt during the last steps (scripts, wheels) keeps
			// nothing either.
			if err := cmd.Context().Err(); err != nil {
				os.RemoveAll(abs)
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noScripts, "no-scripts", false, "do not run the packages' pre- and post-link scripts (packages that set themselves up in them, e.g. by writing config or registering kernels, may then be incomplete)")
	f.StringVarP(&prefix, "prefix", "p", "", "directory of the new environment")
	f.StringVar(&lockFile, "lock", "", "conda-lock v1 file to install")
	f.StringArrayVarP(&channels, "channel", "c", nil, "channel name or URL, highest priority first (repeatable)")
	f.StringVar(&platform, "platform", "", "platform subdir (default: the lock's only platform, else "+defaultPlatform+")")
	f.BoolVar(&allowUnverified, "allow-unverified", false, "install packages whose records have no sha256 or md5 (nothing then checks what was downloaded)")
	return cmd
}

// lockRecords reads a lock and picks a platform: the one given, else the
// lock's only platform, else linux-64. It returns the lock, that platform
// and its conda records.
func lockRecords(file, platform string) (*lock.Lock, string, []*repodata.Record, error) {
	l, err := lock.ReadFile(file)
	if err != nil {
		return nil, "", nil, err
	}
	if platform == "" {
		platform = defaultPlatform
		if len(l.Metadata.Platforms) == 1 {
			platform = l.Metadata.Platforms[0]
		}
	}
	recs, err := l.Records(platform)
	if err != nil {
		return nil, "", nil, err
	}
	if len(recs) == 0 {
		return nil, "", nil, fmt.Errorf("%s: no conda packages for platform %s (the lock has %s)", file, platform, strings.Join(l.Metadata.Platforms, ", "))
	}
	out := make([]*repodata.Record, len(recs))
	for i := range recs {
		out[i] = &recs[i]
	}
	return l, platform, out, nil
}

// rememberLockSources keeps in memory the credentials of the channels
// and pip indexes a lock was made from, which the lock does not hold: the
// /t/<token>/ or user:token URLs of ENVKIT_CHANNEL_MIRRORS and of its
// definition when that is at hand. Hosts that need a user and password
// find them in the netrc or PIP_INDEX_URL by themselves.
func rememberLockSources(lockFile string, l *lock.Lock) {
	channelEnv(channel.EnvMirrors)
	for _, src := range l.Metadata.Sources {
		def, err := spec.Load(filepath.Join(filepath.Dir(lockFile), filepath.FromSlash(src)))
		if err != nil {
			continue // the lock alone installs; the netrc still serves
		}
		if def.Conda != nil {
			bareChannels(def.Conda.ChannelNames())
		}
		for _, line := range spec.Specs(pipenv.Lines(def)) {
			// Option values: --index-url URL, --extra-index-url=URL, -f URL.
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], "-") {
				continue
			}
			if _, v, ok := strings.Cut(f[0], "="); ok {
				credentials.RememberBase(v)
			} else if len(f) > 1 {
				credentials.RememberBase(f[1])
			}
		}
	}
}

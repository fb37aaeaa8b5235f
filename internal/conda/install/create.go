package install

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
)

// CreateOptions say how to create an environment on the host.
type CreateOptions struct {
	// Prefix is the absolute path of the new environment. It must not
	// exist, or be an empty directory.
	Prefix string
	Cache  *pkg.Cache
	// Epoch is the mtime of every file (SOURCE_DATE_EPOCH).
	Epoch time.Time
	// Command goes into conda-meta/history.
	Command string
	// RequestedSpecs maps package names to the specs the user asked for.
	RequestedSpecs map[string]string
	// Progress receives one line per step; nil is quiet.
	Progress io.Writer
	// Warn receives warnings (clobbered paths); nil discards them.
	Warn func(string)
	// Messages receives the link scripts' messages to the user.
	Messages io.Writer
	// NoScripts skips the packages' pre- and post-link scripts.
	NoScripts bool
}

// Create downloads (once, into the cache, verified), links and finalizes
// the packages recs into a new environment at opts.Prefix. Packages are
// linked in dependency order into a temporary sibling directory, which is
// renamed to the prefix before the link scripts run (they need the final
// path); if anything fails, the prefix is removed: nothing half-written
// stays. Virtual packages (names starting with "__") are skipped.
func Create(ctx context.Context, recs []*repodata.Record, opts CreateOptions) error {
	prefix := opts.Prefix
	if !filepath.IsAbs(prefix) {
		return fmt.Errorf("prefix %q is not an absolute path", prefix)
	}
	if entries, err := os.ReadDir(prefix); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s already exists and is not empty", prefix)
	} else if err != nil && !os.IsNotExist(err) {
		return err
	}
	var real []*repodata.Record
	for _, r := range recs {
		if !strings.HasPrefix(r.Name, "__") {
			real = append(real, r)
		}
	}
	ordered := DependencyOrder(real)
	archives := make([]string, len(ordered))
	for i, r := range ordered {
		opts.progress("fetch %s", r)
		file := r.Filename
		if file == "" {
			file = filepath.Base(r.URL)
		}
		a, err := opts.Cache.Fetch(ctx, r.URL, file, pkg.Digests{SHA256: r.SHA256, MD5: r.MD5}, r.Size)
		if err != nil {
			return err
		}
		archives[i] = a
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(prefix), "."+filepath.Base(prefix)+".envkit-")
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		os.RemoveAll(tmp)
		return err
	}
	if err := linkAllInto(ctx, tmp, ordered, archives, opts); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	os.Remove(prefix) // an empty directory given as the prefix
	if err := os.Rename(tmp, prefix); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	opts.progress("finalize %s", prefix)
	err = Finalize(prefix, FinalizeOptions{Epoch: opts.Epoch, Command: opts.Command, Messages: opts.Messages, NoScripts: opts.NoScripts})
	if err != nil {
		os.RemoveAll(prefix)
		return err
	}
	return nil
}

func (o *CreateOptions) progress(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// linkAllInto links the packages in order. When two packages write the
// same path, the later one in dependency order wins, with a warning that
// names both (conda's "clobber" case). A cancelled ctx (an interrupt)
// stops it between packages.
func linkAllInto(ctx context.Context, dest string, ordered []*repodata.Record, archives []string, opts CreateOptions) error {
	// noarch: python packages depend on python, so python is linked
	// before them and its index.json may still name site-packages (CEP 17).
	py := pythonOf(ordered)
	owners := map[string]string{}
	for i, r := range ordered {
		if err := ctx.Err(); err != nil {
			return err
		}
		opts.progress("link %s", r)
		pr, err := Link(archives[i], dest, Options{Prefix: opts.Prefix, Record: r, RequestedSpec: opts.RequestedSpecs[r.Name], Python: py})
		if err != nil {
			return err
		}
		if r.Name == "python" && py != nil {
			py.SitePackages = pr.PythonSitePackagesPath
		}
		var clobbered []string
		for _, f := range pr.Files {
			if prev, ok := owners[f]; ok && prev != pr.Dist() && opts.Warn != nil {
				clobbered = append(clobbered, fmt.Sprintf("%s (also in %s)", f, prev))
			}
			owners[f] = pr.Dist()
		}
		if len(clobbered) > 0 {
			sort.Strings(clobbered)
			opts.Warn(fmt.Sprintf("%s overwrites paths of earlier packages: %s", pr.Dist(), strings.Join(clobbered, ", ")))
		}
	}
	return ctx.Err() // an interrupt during the last package keeps nothing either
}

// pythonOf is the environment's python (X.Y of the python record), or nil.
func pythonOf(recs []*repodata.Record) *Python {
	for _, r := range recs {
		if r.Name == "python" {
			parts := strings.SplitN(r.Version, ".", 3)
			if len(parts) >= 2 {
				return &Python{Version: parts[0] + "." + parts[1]}
			}
		}
	}
	return nil
}

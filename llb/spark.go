package llb

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/maven"
)

// Spark is what the image gets of the definition's spark section.
type Spark struct {
	// Roots are the definition's coordinates; Repositories its
	// repositories, in order.
	Roots        []maven.Coordinate
	Repositories []string
	// Precache puts the locked Jars in the image; without it Spark
	// fetches Roots itself at session start.
	Precache bool
	Jars     []maven.Jar
}

// sparkConfDir is SPARK_CONF_DIR in the image: spark-submit, pyspark and
// SparkSession.builder read spark-defaults.conf from it.
func sparkConfDir(prefix string) string { return path.Join(prefix, maven.ConfDir) }

// sparkLayer is one layer with the pinned jars (each a checksummed
// download) in <prefix>/share/envkit/spark/jars and spark-defaults.conf as
// maven.SparkDefaults writes it, every file and directory with the epoch
// as its mtime and mode 0644/0755. It needs no exec: the jars are copied
// as downloaded.
func sparkLayer(s *Spark, env Environment, opts Options) (llb.State, ocispecs.History, error) {
	if s.Precache && len(s.Jars) == 0 {
		return llb.State{}, ocispecs.History{}, fmt.Errorf("spark packages are precached, but no jars are locked: run envkit lock")
	}
	epoch := opts.Epoch.UTC()
	jarDir := path.Join(env.Prefix, maven.JarDir)
	confDir := sparkConfDir(env.Prefix)
	actions := llb.Mkdir(confDir, 0o755, llb.WithParents(true))
	var jars []maven.Jar
	if s.Precache {
		jars = s.Jars
		actions = actions.Mkdir(jarDir, 0o755, llb.WithParents(true))
	}
	var names []string
	for i, j := range jars {
		if !strings.HasPrefix(j.URL, "http://") && !strings.HasPrefix(j.URL, "https://") {
			return llb.State{}, ocispecs.History{}, fmt.Errorf("spark jar %s: %s cannot be downloaded by BuildKit (http and https only)", j, j.URL)
		}
		if len(j.SHA256) != 64 || digestOf(j.SHA256).Validate() != nil {
			return llb.State{}, ocispecs.History{}, fmt.Errorf("spark jar %s: the lock gives no sha256, which the build needs to pin the download", j)
		}
		fn := j.Filename()
		src := llb.HTTP(j.URL,
			llb.Checksum(digestOf(j.SHA256)),
			llb.Filename(fn),
			llb.WithCustomName(fmt.Sprintf("[spark %d/%d] download %s", i+1, len(jars), j)), opts.Auth.HTTP(j.URL),
		)
		// Downloads are 0600: the image's users must read the jars.
		actions = actions.Copy(src, "/"+fn, path.Join(jarDir, fn), &llb.CopyInfo{Mode: &llb.ChmodOpt{Mode: 0o644}})
		names = append(names, j.Coordinate.String())
	}
	conf := maven.SparkDefaults(env.Prefix, jars, s.Roots, s.Repositories, s.Precache)
	actions = actions.Mkfile(path.Join(confDir, "spark-defaults.conf"), 0o644, []byte(conf))
	what := "write spark-defaults.conf"
	if len(jars) > 0 {
		what = fmt.Sprintf("copy %d jars, write spark-defaults.conf", len(jars))
	}
	// Directories get the mtime of their last change, so the tree is laid
	// out first and then copied as a whole with the epoch: a copy sets a
	// directory's time after its contents.
	staged := llb.Scratch().File(actions, llb.WithCustomName(vertexName(opts, "spark", what)))
	st := llb.Scratch().File(llb.Copy(staged, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true, CreatedTime: &epoch}),
		llb.WithCustomName(vertexName(opts, "spark", "layer (every mtime SOURCE_DATE_EPOCH)")))
	by := "envkit spark-defaults.conf"
	if len(names) > 0 {
		by = "envkit spark jars " + strings.Join(names, " ")
	}
	return st, ocispecs.History{Created: &epoch, CreatedBy: by, Comment: imagemeta.SparkLayer}, nil
}

package sbom

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/pypi/metadata"
	envllb "github.com/envkit/envkit/llb"
)

// The labels llb writes for the base image (OCI's annotation names).
const (
	labelBaseName   = "org.opencontainers.image.base.name"
	labelBaseDigest = "org.opencontainers.image.base.digest"
	labelCreated    = "org.opencontainers.image.created"
)

// sparkJarsBy is how the Spark layer's history entry names its jars
// (llb's sparkLayer): "envkit spark jars G:A:V G:A:V…".
const sparkJarsBy = "envkit spark jars "

// ImageFileWanted says which files of an envkit layer (by its history
// comment, imagemeta) FromImage reads: the conda-meta records of the
// conda layers, the METADATA of the wheels the pip layers install, the
// jars of the Spark layer, these by digest only.
func ImageFileWanted(comment, name string) (keep, digestOnly bool) {
	switch comment {
	case imagemeta.CondaPackageLayer, imagemeta.CondaEnvironment:
		return isCondaMeta(name), false
	case imagemeta.PipPackageLayer:
		return isWheelMetadata(name), false
	case imagemeta.SparkLayer:
		return isJar(name), isJar(name)
	}
	return false, false
}

func isCondaMeta(name string) bool {
	dir, file := path.Split(name)
	return path.Base(dir) == "conda-meta" && strings.HasSuffix(file, ".json")
}

func isWheelMetadata(name string) bool {
	info := path.Dir(name)
	return path.Base(name) == "METADATA" && strings.HasSuffix(info, ".dist-info") && path.Base(path.Dir(info)) == "site-packages"
}

func isJar(name string) bool {
	return strings.HasSuffix(path.Dir(name), "/"+maven.JarDir) && strings.HasSuffix(name, ".jar")
}

// FromImage is the Environment an image built by envkit holds, named
// name: the hashes and envkit version of its labels, its platform's conda
// subdir, its base from the base labels, its creation time (the build's
// SOURCE_DATE_EPOCH), and the packages of files (path → content) and
// digests (path → sha256), as ImageFileWanted selects them: each
// conda-meta record as linked (the lock's record with the licence of the
// package's info/index.json), each installed wheel's METADATA (name,
// version, licence), each jar (its digest, the coordinate from
// sparkCreatedBy, the Spark layer's history).
// The pins label gives a wheel's archive sha256, URL and dependencies and
// a jar's URL, which the image's files do not hold (applyPins).
// lockOnly drops the licences, as envkit sbom --lock-only of the
// definition has none.
func FromImage(name string, cfg ocispecs.Image, files map[string][]byte, digests map[string]string, sparkCreatedBy []string, lockOnly bool) (Environment, error) {
	labels := cfg.Config.Labels
	env := Environment{
		Name:           name,
		DefinitionHash: labels[imagemeta.LabelDefinitionHash],
		LockHash:       labels[imagemeta.LabelLockHash],
		ToolVersion:    labels[imagemeta.LabelVersion],
		BaseImage:      labels[labelBaseName],
		BaseDigest:     labels[labelBaseDigest],
	}
	if env.DefinitionHash == "" {
		return Environment{}, fmt.Errorf("the image has no label %s: not an image envkit built", imagemeta.LabelDefinitionHash)
	}
	// llb writes the epoch as the label and the config's created time.
	var err error
	if l, ok := labels[labelCreated]; ok {
		if env.Created, err = time.Parse(time.RFC3339, l); err != nil {
			return Environment{}, fmt.Errorf("label %s: %w", labelCreated, err)
		}
		env.Created = env.Created.UTC()
	} else if cfg.Created != nil {
		env.Created = cfg.Created.UTC()
	}
	if env.Subdir, err = platform.Subdir(cfg.Platform); err != nil {
		return Environment{}, fmt.Errorf("the image's platform: %w", err)
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		data := files[p]
		switch {
		case isCondaMeta(p):
			r := new(repodata.Record)
			if err := json.Unmarshal(data, r); err != nil {
				return Environment{}, fmt.Errorf("%s: %w", p, err)
			}
			if r.Name == "" || r.Version == "" {
				return Environment{}, fmt.Errorf("%s: a conda-meta record without name or version", p)
			}
			if lockOnly {
				r.License = ""
			}
			env.Packages = append(env.Packages, r)
		case isWheelMetadata(p):
			m, err := metadata.Parse(data)
			if err != nil {
				return Environment{}, fmt.Errorf("%s: %w", p, err)
			}
			env.Wheels = append(env.Wheels, envllb.Wheel{Name: m.Name, Version: m.Version})
			if !lockOnly {
				if env.WheelLicenses == nil {
					env.WheelLicenses = map[string]string{}
				}
				env.WheelLicenses[m.Name] = m.License
			}
		}
	}
	if env.Jars, err = imageJars(digests, sparkCreatedBy); err != nil {
		return Environment{}, err
	}
	if err := applyPins(&env, labels[imagemeta.LabelPins]); err != nil {
		return Environment{}, err
	}
	return env, nil
}

// applyPins gives the image's wheels and jars what the lock said of them
// and the image's files cannot hold (imagemeta.LabelPins): a wheel's
// archive sha256 and URL and its dependencies, a jar's URL. An image
// built before the label has none, and those stay unknown.
func applyPins(env *Environment, label string) error {
	pins, err := imagemeta.DecodePins(label)
	if err != nil {
		return fmt.Errorf("label %s: %w", imagemeta.LabelPins, err)
	}
	pip := map[string]imagemeta.PipPin{}
	for _, p := range pins.Pip {
		pip[pypiName(p.Name)] = p
	}
	for i, w := range env.Wheels {
		p, ok := pip[pypiName(w.Name)]
		if !ok || p.Version != w.Version {
			continue
		}
		env.Wheels[i].URL, env.Wheels[i].SHA256 = p.URL, p.SHA256
		if len(p.Depends) > 0 {
			if env.WheelDepends == nil {
				env.WheelDepends = map[string][]string{}
			}
			env.WheelDepends[w.Name] = p.Depends
		}
	}
	jars := map[string]imagemeta.JarPin{}
	for _, j := range pins.Jars {
		jars[j.Coordinate+" "+j.Classifier] = j
	}
	for i, j := range env.Jars {
		if p, ok := jars[j.Coordinate.String()+" "+j.Classifier]; ok && p.SHA256 == j.SHA256 {
			env.Jars[i].URL = p.URL
		}
	}
	return nil
}

// imageJars are the jars of digests (path → sha256), each matched by its
// file name (artifact-version[-classifier].jar) to a coordinate of the
// Spark layer's history.
func imageJars(digests map[string]string, createdBy []string) ([]maven.Jar, error) {
	var coords []maven.Coordinate
	for _, by := range createdBy {
		rest, ok := strings.CutPrefix(by, sparkJarsBy)
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			c, err := maven.ParseCoordinate(f)
			if err != nil {
				return nil, fmt.Errorf("the Spark layer's history: %w", err)
			}
			coords = append(coords, c)
		}
	}
	var jars []maven.Jar
	for _, p := range slices.Sorted(maps.Keys(digests)) {
		if !isJar(p) {
			continue
		}
		j, ok := jarOf(path.Base(p), coords)
		if !ok {
			return nil, fmt.Errorf("%s: a jar the Spark layer's history (%q) does not name", p, sparkJarsBy+"…")
		}
		j.SHA256 = digests[p]
		jars = append(jars, j)
	}
	return jars, nil
}

// jarOf is the jar whose file name is fn among coords: an exact
// artifact-version.jar first, else the classifier is what follows.
func jarOf(fn string, coords []maven.Coordinate) (maven.Jar, bool) {
	for _, c := range coords {
		if fn == c.Artifact+"-"+c.Version+".jar" {
			return maven.Jar{Coordinate: c}, true
		}
	}
	for _, c := range coords {
		rest, ok := strings.CutPrefix(fn, c.Artifact+"-"+c.Version+"-")
		if classifier, ok2 := strings.CutSuffix(rest, ".jar"); ok && ok2 && classifier != "" {
			return maven.Jar{Coordinate: c, Classifier: classifier}, true
		}
	}
	return maven.Jar{}, false
}

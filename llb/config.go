package llb

import (
	"encoding/json"
	"path"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/imagemeta"
)

// configure turns the base's config into the environment's: conda's bin
// first on PATH, CONDA_PREFIX, the definition's variables (last, so they
// win), labels, and times from the epoch so that two builds of the same
// inputs give the same config bytes.
func configure(img *dockerspec.DockerOCIImage, env Environment, opts Options) {
	created := opts.Epoch.UTC()
	img.Created = &created
	if img.OS == "" {
		img.OS = opts.Platform.OS
		img.Architecture = opts.Platform.Architecture
	}
	// Many arm bases' configs name no variant; the image is for the
	// target's (arm/v6 and arm/v7 are different conda subdirs).
	if img.Variant == "" && img.Architecture == opts.Platform.Architecture {
		img.Variant = opts.Platform.Variant
	}
	if len(env.Packages) > 0 {
		bin := path.Join(env.Prefix, "bin")
		setEnv(img, "PATH", prependPath(bin, lookupEnv(img.Config.Env, "PATH")))
		setEnv(img, "CONDA_PREFIX", env.Prefix)
	}
	for _, v := range env.Env {
		setEnv(img, v.Name, v.Value)
	}

	labels := map[string]string{}
	for k, v := range img.Config.Labels {
		labels[k] = v
	}
	for k, v := range opts.Labels {
		labels[k] = v
	}
	labels["org.opencontainers.image.created"] = created.Format("2006-01-02T15:04:05Z07:00")
	if env.BaseImage != "" {
		labels["org.opencontainers.image.base.name"] = env.BaseImage
		if _, dgst, ok := strings.Cut(opts.Base.Ref, "@"); ok {
			labels["org.opencontainers.image.base.digest"] = dgst
		}
	}
	if env.DefinitionHash != "" {
		labels[imagemeta.LabelDefinitionHash] = env.DefinitionHash
	}
	if env.LockHash != "" {
		labels[imagemeta.LabelLockHash] = env.LockHash
	}
	if opts.Version != "" {
		labels[imagemeta.LabelVersion] = opts.Version
	}
	if pins := pinsOf(env).Encode(); pins != "" {
		labels[imagemeta.LabelPins] = pins
	}
	img.Config.Labels = labels
}

// pinsOf are the locked pins of the environment's wheels and precached
// jars (imagemeta.LabelPins).
func pinsOf(env Environment) imagemeta.Pins {
	var p imagemeta.Pins
	for _, w := range env.Wheels {
		p.Pip = append(p.Pip, imagemeta.PipPin{Name: w.Name, Version: w.Version, URL: w.URL, SHA256: w.SHA256, Depends: w.Depends})
	}
	if env.Spark != nil && env.Spark.Precache {
		for _, j := range env.Spark.Jars {
			p.Jars = append(p.Jars, imagemeta.JarPin{Coordinate: j.Coordinate.String(), Classifier: j.Classifier, URL: j.URL, SHA256: j.SHA256})
		}
	}
	return p
}

// prependPath puts dir first on a PATH value, removing it further down.
func prependPath(dir, value string) string {
	if value == "" {
		value = defaultPath
	}
	parts := []string{dir}
	for _, p := range strings.Split(value, ":") {
		if p != dir {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ":")
}

func lookupEnv(env []string, name string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

// setEnv replaces name in place (keeping the base's order) or appends it.
func setEnv(img *dockerspec.DockerOCIImage, name, value string) {
	for i, kv := range img.Config.Env {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			img.Config.Env[i] = name + "=" + value
			return
		}
	}
	img.Config.Env = append(img.Config.Env, name+"="+value)
}

// cloneImage deep-copies a config so that the caller's value is never
// changed.
func cloneImage(img dockerspec.DockerOCIImage) dockerspec.DockerOCIImage {
	dt, err := json.Marshal(img)
	if err != nil {
		panic(err) // a config that was unmarshalled always marshals
	}
	var out dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &out); err != nil {
		panic(err)
	}
	return out
}

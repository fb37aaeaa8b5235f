package resolve

import (
	"fmt"
	"strings"

	"github.com/envkit/envkit/internal/pypi/index"
	"github.com/envkit/envkit/internal/pypi/metadata"
	"github.com/envkit/envkit/internal/pypi/pep508"
	"github.com/envkit/envkit/internal/spec"
)

// Input is a pip list split into requirements, constraints, local wheels
// and index options.
type Input struct {
	Requirements []Requirement
	// Constraints limit the versions of the projects something requires
	// and never add one (pip's -c files).
	Constraints []Requirement
	// Wheels are wheel files beside the definition, installed as named;
	// their dependencies come from the indexes.
	Wheels []LocalWheel
	Index  index.Options
	// Pre allows pre-releases (pip --pre).
	Pre bool
}

// LocalWheel is a wheel file a pip line names by its path.
type LocalWheel struct {
	// Path is the file's slash-separated path from the definition's
	// directory: what the lock records and the build reads from the
	// context.
	Path string
	// SHA256 is the file's digest (hex), read with the definition.
	SHA256 string
	// Extras and Marker are the line's ("./x.whl[gpu] ; python_version
	// >= '3.10'"): the extras select more of its Requires-Dist, the
	// wheel is left out where the marker does not hold.
	Extras []string
	Marker pep508.Marker
	// Metadata is the wheel's METADATA; the caller reads it from the
	// file (ReadLocalWheels does) before Resolve.
	Metadata *metadata.Metadata
	Pos      spec.Pos
}

// Requirement is a parsed requirement and where it was written.
type Requirement struct {
	pep508.Requirement
	// Hashes are the sha256 digests of pip's hash-checking mode
	// ("pkg==1.0 --hash=sha256:HEX"): only those files may be chosen.
	Hashes []string
	Pos    spec.Pos
}

// ParseLines reads the pip lines of a definition (Definition.Conda.Pip,
// then Definition.Pip): requirements and the pip options that choose where
// packages come from. Editable installs, local paths, remote -r files and
// options that would change what is installed in ways a lock cannot
// record are refused, naming the line.
func ParseLines(lines []spec.Requirement) (Input, error) {
	var in Input
	for _, l := range lines {
		text := strings.TrimSpace(l.Spec)
		fail := func(format string, a ...any) error {
			return fmt.Errorf("%s: %s: %s", l.Pos, text, fmt.Sprintf(format, a...))
		}
		if l.Wheel != nil {
			w, _, err := spec.ParseWheelLine(text)
			if err != nil {
				return in, fail("%v", err)
			}
			in.Wheels = append(in.Wheels, LocalWheel{Path: l.Wheel.Path, SHA256: strings.TrimPrefix(l.Wheel.Digest, "sha256:"), Extras: w.Extras, Marker: w.Marker, Pos: l.Pos})
			continue
		}
		if l.Constraint {
			if err := spec.CheckPipConstraint(text); err != nil {
				return in, fail("%v", err)
			}
			req, hashes, _ := spec.ParsePipRequirement(text)
			in.Constraints = append(in.Constraints, Requirement{req, hashes, l.Pos})
			continue
		}
		if !strings.HasPrefix(text, "-") {
			if strings.HasPrefix(text, ".") || strings.HasPrefix(text, "/") || strings.HasPrefix(text, "file:") || strings.HasPrefix(text, "~") {
				return in, fail("only wheel files are installed from a local path: build a wheel and name its file (./wheels/NAME-VERSION-TAG.whl), or put it on an index or a --find-links directory and name the package")
			}
			if spec.IsPipURL(text) {
				return in, fail("%v", spec.ErrBareURL)
			}
			// The reading validate checked the line with.
			req, hashes, err := spec.ParsePipRequirement(text)
			if err != nil {
				return in, fail("%v", err)
			}
			in.Requirements = append(in.Requirements, Requirement{req, hashes, l.Pos})
			continue
		}
		opt, value := splitOption(text)
		switch opt {
		case "-i", "--index-url":
			if value == "" {
				return in, fail("needs a URL")
			}
			in.Index.IndexURL = value
		case "--extra-index-url":
			if value == "" {
				return in, fail("needs a URL")
			}
			in.Index.ExtraIndexURLs = append(in.Index.ExtraIndexURLs, value)
		case "-f", "--find-links":
			if value == "" {
				return in, fail("needs a URL or directory")
			}
			in.Index.FindLinks = append(in.Index.FindLinks, value)
		case "--no-index":
			in.Index.NoIndex = true
		case "--pre":
			in.Pre = true
		case "--trusted-host", "--prefer-binary", "--only-binary", "--upgrade", "-U", "--upgrade-strategy", "--exists-action":
			// Harmless here: envkit only installs wheels, and a lock is a
			// fresh resolution.
		case "-e", "--editable":
			return in, fail("%v", spec.ErrEditable)
		case "-r", "--requirement", "-c", "--constraint":
			// Files beside the definition were read into its lines.
			return in, fail("a remote file is not locked: download it beside the definition and name its path")
		case "--no-binary":
			return in, fail("envkit installs wheels only (no sdist builds)")
		default:
			return in, fail("pip option %s is not supported", opt)
		}
	}
	return in, nil
}

// splitOption splits "--index-url URL", "--index-url=URL" and "-iURL".
func splitOption(text string) (string, string) {
	if strings.HasPrefix(text, "--") {
		if name, value, ok := strings.Cut(text, "="); ok && !strings.ContainsAny(name, " \t") {
			return name, strings.TrimSpace(value)
		}
		name, value, _ := strings.Cut(text, " ")
		return name, strings.TrimSpace(value)
	}
	if len(text) > 2 && text[2] != ' ' && text[2] != '\t' {
		return text[:2], strings.TrimSpace(strings.TrimPrefix(text[2:], "="))
	}
	name, value, _ := strings.Cut(text, " ")
	return name, strings.TrimSpace(value)
}

// EnvDefaults fills the index options the pip lines leave unset from pip's
// environment variables, as pip does: PIP_INDEX_URL, PIP_EXTRA_INDEX_URL
// and PIP_FIND_LINKS (whitespace-separated lists) and PIP_NO_INDEX. An
// option written in the lines wins over its variable, so a definition
// that names its index is locked against it on every machine; the
// variables let a machine point a definition that names none at a mirror.
func (in *Input) EnvDefaults(lookup func(string) (string, bool)) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	if in.Index.IndexURL == "" {
		in.Index.IndexURL = get("PIP_INDEX_URL")
	}
	if urls := strings.Fields(get("PIP_EXTRA_INDEX_URL")); len(in.Index.ExtraIndexURLs) == 0 && len(urls) > 0 {
		in.Index.ExtraIndexURLs = urls
	}
	if links := strings.Fields(get("PIP_FIND_LINKS")); len(in.Index.FindLinks) == 0 && len(links) > 0 {
		in.Index.FindLinks = links
	}
	if !in.Index.NoIndex {
		switch strings.ToLower(get("PIP_NO_INDEX")) {
		case "1", "true", "yes", "on":
			in.Index.NoIndex = true
		}
	}
}

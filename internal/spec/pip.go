package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep508"
	"github.com/envkit/envkit/internal/pypi/tags"
)

// pipOptions are the requirement-file options envkit passes to pip.
var pipOptions = []string{"--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host", "--pre", "--no-binary", "--only-binary", "--prefer-binary", "--no-index"}

// Refusals of pip lines a lock cannot pin, shared by validate and the
// lock's reading of the lines (resolve.ParseLines): both say what to do
// instead. envkit installs wheels only, by name from an index or as
// files beside the definition.
var (
	ErrEditable = errors.New("editable installs need the source tree, which an image does not keep: build a wheel of it (pip wheel --no-deps -w wheels SOURCE) and name the wheel file (./wheels/NAME-VERSION-TAG.whl)")
	ErrBareURL  = errors.New("a URL alone names no project and pins nothing, and envkit installs wheels only: for a wheel write NAME @ URL; for a git repository or a source archive build its wheel (pip wheel --no-deps -w wheels URL) and name the wheel file (./wheels/NAME-VERSION-TAG.whl)")
)

// CheckPipRequirement checks a pip line as the lock will read it: a
// supported option, a URL, or a requirement that ParsePipRequirement
// reads. validate, lint, hash and the frontend see a definition only
// through this check, so a line they accept is one the lock can parse.
func CheckPipRequirement(s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		opt, _, _ := strings.Cut(s, " ")
		opt, _, _ = strings.Cut(opt, "=")
		switch {
		case (opt == "-r" || opt == "--requirement" || opt == "-c" || opt == "--constraint") && strings.TrimLeft(strings.TrimPrefix(s, opt), " \t=") == "":
			return fmt.Errorf("%s needs a file: %s FILE, a path relative to the definition", opt, opt)
		case contains(pipOptions, opt):
			return nil
		case (opt == "-r" || opt == "--requirement") && strings.Contains(s, "://"):
			return nil // a remote requirements file, fetched by pip
		case opt == "-c" || opt == "--constraint":
			// A -c file beside the definition is read into its lines:
			// what is left is a remote file, which a lock cannot see
			// change.
			return fmt.Errorf("a remote constraints file is not locked: download it beside the definition and name its path")
		case opt == "-e" || opt == "--editable":
			return ErrEditable
		}
		return fmt.Errorf("unsupported pip option %s", opt)
	}
	if IsPipURL(s) {
		return nil // refused by the lock (ErrBareURL), named at its line
	}
	_, _, err := ParsePipRequirement(s)
	return err
}

// CheckPipLine checks a pip line of a definition as read: a constraint
// line by pip's rules for constraints, a local wheel by its digest (read
// with the definition), any other line by CheckPipRequirement.
func CheckPipLine(q Requirement) error {
	switch {
	case q.Wheel != nil:
		// The lock reads the project and version from the name.
		_, err := tags.ParseWheelName(path.Base(q.Wheel.Path))
		return err
	case q.Constraint:
		return CheckPipConstraint(q.Spec)
	}
	return CheckPipRequirement(q.Spec)
}

// CheckPipConstraint checks a line of a constraints file as pip does: a
// named requirement (a version specifier, a marker, or a URL), never
// editable, without extras (pip refuses them since its 2020 resolver).
func CheckPipConstraint(s string) error {
	s = strings.TrimSpace(s)
	if IsPipURL(s) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") {
		return fmt.Errorf("a constraint must name its project (unnamed requirements are not allowed as constraints)")
	}
	req, _, err := ParsePipRequirement(s)
	if err != nil {
		return err
	}
	if len(req.Extras) > 0 {
		return fmt.Errorf("constraints cannot have extras (as in pip): drop [%s] here and ask for the extras in the requirements", strings.Join(req.Extras, ","))
	}
	return nil
}

// PipKey is a pip line as the definition hash and the lock's content hash
// record it: a constraint is "-c " and the requirement (so it never equals
// the requirement it limits), a local wheel is its file name and content
// digest (moving the file does not change it; changing a byte does), any
// other line its text.
func PipKey(q Requirement) string {
	switch {
	case q.Wheel != nil:
		w, _, _ := ParseWheelLine(q.Spec)
		return "--wheel " + path.Base(q.Wheel.Path) + " " + q.Wheel.Digest + w.suffix()
	case q.Constraint:
		return "-c " + NormalizeSpec(q.Spec)
	}
	return q.Spec
}

// IsPipURL says whether a requirement line is a bare URL (an archive or a
// VCS checkout, "git+https://..."), which names no project.
func IsPipURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	return ok && scheme != "" && strings.Trim(strings.ToLower(scheme), "abcdefghijklmnopqrstuvwxyz+") == ""
}

// ParsePipRequirement reads a requirement line of a pip list: a PEP 508
// requirement, optionally followed by pip's hash-checking options
// ("pkg==1.0 --hash=sha256:HEX"), whose lower-case hex digests it returns.
// It is the one reading of a requirement line: the checks of validate and
// the lock's resolver both use it.
func ParsePipRequirement(line string) (pep508.Requirement, []string, error) {
	text, hashes, err := splitHashes(strings.TrimSpace(line))
	if err != nil {
		return pep508.Requirement{}, nil, err
	}
	req, err := pep508.Parse(text)
	if err != nil {
		// The callers quote the line already.
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("requirement %q: ", text))
		if single.MatchString(text) {
			// conda's "name=1.2" in a pip list: pip refuses it too.
			msg += `; "=" is conda's operator, pip's is "==" (or "~=")`
		}
		if bare := strings.Trim(text, `'", []`); bare != "" && (strings.ContainsAny(text[:1], `'"[`) || strings.HasSuffix(text, ",")) {
			// A Python list pasted into requirements.txt.
			msg += fmt.Sprintf("; a requirement is written without quotes or commas: %s", bare)
		}
		return req, nil, errors.New(msg)
	}
	// pip reads "name @ ./x.whl" and "name @ file:x.whl" from its working
	// directory, which a lock and a build do not share.
	if req.URL != "" {
		if u, err := url.Parse(req.URL); err != nil || u.Scheme == "" || u.Scheme == "file" && !strings.HasPrefix(u.Path, "/") {
			return req, nil, fmt.Errorf("%s @ %s: a direct reference needs a URL; a wheel file beside the definition is written as its path alone (./wheels/NAME-VERSION-….whl)", req.Name, req.URL)
		}
	}
	return req, hashes, nil
}

// single matches a requirement whose first operator is a lone "=".
var single = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*=[^=]`)

// splitHashes takes the --hash options off a requirement line.
func splitHashes(line string) (string, []string, error) {
	parts := strings.Split(line, "--hash")
	var hashes []string
	for _, p := range parts[1:] {
		v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p), "="))
		algo, digest, ok := strings.Cut(v, ":")
		if !ok || algo != "sha256" || len(digest) != 64 || strings.Trim(strings.ToLower(digest), "0123456789abcdef") != "" {
			return "", nil, fmt.Errorf("--hash %q: want sha256:<64 hex digits>", v)
		}
		hashes = append(hashes, strings.ToLower(digest))
	}
	return strings.TrimSpace(parts[0]), hashes, nil
}

// pipTexts are pip lines as a written definition holds them: a local
// wheel by its path from the definition's directory (the line may have
// been written in a -r file elsewhere).
func pipTexts(reqs []Requirement) []string {
	out := Specs(reqs)
	for i, q := range reqs {
		if q.Wheel != nil {
			w, _, _ := ParseWheelLine(q.Spec)
			out[i] = "./" + q.Wheel.Path + w.suffix()
		}
	}
	return out
}

// writablePip refuses a definition whose pip lines hold constraints: a
// constraint has no form of its own in a pip list, only the -c file it
// was read from.
func writablePip(def *Definition) error {
	lines := def.Pip
	if def.Conda != nil {
		lines = append(append([]Requirement{}, def.Conda.Pip...), def.Pip...)
	}
	for _, q := range lines {
		if q.Constraint {
			return fmt.Errorf("%s: a constraint read from a -c file cannot be written into a pip list: convert the definition without its -c line, then add the line back", q.Pos)
		}
	}
	return nil
}

// WheelLine is a pip line naming a wheel file by its path.
type WheelLine struct {
	// File is the path as written, relative to the file holding the line.
	File   string
	Extras []string
	// Marker is the line's environment marker, nil when it has none.
	Marker pep508.Marker
}

// ParseWheelLine reads a pip line naming a wheel file as pip reads a
// path: "./wheels/x-1.0-py3-none-any.whl[extra,...] ; marker" (for a path,
// pip splits the marker at the first ";"). ok says whether the line names
// a wheel file at all; err is a malformed extras list or marker.
func ParseWheelLine(text string) (w WheelLine, ok bool, err error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "-") || strings.Contains(text, "://") {
		return w, false, nil
	}
	file, marker, hasMarker := strings.Cut(text, ";")
	file = strings.TrimSpace(file)
	extras := ""
	if i := strings.LastIndex(file, "["); i > 0 && strings.HasSuffix(file, "]") {
		file, extras = file[:i], file[i:]
	}
	if !strings.HasSuffix(strings.ToLower(file), ".whl") || strings.ContainsAny(file, " \t") {
		return w, false, nil
	}
	w.File = file
	if extras == "" && !hasMarker {
		return w, true, nil
	}
	// The requirement parser reads the extras and the marker, as it
	// reads them on a named requirement.
	synthetic := "wheel" + extras
	if hasMarker {
		synthetic += " ; " + marker
	}
	req, err := pep508.Parse(synthetic)
	if err != nil {
		return w, true, errors.New(strings.TrimPrefix(err.Error(), fmt.Sprintf("requirement %q: ", synthetic)))
	}
	w.Extras, w.Marker = req.Extras, req.Marker
	return w, true, nil
}

// suffix is the extras and marker as a written line ends with them.
func (w WheelLine) suffix() string {
	s := ""
	if len(w.Extras) > 0 {
		s = "[" + strings.Join(w.Extras, ",") + "]"
	}
	if w.Marker != nil {
		s += " ; " + w.Marker.String()
	}
	return s
}

// LocalWheelPath says whether a locked wheel's URL is a wheel file beside
// the definition, which the lock records as the file's path from the
// definition's directory (Requirement.Wheel.Path: relative,
// slash-separated, no scheme, never leaving the directory), and returns
// the path.
func LocalWheelPath(u string) (string, bool) {
	if strings.Contains(u, ":") || !fs.ValidPath(u) || u == "." || !strings.HasSuffix(u, ".whl") {
		return "", false
	}
	return u, true
}

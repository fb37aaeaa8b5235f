package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep508"
)

// pipOptions are the requirement-file options envkit passes to pip.
var pipOptions = []string{"--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host", "--pre", "--no-binary", "--only-binary", "--prefer-binary", "--no-index"}

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
		case contains(pipOptions, opt):
			return nil
		case (opt == "-r" || opt == "--requirement") && strings.Contains(s, "://"):
			return nil // a remote requirements file, fetched by pip
		case opt == "-e" || opt == "--editable":
			return fmt.Errorf("editable installs need the source tree: install it in a step")
		case opt == "-c" || opt == "--constraint":
			return fmt.Errorf("constraint files are not supported: pin the requirements instead")
		}
		return fmt.Errorf("unsupported pip option %s", opt)
	}
	if isPipURL(s) {
		return nil
	}
	_, _, err := ParsePipRequirement(s)
	return err
}

// isPipURL says whether a requirement line is a bare URL (an archive or a
// VCS checkout, "git+https://..."), which names no project.
func isPipURL(s string) bool {
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
		return req, nil, errors.New(msg)
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

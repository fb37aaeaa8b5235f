package frontend

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/envkit/envkit/internal/buildplan"
	envllb "github.com/envkit/envkit/llb"
)

// refusedStatus is BuildKit's message for an HTTP source answered 401 or
// 403; digestMismatch its message for a pinned download whose bytes are not
// the pinned ones, which is also what a refusal gives there (BuildKit
// checks the body of whatever a pinned download is answered);
// missingSecret its message for a named secret the build lacks.
var (
	refusedStatus  = regexp.MustCompile(`invalid response status (401|403)\b`)
	digestMismatch = regexp.MustCompile(`digest mismatch sha256:`)
	missingSecret  = regexp.MustCompile(`failed to retrieve HTTP auth secret ` + regexp.QuoteMeta(envllb.AuthSecret("")) + `(\S+?):? `)
)

// explainAuth says, in envkit's words, what a download that failed for
// want of credentials needs: the host (from the failed source's URL in
// def), the secret and the build argument that give it, or that the
// secret given was refused. Other errors are returned as they are.
func explainAuth(err error, def *llb.Definition, auth envllb.Auth) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m := missingSecret.FindStringSubmatch(msg + " "); m != nil {
		host := m[1]
		return &authError{err: err, advice: fmt.Sprintf("the build argument %s names %s, and the build has no secret %s: give it (docker buildx build --secret id=%s,env=VAR, or buildctl build --secret id=%s,env=VAR, with VAR holding the Authorization header value, \"Basic …\" or \"Bearer …\"), or leave %s out of %s",
			buildplan.ArgAuthHosts, host, envllb.AuthSecret(host), envllb.AuthSecret(host), envllb.AuthSecret(host), host, buildplan.ArgAuthHosts)}
	}
	refused := refusedStatus.MatchString(msg)
	if !refused && !digestMismatch.MatchString(msg) {
		return err
	}
	u := failedURL(err, def)
	host := envllb.AuthHost(u)
	if host == "" {
		return err
	}
	// A mismatch is a refusal only perhaps: said as a condition.
	what, refusal := fmt.Sprintf("GET %s: ", u), ""
	if !refused {
		what, refusal = fmt.Sprintf("the download of %s is not the pinned file; if ", u), ", that was its refusal"
	}
	id, ok := auth[host]
	if ok {
		return &authError{err: err, advice: fmt.Sprintf("%s%s refused the credentials of the build secret %s%s: check them", what, host, id, refusal)}
	}
	id = envllb.AuthSecret(host)
	return &authError{err: err, advice: fmt.Sprintf("%s%s needs credentials%s: give its Authorization header value (\"Basic …\" or \"Bearer …\") as the build secret %s and name the host in the build argument %s (docker buildx build --secret id=%s,env=VAR --build-arg %s=%s …, or buildctl build --secret id=%s,env=VAR --opt build-arg:%s=%s …); envkit build does it by itself from ~/.netrc, $NETRC or $RATTLER_AUTH_FILE",
		what, host, refusal, id, buildplan.ArgAuthHosts, id, buildplan.ArgAuthHosts, host, id, buildplan.ArgAuthHosts, host)}
}

// failedURL is the URL of the HTTP source err failed at: the vertex it
// names; for an error of no vertex, the only HTTP source of def (a single
// download the frontend reads back); else "".
func failedURL(err error, def *llb.Definition) string {
	var ve *errdefs.VertexError
	named := errors.As(err, &ve) && ve.Vertex != nil
	var only []string
	for _, dt := range def.Def {
		var op pb.Op
		if op.UnmarshalVT(dt) != nil {
			continue
		}
		src := op.GetSource()
		if src == nil || envllb.AuthHost(src.Identifier) == "" {
			continue
		}
		if named && digest.FromBytes(dt) == digest.Digest(ve.Digest) {
			return src.Identifier
		}
		only = append(only, src.Identifier)
	}
	if !named && len(only) == 1 {
		return only[0]
	}
	return ""
}

// authError is err (BuildKit's message) followed by what to do about it.
type authError struct {
	err    error
	advice string
}

func (e *authError) Error() string { return e.err.Error() + ": " + e.advice }

// Unwrap keeps the typed details (vertex, source) BuildKit's clients
// read.
func (e *authError) Unwrap() error { return e.err }

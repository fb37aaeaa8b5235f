package frontend

import (
	"fmt"

	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"

	"github.com/envkit/envkit/internal/buildplan"
	envllb "github.com/envkit/envkit/llb"
)

// capability is a BuildKit feature envkit's builds rely on.
type capability struct {
	id apicaps.CapID
	// gateway: a gateway capability, else an LLB one.
	gateway bool
	what    string
	// since is the first BuildKit release that has it (from each
	// release's solver/pb/caps.go and frontend/gateway/pb/caps.go).
	since string
}

// capabilities are checked before anything is built. Every BuildKit
// from MinBuildKit on has all of them; each is said with what it gives,
// so a daemon below the floor fails in envkit's words, not at marshal
// time in BuildKit's.
var capabilities = []capability{
	{id: pb.CapMergeOp, what: "MergeOp, which gives every conda package its own layer", since: "v0.10.0"},
	{id: pb.CapSourceHTTPChecksum, what: "HTTP sources pinned by checksum (packages, wheels, jars, repodata shards)", since: "v0.6.0"},
	{id: pb.CapExecMountSelector, what: "mounts of a subdirectory (the environment's prefix in the finalize step)", since: "v0.6.0"},
	{id: pb.CapExecMetaNetwork, what: "steps without network (link, finalize, pip)", since: "v0.6.0"},
	{id: pb.CapSourceLocalFollowPaths, what: "transferring only the files a build reads from the context", since: "v0.6.0"},
	{id: gwpb.CapReadFile, gateway: true, what: "reading files back through the gateway (the lock, repodata)", since: "v0.6.0"},
	{id: gwpb.CapStatFile, gateway: true, what: "file sizes through the gateway (large repodata read in ranges)", since: "v0.6.0"},
	{id: gwpb.CapGatewayEvaluateSolve, gateway: true, what: "evaluating a solve in the frontend (a failed step named in the error)", since: "v0.8.0"},
}

// MinBuildKit is the oldest BuildKit release envkit builds with (the
// newest since of capabilities). Docker Engine 24 and later embed a newer
// one (v0.11+); Debian 12's docker.io 20.10 embeds v0.8.
const MinBuildKit = "v0.10.0"

// checkCapabilities says, in envkit's words, which feature the daemon
// lacks, the release that has it and the floor.
func checkCapabilities(llbCaps, gatewayCaps apicaps.CapSet) error {
	for _, c := range capabilities {
		set := llbCaps
		if c.gateway {
			set = gatewayCaps
		}
		if err := set.Supports(c.id); err != nil {
			return fmt.Errorf("this BuildKit lacks %s (capability %q, BuildKit %s and later): envkit needs BuildKit %s or later (Docker Engine 24 or later embeds one; buildx can use a newer builder: docker buildx create --use)",
				c.what, c.id, c.since, MinBuildKit)
		}
	}
	return nil
}

// authCapability is needed only by a build that sends credentials
// (ENVKIT_AUTH_HOSTS): an older daemon ignores the attribute and would
// download without them.
var authCapability = capability{id: pb.CapSourceHTTPAuth, what: "HTTP sources with an Authorization header from a build secret", since: "v0.21.0"}

// checkAuthCapability refuses, in envkit's words, a build that names
// hosts with credentials on a daemon that cannot send them.
func checkAuthCapability(llbCaps apicaps.CapSet, auth envllb.Auth) error {
	if len(auth) == 0 {
		return nil
	}
	if err := llbCaps.Supports(authCapability.id); err != nil {
		return fmt.Errorf("the build argument %s names hosts with credentials, and this BuildKit lacks %s (capability %q, BuildKit %s and later): build on BuildKit %s or later (buildx can use a newer builder: docker buildx create --use), or lock and build where the channels need no credentials",
			buildplan.ArgAuthHosts, authCapability.what, authCapability.id, authCapability.since, authCapability.since)
	}
	return nil
}

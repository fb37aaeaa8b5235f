// Package integration tests envkit against a real buildkitd (runc), a real
// OCI registry and a conda channel over HTTP, which TestMain starts with
// fresh state and stops at the end. The tests carry the build tag
// integration: run them with make integration (it builds ./bin first).
package integration

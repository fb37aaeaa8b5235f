package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conformance"
)

func writeEnv(t *testing.T, dir, deps string) string {
	t.Helper()
	channel := "file://" + conformance.Dir(t, "channels", "test-recipes")
	p := filepath.Join(dir, "environment.yml")
	body := "name: t\nchannels:\n  - " + channel + "\ndependencies:\n" + deps
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLockCommand(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n  - run_constrained\n")
	path := filepath.Join(dir, "conda-lock.yml")
	l := lockFile(t, path, env)
	if got := versionsOf(l); got != "dependency=2.0 dependent=2.0 run_constrained=1.0" {
		t.Errorf("locked %v", got)
	}
	if l.Metadata.ContentHash["linux-64"] == "" || len(l.Metadata.Sources) != 1 || l.Metadata.Sources[0] != "environment.yml" {
		t.Errorf("metadata %+v", l.Metadata)
	}

	// A current lock is left alone: same bytes, same modification time.
	before, _ := os.ReadFile(path)
	old := time.Unix(1_000_000_000, 0)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code != 0 || !strings.Contains(errOut, "up to date") {
		t.Fatalf("second lock: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if !bytes.Equal(before, after) || !st.ModTime().Equal(old) {
		t.Error("a current lock was rewritten")
	}

	// A changed definition is solved again, here to an explicit output.
	writeEnv(t, dir, "  - dependent 1.0\n")
	other := filepath.Join(dir, "other.yml")
	l = lockFile(t, other, env, "-o", other, "--platform", "linux-64", "--platform", "linux-aarch64")
	if len(l.Metadata.Platforms) != 2 || len(l.ForPlatform("linux-aarch64")) != 2 {
		t.Errorf("two platforms expected: %+v", l.Metadata.Platforms)
	}
}

func TestLockCommandUnsatisfiableWritesNothing(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependency\n  - unsatisfiable\n")
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code != 1 || !strings.Contains(errOut, "unsatisfiable 1.0 needs versioned <1.0") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "conda-lock.yml")); !os.IsNotExist(err) {
		t.Errorf("a lock was written for an unsatisfiable environment (%v)", err)
	}
	if _, _, code := runSolveCLI(t, "lock"); code != 2 {
		t.Errorf("no FILE: exit %d, want 2", code)
	}
}

// writeChannel writes a noarch channel under dir holding the records of
// conda's test-recipes channel that keep accepts, as a channel update
// would rewrite its repodata.json.
func writeChannel(t *testing.T, dir string, keep func(version string) bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformance.Dir(t, "channels", "test-recipes"), "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rd map[string]any
	if err := json.Unmarshal(data, &rd); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"packages", "packages.conda"} {
		pkgs, _ := rd[key].(map[string]any)
		for fn, rec := range pkgs {
			if !keep(rec.(map[string]any)["version"].(string)) {
				delete(pkgs, fn)
			}
		}
	}
	if data, err = json.Marshal(rd); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "noarch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "noarch", "repodata.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockFile runs envkit lock with args, which must succeed, and reads the
// lock it wrote at path.
func lockFile(t *testing.T, path string, args ...string) *lock.Lock {
	t.Helper()
	if _, errOut, code := runSolveCLI(t, append([]string{"lock"}, args...)...); code != 0 {
		t.Fatalf("lock %v: exit %d: %s", args, code, errOut)
	}
	return readLock(t, path)
}

func readLock(t *testing.T, path string) *lock.Lock {
	t.Helper()
	l, err := lock.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// lockedVersions reads the lock at path and lists its linux-64 pins.
func lockedVersions(t *testing.T, path string) string {
	t.Helper()
	return versionsOf(readLock(t, path))
}

// versionsOf lists a lock's linux-64 packages as name=version, in the
// lock's order (conda ones first).
func versionsOf(l *lock.Lock) string {
	var pins []string
	for _, p := range l.ForPlatform("linux-64") {
		pins = append(pins, p.Name+"="+p.Version)
	}
	return strings.Join(pins, " ")
}

// managedVersionsOf lists them as manager:name=version, telling pip pins
// from conda ones.
func managedVersionsOf(l *lock.Lock) string {
	var pins []string
	for _, p := range l.ForPlatform("linux-64") {
		pins = append(pins, fmt.Sprintf("%s:%s=%s", p.Manager, p.Name, p.Version))
	}
	return strings.Join(pins, " ")
}

// A channel update changes no pin by itself: lock keeps them (also when
// the definition changes), lock --update PKG moves PKG and what must move
// with it, lock --update moves everything.
func TestLockUpdate(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	channel := filepath.Join(dir, "channel")
	writeChannel(t, channel, func(v string) bool { return v == "1.0" })
	env := filepath.Join(dir, "environment.yml")
	define := func(deps ...string) {
		body := "name: t\nchannels:\n  - file://" + channel + "\ndependencies:\n  - " + strings.Join(deps, "\n  - ") + "\n"
		if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lockFile := filepath.Join(dir, "conda-lock.yml")
	lockCLI := func(args ...string) string {
		t.Helper()
		out, errOut, code := runSolveCLI(t, append([]string{"lock", env}, args...)...)
		if code != 0 {
			t.Fatalf("lock %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	define("another_dependent", "versioned")
	out := lockCLI()
	if !strings.Contains(out, "added  versioned          1.0 0") {
		t.Errorf("first lock prints:\n%s", out)
	}
	const old = "another_dependent=1.0 dependency=1.0 dependent=1.0 versioned=1.0"
	if got := lockedVersions(t, lockFile); got != old {
		t.Fatalf("locked %s", got)
	}

	// The channel gets 2.0 of every package.
	writeChannel(t, channel, func(string) bool { return true })
	before, _ := os.ReadFile(lockFile)
	lockCLI()
	if after, _ := os.ReadFile(lockFile); !bytes.Equal(before, after) {
		t.Error("a current lock changed after a channel update")
	}

	// A new spec adds its package and moves nothing else.
	define("another_dependent", "versioned", "other_dependent")
	if out := lockCLI(); out != "linux-64:\n  added  other_dependent  1.0 0\n" {
		t.Errorf("stale lock re-solve prints:\n%s", out)
	}
	const stale = "another_dependent=1.0 dependency=1.0 dependent=1.0 other_dependent=1.0 versioned=1.0"
	if got := lockedVersions(t, lockFile); got != stale {
		t.Errorf("after a definition change: %s", got)
	}

	// --dry-run shows and writes nothing.
	before, _ = os.ReadFile(lockFile)
	if out := lockCLI("--update", "versioned", "--dry-run"); out != "linux-64:\n  upgraded  versioned  1.0 → 2.0\n" {
		t.Errorf("dry run prints:\n%s", out)
	}
	if after, _ := os.ReadFile(lockFile); !bytes.Equal(before, after) {
		t.Error("--dry-run wrote the lock")
	}

	// --update PKG moves only PKG.
	var report struct {
		Written bool
		Changes []struct {
			Platform, Name, Change string
			Old, New               struct{ Version, Build string }
		}
	}
	if err := json.Unmarshal([]byte(lockCLI("--update", "versioned", "--json")), &report); err != nil {
		t.Fatal(err)
	}
	if !report.Written || len(report.Changes) != 1 || report.Changes[0].Name != "versioned" || report.Changes[0].Change != "upgraded" ||
		report.Changes[0].Old.Version != "1.0" || report.Changes[0].New.Version != "2.0" || report.Changes[0].Platform != "linux-64" {
		t.Errorf("--json report: %+v", report)
	}
	if got := lockedVersions(t, lockFile); got != strings.Replace(stale, "versioned=1.0", "versioned=2.0", 1) {
		t.Errorf("after --update versioned: %s", got)
	}

	// ... and what must move with it: dependent 1.0 needs dependency <2.
	lockCLI("--update", "dependency")
	if got := lockedVersions(t, lockFile); got != "another_dependent=1.0 dependency=2.0 dependent=2.0 other_dependent=1.0 versioned=2.0" {
		t.Errorf("after --update dependency: %s", got)
	}

	// --update alone is a fresh solve.
	lockCLI("--update")
	if got := lockedVersions(t, lockFile); got != "another_dependent=2.0 dependency=2.0 dependent=2.0 other_dependent=1.0 versioned=2.0" {
		t.Errorf("after --update: %s", got)
	}

	// A new platform is solved; the platform already locked keeps its pins.
	writeChannel(t, channel, func(v string) bool { return v == "1.0" })
	lockCLI("--update")
	writeChannel(t, channel, func(string) bool { return true })
	if out := lockCLI("--platform", "linux-64", "--platform", "linux-aarch64"); strings.Contains(out, "linux-64:") || !strings.Contains(out, "added  versioned          2.0 0") {
		t.Errorf("adding a platform prints:\n%s", out)
	}

	if _, errOut, code := runSolveCLI(t, "lock", env, "--update", "nosuch"); code != 1 || !strings.Contains(errOut, "--update nosuch: not in the lock") {
		t.Errorf("unknown name: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runSolveCLI(t, "lock", env, "versioned"); code != 2 || !strings.Contains(errOut, "need --update") {
		t.Errorf("name without --update: exit %d: %s", code, errOut)
	}
}

// An old lock that does not parse is not overwritten silently; --update
// replaces it. A definition without solution leaves the old lock alone.
func TestLockOldLockErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	path := filepath.Join(dir, "conda-lock.yml")
	if err := os.WriteFile(path, []byte("version: 1\npackage: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runSolveCLI(t, "lock", env); code != 1 || !strings.Contains(errOut, "conda-lock.yml:") || !strings.Contains(errOut, "--update solves it again from scratch") {
		t.Errorf("corrupt lock: exit %d: %s", code, errOut)
	}
	// No pins to compare: no diff listing every package as added.
	out, errOut, code := runSolveCLI(t, "lock", env, "--update")
	if code != 0 || out != "" || !strings.Contains(errOut, "conda-lock.yml could not be read (") || !strings.Contains(errOut, "solved from scratch, no changes to show") {
		t.Fatalf("--update over a corrupt lock: exit %d: %q %s", code, out, errOut)
	}

	// Bad sizes: the error says the fix that keeps the pins, and only it.
	good, _ := os.ReadFile(path)
	badSizes := bytes.Replace(good, []byte("dependent=3903"), []byte("dependent=-3903"), 1)
	if bytes.Equal(good, badSizes) {
		t.Fatalf("no sizes in:\n%s", good)
	}
	if err := os.WriteFile(path, badSizes, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runSolveCLI(t, "lock", env); code != 1 || !strings.Contains(errOut, "then envkit lock --update NAME") || strings.Contains(errOut, "from scratch") {
		t.Errorf("bad sizes: exit %d: %s", code, errOut)
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	writeEnv(t, dir, "  - dependent\n  - unsatisfiable\n")
	if _, _, code := runSolveCLI(t, "lock", env); code != 1 {
		t.Errorf("unsatisfiable: exit %d", code)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a failed solve changed the lock")
	}
}

// Over HTTP the cached repodata is revalidated, so lock --update sees a
// channel update.
func TestLockUpdateHTTPChannel(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	channel := filepath.Join(dir, "channel")
	writeChannel(t, channel, func(v string) bool { return v == "1.0" })
	srv := httptest.NewServer(http.FileServer(http.Dir(channel)))
	defer srv.Close()
	env := filepath.Join(dir, "environment.yml")
	body := "name: t\nchannels:\n  - " + srv.URL + "\ndependencies:\n  - versioned\n  - dependent\n"
	if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runSolveCLI(t, "lock", env); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	writeChannel(t, channel, func(string) bool { return true })
	// http.FileServer's Last-Modified has one-second resolution.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(channel, "noarch", "repodata.json"), later, later); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runSolveCLI(t, "lock", env, "--update", "versioned")
	if code != 0 || out != "linux-64:\n  upgraded  versioned  1.0 → 2.0\n" {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if got := lockedVersions(t, filepath.Join(dir, "conda-lock.yml")); got != "dependency=1.0 dependent=1.0 versioned=2.0" {
		t.Errorf("locked %s", got)
	}
}

// envkit lock --check: exit 0 on a current lock, 1 with the reason on a
// stale one, one missing a platform and none at all; nothing written.
func TestLockCheck(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	path := filepath.Join(dir, "conda-lock.yml")
	if _, errOut, code := runSolveCLI(t, "lock", "--check", env); code != 1 || !strings.Contains(errOut, "no lock: run envkit lock") {
		t.Errorf("no lock: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("--check wrote a lock (%v)", err)
	}
	lockFile(t, path, env)
	before, _ := os.ReadFile(path)
	if _, errOut, code := runSolveCLI(t, "lock", "--check", env); code != 0 || !strings.Contains(errOut, "up to date") {
		t.Errorf("current lock: exit %d: %s", code, errOut)
	}
	for name, c := range map[string]struct {
		args []string
		deps string
		want string
	}{
		"stale":            {deps: "  - dependent 1.0\n", want: "stale for linux-64"},
		"missing platform": {args: []string{"--platform", "linux-64", "--platform", "linux-aarch64"}, deps: "  - dependent\n", want: "not locked for linux-aarch64"},
	} {
		writeEnv(t, dir, c.deps)
		args := append(append([]string{"lock", "--check"}, c.args...), env)
		if _, errOut, code := runSolveCLI(t, args...); code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d: %s", name, code, errOut)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("%s: --check rewrote the lock", name)
		}
	}
	if _, _, code := runSolveCLI(t, "lock", "--check", "--update", env); code != 2 {
		t.Errorf("--check --update: exit %d, want 2", code)
	}
}

// --platform takes conda subdirs or OCI platforms, each once; a name that
// is neither is refused before anything is solved.
func TestLockPlatformFlags(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	path := filepath.Join(dir, "conda-lock.yml")
	l := lockFile(t, path, env, "--platform", "linux-64", "--platform", "linux/arm64", "--platform", "linux-64", "--platform", "linux-aarch64")
	if got := strings.Join(l.Metadata.Platforms, " "); got != "linux-64 linux-aarch64" {
		t.Errorf("locked platforms %q, want each once", got)
	}
	if _, errOut, code := runSolveCLI(t, "lock", env, "--check", "--platform", "linux-64", "--platform", "linux-aarch64"); code != 0 {
		t.Errorf("the lock it wrote is not current: exit %d: %s", code, errOut)
	}
	for _, bad := range []string{"linux-arm64", "noarch", "linux/arm/v5"} {
		_, errOut, code := runSolveCLI(t, "lock", env, "-o", filepath.Join(dir, "bad.yml"), "--platform", bad)
		if code == 0 || !strings.Contains(errOut, "--platform") || !strings.Contains(errOut, bad) {
			t.Errorf("--platform %s: exit %d: %s", bad, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.yml")); err == nil {
		t.Error("a refused --platform wrote a lock")
	}
}

// envkit lock records each conda package's archive size (from the solve's
// records) in custom_metadata; a lock without sizes, as conda-lock or an
// older envkit writes it, is current all the same and left as it is; a
// platform solved again gets its sizes, one kept keeps its own.
func TestLockSizes(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	path := filepath.Join(dir, "conda-lock.yml")
	l := lockFile(t, path, env, "--platform", "linux-64", "--platform", "linux-aarch64")
	data, err := os.ReadFile(filepath.Join(conformance.Dir(t, "channels", "test-recipes"), "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Packages map[string]struct{ Size int64 } `json:"packages.conda"`
	}
	if err := json.Unmarshal(data, &rd); err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Packages {
		if want := rd.Packages[filepath.Base(p.URL)].Size; p.Size != want || want == 0 {
			t.Errorf("%s (%s): size %d, want the channel's %d", p.Name, p.Platform, p.Size, want)
		}
	}
	written, _ := os.ReadFile(path)
	if !bytes.Contains(written, []byte("conda-sizes:linux-64: dependency=3919,dependent=3903\n")) ||
		!bytes.Contains(written, []byte("conda-sizes:linux-aarch64: dependency=3919,dependent=3903\n")) {
		t.Errorf("sizes in the lock:\n%s", written)
	}

	// Without sizes: current for --check and lock, untouched.
	for i := range l.Packages {
		l.Packages[i].Size = 0
	}
	if _, err := l.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	bare, _ := os.ReadFile(path)
	if bytes.Contains(bare, []byte("custom_metadata")) {
		t.Fatalf("sizes left:\n%s", bare)
	}
	if _, errOut, code := runSolveCLI(t, "lock", "--check", "--platform", "linux-64", "--platform", "linux-aarch64", env); code != 0 || !strings.Contains(errOut, "note: 4 conda packages have no archive size recorded") {
		t.Errorf("--check of a lock without sizes: exit %d: %s", code, errOut)
	}
	lockFile(t, path, env, "--platform", "linux-64", "--platform", "linux-aarch64")
	if after, _ := os.ReadFile(path); !bytes.Equal(after, bare) {
		t.Errorf("a current lock without sizes was rewritten:\n%s", after)
	}

	// The fix the size errors give: without the sizes, --update of any one
	// package records them again and moves no pin.
	if out, errOut, code := runSolveCLI(t, "lock", env, "--update", "dependency", "--platform", "linux-64", "--platform", "linux-aarch64"); code != 0 || out != "no pin changes; recorded archive sizes\n" {
		t.Errorf("--update dependency of a lock without sizes: exit %d: %q %s", code, out, errOut)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, written) {
		t.Errorf("--update dependency did not restore the lock:\n%s", after)
	}
	if _, err := l.WriteFile(path); err != nil {
		t.Fatal(err)
	}

	// A new platform is solved with sizes; the two locked keep theirs (none).
	l = lockFile(t, path, env, "--platform", "linux-64", "--platform", "linux-aarch64", "--platform", "osx-arm64")
	for _, p := range l.Packages {
		if (p.Size != 0) != (p.Platform == "osx-arm64") {
			t.Errorf("%s (%s): size %d", p.Name, p.Platform, p.Size)
		}
	}
	// --update solves all again: every package has its size.
	for _, p := range lockFile(t, path, env, "--update", "--platform", "linux-64").Packages {
		if p.Size == 0 {
			t.Errorf("%s (%s): no size after --update", p.Name, p.Platform)
		}
	}
}

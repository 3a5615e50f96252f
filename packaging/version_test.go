package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// versionRepo makes a git repository holding VERSION and a copy of
// tools/version.sh, with commits at fixed times, and returns a function
// that runs the script there.
func versionRepo(t *testing.T) (dir string, git func(env []string, args ...string) string, version func() string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "VERSION"), []byte("0.1.0\n"), 0o644)
	writeFile(t, filepath.Join(dir, "tools", "version.sh"), readRepo(t, "tools/version.sh"), 0o755)
	git = func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "safe.directory=*"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	version = func() string {
		t.Helper()
		out, err := exec.Command("sh", filepath.Join(dir, "tools", "version.sh")).CombinedOutput()
		if err != nil {
			t.Fatalf("version.sh: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(nil, "init", "-q")
	return dir, git, version
}

func commitAt(git func([]string, ...string) string, when, msg string) string {
	git([]string{"GIT_COMMITTER_DATE=" + when, "GIT_AUTHOR_DATE=" + when}, "commit", "-q", "--allow-empty", "-m", msg)
	return git(nil, "rev-parse", "--short=12", "HEAD")
}

// Untagged builds sort by commit time, whatever their hashes; the tagged
// release is the plain VERSION; uncommitted changes are marked.
func TestVersionScheme(t *testing.T) {
	packagingTest(t)
	dir, git, version := versionRepo(t)
	git(nil, "add", ".")
	first := commitAt(git, "2026-11-21T18:36:24+01:00", "one")
	v1 := version()
	if want := "0.1.0+git20261121173624." + first; v1 != want {
		t.Errorf("first commit: %q, want %q (commit time in UTC)", v1, want)
	}
	second := commitAt(git, "2026-11-22T09:00:00Z", "two")
	v2 := version()
	if want := "0.1.0+git20261122090000." + second; v2 != want {
		t.Errorf("second commit: %q, want %q", v2, want)
	}
	if _, err := exec.LookPath("dpkg"); err == nil {
		if err := exec.Command("dpkg", "--compare-versions", v2, "gt", v1).Run(); err != nil {
			t.Errorf("dpkg does not sort %s after %s", v2, v1)
		}
		if err := exec.Command("dpkg", "--compare-versions", v1, "gt", "0.1.0").Run(); err != nil {
			t.Errorf("dpkg does not sort %s after the release 0.1.0", v1)
		}
	}

	writeFile(t, filepath.Join(dir, "VERSION"), []byte("0.1.0 \n"), 0o644)
	if v := version(); v != v2+".dirty" {
		t.Errorf("with a changed tracked file: %q, want %q", v, v2+".dirty")
	}
	git(nil, "checkout", "-q", "VERSION")

	git(nil, "tag", "v0.1.0")
	if v := version(); v != "0.1.0" {
		t.Errorf("the commit tagged v0.1.0: %q, want 0.1.0", v)
	}
	// A tag that is not v<VERSION> does not make a release.
	git(nil, "tag", "-d", "v0.1.0")
	git(nil, "tag", "v9.9.9")
	if v := version(); v != v2 {
		t.Errorf("tagged v9.9.9 with VERSION 0.1.0: %q, want %q", v, v2)
	}

	// Owned by someone else, as under sudo or in a container: git
	// refuses such checkouts unless told, and the version must not change.
	if os.Geteuid() == 0 {
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, 65534, 65534)
		}); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v2 {
			t.Errorf("checkout owned by another user: %q, want %q", v, v2)
		}
	}

	// An export without .git is the release VERSION names.
	if err := os.RemoveAll(filepath.Join(dir, ".git")); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != "0.1.0" {
		t.Errorf("without git: %q, want 0.1.0", v)
	}
}

// The binary "make" builds says the version tools/version.sh gives.
func TestBinaryVersion(t *testing.T) {
	packagingTest(t)
	out, err := exec.Command("sh", filepath.Join(repoRoot, "tools", "version.sh")).Output()
	if err != nil {
		t.Fatalf("tools/version.sh: %v", err)
	}
	want := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(\+git\d{14}\.[0-9a-f]{12,}(\.dirty)?|\+dirty)?$`).MatchString(want) {
		t.Errorf("tools/version.sh: %q is not in the documented scheme", want)
	}
	if code, got := runGopherd(t, gopherdBin, "--version"); code != 0 || got != "gopherd "+want+"\n" {
		t.Errorf("gopherd --version: exit %d, %q, want \"gopherd %s\"", code, got, want)
	}
}

// The same commit gives the same bytes whatever the environment says
// about VCS stamping; no VCS information is in the binary.
func TestReproducibleBinary(t *testing.T) {
	packagingTest(t)
	dir := t.TempDir()
	var bins [][]byte
	for i, goflags := range []string{"-buildvcs=true", "-buildvcs=false"} {
		bin := filepath.Join(dir, strings.TrimPrefix(goflags, "-"), "gopherd")
		cmd := makeCmd("BIN="+bin, "VERSION=1.2.3", bin)
		cmd.Env = append(cmd.Env, "GOFLAGS="+goflags)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %d (GOFLAGS=%s): %v\n%s", i, goflags, err, out)
		}
		bins = append(bins, readFile(t, bin))
		info, err := exec.Command("go", "version", "-m", bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(info, []byte("vcs.")) {
			t.Errorf("GOFLAGS=%s: the binary carries VCS information:\n%s", goflags, info)
		}
	}
	if !bytes.Equal(bins[0], bins[1]) {
		t.Errorf("GOFLAGS=-buildvcs=true and =false give different binaries (%d and %d bytes)", len(bins[0]), len(bins[1]))
	}
}

// The man pages are those of this version: .Os names it, and the header
// and footer say gopherd, not "BSD".
func TestManPagesVersion(t *testing.T) {
	packagingTest(t)
	version := strings.TrimSpace(string(readRepo(t, "VERSION")))
	for _, m := range manPages {
		src := filepath.Join(repoRoot, "man", filepath.Base(m))
		if !bytes.Contains(readFile(t, src), []byte("\n.Os gopherd "+version+"\n")) {
			t.Errorf("%s: no \".Os gopherd %s\" line", src, version)
		}
		if _, err := exec.LookPath("man"); err != nil {
			continue
		}
		cmd := exec.Command("man", "-l", src)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "MANWIDTH=80", "MAN_KEEP_FORMATTING=0")
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("man -l %s: %v", src, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		header, footer := lines[0], lines[len(lines)-1]
		if strings.Contains(header, "BSD") || strings.Contains(footer, "BSD") {
			t.Errorf("%s: header %q, footer %q say BSD", src, header, footer)
		}
		if !strings.HasPrefix(footer, "gopherd "+version) {
			t.Errorf("%s: footer %q does not start with gopherd %s", src, footer, version)
		}
	}
}

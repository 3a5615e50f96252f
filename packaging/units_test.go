package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A configuration error is exit status 2, and the services do not
// restart on it: Restart=on-failure alone retries a broken config forever.
func TestUnitsDoNotRestartOnConfigError(t *testing.T) {
	packagingTest(t)
	for _, u := range []string{"gopherd.service", "gopherd-root.service"} {
		s := string(readRepo(t, "etc/systemd/"+u))
		for _, line := range []string{"Restart=on-failure\n", "RestartPreventExitStatus=2\n"} {
			if !strings.Contains(s, "\n"+line) {
				t.Errorf("%s lacks %q", u, line)
			}
		}
	}
	if s := string(readRepo(t, "nix/module.nix")); !strings.Contains(s, "RestartPreventExitStatus = 2;") {
		t.Errorf("nix/module.nix's service lacks RestartPreventExitStatus = 2")
	}
	// What the service meets on a fresh machine without a served root:
	// the example configuration, started, exits 2.
	cfg := filepath.Join(t.TempDir(), "gopherd.json")
	root := filepath.Join(t.TempDir(), "absent")
	example := strings.Replace(string(readRepo(t, "etc/gopherd.json")), `"/srv/gopher"`, `"`+root+`"`, 1)
	writeFile(t, cfg, []byte(example), 0o644)
	if code, out := runGopherd(t, gopherdBin, "-l", "127.0.0.1:"+strconv.Itoa(freePort(t)), cfg); code != 2 || !strings.Contains(out, root) {
		t.Errorf("gopherd with a missing root: exit %d, want 2 naming %s:\n%s", code, root, out)
	}
}

// Too old a Go gets one line that says what to do, from every target
// that builds, before go's own "invalid go version" error.
func TestGoTooOld(t *testing.T) {
	packagingTest(t)
	fake := filepath.Join(t.TempDir(), "go")
	writeFile(t, fake, []byte("#!/bin/sh\necho 'go version go1.19.8 linux/amd64'\n"), 0o755)
	for _, target := range []string{"build", "check-fast", "test"} {
		out, err := makeCmd("GO="+fake, "BIN="+filepath.Join(t.TempDir(), "gopherd"), target).CombinedOutput()
		if err == nil {
			t.Errorf("make %s with go1.19.8 succeeded:\n%s", target, out)
			continue
		}
		var said []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "gopherd needs Go 1.26 or later") {
				said = append(said, l)
			}
		}
		if len(said) != 1 || !strings.Contains(said[0], "go1.19.8") || !strings.Contains(said[0], "https://go.dev/dl/") {
			t.Errorf("make %s with go1.19.8: want one line naming the versions and https://go.dev/dl/, got:\n%s", target, out)
		}
	}
}

// The checks pass for any user: nothing in them needs root, a Nix daemon
// or the nixbld group. Run as the ordinary user "nobody" when the tests
// run as root (CI), else as whoever runs them.
func TestChecksAsOrdinaryUser(t *testing.T) {
	packagingTest(t)
	args := []string{"check-nix", "check-man", "check-units", "BIN=" + gopherdBin}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("setpriv (util-linux) not installed: cannot run the checks as an ordinary user")
		}
		// Not t.TempDir: its parent is private to root.
		home, err := os.MkdirTemp("", "gopherd-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(home) })
		if err := os.Chown(home, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cmd = makeCmd(args...)
		cmd.Args = append([]string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"}, cmd.Args...)
		cmd.Path = setpriv
		cmd.Env = append(cmd.Env, "HOME="+home, "XDG_CACHE_HOME="+home)
	} else {
		cmd = makeCmd(args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s as uid 65534: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, want := range []string{"check-nix: nix/version.nix gives", "check-man: man -l renders", "check-units: systemd-analyze security"} {
		if !strings.Contains(string(out), want) && !strings.Contains(string(out), "SKIPPED") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// make test fetches nfpm (55 modules) only in CI or when WITH_DEB=1 asks:
// most developers never build a package.
func TestTestFetchesNfpmOnlyWhenAsked(t *testing.T) {
	packagingTest(t)
	absent := filepath.Join(t.TempDir(), "nfpm")
	for _, c := range []struct {
		vars  []string
		fetch bool
	}{
		{[]string{"CI="}, false},
		{[]string{"CI=", "WITH_DEB=1"}, true},
		{[]string{"CI=true"}, true},
	} {
		cmd := makeCmd("-n", "test", "NFPM="+absent)
		cmd.Env = append(cmd.Env, c.vars...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n test %v: %v\n%s", c.vars, err, out)
		}
		if fetch := strings.Contains(string(out), "github.com/goreleaser/nfpm/v2/cmd/nfpm@"); fetch != c.fetch {
			t.Errorf("make test with %v: fetches nfpm %v, want %v", c.vars, fetch, c.fetch)
		}
		if want := "GOPHERD_TEST_DEB=" + map[bool]string{true: "1", false: ""}[c.fetch] + " "; !strings.Contains(string(out), want) {
			t.Errorf("make test with %v does not pass %q to the tests:\n%s", c.vars, want, out)
		}
	}
}

package packaging

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// repoRoot is the top of the source tree, where the Makefile is.
const repoRoot = ".."

// gopherdBin is a binary built once by "make" for all tests, outside the
// source tree so that the tests never race with "make build".
var gopherdBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		// Every test here drives make and builds; packagingTest skips.
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "gopherd-packaging-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Readable by everyone, for the checks run as an ordinary user.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gopherdBin = filepath.Join(dir, "gopherd")
	// The Makefile's rule for $(BIN) builds the binary exactly as
	// "make build" does; later "make install BIN=..." finds it up to date.
	if out, err := makeCmd("BIN="+gopherdBin, gopherdBin).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gopherd with make: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// packagingTest skips under "go test -short" (make check-fast): these tests
// run make, build binaries and packages, and install them.
func packagingTest(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("packaging test: left out by -short (make check-fast); make test runs it")
	}
}

// makeCmd prepares "make -C <repo> args...". The variables a surrounding
// make passes down are dropped: the tests want the Makefile's own
// defaults, and a jobserver they cannot join only produces warnings.
func makeCmd(args ...string) *exec.Cmd {
	cmd := exec.Command("make", append([]string{"-C", repoRoot, "--no-print-directory"}, args...)...)
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR", "PREFIX",
			"BINDIR", "DATADIR", "MANDIR", "DOCDIR", "SYSCONFDIR", "UNITDIR", "SRVDIR", "DIST",
			"VERSION", "MAINTAINER", "SOURCE_DATE_EPOCH", "GO", "WITH_DEB":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	return cmd
}

// runMake runs make and fails the test with its output if make fails.
func runMake(t *testing.T, args ...string) string {
	t.Helper()
	out, err := makeCmd(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// treeFiles maps every non-directory below dir (by its path relative to
// dir, with a leading slash) to its permission bits.
func treeFiles(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	files := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files["/"+filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runGopherd runs a gopherd binary to completion (it must exit by itself)
// and returns its exit code and combined output.
func runGopherd(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		} else if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		return 0, out.String()
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s did not exit within 30 s", bin, strings.Join(args, " "))
		return -1, ""
	}
}

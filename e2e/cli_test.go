package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHelpAndVersion(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		code, out, errOut := runGopherd(t, arg)
		if code != 0 || !strings.Contains(out, "Usage: gopherd") || errOut != "" {
			t.Errorf("%s: code %d stdout %q stderr %q", arg, code, out, errOut)
		}
		for _, f := range []string{"--root", "--listen", "--hostname", "--check", "--version"} {
			if !strings.Contains(out, f) {
				t.Errorf("%s: usage lacks %s", arg, f)
			}
		}
	}
	for _, arg := range []string{"-V", "--version"} {
		code, out, _ := runGopherd(t, arg)
		if code != 0 || out != "gopherd e2e-test\n" {
			t.Errorf("%s: code %d stdout %q", arg, code, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"-x"},
		{"a.json", "b.json"},
		{"--listen", "nonsense"},
		{"--listen", "127.0.0.1:99999"},
	} {
		code, out, errOut := runGopherd(t, args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: code %d stdout %q stderr %q", args, code, out, errOut)
		}
	}
	code, _, errOut := runGopherd(t, "--no-such-flag")
	if code != 2 || !strings.Contains(errOut, "Usage: gopherd") {
		t.Errorf("unknown flag: want usage on stderr, got %q", errOut)
	}
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	good := writeConfig(t, map[string]any{"hostname": "example.org", "root": root})
	if code, out, errOut := runGopherd(t, "--check", good); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("good config: code %d stdout %q stderr %q", code, out, errOut)
	}
	if code, _, errOut := runGopherd(t, "-t", "-r", root); code != 0 {
		t.Errorf("-t -r: code %d stderr %q", code, errOut)
	}

	// A file whose shape is right gets every problem of its values at
	// once, in file order, the file system's included.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{
  "hostname": "example.org",
  "root": "/does/not/exist",
  "listen": [{"addr": "::", "port": 70000}, {"port": 7070}, {"port": 7070}],
  "log": {"level": "loud"},
  "limits": {"request-timeout": "-1s"}
}
`), 0o644)
	code, out, errOut := runGopherd(t, "--check", bad)
	if code != 2 || out != "" {
		t.Fatalf("bad config: code %d stdout %q stderr %q", code, out, errOut)
	}
	wantLines := []string{
		bad + `:3: root: directory "/does/not/exist" does not exist`,
		bad + `:4: listen[0].port: must be between 0 and 65535, got 70000`,
		bad + `:4: listen[2]: same address as listen[1] ([::]:7070)`,
		bad + `:5: log.level: unknown level "loud" (want debug, info, warn or error)`,
		bad + `:6: limits.request-timeout: must be positive, got "-1s"`,
	}
	if got := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n"); !slices.Equal(got, wantLines) {
		t.Errorf("bad config: stderr\n%s\nwant\n%s", errOut, strings.Join(wantLines, "\n"))
	}

	// A file of the wrong shape gets the shape problems.
	shape := filepath.Join(t.TempDir(), "shape.json")
	os.WriteFile(shape, []byte(`{
  "hostname": "example.org",
  "root": "/does/not/exist",
  "listen": {"addr": "::", "port": "70"},
  "log": {"level": "loud"},
  "limits": {"request-timeout": "10x"},
  "colour": "blue"
}
`), 0o644)
	code, out, errOut = runGopherd(t, "--check", shape)
	if code != 2 || out != "" {
		t.Fatalf("shape: code %d stdout %q stderr %q", code, out, errOut)
	}
	for _, want := range []string{"shape.json:4: listen.port", "shape.json:6: limits.request-timeout", "shape.json:7: colour"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("shape: stderr lacks %q:\n%s", want, errOut)
		}
	}

	syntax := filepath.Join(t.TempDir(), "syntax.json")
	os.WriteFile(syntax, []byte("{\n  \"hostname\": \"x\",\n  \"root\" \"/srv\"\n}\n"), 0o644)
	if code, _, errOut := runGopherd(t, "--check", syntax); code != 2 || !strings.Contains(errOut, "syntax.json:3:") {
		t.Errorf("syntax error: code %d stderr %q", code, errOut)
	}

	missingRoot := writeConfig(t, map[string]any{"root": filepath.Join(root, "nope")})
	if code, _, errOut := runGopherd(t, "--check", missingRoot); code != 2 || !strings.Contains(errOut, "root") {
		t.Errorf("missing root: code %d stderr %q", code, errOut)
	}
	if code, _, errOut := runGopherd(t, "--check", filepath.Join(root, "absent.json")); code != 2 || errOut == "" {
		t.Errorf("absent config: code %d stderr %q", code, errOut)
	}
}

// TestSpacecookieConfigs checks that spacecookie's own example configs are
// accepted as they are (the root is overridden where it does not exist here).
func TestSpacecookieConfigs(t *testing.T) {
	sc := conformanceDir(t)
	if code, _, errOut := runGopherd(t, "--check", "--root", t.TempDir(), filepath.Join(sc, "etc", "spacecookie.json")); code != 0 {
		t.Errorf("etc/spacecookie.json: code %d: %s", code, errOut)
	}
	cmd := exec.Command(gopherdBin, "--check", "test/integration/spacecookie.json")
	cmd.Dir = sc
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("test/integration/spacecookie.json: %v: %s", err, out)
	}
}

// conformanceDir finds ../shared/conformance/spacecookie or skips.
func conformanceDir(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	for dir := wd; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "conformance", "spacecookie")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	t.Skip("../shared/conformance not found: conformance data is not part of this checkout")
	return ""
}

// TestZeroConfig runs gopherd with no arguments in a directory and expects it
// on 127.0.0.1:7070 with hostname localhost.
func TestZeroConfig(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:7070", time.Second); err == nil {
		c.Close()
		t.Skip("127.0.0.1:7070 is in use (is `make run` running?)")
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"hello.txt": "hi\n"})
	d := startIn(t, dir, "127.0.0.1:7070")
	got := string(d.get("/"))
	want := "0hello.txt\t/hello.txt\tlocalhost\t7070\r\n.\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

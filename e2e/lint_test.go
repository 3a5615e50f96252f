package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// gopherd lint and gopherd render through the binary: what they print,
// how they exit, and that render's bytes are the running server's.

// lintFixtures is internal/gophermap's rule fixtures: one directory per
// rule, whose map triggers exactly that rule, and a clean one.
const lintFixtures = "../internal/gophermap/testdata/lint"

// runIn runs the binary in directory dir to completion.
func runIn(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(gopherdBin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestLintFixtures: run in the fixture tree, gopherd lint prints one
// finding a line, sorted, in the format of the issue, then the summary,
// and exits 1 for the errors; the whole output is the golden file, so
// every message is reviewed.
func TestLintFixtures(t *testing.T) {
	code, out, errOut := runIn(t, lintFixtures, "lint")
	if code != 1 || errOut != "" {
		t.Errorf("exit %d, stderr %q: want 1 and nothing", code, errOut)
	}
	checkGolden(t, "lint-fixtures.txt", []byte(out))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := lines[len(lines)-1]; got != "16 maps checked: 6 errors, 8 warnings, 1 info" {
		t.Errorf("summary %q", got)
	}
	for _, l := range lines[:len(lines)-1] {
		file, rest, _ := strings.Cut(l, ": ")
		if strings.Count(file, ":") != 2 || !strings.HasPrefix(rest, "GM0") {
			t.Errorf("not file:line:col: RULE severity: message: %q", l)
		}
	}
	if !slices.IsSorted(lines[:len(lines)-1]) {
		t.Error("findings not sorted by file")
	}
	// The clean fixture has nothing to fix, even strictly, and neither
	// has the demo tree served as make run serves it (with the search its
	// map links to).
	if code, out, errOut := runGopherd(t, "lint", "--strict", "--root", lintFixtures+"/clean"); code != 0 || !strings.Contains(out, "1 map checked: 0 errors, 0 warnings, 0 info") {
		t.Errorf("clean fixture: exit %d, %q %q", code, out, errOut)
	}
	if code, out, errOut := runIn(t, "..", "lint", "--strict", "--config", "etc/demo.json"); code != 0 || !strings.Contains(out, "1 map checked: 0 errors, 0 warnings, 0 info") {
		t.Errorf("demo: exit %d, %q %q", code, out, errOut)
	}
}

// TestLintJSON: --format json writes one object a finding with exactly
// the six fields, and nothing else on stdout.
func TestLintJSON(t *testing.T) {
	code, out, errOut := runGopherd(t, "lint", "--format", "json", "--root", lintFixtures)
	if code != 1 || !strings.Contains(errOut, "16 maps checked") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 15 {
		t.Fatalf("%d lines, want one for each of the 15 findings:\n%s", len(lines), out)
	}
	want := []string{"col", "file", "line", "message", "rule", "severity"}
	for _, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		var keys []string
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("fields %q, want %q", keys, want)
		}
		var f struct {
			File, Rule, Severity, Message string
			Line, Col                     int
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil || f.Line < 1 || f.Col < 1 || !strings.HasPrefix(f.Rule, "GM") ||
			!slices.Contains([]string{"error", "warning", "info"}, f.Severity) || !strings.HasPrefix(f.File, lintFixtures+"/GM") {
			t.Errorf("%q: %+v %v", l, f, err)
		}
	}
}

// TestLintExitStatus: 0 without errors (and, --strict, warnings), 1
// otherwise, 2 for a bad command line or configuration; PATHs narrow the
// check to maps and directories; --dialect picks the rule set.
func TestLintExitStatus(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"gophermap":        "Fine.\n1Docs\tdocs\n",
		"docs/gophermap":   "= Gopher is great =\n",
		"broken/gophermap": "\tno type\n",
	})
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"root": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"lint", "--root", root, root + "/gophermap"}, 0, "1 map checked: 0 errors", ""},
		{[]string{"lint", "--root", root, root + "/docs"}, 0, "GM009 warning", ""},
		{[]string{"lint", "--strict", "--root", root, root + "/docs"}, 1, "GM009 warning", ""},
		{[]string{"lint", "--dialect", "gophernicus", "--root", root, root + "/docs"}, 1, "GM009 error", ""},
		{[]string{"lint", "--root", root}, 1, "3 maps checked: 1 error, 1 warning", ""},
		{[]string{"lint", "--root", root, "--width", "3", root + "/gophermap"}, 0, "GM007 warning", ""},
		{[]string{"lint", "--help"}, 0, "Usage: gopherd lint", ""},
		{[]string{"lint", "--root", root, "--config", bad}, 2, "", "exclude each other"},
		{[]string{"lint", "--config", bad}, 2, "", "bad.json:1: root:"},
		{[]string{"lint", "--dialect", "geomyidae", "--root", root}, 2, "", "--dialect must be bucktooth or gophernicus"},
		{[]string{"lint", "--format", "xml", "--root", root}, 2, "", "--format must be text or json"},
		{[]string{"lint", "--width", "0", "--root", root}, 2, "", "--width must be at least 1"},
		{[]string{"lint", "--no-such-flag"}, 2, "", "Usage: gopherd lint"},
		{[]string{"lint", "--root", root, root + "/none"}, 2, "", "none"},
		{[]string{"lint", "--root", root, os.TempDir()}, 2, "", "is not under the root"},
	} {
		code, out, errOut := runGopherd(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out, errOut, tt.code, tt.stdout, tt.stderr)
		}
	}
}

// TestLintConfig: with a configuration, every host's root is checked with
// the host's names, and what the router answers itself (caps.txt, URL:,
// the gateway's directories) counts as there; maps in the gateway's
// directories are never served, so never checked.
func TestLintConfig(t *testing.T) {
	root, other := t.TempDir(), t.TempDir()
	writeTree(t, root, map[string]string{
		"gophermap":         "0Caps\t/caps.txt\n1Programs\t/cgi-bin/x?q\n0Missing\tmissing.txt\n1Other host\t/gone\tother.example\n",
		"cgi-bin/gophermap": "\tnever served\n",
	})
	writeTree(t, other, map[string]string{"gophermap": "0Own link by name\t/absent\tOther.Example.\t70\n"})
	cfg := cgiConfig(t, root, nil)
	cfg["vhosts"] = []any{map[string]any{"hostname": "other.example", "root": other, "public-port": 70}}
	code, out, errOut := runGopherd(t, "lint", "--config", writeConfig(t, cfg))
	want := []string{
		other + "/gophermap:1:19: GM004 error",
		root + "/gophermap:3:10: GM004 error",
		"2 maps checked: 2 errors, 0 warnings, 0 info",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}
	if code != 1 || strings.Count(out, "\n") != len(want) {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
}

// TestCheckLintsMaps: --check counts the maps' findings and shows the
// first ones, failing on them only with --strict.
func TestCheckLintsMaps(t *testing.T) {
	code, out, errOut := runGopherd(t, "--check", "--root", lintFixtures)
	if code != 0 || !strings.Contains(out, "gophermaps: 16 maps checked: 6 errors, 8 warnings, 1 info") ||
		strings.Count(errOut, ": GM0") != 5 || !strings.Contains(errOut, "and 10 more: see them all with gopherd lint --root "+lintFixtures) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runGopherd(t, "--check", "--strict", "--root", lintFixtures); code != 1 || !strings.Contains(errOut, "--strict") {
		t.Errorf("--strict: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := runIn(t, "..", "--check", "--strict", "etc/demo.json"); code != 0 || !strings.Contains(out, "0 errors, 0 warnings") {
		t.Errorf("demo, --strict: exit %d, %q", code, out)
	}
}

// TestRenderRawIsLive: render --raw gives byte for byte what the running
// server sends for the same configuration: the demo tree and a tree with
// a gophermap of every kind of line, menus, listings, files, caps.txt,
// error items and requests the server answers itself.
func TestRenderRawIsLive(t *testing.T) {
	demo, err := filepath.Abs("../demo")
	if err != nil {
		t.Fatal(err)
	}
	mapTree := t.TempDir()
	writeTree(t, mapTree, map[string]string{
		"gophermap":         "Welcome!\n0About  about.txt\nText ending in a TAB\t\n\tbad\n1Sub\tsub\n1Far\t/\tgopher.example.org\t70\t+\n.\nhidden\n",
		"about.txt":         "about\n",
		"sub/.gophermap":    "iFrom spacecookie's map\t\n1Up\t..\n",
		"sub/gophermap.txt": "not a map\n",
	})
	// Maps of the other dialects: Gophernicus' listing, include and
	// title, and a geomyidae menu.
	dialectTree := t.TempDir()
	writeTree(t, dialectTree, map[string]string{
		"gophermap":   "!Title\n# comment\n=header\n-secret.txt\n:txt=9\n*\n",
		"header":      "iIncluded\n",
		"secret.txt":  "s\n",
		"notes.txt":   "n\n",
		"g/index.gph": "[1|Up|/|server|port]\nt[text\n",
		"g/menu.gph":  "[0|Notes|/notes.txt|server|port]\n",
	})
	for _, tc := range []struct {
		root     string
		search   bool
		dialect  string
		requests []string
	}{
		{demo, false, "", []string{"/", "", "/docs", "/docs/", "/about.txt", "/caps.txt", "/robots.txt", "/nowhere", "/docs/.secret", "/URL:https://example.org/", "/\tquery"}},
		// As make run serves it: the search on, once the live index is
		// built (render waits for its own).
		{demo, true, "", []string{"/", "/search", "/search\tgopher", "/search\tno-such-word-anywhere"}},
		{mapTree, false, "", []string{"/", "/sub", "sub/", "/gophermap", "/sub/gophermap.txt", strings.Repeat("x", 2000)}},
		{dialectTree, false, "gophernicus", []string{"/", "/g", "/g/menu.gph", "/g/index.gph", "/header"}},
	} {
		cfg := baseConfig(t, tc.root)
		cfg["hostname"] = "gopher.example.net"
		if tc.search {
			cfg["search"] = map[string]any{}
		}
		if tc.dialect != "" {
			cfg["gophermap"] = map[string]any{"dialect": tc.dialect}
		}
		path := writeConfig(t, cfg)
		d := startConfig(t, cfg)
		if tc.search {
			deadline := time.Now().Add(20 * time.Second)
			for strings.Contains(string(d.get("/search\tgopher")), "\tErr\t") {
				if time.Now().After(deadline) {
					t.Fatal("the live search index was not built within 20 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		for _, req := range tc.requests {
			live := d.get(req)
			code, out, errOut := runGopherd(t, "render", "--config", path, "--raw", req)
			if code != 0 {
				t.Errorf("render %q: exit %d, %s", req, code, errOut)
			}
			if out != string(live) {
				t.Errorf("render --raw %q differs from the live answer:\nrender %q\n  live %q", req, out, live)
			}
		}
	}
}

// TestRenderPreview: without --raw, one item a line with its type,
// display string and target; problems of the map on stderr.
func TestRenderPreview(t *testing.T) {
	code, out, errOut := runGopherd(t, "render", "--root", "../demo", "/")
	want := []string{
		"i Welcome to the gopherd demo gopherhole!",
		"0 About gopherd → /about.txt",
		"1 Documents (an automatic listing) → /docs",
		"1 Floodgap, the Gopher hub → gopher://gopher.floodgap.com/1/",
		"h The Gopher RFC on the web → https://www.rfc-editor.org/rfc/rfc1436",
	}
	for _, w := range want {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("preview lacks %q:\n%s", w, out)
		}
	}
	if code != 0 || errOut != "" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"gophermap": "\tbad\n1a\tb\n", "doc.txt": "plain text\n"})
	_, out, errOut = runGopherd(t, "render", "--root", root, "/")
	if out != "1 a → /b\n" || !strings.Contains(errOut, "GM002") {
		t.Errorf("preview %q, stderr %q", out, errOut)
	}
	if _, out, _ := runGopherd(t, "render", "--root", root, "/doc.txt"); out != "plain text\n" {
		t.Errorf("a document: %q", out)
	}
	for _, args := range [][]string{{"render"}, {"render", "/a", "/b"}, {"render", "--root", root, "--config", "x.json", "/"}} {
		if code, _, errOut := runGopherd(t, args...); code != 2 || !strings.Contains(errOut, "Usage: gopherd render") {
			t.Errorf("%q: exit %d, %q", args, code, errOut)
		}
	}
}

// TestRenderRunsNothing: with a gateway and executable maps configured,
// render finds the programs as the server would and runs none of them:
// the answer is an error item saying so. It binds nothing either: the
// configured port is taken by another listener all along.
func TestRenderRunsNothing(t *testing.T) {
	root := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	prog := "#!/bin/sh\ntouch " + ran + "\necho ran\n"
	writeTree(t, root, map[string]string{"cgi-bin/": "", "apps/": ""})
	for _, p := range []string{"cgi-bin/prog", "moles/gophermap"} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(prog), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := cgiConfig(t, root, map[string]any{"executable-gophermaps": true})
	cfg["listen"] = map[string]any{"addr": "127.0.0.1", "port": taken.Addr().(*net.TCPAddr).Port}
	path := writeConfig(t, cfg)
	for sel, want := range map[string]string{
		"/cgi-bin/prog": "3 Not run: gopherd render executes nothing; the server would run cgi-bin/prog here.\n",
		"/moles/":       "3 Not run: gopherd render executes nothing; the server would run moles/gophermap here.\n",
		"/cgi-bin/none": "3 The requested resource '/cgi-bin/none' does not exist or is not available.\n",
	} {
		code, out, errOut := runGopherd(t, "render", "--config", path, sel)
		if code != 0 || out != want {
			t.Errorf("render %s: exit %d, %q (stderr %q), want %q", sel, code, out, errOut, want)
		}
	}
	if code, out, _ := runGopherd(t, "lint", "--config", path); code != 0 || !strings.Contains(out, "1 map checked") {
		t.Errorf("lint: exit %d, %q", code, out)
	}
	if _, err := os.Stat(ran); !os.IsNotExist(err) {
		t.Errorf("a program ran: %v", err)
	}
}

// TestLintDialects: lint reads each directory's maps in the dialect the
// configuration serves them in (and .gph files as geomyidae's), and
// checks Gophernicus' include lines by asking the served tree for the
// file, so that what lint accepts is what the server includes.
func TestLintDialects(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		// Bucktooth: "=" is text here, which Gophernicus would run.
		"gophermap": "=uptime\n1Alice\t/~alice/\n",
		// Gophernicus: a good include, a command, a missing file, a
		// dotfile, and a listing with a line after it.
		"~alice/gophermap": "!Alice\n=header\n=ls -l\n=missing\n=.secret\n*\nlost\n",
		"~alice/header":    "iHello\n",
		"~alice/.secret":   "ihidden\n",
		// geomyidae: a "[" line that is no link, a bad port, and the
		// index shadowed by the gophermap beside it.
		"g/menu.gph":       "[1|Up|/|server|port]\n[0|broken|x\n[0|x|/x|server|seventy]\n",
		"~alice/index.gph": "[1|Up|/|server|port]\n",
	})
	cfg := baseConfig(t, root)
	cfg["gophermap"] = map[string]any{"dialects": map[string]any{"/~alice/": "gophernicus"}}
	code, out, errOut := runGopherd(t, "lint", "--config", writeConfig(t, cfg))
	want := []string{
		root + "/g/menu.gph:2:1: GM001 error",
		root + "/g/menu.gph:3:1: GM005 error",
		root + "/gophermap:1:1: GM009 warning",
		root + "/~alice/gophermap:3:1: GM009 error",
		root + "/~alice/gophermap:4:1: GM009 error",
		root + "/~alice/gophermap:5:1: GM009 error",
		root + "/~alice/gophermap:6:1: GM011 warning",
		root + "/~alice/index.gph:1:1: GM013 warning",
		"4 maps checked: 5 errors, 3 warnings, 0 info",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}
	if code != 1 || strings.Count(out, "\n") != len(want) {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	// --dialect overrides the configuration: read as Bucktooth, the
	// Gophernicus map's "=" lines are text (GM009 warnings), no error.
	_, out, _ = runGopherd(t, "lint", "--config", writeConfig(t, cfg), "--dialect", "bucktooth", filepath.Join(root, "~alice", "gophermap"))
	if strings.Contains(out, " error:") || !strings.Contains(out, "~alice/gophermap:3:1: GM009 warning") {
		t.Errorf("--dialect bucktooth:\n%s", out)
	}
}

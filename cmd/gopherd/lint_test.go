package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintInProcess runs gopherd lint as main runs it: the findings of a
// configured tree in its dialects, JSON output, the exit codes and usage
// errors. (e2e runs the same commands through the built binary.)
func TestLintInProcess(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"gophermap":        "0About  about.txt\n1Alice\t/~alice/\n0Gone\tgone.txt\n",
		"about.txt":        "hi\n",
		"~alice/gophermap": "=ls -l\n*\n",
		"g/menu.gph":       "[0|x|/x|server|seventy]\n",
	})
	cfg := filepath.Join(t.TempDir(), "gopherd.json")
	writeJSON(t, cfg, map[string]any{"root": root, "gophermap": map[string]any{"dialects": map[string]any{"/~alice/": "gophernicus"}}})

	code, out, errOut := runProgram(t, nil, "lint", "--config", cfg)
	for _, want := range []string{
		root + "/gophermap:1:7: GM001 error",
		root + "/gophermap:3:7: GM004 error",
		root + "/~alice/gophermap:1:1: GM009 error",
		root + "/g/menu.gph:1:1: GM005 error",
		"3 maps checked: 4 errors, 0 warnings, 0 info",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s%s", want, out, errOut)
		}
	}
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}

	code, out, errOut = runProgram(t, nil, "lint", "--format", "json", "--root", root, filepath.Join(root, "about.txt"), filepath.Join(root, "g"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitFailure || len(lines) != 1 || !strings.Contains(errOut, "2 maps checked: 1 error, 0 warnings") {
		t.Fatalf("json: exit %d\n%s\n%s", code, out, errOut)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &f); err != nil || f["rule"] != "GM005" || len(f) != 6 {
		t.Errorf("json finding %q: %v %v", lines[0], f, err)
	}

	clean := t.TempDir()
	writeFiles(t, clean, map[string]string{"gophermap": "iHello\n"})
	if code, out, _ := runProgram(t, nil, "lint", "--strict", "--root", clean); code != exitOK || !strings.Contains(out, "1 map checked: 0 errors") {
		t.Errorf("clean tree: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"lint", "--width", "0"},
		{"lint", "--format", "xml"},
		{"lint", "--dialect", "gph"},
		{"lint", "--config", cfg, "--root", root},
		{"lint", "--root", root, "/nowhere/else"},
	} {
		if code, _, errOut := runProgram(t, nil, args...); code != exitUsage || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
	if code, out, _ := runProgram(t, nil, "lint", "--help"); code != exitOK || !strings.Contains(out, "Usage: gopherd lint") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

// TestRenderInProcess runs gopherd render as main runs it: the raw bytes
// of a menu as the server writes them, the preview, a search answered
// once the index is built, and usage errors.
func TestRenderInProcess(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"gophermap": "Welcome\n0About\tabout.txt\n",
		"about.txt": "gophers dig burrows\n",
	})
	cfg := filepath.Join(t.TempDir(), "gopherd.json")
	writeJSON(t, cfg, map[string]any{"root": root, "hostname": "example.org", "listen": map[string]any{"addr": "127.0.0.1", "port": 7070},
		"search": map[string]any{"selector": "/search"}})

	code, out, errOut := runProgram(t, nil, "render", "--config", cfg, "--raw", "/")
	want := "iWelcome\t\texample.org\t7070\r\n0About\t/about.txt\texample.org\t7070\r\n.\r\n"
	if code != exitOK || out != want {
		t.Errorf("raw /: exit %d\n got %q\nwant %q\n%s", code, out, want, errOut)
	}
	if code, out, _ := runProgram(t, nil, "render", "--config", cfg, "/"); code != exitOK || out != "i Welcome\n0 About → /about.txt\n" {
		t.Errorf("preview /: exit %d %q", code, out)
	}
	if code, out, errOut := runProgram(t, nil, "render", "--config", cfg, "/search\tburrows"); code != exitOK || !strings.Contains(out, "/about.txt") {
		t.Errorf("search: exit %d %q %s", code, out, errOut)
	}
	for _, args := range [][]string{{"render"}, {"render", "--config", cfg, "--root", root, "/"}, {"render", "a", "b"}} {
		if code, _, errOut := runProgram(t, nil, args...); code != exitUsage || !strings.Contains(errOut, "Usage: gopherd render") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

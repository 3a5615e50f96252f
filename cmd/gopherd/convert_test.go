package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serveMenu serves root with public port 7070 as "h" and returns the
// response to sel.
func serveMenu(t *testing.T, root, sel string, extra map[string]any) string {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := map[string]any{"hostname": "h", "root": root, "public-port": 7070,
		"listen": map[string]any{"addr": "127.0.0.1", "port": 0}}
	for k, v := range extra {
		cfg[k] = v
	}
	writeJSON(t, cfgPath, cfg)
	return mustStart(t, cfgPath).get(sel)
}

// withoutItems drops the menu lines whose display string is one of
// displays.
func withoutItems(menu string, displays ...string) string {
	var kept []string
	for _, l := range strings.SplitAfter(menu, "\r\n") {
		drop := false
		for _, d := range displays {
			if strings.HasPrefix(l, d+"\t") || len(l) > 1 && strings.HasPrefix(l[1:], d+"\t") {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "")
}

// TestConvertRoundTrip converts each .gph fixture to Bucktooth, serves the
// original as a directory's index.gph and the result as another tree's
// gophermap at the same place, and compares the menus: equal but for the
// lines the conversion warned about.
func TestConvertRoundTrip(t *testing.T) {
	fixtures, err := filepath.Glob("../../internal/gophermap/testdata/gph/*.gph")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no .gph fixtures (%v)", err)
	}
	for _, f := range fixtures {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runProgram(t, nil, "convert", "--from", "gph", f)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			a, b := t.TempDir(), t.TempDir()
			writeFiles(t, a, map[string]string{"hole/index.gph": string(src)})
			writeFiles(t, b, map[string]string{"hole/gophermap": out})
			// The lines that cannot be expressed are the relative
			// selectors of types 2, 3 and w in forms.gph.
			lost := []string{"CSO", "An error item", "A w item"}
			want := withoutItems(serveMenu(t, a, "/hole", nil), lost...)
			got := withoutItems(serveMenu(t, b, "/hole", nil), lost...)
			if got != want {
				t.Errorf("menus differ:\n converted %q\n  original %q", got, want)
			}
			if n := strings.Count(errOut, "was used as written"); filepath.Base(f) == "forms.gph" && n != len(lost) {
				t.Errorf("%d lines said to be lost, want %d:\n%s", n, len(lost), errOut)
			}
		})
	}
}

// TestConvertGophernicus: a Gophernicus map with includes and no "*"
// converts into one Bucktooth map serving the same menu; one with "*"
// warns that the listing is lost.
func TestConvertGophernicus(t *testing.T) {
	a := t.TempDir()
	writeFiles(t, a, map[string]string{
		"hole/gophermap":      "!Title\n# comment\n=parts/header\nBody\n0Rel\tfile.txt\n=" + filepath.Join(a, "shared", "footer") + "\n=ls -l\n",
		"hole/parts/header":   "Header\n=leaf\n",
		"hole/leaf":           "Leaf\n1Up\t..\n",
		"shared/footer":       "Footer\n.\nnot shown\n",
		"hole/file.txt":       "f\n",
		"listing/gophermap":   "Intro\n*\nafter\n",
		"listing/visible.txt": "v\n",
	})
	code, out, errOut := runProgram(t, nil, "convert", "--from", "gophernicus", "--root", a, filepath.Join(a, "hole", "gophermap"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "Title\nHeader\nLeaf\n1Up\t..\nBody\n0Rel\tfile.txt\nFooter\n"
	if out != want {
		t.Errorf("converted:\n%q\nwant\n%q", out, want)
	}
	for _, frag := range []string{":1: a title cannot be expressed", `:7: "=ls -l": a shell command`} {
		if !strings.Contains(errOut, frag) {
			t.Errorf("stderr lacks %q:\n%s", frag, errOut)
		}
	}
	b := t.TempDir()
	writeFiles(t, b, map[string]string{"hole/gophermap": out, "hole/file.txt": "f\n"})
	orig := serveMenu(t, a, "/hole", map[string]any{"gophermap": map[string]any{"dialect": "gophernicus"}})
	// The title's selector (Gophernicus' "TITLE") is the one difference.
	orig = strings.Replace(orig, "iTitle\tTITLE\t", "iTitle\t\t", 1)
	if got := serveMenu(t, b, "/hole", nil); got != orig {
		t.Errorf("menus differ:\n converted %q\n  original %q", got, orig)
	}

	code, out, errOut = runProgram(t, nil, "convert", "--from", "gophernicus", filepath.Join(a, "listing", "gophermap"))
	if code != exitOK || out != "Intro\n" || !strings.Contains(errOut, `gophermap:2: "*" (append the automatic listing) cannot be expressed`) {
		t.Errorf("listing: exit %d, %q, %s", code, out, errOut)
	}
}

func TestConvertUsage(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"m.gph": "x\n", "prog.gph": "#!/bin/sh\n"})
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"convert"}, exitUsage, "want exactly one FILE"},
		{[]string{"convert", "--from", "geomyidae", "x"}, exitUsage, `--from "geomyidae": want gph or gophernicus`},
		{[]string{"convert", "--from", "gph", "--to", "gophernicus", "x"}, exitUsage, "only bucktooth can be written"},
		{[]string{"convert", "--from", "gph", filepath.Join(dir, "missing")}, exitFailure, "no such file"},
		{[]string{"convert", "--from", "gph", filepath.Join(dir, "prog.gph")}, exitFailure, "is a program"},
		{[]string{"convert", "--from", "gophernicus", "--root", filepath.Join(dir, "elsewhere"), filepath.Join(dir, "m.gph")}, exitUsage, "does not hold"},
		{[]string{"convert", "--bogus"}, exitUsage, "unknown flag"},
	} {
		code, _, errOut := runProgram(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%q: exit %d %q, want %d and %q", tt.args, code, errOut, tt.code, tt.msg)
		}
	}
	if code, out, _ := runProgram(t, nil, "convert", "--help"); code != exitOK || !strings.Contains(out, "Usage: gopherd convert") {
		t.Errorf("--help: %d %q", code, out)
	}
}

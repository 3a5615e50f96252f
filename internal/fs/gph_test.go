//go:build unix

package fs

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestGPHServedAsMenus(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "hole", "index.gph"), "Welcome\n[0|About|about.txt|server|port]\n[1|Music|music.gph|server|port]\n")
	write(t, filepath.Join(root, "hole", "music.gph"), "tThe music menu\n[9|Song|songs/a.mp3|server|port]\n[1|Back|index.gph|server|port]\n")
	write(t, filepath.Join(root, "hole", "about.txt"), "about\n")
	write(t, filepath.Join(root, "listed", "MENU.GPH"), "[1|x|/|server|port]\n")
	write(t, filepath.Join(root, "listed", "a.txt"), "a\n")
	h, logs := newHandler(t, root)

	// index.gph is the directory's menu; its links are relative to it.
	want := "iWelcome\t\tlocalhost\t7000\r\n0About\t/hole/about.txt\tlocalhost\t7000\r\n1Music\t/hole/music.gph\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/hole").String(); got != want {
		t.Fatalf("/hole: got %q\nwant %q", got, want)
	}
	// Any .gph is a menu when asked for, never its source.
	want = "iThe music menu\t\tlocalhost\t7000\r\n9Song\t/hole/songs/a.mp3\tlocalhost\t7000\r\n1Back\t/hole/index.gph\tlocalhost\t7000\r\n.\r\n"
	for _, sel := range []string{"/hole/music.gph", "hole//music.gph"} {
		rec := get(t, h, sel)
		if rec.String() != want || rec.lastServed() != "menu" {
			t.Fatalf("%s: got %q (%s)\nwant %q", sel, rec.String(), rec.lastServed(), want)
		}
	}
	if got := get(t, h, "/hole/index.gph").String(); !strings.HasPrefix(got, "iWelcome\t") {
		t.Fatalf("/hole/index.gph: %q", got)
	}
	// Listed as menus, among the files; the extension's case does not matter.
	want = "0a.txt\t/listed/a.txt\tlocalhost\t7000\r\n1MENU.GPH\t/listed/MENU.GPH\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/listed").String(); got != want {
		t.Fatalf("/listed: got %q\nwant %q", got, want)
	}
	if got := get(t, h, "/listed/MENU.GPH").String(); got != "1x\t/\tlocalhost\t7000\r\n.\r\n" {
		t.Fatalf("MENU.GPH: %q", got)
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Fatalf("errors logged: %v", logs.All())
	}
}

func TestGPHOrderWithGophermap(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), "From the gophermap\n")
	write(t, filepath.Join(root, "index.gph"), "From index.gph\n")
	write(t, filepath.Join(root, "sc", ".gophermap"), "From .gophermap\n")
	write(t, filepath.Join(root, "sc", "index.gph"), "From index.gph\n")
	h, logs := newHandler(t, root)
	if got := get(t, h, "/").String(); !strings.HasPrefix(got, "iFrom the gophermap\t") {
		t.Fatalf("/: %q", got)
	}
	if got := get(t, h, "/sc").String(); !strings.HasPrefix(got, "iFrom .gophermap\t") {
		t.Fatalf("/sc: %q", got)
	}
	for _, msg := range []string{"both gophermap and index.gph exist: serving gophermap", "both .gophermap and index.gph exist: serving .gophermap"} {
		if logs.FilterMessage(msg).Len() != 1 {
			t.Errorf("no warning %q: %v", msg, logs.All())
		}
	}
}

func TestGPHProgramRefused(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "index.gph"), "#!/bin/sh\necho secret\n")
	write(t, filepath.Join(root, "x.gph"), "#!/bin/sh\necho secret\n")
	h, logs := newHandler(t, root)
	for _, sel := range []string{"/", "/x.gph"} {
		rec := get(t, h, sel)
		if rec.lastServed() != "not-allowed" || strings.Contains(rec.String(), "secret") {
			t.Errorf("%s: %q (%s)", sel, rec.String(), rec.lastServed())
		}
	}
	if logs.FilterMessageSnippet(`starts with "#!"`).Len() != 2 {
		t.Errorf("want a warning per file: %v", logs.All())
	}
}

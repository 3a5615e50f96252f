//go:build unix

package fs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"gopherd/internal/gophermap"
	"gopherd/internal/testutil"
)

// newDialectHandler serves root with o (Root and Logger filled in).
func newDialectHandler(t *testing.T, root string, o Options) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	o.Root, o.Logger = root, zap.New(core)
	h, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, logs
}

// copyFixture copies testdata/NAME into a fresh directory and returns it.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", name))); err != nil {
		t.Fatal(err)
	}
	return root
}

// warnings returns the "gophermap:" warnings logged, one per line, with
// the fixture's temporary path left out.
func warnings(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.FilterLevelExact(zapcore.WarnLevel).All() {
		b.WriteString(e.Message)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestGophernicusFixtures serves each tree in testdata/gophernicus (one per
// line kind of Gophernicus' maps) with the gophernicus dialect and compares
// the menu of its root with NAME.golden and the warnings with
// NAME.warnings.
func TestGophernicusFixtures(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "gophernicus"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		t.Run(d.Name(), func(t *testing.T) {
			root := copyFixture(t, filepath.Join("gophernicus", d.Name()))
			h, logs := newDialectHandler(t, root, Options{Dialect: gophermap.Gophernicus{}})
			got := get(t, h, "/").Bytes()
			base := filepath.Join("testdata", "gophernicus", d.Name())
			testutil.CheckGolden(t, base+".golden", got, *update)
			testutil.CheckGolden(t, base+".warnings", []byte(warnings(logs)), *update)
			// The same map in the default dialect is today's Bucktooth
			// rendering: the dialect is chosen, never guessed.
			hb, _ := newDialectHandler(t, root, Options{})
			if bt := get(t, hb, "/").Bytes(); bytes.Equal(bt, got) && d.Name() != "long" {
				t.Errorf("the bucktooth dialect renders %s exactly as gophernicus does", d.Name())
			}
		})
	}
	if n < 12 {
		t.Fatalf("%d fixtures, want one per line kind", n)
	}
}

// TestGophernicusIncludeNeverRuns: no form of "=" runs anything. Each line
// would create a file if a shell ran it, the executable script too.
func TestGophernicusIncludeNeverRuns(t *testing.T) {
	root := t.TempDir()
	mark := filepath.Join(root, "created")
	script := "#!/bin/sh\ntouch " + mark + "\necho 1Ran\t/\n"
	write(t, filepath.Join(root, "run.sh"), script)
	if err := os.Chmod(filepath.Join(root, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An executable file without "#!" would be run by sh too.
	write(t, filepath.Join(root, "plain-exec"), "touch "+mark+"\n")
	if err := os.Chmod(filepath.Join(root, "plain-exec"), 0o755); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"=touch " + mark,
		"=/usr/bin/touch " + mark,
		"=sh -c 'touch " + mark + "'",
		"=$(touch " + mark + ")",
		"=`touch " + mark + "`",
		"=../run.sh",
		"=" + filepath.Join(root, "run.sh"),
		"=../plain-exec",
		"=echo hi; touch " + mark,
		"=./run.sh | cat",
	}
	// One map per line: the log reports the first few problems of a map.
	for i, l := range lines {
		write(t, filepath.Join(root, "d"+strconv.Itoa(i), "gophermap"), l+"\nend\n")
	}
	h, logs := newDialectHandler(t, root, Options{Dialect: gophermap.Gophernicus{}})
	for i, l := range lines {
		sel := "/d" + strconv.Itoa(i)
		if got := get(t, h, sel).String(); got != "iend\t\tlocalhost\t7000\r\n.\r\n" {
			t.Errorf("%s (%q): menu %q", sel, l, got)
		}
	}
	time.Sleep(100 * time.Millisecond) // anything started would have run by now
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("an include line ran a command: the marker file exists")
	}
	w := warnings(logs)
	if n := strings.Count(w, "never runs anything; nothing included"); n != len(lines) {
		t.Errorf("%d refusals saying nothing is run, want %d:\n%s", n, len(lines), w)
	}
	if strings.Contains(w, "Ran") {
		t.Error("the script's source reached the log")
	}
}

// TestGophernicusIncludeByServerPath: Gophernicus' maps name includes by
// their path on the server; one inside the root is included.
func TestGophernicusIncludeByServerPath(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "parts", "header"), "Header\n")
	write(t, filepath.Join(root, "sub", "gophermap"), "="+filepath.Join(root, "parts", "header")+"\n=../parts/header\n")
	h, logs := newDialectHandler(t, root, Options{Dialect: gophermap.Gophernicus{}})
	want := "iHeader\t\tlocalhost\t7000\r\niHeader\t\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/sub").String(); got != want {
		t.Fatalf("got %q\nwant %q\n%s", got, want, warnings(logs))
	}
}

// TestGophernicusMenuFollowsChanges: a menu made from includes and the
// listing is cached, and changes to any of them show on the next request.
func TestGophernicusMenuFollowsChanges(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), "=header\n*\n")
	write(t, filepath.Join(root, "header"), "version one\n")
	write(t, filepath.Join(root, "a.txt"), "a\n")
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{"gophermap", "header", "a.txt", "."} {
		if err := os.Chtimes(filepath.Join(root, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := newDialectHandler(t, root, Options{Dialect: gophermap.Gophernicus{}})
	first := get(t, h, "/").String()
	if !strings.Contains(first, "iversion one\t") || !strings.Contains(first, "0a.txt\t/a.txt\t") {
		t.Fatalf("menu %q", first)
	}
	made := h.made.Load()
	if get(t, h, "/").String() != first || h.made.Load() != made {
		t.Fatal("an unchanged menu was made again")
	}
	write(t, filepath.Join(root, "header"), "version two\n")
	if got := get(t, h, "/").String(); !strings.Contains(got, "iversion two\t") {
		t.Fatalf("edited include not shown: %q", got)
	}
	write(t, filepath.Join(root, "b.txt"), "b\n")
	if got := get(t, h, "/").String(); !strings.Contains(got, "0b.txt\t/b.txt\t") {
		t.Fatalf("new file not listed: %q", got)
	}
}

// TestGophernicusStreamedMenu: a menu too large to cache as bytes is
// streamed for every request from what the first render read, includes
// and listing included.
func TestGophernicusStreamedMenu(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), "=header\n*\n")
	write(t, filepath.Join(root, "header"), strings.Repeat("header line\n", 50))
	for _, n := range []string{"a", "b", "c"} {
		write(t, filepath.Join(root, n+".txt"), n)
	}
	h, _ := newDialectHandler(t, root, Options{Dialect: gophermap.Gophernicus{}})
	h.entryBytes = 100
	first := get(t, h, "/").String()
	if strings.Count(first, "iheader line\t") != 50 || !strings.Contains(first, "0c.txt\t/c.txt\t") || !strings.HasSuffix(first, "\r\n.\r\n") {
		t.Fatalf("menu %q", first)
	}
	// Removing the include does not change a version already made: the
	// streamed form kept its text.
	if second := get(t, h, "/").String(); second != first {
		t.Fatalf("second request: %q", second)
	}
}

// TestDialectByPrefix: the dialect is the default's, or that of the
// longest prefix naming the directory.
func TestDialectByPrefix(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{".", "~alice", "~alice/old", "~bob"} {
		write(t, filepath.Join(root, d, "gophermap"), "#comment\ntext\n")
	}
	h, _ := newDialectHandler(t, root, Options{Dialects: []DialectRule{
		{Prefix: "/~alice", Dialect: gophermap.Gophernicus{}},
		{Prefix: "//~alice/old/", Dialect: gophermap.Bucktooth{}},
	}})
	for sel, gophernicus := range map[string]bool{"/": false, "/~alice": true, "/~alice/": true, "/~alice/old": false, "/~bob": false} {
		got := get(t, h, sel).String()
		if shows := strings.Contains(got, "#comment"); shows == gophernicus {
			t.Errorf("%s: %q (gophernicus %v)", sel, got, gophernicus)
		}
	}
}

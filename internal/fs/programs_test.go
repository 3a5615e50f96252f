//go:build unix

package fs

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"gopherd/internal/gopher"
)

// mapRunner records what it was handed.
type mapRunner struct{ dir, path string }

func (m *mapRunner) ServeMapProgram(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request, dir, mapPath string) {
	m.dir, m.path = dir, mapPath
	_, _ = io.WriteString(w, "ran\r\n.\r\n")
}

func TestProgramMapRefusedWithoutRunner(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "sub", "gophermap"), "#!/bin/sh\necho SECRET-SOURCE\n")
	write(t, filepath.Join(root, "gophermap"), "#! not even a real interpreter line\nSECRET-TOO\n")
	h, logs := newHandler(t, root)
	for _, sel := range []string{"/sub", "/sub/", "sub", ""} {
		rec := get(t, h, sel)
		if got := rec.String(); strings.Contains(got, "SECRET") || !strings.HasPrefix(got, "3") {
			t.Errorf("%q: got %q, want an error item and no source", sel, got)
		}
	}
	if n := logs.FilterMessageSnippet("is a program").Len(); n == 0 {
		t.Errorf("no warning about the program map; logs: %v", logs.All())
	}
}

func TestProgramMapHandedToRunner(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a", "b", "gophermap"), "#!/bin/sh\necho hi\n")
	write(t, filepath.Join(root, "plain", "gophermap"), "not a #! program\n")
	m := &mapRunner{}
	core, _ := observer.New(zapcore.DebugLevel)
	h, err := New(Options{Root: root, Logger: zap.New(core), Maps: m})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := get(t, h, "/a//b/").String(); got != "ran\r\n.\r\n" {
		t.Fatalf("response %q", got)
	}
	if m.dir != "a/b" || m.path != "a/b/gophermap" {
		t.Errorf("runner got dir %q map %q", m.dir, m.path)
	}
	m.dir = ""
	if got := get(t, h, "/plain").String(); !strings.Contains(got, "not a #! program") || m.dir != "" {
		t.Errorf("a map not starting with #! is a map: got %q, runner dir %q", got, m.dir)
	}
}

func TestSelectorPath(t *testing.T) {
	for _, tt := range []struct {
		sel, want string
		ok        bool
	}{
		{"", ".", true}, {"/", ".", true}, {"//a//b/", "a/b", true}, {"a/b", "a/b", true},
		{"/a/../b", "", false}, {"/.x", "", false}, {"/a/gophermap", "", false}, {"/a\\b", "", false},
	} {
		got, ok := SelectorPath(tt.sel)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SelectorPath(%q) = %q, %v; want %q, %v", tt.sel, got, ok, tt.want, tt.ok)
		}
	}
}

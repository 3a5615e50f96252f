//go:build linux

package cgi

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
)

// FuzzFind maps arbitrary selectors in a tree with a program inside the
// gateway directory, one outside it, one next to the root and a dotfile,
// and checks that only the one inside is ever chosen, with a PATH_INFO
// free of dot components.
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"/cgi-bin/run", "cgi-bin//run/a/b?q", "/cgi-bin/../outside", "/cgi-bin/.env", "/cgi-bin/run/../../x",
		"/cgi-bin/sub/", "/cgi-bin?x", "//cgi-bin/run/.a", "/cgi-bin/run\\..", "/cgi-bin/%2e%2e/outside",
	} {
		f.Add(s)
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	for name, mode := range map[string]os.FileMode{
		filepath.Join(root, "cgi-bin", "run"):            0o755,
		filepath.Join(root, "cgi-bin", ".env"):           0o755,
		filepath.Join(root, "cgi-bin", "sub", IndexName): 0o755,
		filepath.Join(root, "outside"):                   0o755,
		filepath.Join(base, "beyond"):                    0o755,
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("#!/bin/sh\n"), mode); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink("../../beyond", filepath.Join(root, "cgi-bin", "link")); err != nil {
		f.Fatal(err)
	}
	g, err := New(Options{Root: root, Dirs: []Dir{{Selector: "/cgi-bin/"}}, Logger: zap.NewNop()})
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close()
	f.Fuzz(func(t *testing.T, sel string) {
		sc, kind := g.find("/cgi-bin/", sel)
		if kind != 0 {
			return
		}
		if sc.rel != "cgi-bin/run" && sc.rel != "cgi-bin/sub/"+IndexName {
			t.Fatalf("find(%q) chose %q", sel, sc.rel)
		}
		for c := range strings.SplitSeq(strings.Trim(sc.pathInfo, "/"), "/") {
			if c != "" && (c[0] == '.' || strings.ContainsAny(c, "\x00\\")) {
				t.Fatalf("find(%q): PATH_INFO %q has component %q", sel, sc.pathInfo, c)
			}
		}
		if p, _, _ := strings.Cut(sel, "?"); !strings.HasPrefix(gopher.CanonicalSelector(p), "/cgi-bin") {
			t.Fatalf("find(%q) ran a program for a selector outside the directory", sel)
		}
	})
}

// FuzzMenuOutput feeds arbitrary program output, in arbitrary chunks, to
// the menu renderer and checks that the response is well-formed: whole
// CRLF-ended lines of at least four TAB-separated fields, and one "."
// line at the end.
func FuzzMenuOutput(f *testing.F) {
	for _, s := range []string{
		"hello\n", "1Dir\tsub\n0File\t/f\thost\t70\n", "\n\n.\nafter\n", "bad\tline\n", "no newline",
		"\t\t\t\n", "1x\t../../..\n", "i\r\r\n", "\xef\xbb\xbf1bom\tx\n", strings.Repeat("x", maxMenuLine+10) + "\nok\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	g := &Gateway{log: zap.NewNop()}
	f.Fuzz(func(t *testing.T, out []byte, chunk uint8) {
		var w bytes.Buffer
		r := &gopher.Request{Selector: "/apps/x", Host: "h", Port: 70}
		m := newMenuSink(g, &w, r, script{rel: "apps/x", dir: "/apps"})
		step := int(chunk%16) + 1
		for i := 0; i < len(out); i += step {
			m.write(out[i:min(i+step, len(out))])
		}
		m.finish(false, gopher.Internal)
		body, ok := bytes.CutSuffix(w.Bytes(), []byte(gopher.Terminator))
		if !ok {
			t.Fatalf("no terminator: %q", w.Bytes())
		}
		for line := range strings.SplitSeq(string(body), "\r\n") {
			if line == "" {
				continue // after the last CRLF
			}
			if line == "." || strings.ContainsAny(line, "\r\n") || strings.Count(line, "\t") < 3 {
				t.Fatalf("bad menu line %q in %q", line, body)
			}
		}
		if len(body) > 0 && !bytes.HasSuffix(body, []byte("\r\n")) {
			t.Fatalf("menu does not end in CRLF: %q", body)
		}
	})
}

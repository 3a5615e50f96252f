//go:build unix

package fs

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// FuzzResolve checks the selector → path rules: a resolved path is relative,
// clean, and has no dot component, backslash or NUL.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b", "..", "/../x", "a//b/", ".hidden", "a\\..\\b", "a\x00b", "/URL:x", "gophermap", "/%2e%2e/", "\xc0\xae\xc0\xae"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sel string) {
		p, ok := resolve(sel)
		if !ok {
			return
		}
		if p == "." {
			return
		}
		if path.IsAbs(p) || path.Clean(p) != p || strings.ContainsAny(p, "\x00\\") {
			t.Fatalf("resolve(%q) = %q: not a clean relative path", sel, p)
		}
		for c := range strings.SplitSeq(p, "/") {
			if c == "" || c[0] == '.' || strings.EqualFold(c, gophermapName) {
				t.Fatalf("resolve(%q) = %q: component %q allowed", sel, p, c)
			}
		}
	})
}

// FuzzServe requests arbitrary selectors from a tree that has a secret next
// to the root, a symlink to it and a dotfile, and checks that neither secret
// ever reaches the client and that the handler always answers.
func FuzzServe(f *testing.F) {
	for _, s := range []string{"", "/", "/out", "/../secret.txt", "/.env", "/dir/../../secret.txt", "dir", "URL:http://x", "caps.txt"} {
		f.Add(s)
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(root, "dir"), 0o755); err != nil {
		f.Fatal(err)
	}
	for name, content := range map[string]string{
		filepath.Join(base, "secret.txt"): "OUTSIDE-SECRET",
		filepath.Join(root, ".env"):       "DOT-SECRET",
		filepath.Join(root, "dir", "a"):   "a",
		filepath.Join(root, "gophermap"):  "1Dir\tdir\n",
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink("../secret.txt", filepath.Join(root, "out")); err != nil {
		f.Fatal(err)
	}
	h, err := New(Options{Root: root})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sel string) {
		rec := serve(t, h, &gopher.Request{Selector: sel})
		body := rec.String()
		if strings.Contains(body, "OUTSIDE-SECRET") || strings.Contains(body, "DOT-SECRET") {
			t.Fatalf("selector %q leaked a secret: %q", sel, body)
		}
		if rec.lastServed() == "" {
			t.Fatalf("selector %q: no response recorded", sel)
		}
	})
}

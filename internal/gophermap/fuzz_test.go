package gophermap

import (
	"bytes"
	"path"
	"reflect"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// FuzzRender checks, for any map and any directory, that rendering never
// panics, that every item can go on the wire, and that every relative
// selector lands under "/" in clean form, never through "..".
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"",
		"\n",
		"text\n1. text\n",
		"1a\t/a\th\t70\t+\n",
		"1a\t..\n1b\t../../x\n1c\t./a/../../b\n",
		"1../..\t\n1..\t\n",
		"1a\t\th\t70\n",
		"\tx\n \ty\n1\t\n",
		"1a\t/a\th\t0\n1a\t/a\th\t99999\n",
		"caf\xe9\r\n0r\xe9\tr\xe9\r\nend",
		"a\r\rb\r\n.\r\nafter",
		"\xef\xbb\xbf1x\tx\n",
		"8bbs\tguest\th\t23\n",
	} {
		f.Add([]byte(s), "/sub")
	}
	f.Add([]byte("1a\ta\n"), "")
	f.Add([]byte("1a\t../a\n"), "/x/../..")
	f.Add([]byte("1a\ta\n"), "/a\tb")
	f.Fuzz(func(t *testing.T, data []byte, dir string) {
		ctx := Context{Dir: dir, Host: "example.org", Port: 7070}
		menu, warns := Render(data, ctx)
		lines := bytes.Count(data, []byte{'\n'}) + 1
		for _, w := range warns {
			if w.Line < 1 || w.Line > lines {
				t.Errorf("warning on line %d of %d: %q", w.Line, lines, w.Msg)
			}
		}
		for _, it := range menu {
			if !it.Valid() {
				t.Fatalf("invalid item %+v", it)
			}
		}
		// Resolve each entry on its own to know which were relative.
		entries, _ := Parse(data)
		var joined gopher.Menu
		for _, e := range entries {
			m, _ := Resolve([]Entry{e}, ctx)
			joined = append(joined, m...)
			if len(m) == 0 || !isRelative(e) {
				continue
			}
			sel := m[0].Selector
			if !strings.HasPrefix(sel, "/") || path.Clean(sel) != sel {
				t.Errorf("line %d: relative selector resolved to %q, want a clean path under /", e.Line, sel)
			}
			for _, c := range strings.Split(sel, "/") {
				if c == ".." {
					t.Errorf("line %d: resolved selector %q has a .. component", e.Line, sel)
				}
			}
		}
		if len(joined) != len(menu) || (len(menu) > 0 && !reflect.DeepEqual(joined, menu)) {
			t.Errorf("Render and per-entry Resolve disagree:\n%q\n%q", menu.Bytes(), joined.Bytes())
		}
	})
}

// isRelative restates the package's rule independently: which entries have
// their selector joined to the directory.
func isRelative(e Entry) bool {
	if e.Type == gopher.TypeInfo || e.Type == gopher.TypeTelnet || e.Type == gopher.TypeTN3270 {
		return false
	}
	sel := e.Selector
	if !e.HasSelector {
		sel = e.Display
	}
	return sel != "" && !strings.HasPrefix(sel, "/") && !strings.HasPrefix(sel, "URL:")
}

package gophermap

import (
	"bytes"
	"context"
	"errors"
	"path"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

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

// FuzzRenderBounded checks the costs of a render on what it produces: the
// streaming renderer's menu is exactly Render's, Size predicts it, no item
// is larger than twice the line it came from (a display string doubles as
// the selector) plus the directory and host written into it, the render
// allocates at most twice its output besides the output itself (plus a
// constant), and it takes time linear in the bytes it reads and writes. Lines, the
// stage lint rules read, must give back the file byte for byte.
func FuzzRenderBounded(f *testing.F) {
	f.Add([]byte("x\nx\nx\n"), "/")
	f.Add([]byte("\t\n\t\n\t\n"), "/sub")
	f.Add([]byte("0a\tb/c/../d\n1e\t\th\t70\r\n.\r\nrest"), "/deep/er/dir")
	f.Add([]byte("\xef\xbb\xbf1a\t../a\n1b\t../../../b\ni\t\t\t\t\n"), "/a")
	f.Add([]byte(strings.Repeat("1relative link\tsome/where\n", 200)), "/a/long/directory/name")
	f.Fuzz(func(t *testing.T, data []byte, dir string) {
		text := string(data)
		var rebuilt strings.Builder
		next := 1
		for l := range Lines(text) {
			if l.Num != next || l.Off != rebuilt.Len() {
				t.Fatalf("line %d at offset %d, want line %d at %d", l.Num, l.Off, next, rebuilt.Len())
			}
			next++
			rebuilt.WriteString(l.Text + l.End)
		}
		if rebuilt.String() != text {
			t.Fatalf("Lines lost bytes: %q from %q", rebuilt.String(), text)
		}

		ctx := Context{Dir: dir, Host: "example.org", Port: 7070}
		r := Renderer{Context: ctx}
		size := r.Size(context.Background(), text)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		out := r.Append(context.Background(), make([]byte, 0, size), text)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)

		menu, _ := Render(data, ctx)
		if !bytes.Equal(out, menu.Bytes()) {
			t.Fatalf("Append and Render differ:\n%q\n%q", out, menu.Bytes())
		}
		if len(out) != size {
			t.Fatalf("Size said %d, the menu has %d bytes", size, len(out))
		}
		perLine := len(cleanDir(dir)) + len(ctx.Host) + len("\t\t\t65535\r\n/")
		if limit := len(gopher.Terminator) + 2*len(text) + (next-1)*perLine; len(out) > limit {
			t.Fatalf("%d-byte menu from %d lines of %d bytes: more than twice a line plus directory and host each (%d)", len(out), next-1, len(text), limit)
		}
		// The output buffer was sized up front, so what is allocated is
		// the joined selectors (part of the output; path.Join builds each
		// twice when it has to clean it), the repaired copy of each line
		// holding a stray CR, the cleaned directory, and a constant.
		repaired := 0
		for l := range Lines(text) {
			if strings.Contains(l.Text, "\r") {
				repaired += len(l.Text)
			}
		}
		if alloc := after.TotalAlloc - before.TotalAlloc - uint64(size); alloc > uint64(2*len(out)+repaired+2*len(dir))+16<<10 {
			t.Fatalf("rendering %d bytes allocated %d bytes besides the output", len(out), alloc)
		}
		if limit := time.Second + time.Duration(len(out)+len(text))*time.Microsecond; elapsed > limit {
			t.Fatalf("rendering %d bytes from %d took %v (limit %v)", len(out), len(text), elapsed, limit)
		}
	})
}

// selfTree is a Tree whose every include is the fuzzed map itself (or, for
// arguments starting with "x", a map named after the argument), and whose
// listing is fixed: cycles, the depth limit and the include count are then
// what stops a render.
type selfTree struct{ text string }

func (s selfTree) Listing(context.Context) ([]ListEntry, error) {
	return []ListEntry{{Name: "d", Type: '1', Dir: true}, {Name: "a.txt", Type: '0'}, {Name: "b.png", Type: 'I'}}, nil
}

func (s selfTree) Include(_ context.Context, arg string) (string, string, error) {
	if IncludeCommand(arg) {
		return "", "", errors.New("a shell command")
	}
	if strings.HasPrefix(arg, "x") {
		return arg, s.text, nil
	}
	return "self", s.text, nil
}

// FuzzGophernicus renders any map in the gophernicus dialect, including
// itself through its "=" lines: it never panics, stops, writes only valid
// items, reports warnings on lines that exist, and Size, Append and Items
// agree.
func FuzzGophernicus(f *testing.F) {
	for _, s := range []string{
		"",
		"!Title\n# comment\n-a.txt\n:png=g\ntext\n*\nafter\n",
		"=self\n=x1\n=x2\n",
		"=cat /etc/passwd\n=`id`\n=\n~\n%\n",
		".end\nnot shown\n",
		"1Ext\tsub/\tother.org\t70\n1E\t\t\t70\n1\t\th\t70\n",
		"!\t\n:=\n:a=\x01\n-\n",
		"\xef\xbb\xbf#x\r\n*\r\n",
	} {
		f.Add([]byte(s), "/sub")
	}
	f.Fuzz(func(t *testing.T, data []byte, dir string) {
		text := string(data)
		lines := strings.Count(text, "\n") + 1
		var warns []Warning
		r := Renderer{Context: Context{Dir: dir, Host: "example.org", Port: 7070}, Dialect: Gophernicus{}, Tree: selfTree{text}, Path: "self",
			Warn: func(w Warning) { warns = append(warns, w) }}
		var items gopher.Menu
		for it := range r.Items(context.Background(), text) {
			if !it.Valid() {
				t.Fatalf("invalid item %+v", it)
			}
			items = append(items, it)
		}
		for _, w := range warns {
			if w.Line < 1 || w.Line > lines {
				t.Errorf("warning on line %d of %d: %q", w.Line, lines, w.Msg)
			}
		}
		r.Warn = nil
		out := r.Append(context.Background(), nil, text)
		if !bytes.Equal(out, items.Bytes()) {
			t.Fatalf("Append and Items differ:\n%q\n%q", out, items.Bytes())
		}
		if n := r.Size(context.Background(), text); n != len(out) {
			t.Fatalf("Size %d, menu %d bytes", n, len(out))
		}
	})
}

// FuzzGPH reads any .gph text: no panic, only valid items, and every link
// line written back in geomyidae's syntax (its type, display and selector with
// their "|" escaped) reads as the same entry.
func FuzzGPH(f *testing.F) {
	for _, s := range []string{
		"[1|Dir|/d|server|port]\n",
		"[0|a\\|b|c\\|d|host|70]junk\n",
		"t[text\n[|[text\ntext\n.\n",
		"[0|x|y|server]\n[0|x|y|server|port|z]\n[\n",
		"[0|x|y|server|0]\n[\x01|x|y|s|p]\na\tb\n",
		"\xef\xbb\xbf[i|i|Err|server|port]\r\n",
		"\n[\\0||||]\n",
		"\n[\\|||||]\n",
	} {
		f.Add([]byte(s), "/sub")
	}
	f.Fuzz(func(t *testing.T, data []byte, dir string) {
		ctx := Context{Dir: dir, Host: "example.org", Port: 7070}
		r := Renderer{Context: ctx, Dialect: GPH{}}
		for it := range r.Items(context.Background(), string(data)) {
			if !it.Valid() {
				t.Fatalf("invalid item %+v", it)
			}
		}
		for l := range Lines(string(data)) {
			e, kind := GPH{}.Classify(l, nil)
			if kind != KindItem || e.Type == gopher.TypeInfo {
				continue
			}
			if e.Type == '\\' || strings.HasSuffix(e.Display, "\\") || strings.HasSuffix(e.Selector, "\\") || strings.ContainsAny(e.Host, "|]") || l.Num == 1 {
				// Ambiguous in geomyidae's syntax itself: a "\" before a
				// "|" escapes it, so type "\" is only written as a longer
				// first field ("[\0|...").
				continue
			}
			host, port := "server", "port"
			if e.HasHost {
				host = e.Host
			}
			if e.HasPort {
				port = strconv.Itoa(e.Port)
			}
			esc := strings.NewReplacer("|", "\\|")
			again := "[" + esc.Replace(string(e.Type)) + "|" + esc.Replace(e.Display) + "|" + esc.Replace(e.Selector) + "|" + host + "|" + port + "]"
			e2, kind2 := GPH{}.Classify(Line{Num: l.Num, Text: again, End: "\n"}, nil)
			if kind2 != kind || e2 != e {
				t.Fatalf("line %d %q read as %+v; written back as %q it reads as %v %+v", l.Num, l.Text, e, again, kind2, e2)
			}
		}
	})
}

// FuzzLint checks, for any map and any facts about its file, that lint
// never panics, that its findings are sorted by line, column and rule and
// lie within the file (a column at most one past the line, where its
// ending is), that each names a rule of the table with a one-line message,
// and that lint and the server agree: every line the renderer skips with a
// rule id is a finding of that rule on that line.
func FuzzLint(f *testing.F) {
	for _, s := range []string{
		"",
		"0About  about.txt\nWelcome\t\n.\nrest\n",
		"\xef\xbb\xbf\tx\r\nb\n\xe9\n",
		"1a\t/ \th\t+\t+\n=cmd arg\n# c\t\n",
		strings.Repeat("é", 80) + "\ni" + strings.Repeat("\t", 30) + "\n",
		"#!/bin/sh\necho\n",
		"a\r\rb\r\n.\r",
	} {
		f.Add([]byte(s), "/sub", uint8(0))
	}
	f.Add([]byte("=x\n.y\n*\n"), "/", uint8(0xff))
	f.Fuzz(func(t *testing.T, data []byte, dir string, facts uint8) {
		text := string(data)
		sets := [...]RuleSet{RuleSetOf(nil), RuleSetOf(Gophernicus{}), RuleSetOf(GPH{})}
		rules := sets[int(facts)%len(sets)]
		o := LintOptions{
			Context:      Context{Dir: dir, Host: "example.org", Port: 70},
			Rules:        rules,
			Width:        int(facts>>1) % 100,
			Executable:   facts&4 != 0,
			RunsPrograms: facts&8 != 0,
			Program:      facts&16 != 0 && strings.HasPrefix(text, "#!"),
			Target: func(sel string) Target {
				if !strings.HasPrefix(sel, "/") {
					t.Errorf("Target(%q): not a rooted selector", sel)
				}
				return Target(len(sel) % 3)
			},
		}
		if facts&32 != 0 {
			o.Shadowed = "gophermap"
		}
		found := Lint(text, o)
		var lines []Line
		for l := range Lines(text) {
			lines = append(lines, l)
		}
		ids := map[string]bool{}
		for _, r := range Rules() {
			ids[r.ID] = true
		}
		for i, fd := range found {
			if i > 0 {
				p := found[i-1]
				if p.Line > fd.Line || p.Line == fd.Line && (p.Col > fd.Col || p.Col == fd.Col && p.Rule > fd.Rule) {
					t.Errorf("findings out of order: %+v before %+v", p, fd)
				}
			}
			if fd.Line < 1 || fd.Line > max(1, len(lines)) {
				t.Errorf("finding %+v on line %d of %d", fd, fd.Line, len(lines))
				continue
			}
			width := 0
			if len(lines) > 0 {
				width = len(lines[fd.Line-1].Text)
			}
			if fd.Col < 0 || fd.Col > width+1 {
				t.Errorf("finding %+v at column %d of a %d-byte line", fd, fd.Col, width)
			}
			if !ids[fd.Rule] || fd.Severity < SeverityInfo || fd.Severity > SeverityError || fd.Message == "" || strings.ContainsAny(fd.Message, "\r\n") {
				t.Errorf("bad finding %+v", fd)
			}
		}
		if o.Shadowed != "" || o.Program {
			return
		}
		_, warns := Render(data, Context{Dir: dir, Host: "example.org", Port: 70})
		if rules.Name() != "bucktooth" {
			return
		}
		type at struct {
			line int
			rule string
		}
		lintSays := map[at]bool{}
		for _, fd := range found {
			lintSays[at{fd.Line, fd.Rule}] = true
		}
		for _, w := range warns {
			if w.Rule == "" || w.Rule == RuleTarget {
				continue // resolution: lint words it its own way
			}
			if !lintSays[at{w.Line, w.Rule}] {
				t.Errorf("the server warns %s on line %d (%s), lint does not: %+v", w.Rule, w.Line, w.Msg, found)
			}
		}
	})
}

package gophermap

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

func TestGophernicusClassify(t *testing.T) {
	for _, tt := range []struct {
		line  string
		kind  Kind
		want  Entry
		warns int
	}{
		{"# a comment", KindNone, Entry{Line: 1}, 0},
		{"#1Not a link\t/x", KindNone, Entry{Line: 1}, 0},
		{"!My hole", KindTitle, Entry{Line: 1, Type: gopher.TypeInfo, Display: "My hole"}, 0},
		{"-secret.txt", KindHide, Entry{Line: 1, Arg: "secret.txt"}, 0},
		{"-", KindSkip, Entry{}, 1},
		{":png=g", KindType, Entry{Line: 1, Arg: "png", Type: 'g'}, 0},
		{":png=gif", KindType, Entry{Line: 1, Arg: "png", Type: 'g'}, 0},
		{":png", KindSkip, Entry{}, 1},
		{":=g", KindSkip, Entry{}, 1},
		{":png=", KindSkip, Entry{}, 1},
		{":png= ", KindSkip, Entry{}, 1},
		{"*", KindListing, Entry{Line: 1}, 0},
		{"*anything", KindListing, Entry{Line: 1}, 0},
		{".", KindEnd, Entry{Line: 1}, 0},
		{".hidden text", KindEnd, Entry{Line: 1}, 1},
		{"=header", KindInclude, Entry{Line: 1, Arg: "header"}, 0},
		{"=/usr/bin/uptime", KindInclude, Entry{Line: 1, Arg: "/usr/bin/uptime"}, 0},
		{"=", KindSkip, Entry{}, 1},
		{"~", KindUserList, Entry{Line: 1}, 1},
		{"%", KindHostList, Entry{Line: 1}, 1},
		{"", KindItem, Entry{Line: 1, Type: gopher.TypeInfo}, 0},
		{"plain text", KindItem, Entry{Line: 1, Type: gopher.TypeInfo, Display: "plain text"}, 0},
		{"1Sub\tsub", KindItem, Entry{Line: 1, Type: '1', Display: "Sub", Selector: "sub", HasSelector: true}, 0},
		// An empty selector field is the root of the host, as in Bucktooth.
		{"1sub\t\tother.org\t70", KindItem, Entry{Line: 1, Type: '1', Display: "sub", HasSelector: true, Host: "other.org", HasHost: true, Port: 70, HasPort: true, Literal: true}, 0},
		// A named host keeps a relative selector as written.
		{"1Ext\tsub/\tother.org\t70", KindItem, Entry{Line: 1, Type: '1', Display: "Ext", Selector: "sub/", HasSelector: true, Host: "other.org", HasHost: true, Port: 70, HasPort: true, Literal: true}, 0},
		{"1Bad\t/x\th\tseventy", KindSkip, Entry{}, 1},
	} {
		var warns []Warning
		e, kind := Gophernicus{}.Classify(Line{Num: 1, Text: tt.line, End: "\n"}, func(w Warning) { warns = append(warns, w) })
		if kind != tt.kind || e != tt.want || len(warns) != tt.warns {
			t.Errorf("%q: got %v %+v %v, want %v %+v and %d warnings", tt.line, kind, e, warns, tt.kind, tt.want, tt.warns)
		}
		// Without a listener nothing is built, and the result is the same.
		e2, kind2 := Gophernicus{}.Classify(Line{Num: 1, Text: tt.line, End: "\n"}, nil)
		if e2 != e || kind2 != kind {
			t.Errorf("%q: nil warn gives %v %+v, want %v %+v", tt.line, kind2, e2, kind, e)
		}
	}
}

// fakeTree is a Tree of fixed files and a fixed listing; it counts what
// it is asked.
type fakeTree struct {
	files    map[string]string
	listing  []ListEntry
	listErr  error
	asked    []string
	listings int
}

func (f *fakeTree) Listing(context.Context) ([]ListEntry, error) {
	f.listings++
	return f.listing, f.listErr
}

func (f *fakeTree) Include(_ context.Context, arg string) (string, string, error) {
	f.asked = append(f.asked, arg)
	if IncludeCommand(arg) {
		return "", "", errors.New("a shell command: gopherd never runs anything")
	}
	text, ok := f.files[arg]
	if !ok {
		return "", "", errors.New("no such file")
	}
	return arg, text, nil
}

func renderWith(t *testing.T, text string, tree Tree) (string, []Warning) {
	t.Helper()
	var warns []Warning
	r := Renderer{Context: Context{Dir: "/d", Host: "h", Port: 70}, Dialect: Gophernicus{}, Tree: tree, Path: "d/gophermap",
		Warn: func(w Warning) { warns = append(warns, w) }}
	var b strings.Builder
	for it := range r.Items(context.Background(), text) {
		b.Write(it.AppendTo(nil))
	}
	// Size agrees with Items.
	r.Warn = nil
	if n := r.Size(context.Background(), text); n != b.Len()+len(gopher.Terminator) {
		t.Errorf("Size = %d, want %d", n, b.Len()+len(gopher.Terminator))
	}
	return b.String(), warns
}

func TestGophernicusListing(t *testing.T) {
	tree := &fakeTree{listing: []ListEntry{
		{Name: "adir", Type: '1', Dir: true},
		{Name: "pics.png", Type: 'I', Dir: true}, // a directory: never overridden
		{Name: "a.png", Type: 'I'},
		{Name: "B.PNG", Type: 'I'},
		{Name: "hidden.txt", Type: '0'},
		{Name: "notes.txt", Type: '0'},
		{Name: "menu.gph", Type: '1'},
	}}
	got, warns := renderWith(t, "!Title\n-hidden.txt\n:png=g\nintro\n*\nnot shown\n", tree)
	want := "iTitle\tTITLE\th\t70\r\n" +
		"iintro\t\th\t70\r\n" +
		"1adir\t/d/adir\th\t70\r\n" +
		"Ipics.png\t/d/pics.png\th\t70\r\n" +
		"ga.png\t/d/a.png\th\t70\r\n" +
		"gB.PNG\t/d/B.PNG\th\t70\r\n" +
		"0notes.txt\t/d/notes.txt\th\t70\r\n" +
		"1menu.gph\t/d/menu.gph\th\t70\r\n"
	// The line after "*" is never shown, which lint's GM011 says.
	if got != want || len(warns) != 1 || warns[0].Rule != RuleCut || warns[0].Line != 5 {
		t.Fatalf("got %q %v\nwant %q and one GM011 on line 5", got, warns, want)
	}
	// Directives after "*" do not count; "*" in the root directory.
	r := Renderer{Context: Context{Dir: "/", Host: "h", Port: 70}, Dialect: Gophernicus{}, Tree: tree}
	m := r.Append(context.Background(), nil, "*\n-notes.txt\n")
	if !strings.Contains(string(m), "0notes.txt\t/notes.txt\t") || !strings.HasSuffix(string(m), "\r\n.\r\n") {
		t.Fatalf("listing of /: %q", m)
	}
	// Without a tree, "*" shows nothing and says so.
	got, warns = renderWith(t, "a\n*\n", nil)
	if got != "ia\t\th\t70\r\n" || len(warns) != 1 || warns[0].Line != 2 {
		t.Fatalf("no tree: %q %v", got, warns)
	}
	tree.listErr = errors.New("the directory cannot be listed")
	if _, warns = renderWith(t, "*\n", tree); len(warns) != 1 || !strings.Contains(warns[0].Msg, "cannot be listed") {
		t.Fatalf("listing error: %v", warns)
	}
}

func TestGophernicusInclude(t *testing.T) {
	tree := &fakeTree{files: map[string]string{
		"header": "Header text\n0Rel\trel.txt\n-hidden\n*\nafter star\n",
		"bad":    "ok\n1Bad\t/x\th\tnope\n",
		"self":   "=self\n",
		"a":      "in a\n=b\n",
		"b":      "in b\n=a\n",
		"d1":     "d1\n=d2\n", "d2": "d2\n=d3\n", "d3": "d3\n=d4\n", "d4": "d4\n=d5\n", "d5": "d5\n",
		"dotend": "shown\n.\nnot shown\n",
	}, listing: []ListEntry{{Name: "hidden", Type: '0'}, {Name: "shown", Type: '0'}}}

	t.Run("lines and directives", func(t *testing.T) {
		got, warns := renderWith(t, "=header\nmain\n*\n", tree)
		want := "iHeader text\t\th\t70\r\n0Rel\t/d/rel.txt\th\t70\r\nimain\t\th\t70\r\n0shown\t/d/shown\th\t70\r\n"
		if got != want {
			t.Errorf("got %q\nwant %q", got, want)
		}
		// "*" inside the include ends the include only, with a warning on
		// the include line naming the included file and its line.
		if len(warns) != 1 || warns[0].Line != 1 || !strings.HasPrefix(warns[0].Msg, "header:4: ") {
			t.Errorf("warnings: %v", warns)
		}
	})
	t.Run("bad line in an include", func(t *testing.T) {
		got, warns := renderWith(t, "one\ntwo\n=bad\n", tree)
		if got != "ione\t\th\t70\r\nitwo\t\th\t70\r\niok\t\th\t70\r\n" {
			t.Errorf("got %q", got)
		}
		if len(warns) != 1 || warns[0].Line != 3 || !strings.HasPrefix(warns[0].Msg, "bad:2: port") {
			t.Errorf("warnings: %v", warns)
		}
	})
	t.Run("end inside an include", func(t *testing.T) {
		got, _ := renderWith(t, "=dotend\nmain\n", tree)
		if got != "ishown\t\th\t70\r\nimain\t\th\t70\r\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		got, warns := renderWith(t, "=a\nend\n", tree)
		if got != "iin a\t\th\t70\r\niin b\t\th\t70\r\niend\t\th\t70\r\n" {
			t.Errorf("got %q", got)
		}
		if len(warns) != 1 || !strings.Contains(warns[0].Msg, "include cycle: d/gophermap includes a includes b includes a") {
			t.Errorf("warnings: %v", warns)
		}
		// A map including itself is a cycle at once.
		if _, warns := renderWith(t, "=d/gophermap\n", &fakeTree{files: map[string]string{"d/gophermap": "x\n"}}); len(warns) != 1 || !strings.Contains(warns[0].Msg, "cycle") {
			t.Errorf("self-include: %v", warns)
		}
		if _, warns := renderWith(t, "=self\n", tree); len(warns) != 1 || !strings.Contains(warns[0].Msg, "self includes self") {
			t.Errorf("self-including include: %v", warns)
		}
	})
	t.Run("depth limit", func(t *testing.T) {
		got, warns := renderWith(t, "=d1\n", tree)
		// The map and four levels below it, as in Gophernicus.
		if got != "id1\t\th\t70\r\nid2\t\th\t70\r\nid3\t\th\t70\r\nid4\t\th\t70\r\n" {
			t.Errorf("got %q", got)
		}
		if len(warns) != 1 || !strings.Contains(warns[0].Msg, "nested more than 4 deep") {
			t.Errorf("warnings: %v", warns)
		}
	})
	t.Run("count limit", func(t *testing.T) {
		got, warns := renderWith(t, strings.Repeat("=dotend\n", MaxIncludes+3), tree)
		if n := strings.Count(got, "ishown"); n != MaxIncludes {
			t.Errorf("%d includes carried out, want %d", n, MaxIncludes)
		}
		// Each included map is cut by its "." (GM011); the three
		// includes over the limit are refused.
		refused := 0
		for _, w := range warns {
			if strings.Contains(w.Msg, "includes in one menu") {
				refused++
			}
		}
		if refused != 3 {
			t.Errorf("%d includes refused, want 3: %v", refused, warns)
		}
	})
	t.Run("refused", func(t *testing.T) {
		tree.asked = nil
		got, warns := renderWith(t, "=missing\n=cat /etc/passwd\n=`touch x`\nstill here\n", tree)
		if got != "istill here\t\th\t70\r\n" || len(warns) != 3 {
			t.Fatalf("got %q %v", got, warns)
		}
		for i, w := range warns {
			if w.Line != i+1 || w.Col != 2 || !strings.HasSuffix(w.Msg, "; nothing included") {
				t.Errorf("warning %d: %+v", i, w)
			}
		}
		if !strings.Contains(warns[1].Msg, "never runs anything") {
			t.Errorf("command: %v", warns[1])
		}
	})
	t.Run("no tree", func(t *testing.T) {
		got, warns := renderWith(t, "=header\nx\n", nil)
		if got != "ix\t\th\t70\r\n" || len(warns) != 1 {
			t.Errorf("got %q %v", got, warns)
		}
	})
}

func TestGophernicusLinks(t *testing.T) {
	got, warns := renderWith(t, strings.Join([]string{
		"1Sub\tsub",
		"1Abs\t/x",
		"1Ext\tsub/\tother.org\t70",
		"1EmptyHost\tsub\t\t70",
		"0Same name",
		"1Name as selector\t\tother.org\t70",
		"hWeb\tURL:http://example.org/",
		strings.Repeat("long ", 30),
	}, "\n"), nil)
	want := "1Sub\t/d/sub\th\t70\r\n" +
		"1Abs\t/x\th\t70\r\n" +
		"1Ext\tsub/\tother.org\t70\r\n" +
		"1EmptyHost\t/d/sub\th\t70\r\n" +
		"i0Same name\t\th\t70\r\n" +
		"1Name as selector\t\tother.org\t70\r\n" +
		"hWeb\tURL:http://example.org/\th\t70\r\n" +
		"i" + strings.Repeat("long ", 30) + "\t\th\t70\r\n"
	if got != want || len(warns) != 0 {
		t.Fatalf("got %q %v\nwant %q", got, warns, want)
	}
}

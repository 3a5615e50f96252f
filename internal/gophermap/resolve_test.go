package gophermap

import (
	"path"
	"reflect"
	"testing"

	"gopherd/internal/gopher"
)

// testCtx is the context of the project's own fixtures.
var testCtx = Context{Dir: "/sub", Host: "example.org", Port: 7070}

func link(t gopher.ItemType, display, sel, host string, port int) gopher.Item {
	return gopher.Item{Type: t, Display: display, Selector: sel, Host: host, Port: port}
}

func TestRender(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ctx   Context
		in    string
		want  gopher.Menu
		warns []Warning
	}{
		// Info lines: empty selector, this server's host and port.
		{"info", testCtx, "hello  \n\n", gopher.Menu{gopher.Info("hello  ", "example.org", 7070), gopher.Info("", "example.org", 7070)}, nil},
		{"i line with tab", testCtx, "imanual info line\t", gopher.Menu{gopher.Info("manual info line", "example.org", 7070)}, nil},
		{"copied info line fields ignored", testCtx, "ihello\tfake\t(NULL)\t0\n", gopher.Menu{gopher.Info("hello", "example.org", 7070)}, nil},
		{"copied info line bad port ignored", testCtx, "ihello\tfake\t(NULL)\tx\n", gopher.Menu{gopher.Info("hello", "example.org", 7070)}, nil},
		// Full link used as written.
		{"full link", testCtx, "1Name\t/sel\thost.org\t70\n", gopher.Menu{link('1', "Name", "/sel", "host.org", 70)}, nil},
		// Omitted/empty host and port: ours, also for foreign hosts.
		{"host and port omitted", testCtx, "0a\t/a.txt\n", gopher.Menu{link('0', "a", "/a.txt", "example.org", 7070)}, nil},
		{"port omitted, foreign host", testCtx, "1x\t/\tthis.is.bogus.org\n", gopher.Menu{link('1', "x", "/", "this.is.bogus.org", 7070)}, nil},
		{"empty port field, foreign host", testCtx, "1x\t/\tother.org\t\n", gopher.Menu{link('1', "x", "/", "other.org", 7070)}, nil},
		{"empty host, own port", testCtx, "1x\t/\t\t71\n", gopher.Menu{link('1', "x", "/", "example.org", 71)}, nil},
		// Absolute and URL: selectors used as written, not cleaned.
		{"absolute trailing slash kept", testCtx, "1d\t/dir/\n", gopher.Menu{link('1', "d", "/dir/", "example.org", 7070)}, nil},
		{"absolute not cleaned", testCtx, "1d\t/a/./b//c\n", gopher.Menu{link('1', "d", "/a/./b//c", "example.org", 7070)}, nil},
		{"absolute dotdot left to fs", testCtx, "1d\t/../x\n", gopher.Menu{link('1', "d", "/../x", "example.org", 7070)}, nil},
		{"URL", testCtx, "hcode\tURL:https://code.example/a/../b\n", gopher.Menu{link('h', "code", "URL:https://code.example/a/../b", "example.org", 7070)}, nil},
		{"url lower case is relative", testCtx, "hcode\turl:x\n", gopher.Menu{link('h', "code", "/sub/url:x", "example.org", 7070)}, nil},
		// Relative selectors joined and cleaned.
		{"relative", testCtx, "0f\tfile.txt\n", gopher.Menu{link('0', "f", "/sub/file.txt", "example.org", 7070)}, nil},
		{"relative trailing slash cleaned", testCtx, "1m\tmanpages/\n", gopher.Menu{link('1', "m", "/sub/manpages", "example.org", 7070)}, nil},
		{"relative dot", testCtx, "1here\t.\n", gopher.Menu{link('1', "here", "/sub", "example.org", 7070)}, nil},
		{"relative dotdot", testCtx, "1up\t..\n", gopher.Menu{link('1', "up", "/", "example.org", 7070)}, nil},
		{"relative mixed", testCtx, "1m\t./a/../b//c/\n", gopher.Menu{link('1', "m", "/sub/b/c", "example.org", 7070)}, nil},
		{"relative dotdot inside", testCtx, "1m\ta/../../x\n", gopher.Menu{link('1', "m", "/x", "example.org", 7070)}, nil},
		{"three dots is a name", testCtx, "0m\t...\n", gopher.Menu{link('0', "m", "/sub/...", "example.org", 7070)}, nil},
		{"relative with foreign host still joined", testCtx, "1foo\tfoo\tsterni.lv\n", gopher.Menu{link('1', "foo", "/sub/foo", "sterni.lv", 7070)}, nil},
		// Never above the root: dropped with a warning, rest renders.
		{"above root", testCtx, "1up\t../..\n0ok\tok\n", gopher.Menu{link('0', "ok", "/sub/ok", "example.org", 7070)},
			[]Warning{{Line: 1, Col: 0, Msg: `selector "../.." leads above the root; link dropped`, Rule: RuleTarget}}},
		{"above root from root", Context{Dir: "/", Host: "h", Port: 70}, "1up\t..\n", gopher.Menu{},
			[]Warning{{Line: 1, Col: 0, Msg: `selector ".." leads above the root; link dropped`, Rule: RuleTarget}}},
		{"above root then back", testCtx, "1up\t../../sub/x\n", gopher.Menu{},
			[]Warning{{Line: 1, Col: 0, Msg: `selector "../../sub/x" leads above the root; link dropped`, Rule: RuleTarget}}},
		{"display as selector above root", testCtx, "1../../x\t\n", gopher.Menu{},
			[]Warning{{Line: 1, Col: 0, Msg: `selector "../../x" leads above the root; link dropped`, Rule: RuleTarget}}},
		// Tdisplay<TAB>: display is the selector, relative or absolute.
		{"display as relative selector", testCtx, "1src\t\n", gopher.Menu{link('1', "src", "/sub/src", "example.org", 7070)}, nil},
		{"display as absolute selector", testCtx, "1/overbite\t\n", gopher.Menu{link('1', "/overbite", "/overbite", "example.org", 7070)}, nil},
		// Tdisplay<TAB><TAB>host<TAB>port: root of that host.
		{"empty selector", testCtx, "1SDF\t\tsdf.org\t70\n", gopher.Menu{link('1', "SDF", "", "sdf.org", 70)}, nil},
		{"empty selector own host", testCtx, "1top\t\t\n", gopher.Menu{link('1', "top", "", "example.org", 7070)}, nil},
		// Extras kept.
		{"gopher+ extra", testCtx, "1p\t/p\th\t70\t+\n", gopher.Menu{{Type: '1', Display: "p", Selector: "/p", Host: "h", Port: 70, Extra: "+"}}, nil},
		// Telnet selectors are login names, never joined.
		{"telnet login", testCtx, "8BBS\tguest\tbbs.example\t23\n", gopher.Menu{link('8', "BBS", "guest", "bbs.example", 23)}, nil},
		{"tn3270 login", testCtx, "TMainframe\tuser\tibm.example\t23\n", gopher.Menu{link('T', "Mainframe", "user", "ibm.example", 23)}, nil},
		// Context.Dir forms.
		{"root dir", Context{Dir: "/", Host: "localhost", Port: 7000}, "0t\tplain.txt\n1d\tdir\n",
			gopher.Menu{link('0', "t", "/plain.txt", "localhost", 7000), link('1', "d", "/dir", "localhost", 7000)}, nil},
		{"empty dir is root", Context{Host: "h", Port: 70}, "0t\tplain.txt\n", gopher.Menu{link('0', "t", "/plain.txt", "h", 70)}, nil},
		{"unclean dir", Context{Dir: "sub//x/", Host: "h", Port: 70}, "0t\t../t\n", gopher.Menu{link('0', "t", "/sub/t", "h", 70)}, nil},
		{"dir cannot climb", Context{Dir: "/../..", Host: "h", Port: 70}, "0t\tt\n", gopher.Menu{link('0', "t", "/t", "h", 70)}, nil},
		{"dir with TAB", Context{Dir: "/a\tb", Host: "h", Port: 70}, "0t\tt\n0u\t/u\n", gopher.Menu{link('0', "u", "/u", "h", 70)},
			[]Warning{{Line: 1, Col: 0, Msg: "a field holds a TAB, CR or LF; item dropped"}}},
		// Warnings from both steps come out in line order.
		{"warnings sorted", testCtx, "1a\t../..\n1b\t/b\th\tbad\n1c\t../..\n",
			gopher.Menu{}, []Warning{
				{Line: 1, Col: 0, Msg: `selector "../.." leads above the root; link dropped`, Rule: RuleTarget},
				{Line: 2, Col: 9, Msg: `port "bad" is not a number from 1 to 65535; line skipped`, Rule: RulePort},
				{Line: 3, Col: 0, Msg: `selector "../.." leads above the root; link dropped`, Rule: RuleTarget},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, warns := Render([]byte(tt.in), tt.ctx)
			for i := range warns {
				warns[i].kind = fine
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("menu:\n got %q\nwant %q", got.Bytes(), tt.want.Bytes())
			}
			if !reflect.DeepEqual(warns, tt.warns) {
				t.Errorf("warnings:\n got %q\nwant %q", warns, tt.warns)
			}
		})
	}
}

func TestResolveHandBuiltEntries(t *testing.T) {
	entries := []Entry{
		{Line: 1, Type: '0', Display: "bad\tname", Selector: "/x", HasSelector: true},
		{Line: 2, Type: '0', Display: "x", Selector: "/x\r\n", HasSelector: true},
		{Line: 3, Type: '0', Display: "x", Selector: "/x", HasSelector: true, Host: "h\n", HasHost: true},
		{Line: 4, Type: 'i', Display: "in\tfo"},
		{Line: 5, Type: '0', Display: "x", Selector: "/x", HasSelector: true, Extra: "+\r"},
		// No selector and no display: the root, never this directory.
		{Line: 6, Type: '1'},
		// HasSelector false: Selector is not looked at.
		{Line: 7, Type: '1', Display: "d", Selector: "/ignored"},
	}
	menu, warns := Resolve(entries, testCtx)
	want := gopher.Menu{link('1', "", "", "example.org", 7070), link('1', "d", "/sub/d", "example.org", 7070)}
	if !reflect.DeepEqual(menu, want) {
		t.Errorf("menu:\n got %q\nwant %q", menu.Bytes(), want.Bytes())
	}
	var lines []int
	for _, w := range warns {
		lines = append(lines, w.Line)
	}
	if !reflect.DeepEqual(lines, []int{1, 2, 3, 4, 5}) {
		t.Errorf("warnings on lines %v, want 1-5: %q", lines, warns)
	}
}

func TestEscapes(t *testing.T) {
	for _, tt := range []struct {
		dir, rel string
		want     bool
	}{
		{"/", "a", false},
		{"/", "..", true},
		{"/", "a/..", false},
		{"/", "a/../..", true},
		{"/", "./../", true},
		{"/a", "..", false},
		{"/a", "../..", true},
		{"/a/b", "../../c", false},
		{"/a/b", "../../../c", true},
		{"/a/b", "x//..//..//..", false},
		{"/a", "...", false},
		{"/a", "..x/../..", false},
	} {
		if got := escapes(tt.dir, tt.rel); got != tt.want {
			t.Errorf("escapes(%q, %q) = %v, want %v", tt.dir, tt.rel, got, tt.want)
		}
	}
}

// TestJoinClean: joinClean is path.Join for every clean rooted directory
// and relative selector, the shortcut included.
func TestJoinClean(t *testing.T) {
	for _, dir := range []string{"/", "/a", "/a/b"} {
		for _, sel := range []string{"x", "x/", "x/y", "x/y/", "x//y", "./x", "x/.", "x/..", "../x", "..", ".", "x./", ".x/", "x..y", "x/", "/", "x//", "x/y//", "0/0//"} {
			if got, want := joinClean(dir, sel), path.Join(dir, sel); got != want {
				t.Errorf("joinClean(%q, %q) = %q, want %q", dir, sel, got, want)
			}
		}
	}
}

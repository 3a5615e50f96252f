package gophermap

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lintRoot is the fixture tree: one directory per rule, whose map triggers
// exactly that rule, and a clean one.
const lintRoot = "testdata/lint"

// fixtureTarget answers for a selector of the fixture tree rooted at root,
// by the rules a visitor meets (a plain restatement for the test: dotfiles
// and gophermaps are refused, anything else must exist).
func fixtureTarget(root string) func(sel string) Target {
	return func(sel string) Target {
		for c := range strings.SplitSeq(sel, "/") {
			if strings.HasPrefix(c, ".") || strings.EqualFold(c, "gophermap") {
				return TargetRefused
			}
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(sel))); err != nil {
			return TargetMissing
		}
		return TargetServed
	}
}

// lintFixtureMap lints the map file at dir/name of the fixture tree with
// the facts of the file system filled in, as gopherd lint does.
func lintFixtureMap(t *testing.T, dir, name string, rules RuleSet) []Finding {
	t.Helper()
	p := filepath.Join(dir, name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	o := LintOptions{
		Context:    Context{Dir: "/", Host: "localhost", Port: 70},
		Rules:      rules,
		Target:     fixtureTarget(dir),
		Program:    strings.HasPrefix(string(data), "#!"),
		Executable: fi.Mode()&0o111 != 0,
	}
	if name == ".gophermap" {
		if _, err := os.Stat(filepath.Join(dir, "gophermap")); err == nil {
			o.Shadowed = "gophermap"
		}
	}
	return Lint(string(data), o)
}

// TestLintFixtures: each rule's fixture triggers that rule and no other,
// at the right line and column, and the clean map triggers nothing.
func TestLintFixtures(t *testing.T) {
	want := map[string][]string{
		"GM001/gophermap":  {"2:17 GM001 error"},
		"GM002/gophermap":  {"2:1 GM002 error"},
		"GM003/gophermap":  {"1:25 GM003 error"},
		"GM004/gophermap":  {"2:8 GM004 error"},
		"GM005/gophermap":  {"2:33 GM005 error", "3:19 GM005 error"},
		"GM006/gophermap":  {"2:12 GM006 warning"},
		"GM007/gophermap":  {"1:71 GM007 warning"},
		"GM008/gophermap":  {"1:72 GM008 warning"},
		"GM009/gophermap":  {"2:1 GM009 warning"},
		"GM010/gophermap":  {"2:43 GM010 warning"},
		"GM011/gophermap":  {"2:1 GM011 warning"},
		"GM012/gophermap":  {"1:1 GM012 warning"},
		"GM013/gophermap":  nil,
		"GM013/.gophermap": {"1:1 GM013 warning"},
		"GM014/gophermap":  {"1:4 GM014 info"},
		"clean/gophermap":  nil,
	}
	seen := 0
	dirs, err := os.ReadDir(lintRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		for _, name := range []string{"gophermap", ".gophermap"} {
			key := d.Name() + "/" + name
			if _, err := os.Stat(filepath.Join(lintRoot, key)); err != nil {
				continue
			}
			w, ok := want[key]
			if !ok {
				t.Errorf("fixture %s has no expectation", key)
				continue
			}
			seen++
			var got []string
			for _, f := range lintFixtureMap(t, filepath.Join(lintRoot, d.Name()), name, RuleSet{}) {
				got = append(got, fmt.Sprintf("%d:%d %s %s", f.Line, f.Col, f.Rule, f.Severity))
				if f.Message == "" || strings.Contains(f.Message, "\n") {
					t.Errorf("%s: finding %s: message %q is not one line", key, f.Rule, f.Message)
				}
			}
			if !slices.Equal(got, w) {
				t.Errorf("%s: findings %q, want %q", key, got, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("linted %d fixtures, want %d", seen, len(want))
	}
	for _, r := range Rules() {
		if _, ok := want[r.ID+"/gophermap"]; !ok {
			t.Errorf("rule %s has no fixture", r.ID)
		}
	}
}

// noTree marks a case linted without a tree (a nil Target).
var noTree = []string{"\x00no tree"}

// lintOne lints text as the only map of a tree holding files.
func lintOne(text string, o LintOptions, files ...string) []string {
	if o.Host == "" {
		o.Context = Context{Dir: "/", Host: "localhost", Port: 70}
	}
	switch {
	case slices.Equal(files, noTree):
	case o.Target == nil:
		o.Target = func(sel string) Target {
			if slices.Contains(files, strings.TrimPrefix(sel, "/")) || sel == "/" {
				return TargetServed
			}
			if strings.HasPrefix(path.Base(sel), ".") {
				return TargetRefused
			}
			return TargetMissing
		}
	}
	var out []string
	for _, f := range Lint(text, o) {
		out = append(out, fmt.Sprintf("%d:%d %s %s", f.Line, f.Col, f.Rule, f.Severity))
	}
	return out
}

// TestLintCases covers each rule's variants and the lines each must leave
// alone.
func TestLintCases(t *testing.T) {
	gn, _ := RuleSetFor("gophernicus")
	for _, tt := range []struct {
		name  string
		text  string
		o     LintOptions
		files []string
		want  []string
	}{
		{"empty map", "", LintOptions{}, nil, nil},
		// GM001
		{"spaced link with host and port", "1Floodgap  /  gopher.floodgap.com  70\n", LintOptions{}, nil, []string{"1:10 GM001 error"}},
		{"spaced URL", "hMy site   URL:https://example.org/\n", LintOptions{}, nil, []string{"1:9 GM001 error"}},
		{"text starting with a type letter", "I  am here\nInteresting  things/stuff happen\nMail me at  me@example.org\n", LintOptions{}, nil, nil},
		{"ASCII art", "+-----+   +----/\n", LintOptions{}, nil, nil},
		{"numbered list", "1.  Introduction   intro\n", LintOptions{}, nil, nil},
		// GM002
		{"leading TAB", "\tfoo\t/x\n", LintOptions{}, nil, []string{"1:1 GM002 error"}},
		{"text with a TAB", " col1\tcol2\n", LintOptions{}, nil, []string{"1:1 GM002 error"}},
		{"comment with a TAB", "#hOld link\tURL:https://example.org/\n", LintOptions{}, nil, []string{"1:1 GM002 error"}},
		// GM003
		{"display as selector", "1src\t\n0About me\t\n", LintOptions{}, []string{"src"}, []string{"2:10 GM003 error"}},
		{"empty selector is the root", "1Our own root\t\t\n", LintOptions{}, nil, nil},
		{"error item", "3Something went wrong\t\n", LintOptions{}, nil, nil},
		{"no display no selector", "1\t\n", LintOptions{}, nil, []string{"1:2 GM003 error"}},
		// GM004
		{"relative and rooted", "0a\ta.txt\n0b\t/b.txt\n1d\tdocs\n1root\t/\n", LintOptions{}, []string{"a.txt", "docs"}, []string{"2:4 GM004 error"}},
		{"display as missing selector", "1nowhere\t\n", LintOptions{}, nil, []string{"1:2 GM004 error"}},
		{"above the root", "1up\t../x\n", LintOptions{}, nil, []string{"1:5 GM004 error"}},
		{"dotfile", "0secret\t.secret\n", LintOptions{}, nil, []string{"1:9 GM004 error"}},
		{"own host named", "0a\t/a\tLocalHost\t70\n0b\t/b\tlocalhost\t7070\n0c\t/c\talias.example\n", LintOptions{Aliases: []string{"alias.example"}}, nil,
			[]string{"1:4 GM004 error", "3:4 GM004 error"}},
		{"not requests", "8BBS\tguest\n3error\t\nhweb\tURL:http://x/\n", LintOptions{}, nil, nil},
		{"no tree", "0a\tmissing\n1up\t../x\n", LintOptions{}, noTree, []string{"2:5 GM004 error"}},
		// GM005
		{"port at sign", "1x\t/\th.example\t@70\n", LintOptions{}, nil, []string{"1:16 GM005 error"}},
		{"port spaces tolerated", "1x\t/\th.example\t 70 \n", LintOptions{}, nil, nil},
		{"info junk ports", "ihello\tfake\t(NULL)\t0\n", LintOptions{}, nil, nil},
		// GM006
		{"leading space", "0x\t x.txt\th.example\t70\n", LintOptions{}, nil, []string{"1:4 GM006 warning"}},
		{"no-break space", "0x\tx.txt\u00a0\th.example\t70\n", LintOptions{}, nil, []string{"1:9 GM006 warning"}},
		// GM007 and GM008
		{"width counts characters", strings.Repeat("é", 70) + "\n" + strings.Repeat("é", 71) + "\n", LintOptions{}, nil, []string{"2:141 GM007 warning"}},
		{"narrow width", "0123456789\n", LintOptions{Width: 5}, nil, []string{"1:6 GM007 warning"}},
		{"i line width", "i" + strings.Repeat("x", 71) + "\t\n", LintOptions{}, nil, []string{"1:72 GM007 warning"}},
		// GM009
		{"Gophernicus chars", "# a\n- b\n! c\n.d\n* e\n~\n%\n:f=g\n=h\n", LintOptions{}, nil,
			[]string{"1:1 GM009 warning", "2:1 GM009 warning", "3:1 GM009 warning", "4:1 GM009 warning", "5:1 GM009 warning",
				"6:1 GM009 warning", "7:1 GM009 warning", "8:1 GM009 warning", "9:1 GM009 warning"}},
		{"gophernicus include", "=notes.txt\n=missing.txt\n=date +%Y\n=\n# comment\twith tab\n- hidden\n!Title\n", LintOptions{Rules: gn}, []string{"notes.txt"},
			[]string{"2:1 GM009 error", "3:1 GM009 error", "4:1 GM009 error"}},
		{"gophernicus ends at dot", "a\n.end\nb\n", LintOptions{Rules: gn}, nil, []string{"2:1 GM011 warning"}},
		// GM011
		{"dot then blank lines", "a\n.\n\n  \n", LintOptions{}, nil, nil},
		{"dot CRLF", "a\r\n.\r\nb\r\nc\r\n", LintOptions{}, nil, []string{"2:1 GM011 warning"}},
		{"nothing checked after the cut", "a\n.\n\tbad\n", LintOptions{}, nil, []string{"2:1 GM011 warning"}},
		// GM012
		{"exec bit", "hello\n", LintOptions{Executable: true}, nil, []string{"1:1 GM012 warning"}},
		{"exec bit with programs on", "hello\n", LintOptions{Executable: true, RunsPrograms: true}, nil, nil},
		{"program with programs on", "#!/bin/sh\n\tx\n", LintOptions{Program: true, RunsPrograms: true}, nil, nil},
		// GM014
		{"BOM", "\xef\xbb\xbfhello\n", LintOptions{}, nil, []string{"1:1 GM014 info"}},
		{"BOM columns", "\xef\xbb\xbf0x\tmissing\n", LintOptions{}, nil, []string{"1:1 GM014 info", "1:7 GM004 error"}},
		{"mixed endings", "a\r\nb\r\nc\nd\n", LintOptions{}, nil, []string{"3:2 GM014 info"}},
		{"stray CR", "a\rb\n", LintOptions{}, nil, []string{"1:2 GM014 info"}},
		{"latin-1 once", "caf\xe9\nth\xe9\n", LintOptions{}, nil, []string{"1:4 GM014 info"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := lintOne(tt.text, tt.o, tt.files...); !slices.Equal(got, tt.want) {
				t.Errorf("%q: findings %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestRuleTable: ids are GM001 to GM014 in order, each with a severity and
// a description, and the rule sets have names.
func TestRuleTable(t *testing.T) {
	rules := Rules()
	if len(rules) != 14 {
		t.Fatalf("%d rules, want 14", len(rules))
	}
	for i, r := range rules {
		if want := fmt.Sprintf("GM%03d", i+1); r.ID != want || r.Finds == "" || r.Severity.String() == "" {
			t.Errorf("rule %d: %+v", i, r)
		}
	}
	for _, name := range RuleSetNames() {
		rs, ok := RuleSetFor(name)
		if !ok || rs.Name() != name || rs.Dialect() == nil {
			t.Errorf("rule set %q: %v %v", name, rs.Name(), ok)
		}
	}
	if _, ok := RuleSetFor("geomyidae"); ok {
		t.Error("a rule set for a dialect that has none")
	}
	if (RuleSet{}).Name() != "bucktooth" {
		t.Error("the zero rule set is not Bucktooth's")
	}
}

// TestServeWarnings: the renderer warns, with the rule id, about the lines
// a visitor sees wrongly although none is skipped.
func TestServeWarnings(t *testing.T) {
	_, warns := Render([]byte("0About  about.txt\nWelcome here\t\nfine\n.\nhidden\n"), testCtx)
	var got []string
	for _, w := range warns {
		got = append(got, fmt.Sprintf("%d:%d %s", w.Line, w.Col, w.Rule))
	}
	if want := []string{"1:7 GM001", "2:13 GM003", "4:1 GM011"}; !slices.Equal(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

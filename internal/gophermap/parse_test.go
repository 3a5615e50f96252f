package gophermap

import (
	"reflect"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

func info(line int, text string) Entry {
	return Entry{Line: line, Type: gopher.TypeInfo, Display: text}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name  string
		in    string
		want  []Entry
		warns []Warning
	}{
		// Row: no TAB → info text, whitespace kept, type characters too.
		{"text", "just some text\n", []Entry{info(1, "just some text")}, nil},
		{"text whitespace kept", "  indented  \n", []Entry{info(1, "  indented  ")}, nil},
		{"text starting with type char", "1. foo\n", []Entry{info(1, "1. foo")}, nil},
		{"lone type char", "0", []Entry{info(1, "0")}, nil},
		{"leading space then text", " 1x\n", []Entry{info(1, " 1x")}, nil},
		// Row: empty line → empty info.
		{"empty line", "\n", []Entry{info(1, "")}, nil},
		{"empty lines", "\n\r\n\n", []Entry{info(1, ""), info(2, ""), info(3, "")}, nil},
		{"empty input", "", []Entry{}, nil},
		// Row: full link, fields omitted from the right, extras kept.
		{"full link", "1Name\t/sel\thost.org\t70\n",
			[]Entry{{Line: 1, Type: '1', Display: "Name", Selector: "/sel", HasSelector: true, Host: "host.org", HasHost: true, Port: 70, HasPort: true}}, nil},
		{"selector only", "0file\tfile.txt\n",
			[]Entry{{Line: 1, Type: '0', Display: "file", Selector: "file.txt", HasSelector: true}}, nil},
		{"selector and host", "1foo\tfoo\tsterni.lv",
			[]Entry{{Line: 1, Type: '1', Display: "foo", Selector: "foo", HasSelector: true, Host: "sterni.lv", HasHost: true}}, nil},
		{"empty port field", "1foo\t/\th\t\n",
			[]Entry{{Line: 1, Type: '1', Display: "foo", Selector: "/", HasSelector: true, Host: "h", HasHost: true}}, nil},
		{"empty host field with port", "1foo\t/\t\t7070\n",
			[]Entry{{Line: 1, Type: '1', Display: "foo", Selector: "/", HasSelector: true, Port: 7070, HasPort: true}}, nil},
		{"gopher+ extra", "1a\t/s\th\t70\t+\n",
			[]Entry{{Line: 1, Type: '1', Display: "a", Selector: "/s", HasSelector: true, Host: "h", HasHost: true, Port: 70, HasPort: true, Extra: "+"}}, nil},
		{"several extras", "1a\t/s\th\t70\t+\tmore\n",
			[]Entry{{Line: 1, Type: '1', Display: "a", Selector: "/s", HasSelector: true, Host: "h", HasHost: true, Port: 70, HasPort: true, Extra: "+\tmore"}}, nil},
		{"port with spaces", "1a\t/s\th\t 70 \n",
			[]Entry{{Line: 1, Type: '1', Display: "a", Selector: "/s", HasSelector: true, Host: "h", HasHost: true, Port: 70, HasPort: true}}, nil},
		{"port with leading zeros", "1a\t/s\th\t0070\n",
			[]Entry{{Line: 1, Type: '1', Display: "a", Selector: "/s", HasSelector: true, Host: "h", HasHost: true, Port: 70, HasPort: true}}, nil},
		{"highest port", "1a\t/s\th\t65535\n",
			[]Entry{{Line: 1, Type: '1', Display: "a", Selector: "/s", HasSelector: true, Host: "h", HasHost: true, Port: 65535, HasPort: true}}, nil},
		{"empty display with selector", "1\t/s\n",
			[]Entry{{Line: 1, Type: '1', Selector: "/s", HasSelector: true}}, nil},
		// Row: Tdisplay<TAB> → no selector, display used later.
		{"display as selector", "1src\t\n", []Entry{{Line: 1, Type: '1', Display: "src"}}, nil},
		{"display as absolute selector", "1/overbite\t", []Entry{{Line: 1, Type: '1', Display: "/overbite"}}, nil},
		// Row: Tdisplay<TAB><TAB>host<TAB>port → explicit empty selector.
		{"empty selector", "1home\t\tgopher.floodgap.com\t70\n",
			[]Entry{{Line: 1, Type: '1', Display: "home", HasSelector: true, Host: "gopher.floodgap.com", HasHost: true, Port: 70, HasPort: true}}, nil},
		{"empty selector no host", "1home\t\t\n", []Entry{{Line: 1, Type: '1', Display: "home", HasSelector: true}}, nil},
		// i lines with a TAB are info; their other fields never make them bad.
		{"i with tab", "imanual info line\t", []Entry{{Line: 1, Type: 'i', Display: "manual info line"}}, nil},
		{"empty i with tab", "i\t\n", []Entry{{Line: 1, Type: 'i'}}, nil},
		{"copied info line", "ihello\tfake\t(NULL)\t0\n",
			[]Entry{{Line: 1, Type: 'i', Display: "hello", Selector: "fake", HasSelector: true, Host: "(NULL)", HasHost: true}}, nil},
		// Row: "." ends the map.
		{"dot ends map", "a\n.\nb\n", []Entry{info(1, "a")}, nil},
		{"dot CRLF ends map", "a\r\n.\r\nb\r\n", []Entry{info(1, "a")}, nil},
		{"dot without newline ends map", "a\n.", []Entry{info(1, "a")}, nil},
		{"dot first", ".\n1x\t/x\n", []Entry{}, nil},
		{"dot with space is text", " .\n. \n..\n", []Entry{info(1, " ."), info(2, ". "), info(3, "..")}, nil},
		// Line endings and bytes.
		{"CRLF", "a\r\n0b\tb.txt\r\n", []Entry{info(1, "a"), {Line: 2, Type: '0', Display: "b", Selector: "b.txt", HasSelector: true}}, nil},
		{"mixed endings, no final newline", "a\nb\r\nc", []Entry{info(1, "a"), info(2, "b"), info(3, "c")}, nil},
		{"latin-1 bytes", "caf\xe9\n0r\xe9sum\xe9\tr\xe9sum\xe9.txt\n",
			[]Entry{info(1, "caf\xe9"), {Line: 2, Type: '0', Display: "r\xe9sum\xe9", Selector: "r\xe9sum\xe9.txt", HasSelector: true}}, nil},
		{"utf-8 BOM dropped", "\xef\xbb\xbf1a\t/a\n", []Entry{{Line: 1, Type: '1', Display: "a", Selector: "/a", HasSelector: true}}, nil},
		{"BOM only at start", "x\n\xef\xbb\xbfy\n", []Entry{info(1, "x"), info(2, "\xef\xbb\xbfy")}, nil},
		{"stray CR", "a\rb\r\r\n", []Entry{info(1, "a b ")},
			[]Warning{{Line: 1, Col: 2, Msg: "carriage return inside the line replaced by a space", Rule: RuleEncoding}}},
		// Row: bad lines are skipped with a warning; the rest parses.
		{"leading TAB", "a\n\tfoo\t/x\nb\n", []Entry{info(1, "a"), info(3, "b")},
			[]Warning{{Line: 2, Col: 1, Msg: "line starts with a TAB: no item type and no display string; line skipped", Rule: RuleType}}},
		{"lone TAB", "\t\n", []Entry{}, []Warning{{Line: 1, Col: 1, Msg: "line starts with a TAB: no item type and no display string; line skipped", Rule: RuleType}}},
		{"text with TAB", " col1\tcol2\nz\n", []Entry{info(2, "z")},
			[]Warning{{Line: 1, Col: 1, Msg: `item type " " is not a printable ASCII character (text lines may not contain a TAB); line skipped`, Rule: RuleType}}},
		{"non-ASCII type", "\xe9t\xe9\tx\n", []Entry{},
			[]Warning{{Line: 1, Col: 1, Msg: `item type "\xe9" is not a printable ASCII character (text lines may not contain a TAB); line skipped`, Rule: RuleType}}},
		{"no display no selector", "1\t\n", []Entry{}, []Warning{{Line: 1, Col: 2, Msg: "link has neither a display string nor a selector; line skipped", Rule: RuleTrailingTab}}},
		{"non-numeric port", "1a\t/a\th\tseventy\n0b\tb\n", []Entry{{Line: 2, Type: '0', Display: "b", Selector: "b", HasSelector: true}},
			[]Warning{{Line: 1, Col: 9, Msg: `port "seventy" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
		{"port zero", "1a\t/a\th\t0\n", []Entry{}, []Warning{{Line: 1, Col: 9, Msg: `port "0" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
		{"port too large", "1a\t/a\th\t65536\n", []Entry{}, []Warning{{Line: 1, Col: 9, Msg: `port "65536" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
		{"port huge", "1a\t/a\th\t99999999999999999999999\n", []Entry{}, []Warning{{Line: 1, Col: 9, Msg: `port "99999999999999999999999" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
		{"port with sign", "1a\t/a\th\t+70\n", []Entry{}, []Warning{{Line: 1, Col: 9, Msg: `port "+70" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
		{"port negative", "1a\t/a\th\t-1\n", []Entry{}, []Warning{{Line: 1, Col: 9, Msg: `port "-1" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
		{"port control bytes quoted", "1a\t/a\th\t7\x1b[0\n", []Entry{}, []Warning{{Line: 1, Col: 9, Msg: `port "7\x1b[0" is not a number from 1 to 65535; line skipped`, Rule: RulePort}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, warns := Parse([]byte(tt.in))
			for i := range warns {
				warns[i].kind = fine // what lint reads; not part of the contract
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(warns, tt.warns) {
				t.Errorf("warnings:\n got %q\nwant %q", warns, tt.warns)
			}
		})
	}
}

func TestParseWarningQuotesControlBytes(t *testing.T) {
	_, warns := Parse([]byte("1a\t/a\th\t7\x1b[31m\n"))
	if len(warns) != 1 {
		t.Fatalf("warnings = %q, want one", warns)
	}
	if strings.ContainsRune(warns[0].Msg, 0x1b) || !strings.Contains(warns[0].Msg, `\x1b`) {
		t.Errorf("warning %q must escape the ESC byte", warns[0].Msg)
	}
}

func TestParseLongPortQuotedShort(t *testing.T) {
	_, warns := Parse([]byte("1a\t/a\th\t" + strings.Repeat("x", 10000) + "\n"))
	if len(warns) != 1 || len(warns[0].Msg) > 200 {
		t.Fatalf("warning must quote a bounded prefix, got %d bytes", len(warns[0].Msg))
	}
}

func TestWarningString(t *testing.T) {
	if got, want := (Warning{Line: 12, Msg: "bad"}).String(), "line 12: bad"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Warning{Line: 3, Msg: "bad", Rule: RulePort}).String(), "line 3: GM005: bad"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

package gophermap

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func convert(t *testing.T, text string, d Dialect, tree Tree) (string, []Warning) {
	t.Helper()
	var out strings.Builder
	var warns []Warning
	cv := Converter{Dialect: d, Tree: tree, Path: "self", Warn: func(w Warning) { warns = append(warns, w) }}
	if err := cv.Bucktooth(context.Background(), &out, text); err != nil {
		t.Fatal(err)
	}
	return out.String(), warns
}

// sameMenu renders src in dialect d and bucktooth in the Bucktooth core
// and compares the menus.
func sameMenu(t *testing.T, src string, d Dialect, tree Tree, bucktooth string) {
	t.Helper()
	ctx := Context{Dir: "/d", Host: "h", Port: 70}
	want := Renderer{Context: ctx, Dialect: d, Tree: tree}.Append(context.Background(), nil, src)
	got := Renderer{Context: ctx}.Append(context.Background(), nil, bucktooth)
	if !bytes.Equal(got, want) {
		t.Errorf("menus differ:\nconverted %q\n   source %q", got, want)
	}
}

func TestToBucktoothGPH(t *testing.T) {
	src := strings.Join([]string{
		"Welcome", "", ".", "ttext", "t[bracket", "[|[old escape",
		"[i|Info item|Err|server|port]",
		"[0|About|about.txt|server|port]",
		"[1|Abs|/abs|server|port]",
		"[1|Root of a host||gopher.example.org|70]",
		"[1|Empty display|x||]",
		"[1||||]",
		"[h|Web|URL:http://example.org/|server|port]",
		"[8|Telnet|guest|bbs.example.org|23]",
		`[0|a\|b|c\|d|server|7070]`,
		"[0|Port only|p.txt||7070]",
		"[9|Bin|b.bin|other.example|port]",
	}, "\n") + "\n"
	got, warns := convert(t, src, GPH{}, nil)
	want := strings.Join([]string{
		"Welcome", "", "i.\t", "text", "[bracket", "[old escape",
		"Info item",
		"0About\tabout.txt",
		"1Abs\t/abs",
		"1Root of a host\t\tgopher.example.org\t70",
		"1Empty display\tx",
		"1\t\t",
		"hWeb\tURL:http://example.org/",
		"8Telnet\tguest\tbbs.example.org\t23",
		"0a|b\tc|d\t\t7070",
		"0Port only\tp.txt\t\t7070",
		"9Bin\tb.bin\tother.example",
	}, "\n") + "\n"
	if got != want || len(warns) != 0 {
		t.Fatalf("got\n%s%v\nwant\n%s", got, warns, want)
	}
	sameMenu(t, src, GPH{}, nil, got)

	// What cannot be expressed is said.
	got, warns = convert(t, "[3|Error|relative|server|port]\n[w|W|rel/uri|server|port]\n[0|Bad|x|server|nope]\n", GPH{}, nil)
	if got != "3Error\trelative\n"+"wW\trel/uri\n" || len(warns) != 3 {
		t.Fatalf("got %q %v", got, warns)
	}
}

func TestToBucktoothGophernicus(t *testing.T) {
	tree := &fakeTree{files: map[string]string{
		"header": "!Inner title\nHeader\n0Rel\trel.txt\n*\nnot shown\n",
		"loop":   "=loop\n",
	}}
	src := "!Title\n# comment\n-hidden\n:png=g\n=header\n=missing\n=loop\ntext\n1Ext\tsub/\tother.org\t70\n1Local\tsub\n~\n%\n.end here\nafter\n"
	got, warns := convert(t, src, Gophernicus{}, tree)
	want := "Title\nInner title\nHeader\n0Rel\trel.txt\ntext\n1Ext\tsub/\tother.org\t70\n1Local\tsub\n.\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	for _, frag := range []string{"line 1: a title", `line 5: header:1: a title`, `line 5: header:4: "*"`, `line 6: "=missing": no such file`,
		`line 7: loop:1: "=loop": include cycle`, "line 9: the relative selector", "line 11: left out", "line 12: left out", `line 13: a line starting with "."`} {
		found := false
		for _, w := range warns {
			if strings.Contains(w.String(), frag) {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning %q in %v", frag, warns)
		}
	}
	// "*" in the map itself ends the conversion.
	if got, warns := convert(t, "a\n*\nb\n", Gophernicus{}, tree); got != "a\n" || len(warns) != 1 {
		t.Errorf("listing: %q %v", got, warns)
	}
	// Without warnings, the menu is the same.
	src = "intro\n1Local\tsub\n0File\t/abs.txt\n1\t\thost\t70\n0Display only\t\n"
	got, warns = convert(t, src, Gophernicus{}, nil)
	if len(warns) != 0 {
		t.Fatalf("warnings %v", warns)
	}
	sameMenu(t, src, Gophernicus{}, nil, got)
}

// FuzzToBucktooth: a conversion that warns about nothing gives the same
// menu as the source, in both dialects.
func FuzzToBucktooth(f *testing.F) {
	for _, s := range []string{
		"[1|a|b|server|port]\ntext\n.\n[|x\n",
		"[0|a\\|b|c|host|70]\n[i|x|Err||]\n",
		"!t\n#c\n1a\tb\n1a\t\th\t70\n0d\t\n",
		"\xef\xbb\xbftext\n",
		"1x\ty\t\t\t+\n",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, gph bool) {
		var d Dialect = Gophernicus{}
		if gph {
			d = GPH{}
		}
		var out strings.Builder
		warned := false
		if err := (Converter{Dialect: d, Warn: func(Warning) { warned = true }}).Bucktooth(context.Background(), &out, string(data)); err != nil {
			t.Fatal(err)
		}
		ctx := Context{Dir: "/d", Host: "h", Port: 70}
		var srcWarned bool
		want := Renderer{Context: ctx, Dialect: d, Warn: func(Warning) { srcWarned = true }}.Append(context.Background(), nil, string(data))
		if warned || srcWarned {
			return
		}
		got := Renderer{Context: ctx}.Append(context.Background(), nil, out.String())
		if !bytes.Equal(got, want) {
			t.Fatalf("converted %q to %q:\nconverted menu %q\n   source menu %q", data, out.String(), got, want)
		}
	})
}

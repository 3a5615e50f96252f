package gophermap

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// TestGPHGolden renders every testdata/gph/*.gph as geomyidae's format in
// /sub of example.org:7070 and compares the wire bytes with NAME.golden and
// the warnings with NAME.warnings.
func TestGPHGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "gph", "*.gph"))
	if err != nil || len(files) < 3 {
		t.Fatalf("found %d .gph fixtures (%v), want the project's set", len(files), err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".gph")
		t.Run(filepath.Base(base), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wb bytes.Buffer
			r := Renderer{Context: testCtx, Dialect: GPH{}, Warn: func(w Warning) { wb.WriteString(w.String() + "\n") }}
			menu := r.Append(context.Background(), nil, string(data))
			compareGolden(t, base+".golden", menu)
			compareGolden(t, base+".warnings", wb.Bytes())
		})
	}
}

func TestGPHClassify(t *testing.T) {
	link := func(typ gopher.ItemType, display, sel string) Entry {
		return Entry{Line: 1, Type: typ, Display: display, Selector: sel, HasSelector: true}
	}
	for _, tt := range []struct {
		line string
		kind Kind
		want Entry
	}{
		{"[1|Dir|/d|server|port]", KindItem, link('1', "Dir", "/d")},
		{"[1|Dir|d|host.example|7070]", KindItem, Entry{Line: 1, Type: '1', Display: "Dir", Selector: "d", HasSelector: true, Host: "host.example", HasHost: true, Port: 7070, HasPort: true}},
		{`[0|a\|b|c\|d|server|port]`, KindItem, link('0', "a|b", "c|d")},
		{`[0|a\b|c|server|port]`, KindItem, link('0', `a\b`, "c")},
		{`[0|\||c|server|port]`, KindItem, link('0', "|", "c")},
		{"[0|x|y|server|port]junk", KindItem, link('0', "x", "y")},
		{"[0|x]y|z|server|port]", KindItem, link('0', "x]y", "z")},
		{"[3|Oops|sel|server|port]", KindItem, Entry{Line: 1, Type: '3', Display: "Oops", Selector: "sel", HasSelector: true, Literal: true}},
		{"[i|Just text|Err|server|port]", KindItem, info(1, "Just text")},
		{"[0|x|y|server]", KindItem, info(1, "[0|x|y|server]")},
		{"[0|x|y|server|port|z]", KindItem, info(1, "[0|x|y|server|port|z]")},
		{"[0|x|y|server|port", KindItem, info(1, "[0|x|y|server|port")},
		{"[", KindItem, info(1, "[")},
		{"[|[bracket", KindItem, info(1, "[bracket")},
		{"t[bracket", KindItem, info(1, "[bracket")},
		{"text", KindItem, info(1, "ext")},
		{"tt", KindItem, info(1, "t")},
		{".", KindItem, info(1, ".")},
		{"", KindItem, info(1, "")},
		{"a\tb", KindSkip, Entry{}},
		{"[0|x|y|server|0]", KindSkip, Entry{}},
		{"[0|x|y|server|+]", KindSkip, Entry{}},
		{"[\x7f|x|y|server|port]", KindSkip, Entry{}},
	} {
		e, kind := GPH{}.Classify(Line{Num: 1, Text: tt.line, End: "\n"}, nil)
		if kind != tt.kind || e != tt.want {
			t.Errorf("%q: got %v %+v, want %v %+v", tt.line, kind, e, tt.kind, tt.want)
		}
	}
}

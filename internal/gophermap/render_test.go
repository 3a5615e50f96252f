package gophermap

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

func TestLines(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want []Line
	}{
		{"empty", "", nil},
		{"no newline", "a", []Line{{Num: 1, Text: "a"}}},
		{"final newline starts no line", "a\n", []Line{{Num: 1, Text: "a", End: "\n"}}},
		{"endings and offsets", "a\r\nb\n\nc", []Line{
			{Num: 1, Off: 0, Text: "a", End: "\r\n"},
			{Num: 2, Off: 3, Text: "b", End: "\n"},
			{Num: 3, Off: 5, Text: "", End: "\n"},
			{Num: 4, Off: 6, Text: "c"},
		}},
		{"BOM and stray CRs stay", "\xef\xbb\xbfx\ra\r\r\n", []Line{{Num: 1, Text: "\xef\xbb\xbfx\ra\r", End: "\r\n"}}},
		{"lone CRLF", "\r\n", []Line{{Num: 1, Text: "", End: "\r\n"}}},
		{"last line with lone CR", "a\nb\r", []Line{{Num: 1, Text: "a", End: "\n"}, {Num: 2, Off: 2, Text: "b\r"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []Line
			for l := range Lines(tt.in) {
				got = append(got, l)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestWarningColumns pins the column of each problem in the raw line, the
// way a linter reports it: bytes from 1, a byte order mark counted.
func TestWarningColumns(t *testing.T) {
	for _, tt := range []struct {
		in   string
		line int
		col  int
	}{
		{"1a\t/a\th\tx\n", 1, 9},
		{"1a\t/a\th\t  x7\n", 1, 11},
		{"ok\n1a\t/a\th\t70x\n", 2, 9},
		{"\xef\xbb\xbf1a\t/a\th\tx\n", 1, 12},
		{"ab\rc\n", 1, 3},
		{"\xef\xbb\xbfab\rc\n", 1, 6},
		{"\tx\n", 1, 1},
		{"\xef\xbb\xbf\tx\n", 1, 4},
		{" x\ty\n", 1, 1},
		{"1\t\n", 1, 2},
		{"1up\t../..\n", 1, 0},
	} {
		_, warns := Render([]byte(tt.in), testCtx)
		if len(warns) != 1 || warns[0].Line != tt.line || warns[0].Col != tt.col {
			t.Errorf("%q: warnings %+v, want one at %d:%d", tt.in, warns, tt.line, tt.col)
		}
	}
}

// renderFixtures returns the project's fixture maps and a large generated
// one.
func renderFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	maps, err := filepath.Glob(filepath.Join("testdata", "*.gophermap"))
	if err != nil || len(maps) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{"generated": genMap(5000)}
	for _, m := range maps {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(m)] = b
	}
	return out
}

// TestRendererMatchesRender checks that the streaming stages give exactly
// the slice form's menu and warnings, and that Size predicts Append.
func TestRendererMatchesRender(t *testing.T) {
	for name, data := range renderFixtures(t) {
		t.Run(name, func(t *testing.T) {
			menu, warns := Render(data, testCtx)
			var got gopher.Menu
			var gotWarns []Warning
			r := Renderer{Context: testCtx, Warn: func(w Warning) { gotWarns = append(gotWarns, w) }}
			for it := range r.Items(context.Background(), string(data)) {
				got = append(got, it)
			}
			if len(got) != len(menu) || len(menu) > 0 && !reflect.DeepEqual(got, menu) {
				t.Errorf("Items differ from Render")
			}
			if !reflect.DeepEqual(gotWarns, warns) {
				t.Errorf("warnings: got %v, want %v", gotWarns, warns)
			}
			quiet := Renderer{Context: testCtx}
			body := quiet.Append(context.Background(), nil, string(data))
			if !bytes.Equal(body, menu.Bytes()) {
				t.Errorf("Append differs from Render:\n%q\n%q", body, menu.Bytes())
			}
			if n := quiet.Size(context.Background(), string(data)); n != len(body) {
				t.Errorf("Size = %d, Append wrote %d bytes", n, len(body))
			}
		})
	}
}

func TestRendererStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	text := strings.Repeat("x\n", 10*ctxCheckEvery)
	r := Renderer{Context: testCtx}
	n := 0
	for range r.Items(ctx, text) {
		n++
	}
	if n >= 2*ctxCheckEvery {
		t.Errorf("a cancelled render yielded %d of %d items", n, 10*ctxCheckEvery)
	}
	if b := r.Append(ctx, nil, text); bytes.HasSuffix(b, []byte(gopher.Terminator)) {
		t.Error("a cut-short menu ends in the terminator: a client would take it for whole")
	}
}

// TestRendererQuietCostsNothingPerBadLine: without a Warn function a map of
// bad lines is read without building a message for any of them.
func TestRendererQuietCostsNothingPerBadLine(t *testing.T) {
	bad := strings.Repeat("\t\n1a\t/a\th\tseventy\n1up\t../../..\n", 1000)
	r := Renderer{Context: testCtx}
	allocs := testing.AllocsPerRun(5, func() {
		if n := r.Size(context.Background(), bad); n != len(gopher.Terminator) {
			t.Fatalf("size %d", n)
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocations for 3,000 bad lines, want a handful whatever the count", allocs)
	}
}

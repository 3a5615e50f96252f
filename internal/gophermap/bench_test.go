package gophermap

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// genMap builds a map of n lines mixing the common line kinds: text, empty
// lines, relative, absolute and foreign links.
func genMap(n int) []byte {
	var b strings.Builder
	for i := range n {
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, "Some descriptive text for entry %d, as authors write it.\n", i)
		case 1:
			b.WriteString("\n")
		case 2:
			fmt.Fprintf(&b, "0Text file %d\tfiles/file-%d.txt\n", i, i)
		case 3:
			fmt.Fprintf(&b, "1Directory %d\t/archive/dir-%d\n", i, i)
		case 4:
			fmt.Fprintf(&b, "1Elsewhere %d\t/\tgopher.example.net\t70\n", i)
		case 5:
			fmt.Fprintf(&b, "hWeb %d\tURL:https://www.example.com/%d\n", i, i)
		}
	}
	return []byte(b.String())
}

// BenchmarkRender renders a small and a large map; the lines/op and
// ns/line metrics let the per-line cost of the two be compared.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{50, 5000} {
		data := genMap(n)
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			ctx := Context{Dir: "/sub", Host: "example.org", Port: 70}
			if menu, warns := Render(data, ctx); len(menu) != n || len(warns) != 0 {
				b.Fatalf("got %d items and %d warnings, want %d items", len(menu), len(warns), n)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				Render(data, ctx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
		})
	}
}

// BenchmarkRenderHostile renders the hostile map, 4 MiB of
// one-character lines (2M lines, a 44 MB menu), three ways: the slice form
// (Render then Menu.Bytes, what serving did before), the renderer into a
// buffer sized by Size (what a cached map costs), and Size alone (what each
// streamed request costs besides its 32 KiB buffer). B/op is the point.
func BenchmarkRenderHostile(b *testing.B) {
	text := strings.Repeat("x\n", 2<<20)
	ctx := Context{Dir: "/", Host: "localhost", Port: 70}
	b.Run("slice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			menu, _ := Render([]byte(text), ctx)
			_ = menu.Bytes()
		}
	})
	r := Renderer{Context: ctx}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Append(context.Background(), make([]byte, 0, r.Size(context.Background(), text)), text)
		}
	})
	b.Run("size", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Size(context.Background(), text)
		}
	})
}

// BenchmarkLint lints the maps BenchmarkRender renders, with a Target that
// finds every local link: compare its ns/line with Render's, measured in
// the same run.
func BenchmarkLint(b *testing.B) {
	for _, n := range []int{50, 5000} {
		text := string(genMap(n))
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			o := LintOptions{Context: Context{Dir: "/sub", Host: "example.org", Port: 70}, Target: func(string) Target { return TargetServed }}
			if f := Lint(text, o); len(f) != 0 {
				b.Fatalf("findings in the generated map: %+v", f[0])
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				Lint(text, o)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
		})
	}
}

//go:build unix

package fs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopherd/internal/gopher"
)

type discard struct{ n int }

func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) Served(string)               {}

func benchTree(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	for i := range n {
		ext := []string{".txt", ".png", ".mp3", "", ".zip"}[i%5]
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("File-%05d%s", i, ext)), []byte("some text\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// BenchmarkListDir lists directories of growing size without the cache; the
// reported ns/entry should stay flat from 100 to 10,000 entries.
func BenchmarkListDir(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		root := benchTree(b, n)
		h, err := New(Options{Root: root})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, _, err := h.renderListing(context.Background(), ".", "localhost", 70)
				if err != nil || len(m.body) == 0 {
					b.Fatalf("%d bytes, %v", len(m.body), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
		_ = h.Close()
	}
}

// BenchmarkServeCached measures a hot directory menu and a hot gophermap as
// the server sees them: one request each, served from the cache.
func BenchmarkServeCached(b *testing.B) {
	root := benchTree(b, 200)
	mapDir := filepath.Join(root, "mapped")
	if err := os.Mkdir(mapDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mapDir, "gophermap"), []byte("Welcome\n\n0About\tabout.txt\n1Elsewhere\t/\texample.org\t70\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{root, mapDir, filepath.Join(mapDir, "gophermap")} {
		if err := os.Chtimes(p, old, old); err != nil {
			b.Fatal(err)
		}
	}
	h, err := New(Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	for _, sel := range []string{"/", "/mapped"} {
		b.Run(sel, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var w discard
				h.ServeGopher(context.Background(), &w, &gopher.Request{Selector: sel, Host: "h", Port: 70})
				if w.n == 0 {
					b.Fatal("empty response")
				}
			}
		})
	}
}

//go:build unix

package fs

import (
	"context"
	"fmt"
	"io"
	"net"
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

// tcpWriter is a response writer over a real TCP connection: io.Copy from a
// file to it is sendfile(2), as through the server's ResponseWriter.
type tcpWriter struct{ *net.TCPConn }

func (tcpWriter) Served(string) {}

// BenchmarkTextMode sends a 1 MiB text file over loopback TCP, byte-exact
// (sendfile) and in RFC 1436 text mode (streamed through a 32 KiB chunk);
// the MB/s of the two give the cost of the text mode.
func BenchmarkTextMode(b *testing.B) {
	root := b.TempDir()
	var text []byte
	for i := 0; len(text) < 1<<20; i++ {
		text = fmt.Appendf(text, "Line %d of a text file, as long as a line of prose usually is.\n", i)
		if i%40 == 0 {
			text = append(text, ".\n"...)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "doc.txt"), text, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		m    TextMode
	}{{"raw-sendfile", TextRaw}, {"rfc1436", TextRFC1436}} {
		b.Run(mode.name, func(b *testing.B) {
			h, err := New(Options{Root: root, TextMode: mode.m})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			done := make(chan int64)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- -1
					return
				}
				n, _ := io.Copy(io.Discard, c)
				_ = c.Close()
				done <- n
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			w := tcpWriter{c.(*net.TCPConn)}
			req := &gopher.Request{Selector: "/doc.txt", Host: "h", Port: 70}
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				h.ServeGopher(context.Background(), w, req)
			}
			b.StopTimer()
			_ = w.CloseWrite()
			if n := <-done; n < int64(b.N)*int64(len(text)) {
				b.Fatalf("received %d bytes for %d files of %d", n, b.N, len(text))
			}
			_ = c.Close()
		})
	}
}

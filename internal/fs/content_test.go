//go:build unix

package fs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// Hostile content: maps and directories an author can make that once cost
// the server far more than their menus. The e2e suite measures the real
// binary; these tests pin the mechanisms.

// oldFile writes content to path, dated an hour ago so that its menu may be
// cached at once.
func oldFile(t *testing.T, path, content string) {
	t.Helper()
	write(t, path, content)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// wantMenu renders a map as the package renders it, for comparison.
func wantMenu(text, dir string) []byte {
	menu, _ := gophermap.Render([]byte(text), gophermap.Context{Dir: dir, Host: testHost, Port: testPort})
	return menu.Bytes()
}

// concurrently serves sel n times at once and returns the responses.
func concurrently(h *Handler, sel string, n int) []*recorder {
	recs := make([]*recorder, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range recs {
		recs[i] = &recorder{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			h.ServeGopher(context.Background(), recs[i], &gopher.Request{Selector: sel, Host: testHost, Port: testPort})
		}()
	}
	close(start)
	wg.Wait()
	return recs
}

func TestMapMadeOncePerVersion(t *testing.T) {
	root := t.TempDir()
	text := strings.Repeat("0a file\tfile.txt\n", 20000)
	oldFile(t, filepath.Join(root, "gophermap"), text)
	h, _ := newHandler(t, root)
	want := wantMenu(text, "/")
	for i, rec := range concurrently(h, "/", 16) {
		if !bytes.Equal(rec.Bytes(), want) {
			t.Fatalf("client %d: %d bytes, want %d", i, rec.Len(), len(want))
		}
	}
	for range 5 {
		get(t, h, "/")
	}
	if n := h.made.Load(); n != 1 {
		t.Errorf("21 requests made the menu %d times, want once", n)
	}
}

// TestMapStreamedWhenLarge: a menu larger than a cache entry is kept as the
// map's text and streamed, byte for byte the same menu.
func TestMapStreamedWhenLarge(t *testing.T) {
	root := t.TempDir()
	text := strings.Repeat("x\n", 5000) + "1sub\tsub\n"
	oldFile(t, filepath.Join(root, "dir", "gophermap"), text)
	h, _ := newHandler(t, root)
	h.entryBytes = 4096
	want := wantMenu(text, "/dir")
	for i, rec := range concurrently(h, "/dir", 4) {
		if !bytes.Equal(rec.Bytes(), want) || rec.lastServed() != "menu" {
			t.Fatalf("client %d: %d bytes (want %d), served %q", i, rec.Len(), len(want), rec.lastServed())
		}
	}
	if got := get(t, h, "/dir").Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("from the cache: %d bytes, want %d", len(got), len(want))
	}
	if n := h.made.Load(); n != 1 {
		t.Errorf("made %d times, want once", n)
	}
	if h.cache.bytes != len(text) {
		t.Errorf("the cache holds %d bytes for it, want the map's %d", h.cache.bytes, len(text))
	}
}

// shortWriter fails after n bytes, as a client that hangs up does, and
// counts the writes tried after that.
type shortWriter struct{ n, after int }

func (w *shortWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		w.after++
		return 0, fmt.Errorf("client gone")
	}
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, fmt.Errorf("client gone")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestStreamStopsWhenClientGoes(t *testing.T) {
	root := t.TempDir()
	oldFile(t, filepath.Join(root, "gophermap"), strings.Repeat("x\n", 100000))
	h, _ := newHandler(t, root)
	h.entryBytes = 4096
	w := &shortWriter{n: 100}
	h.ServeGopher(context.Background(), w, &gopher.Request{Selector: "/", Host: testHost, Port: testPort})
	if w.n != 0 || w.after != 0 {
		t.Fatalf("%d writes after the client was gone", w.after)
	}
}

func TestMapOverTheCapRefused(t *testing.T) {
	root := t.TempDir()
	oldFile(t, filepath.Join(root, "gophermap"), strings.Repeat("x\n", maxGophermapBytes/2)+"y")
	h, logs := newHandler(t, root)
	for range 3 {
		rec := get(t, h, "/")
		if want := errorBytes(gopher.Internal, "/"); rec.String() != want {
			t.Fatalf("got %q, want the error item", trimmed(rec.String()))
		}
	}
	if n := logs.FilterMessageSnippet("over the 4 MiB limit").Len(); n != 1 {
		t.Errorf("%d warnings about the size, want one: %v", n, logs.All())
	}
}

// trimmed shortens s for a failure message.
func trimmed(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// TestMapWarnsOncePerVersion: a map of bad lines logs a handful of lines
// with a count of the rest, once: not at every request, not when its menu
// expires from the cache and is made again, only when the map changes.
func TestMapWarnsOncePerVersion(t *testing.T) {
	root := t.TempDir()
	mapPath := filepath.Join(root, "gophermap")
	oldFile(t, mapPath, "ok\n"+strings.Repeat("\t\n", 1000))
	h, logs := newHandler(t, root)
	clock := time.Now()
	h.now = func() time.Time { return clock }
	concurrently(h, "/", 8)
	warns := logs.FilterLevelExact(zapcore.WarnLevel)
	if n := warns.Len(); n != maxProblemLines+1 {
		t.Fatalf("%d warnings, want %d lines and a count: %v", n, maxProblemLines, warns.All())
	}
	first := warns.All()[0]
	if !strings.Contains(first.Message, "gophermap:2: line starts with a TAB") || first.ContextMap()["col"] != int64(1) {
		t.Errorf("first warning %q %v does not name file:line and the column", first.Message, first.ContextMap())
	}
	if last := warns.All()[maxProblemLines].Message; !strings.Contains(last, "and 992 more") {
		t.Errorf("last warning %q, want the count of the rest", last)
	}
	clock = clock.Add(time.Hour)
	get(t, h, "/")
	if h.made.Load() != 2 {
		t.Fatalf("the menu was not made again after its TTL (made %d times)", h.made.Load())
	}
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len(); n != maxProblemLines+1 {
		t.Errorf("the unchanged map warned again: %d warnings", n)
	}
	oldFile(t, mapPath, "ok\n"+strings.Repeat("\t\n", 999))
	get(t, h, "/")
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len(); n != 2*(maxProblemLines+1) {
		t.Errorf("the edited map: %d warnings in all, want its own handful too", n)
	}
}

// TestRenderTimeout: a map that takes longer than the render timeout to
// render gives every waiting client a timeout error within about that
// time, and the next ones get it at once until the map changes.
func TestRenderTimeout(t *testing.T) {
	root := t.TempDir()
	oldFile(t, filepath.Join(root, "gophermap"), strings.Repeat("x\n", maxGophermapBytes/2))
	core, logs := observer.New(zapcore.DebugLevel)
	h, err := New(Options{Root: root, Logger: zap.New(core), RenderTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	want := errorBytes(gopher.TimedOut, "/")
	for i, rec := range concurrently(h, "/", 4) {
		if rec.String() != want {
			t.Errorf("client %d: %q, want the timeout error", i, trimmed(rec.String()))
		}
	}
	// The flight ends soon after its deadline and remembers the failure.
	deadline := time.Now().Add(10 * time.Second)
	for logs.FilterMessageSnippet("took longer than").Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rec := get(t, h, "/"); rec.String() != want {
		t.Errorf("after the failed render: %q", trimmed(rec.String()))
	}
	if h.made.Load() != 1 {
		t.Errorf("made %d times, want once: the failure is kept for this version", h.made.Load())
	}
	if n := logs.FilterMessageSnippet("took longer than").Len(); n != 1 {
		t.Errorf("%d warnings about the time, want one", n)
	}
}

// TestRenderSlotsFull: when other renders hold every slot, a request gets
// the timeout error, and nothing is blamed on the map or remembered.
func TestRenderSlotsFull(t *testing.T) {
	root := t.TempDir()
	oldFile(t, filepath.Join(root, "gophermap"), "fine\n")
	core, logs := observer.New(zapcore.DebugLevel)
	h, err := New(Options{Root: root, Logger: zap.New(core), RenderTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	if rec := get(t, h, "/"); rec.String() != errorBytes(gopher.TimedOut, "/") {
		t.Errorf("with every slot taken: %q", rec.String())
	}
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len(); n != 0 {
		t.Errorf("warned about a map that was never rendered: %v", logs.All())
	}
	for range cap(h.slots) {
		<-h.slots
	}
	if rec := get(t, h, "/"); !strings.HasPrefix(rec.String(), "ifine\t") {
		t.Errorf("once slots are free: %q", rec.String())
	}
}

// TestLargeListingMadeOnce: a listing larger than a cache entry is kept as
// its names and streamed; its files are sniffed once, not per request.
func TestLargeListingMadeOnce(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "many")
	for i := range 300 {
		write(t, filepath.Join(dir, fmt.Sprintf("noext%03d", i)), "text\n")
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, root)
	want := get(t, h, "/many").String()
	h2, _ := newHandler(t, root)
	h2.entryBytes = 1024
	for i, rec := range concurrently(h2, "/many", 8) {
		if rec.String() != want {
			t.Fatalf("client %d: streamed listing differs (%d bytes, want %d)", i, rec.Len(), len(want))
		}
	}
	if got := get(t, h2, "/many").String(); got != want {
		t.Fatal("listing from the cache differs")
	}
	if n := h2.made.Load(); n != 1 {
		t.Errorf("9 requests listed the directory %d times, want once", n)
	}
	if h2.cache.bytes >= len(want)/2 {
		t.Errorf("the compact listing holds %d bytes of a %d-byte menu", h2.cache.bytes, len(want))
	}
}

func TestCostlyTTL(t *testing.T) {
	for _, tt := range []struct{ took, want time.Duration }{
		{time.Millisecond, cacheTTL},
		{time.Second, 20 * time.Second},
		{time.Hour, 5 * time.Minute},
	} {
		if got := costlyTTL(tt.took); got != tt.want {
			t.Errorf("costlyTTL(%v) = %v, want %v", tt.took, got, tt.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1999998: "1,999,998", 123456789: "123,456,789"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

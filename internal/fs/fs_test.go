//go:build unix

package fs

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"gopherd/internal/gopher"

	"gopherd/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const (
	testHost = "localhost"
	testPort = 7000
)

// recorder is a gopher.ResponseWriter that keeps everything in memory.
type recorder struct {
	bytes.Buffer
	served []string
}

func (r *recorder) Served(what string) { r.served = append(r.served, what) }

func (r *recorder) lastServed() string {
	if len(r.served) == 0 {
		return ""
	}
	return r.served[len(r.served)-1]
}

// newHandler serves root with a logger whose entries the test can inspect.
func newHandler(t *testing.T, root string) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	h, err := New(Options{Root: root, Logger: zap.New(core)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, logs
}

// serve runs one request for sel and returns what was written. It fails
// the test instead of hanging when the handler blocks.
func serve(t *testing.T, h *Handler, req *gopher.Request) *recorder {
	t.Helper()
	rec := &recorder{}
	if req.Host == "" {
		req.Host, req.Port = testHost, testPort
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeGopher(context.Background(), rec, req)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("request %q hangs", req.Selector)
	}
	return rec
}

func get(t *testing.T, h *Handler, sel string) *recorder {
	t.Helper()
	return serve(t, h, &gopher.Request{Selector: sel})
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func errorBytes(kind gopher.ErrorKind, sel string) string {
	return string(gopher.ErrorResponse(kind, sel, testHost, testPort))
}

// spacecookieTree rebuilds spacecookie's integration-test document root.
func spacecookieTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// spacecookie's root also holds a .gophermap; it is left out here so
	// the automatic listing of the root can be checked.
	write(t, filepath.Join(root, "plain.txt"), "Plain text.\n")
	write(t, filepath.Join(root, "dir", ".hidden"), "")
	write(t, filepath.Join(root, "dir", "another", ".git-hello"), "")
	write(t, filepath.Join(root, "dir", "macintosh.hqx"), "")
	write(t, filepath.Join(root, "dir", "strange.tXT"), "this is strange too\n")
	write(t, filepath.Join(root, "dir", "mystery-file"), "")
	return root
}

func TestSpacecookieDirectory(t *testing.T) {
	h, _ := newHandler(t, spacecookieTree(t))
	for _, sel := range []string{"/dir", "dir", "/dir/", "dir/", "//dir//"} {
		rec := get(t, h, sel)
		checkGolden(t, "spacecookie-dir.golden", rec.Bytes())
		if rec.lastServed() != "menu" {
			t.Errorf("%q: served %q, want menu", sel, rec.lastServed())
		}
	}
}

func TestSpacecookieNotFound(t *testing.T) {
	h, _ := newHandler(t, spacecookieTree(t))
	rec := get(t, h, "/not-here.txt")
	want := "3The requested resource '/not-here.txt' does not exist or is not available.\tErr\tlocalhost\t7000\r\n.\r\n"
	if rec.String() != want {
		t.Errorf("got %q\nwant %q", rec.String(), want)
	}
	if rec.lastServed() != "not-found" {
		t.Errorf("served %q, want not-found", rec.lastServed())
	}
}

func TestSelectorForms(t *testing.T) {
	root := spacecookieTree(t)
	h, _ := newHandler(t, root)
	plain, err := os.ReadFile(filepath.Join(root, "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rootMenu := get(t, h, "").String()
	if !strings.Contains(rootMenu, "0plain.txt\t/plain.txt\tlocalhost\t7000\r\n") ||
		!strings.Contains(rootMenu, "1dir\t/dir\tlocalhost\t7000\r\n") ||
		!strings.HasSuffix(rootMenu, "\r\n.\r\n") || strings.Contains(rootMenu, "gophermap") {
		t.Fatalf("root menu:\n%s", rootMenu)
	}
	dirMenu := get(t, h, "/dir").String()
	tests := []struct {
		req    gopher.Request
		want   string
		served string
	}{
		{gopher.Request{Selector: ""}, rootMenu, "menu"},
		{gopher.Request{Selector: "/"}, rootMenu, "menu"},
		{gopher.Request{Selector: "//"}, rootMenu, "menu"},
		{gopher.Request{Selector: "/dir"}, dirMenu, "menu"},
		{gopher.Request{Selector: "dir"}, dirMenu, "menu"},
		{gopher.Request{Selector: "/dir/"}, dirMenu, "menu"},
		{gopher.Request{Selector: "/plain.txt"}, string(plain), "file"},
		{gopher.Request{Selector: "plain.txt"}, string(plain), "file"},
		{gopher.Request{Selector: "/dir/strange.tXT"}, "this is strange too\n", "file"},
		{gopher.Request{Selector: "/dir/mystery-file"}, "", "file"},
		// Search strings and Gopher+ markers are ignored.
		{gopher.Request{Selector: "/plain.txt", Search: "query", HasSearch: true}, string(plain), "file"},
		{gopher.Request{Selector: "/dir", GopherPlus: "+"}, dirMenu, "menu"},
		{gopher.Request{Selector: "/dir", Search: "", HasSearch: true, GopherPlus: "$"}, dirMenu, "menu"},
		// A file is not a directory.
		{gopher.Request{Selector: "/plain.txt/more"}, errorBytes(gopher.NotFound, "/plain.txt/more"), "not-found"},
		{gopher.Request{Selector: "/nope/"}, errorBytes(gopher.NotFound, "/nope/"), "not-found"},
	}
	for _, tt := range tests {
		rec := serve(t, h, &tt.req)
		if rec.String() != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.req, rec.String(), tt.want)
		}
		if rec.lastServed() != tt.served {
			t.Errorf("%+v: served %q, want %q", tt.req, rec.lastServed(), tt.served)
		}
	}
}

func TestRefusedSelectors(t *testing.T) {
	root := spacecookieTree(t)
	write(t, filepath.Join(root, "gophermap"), "iMap\n")
	write(t, filepath.Join(root, "dir", "gophermap"), "iMap\n")
	write(t, filepath.Join(root, ".hiddendir", "file.txt"), "secret")
	write(t, filepath.Join(root, "a\\b"), "backslash")
	h, _ := newHandler(t, root)
	for _, sel := range []string{
		"/.gophermap", ".gophermap", "/gophermap", "gophermap", "/GopherMap", "/dir/gophermap",
		"/dir/.hidden", "dir/.hidden", "/dir/another/.git-hello", "/.hiddendir", "/.hiddendir/file.txt",
		"/.does-not-exist", "/dir/.nope/deeper",
		"..", "/..", "/../", "/../etc/passwd", "../../../../etc/passwd", "/dir/..", "/dir/../plain.txt",
		"/dir/../../etc/passwd", ".", "/.", "./plain.txt", "/dir/./strange.tXT", "/...", "/..foo",
		"a\\b", "/a\\b", "\\..\\plain.txt", "/dir\\..\\plain.txt", "plain.txt\x00", "/dir/\x00",
	} {
		rec := get(t, h, sel)
		if want := errorBytes(gopher.NotAllowed, sel); rec.String() != want {
			t.Errorf("%q: got %q, want %q", sel, rec.String(), want)
		}
		if rec.lastServed() != "not-allowed" {
			t.Errorf("%q: served %q, want not-allowed", sel, rec.lastServed())
		}
	}
}

func TestSymlinks(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	write(t, filepath.Join(outside, "secret.txt"), "SECRET")
	root := filepath.Join(base, "root")
	write(t, filepath.Join(root, "plain.txt"), "inside\n")
	write(t, filepath.Join(root, "dir", "inner.txt"), "inner\n")
	symlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(root, "abs-file"))
	symlink(t, outside, filepath.Join(root, "abs-dir"))
	symlink(t, "../outside/secret.txt", filepath.Join(root, "rel-file"))
	symlink(t, "../outside", filepath.Join(root, "rel-dir"))
	symlink(t, "../../outside/secret.txt", filepath.Join(root, "dir", "deep-file"))
	symlink(t, "/etc/passwd", filepath.Join(root, "passwd"))
	symlink(t, "missing", filepath.Join(root, "dangling"))
	symlink(t, "loop", filepath.Join(root, "loop"))
	// In-root links work, relative or through the parent.
	symlink(t, "plain.txt", filepath.Join(root, "link.txt"))
	symlink(t, "../plain.txt", filepath.Join(root, "dir", "up.txt"))
	symlink(t, "dir", filepath.Join(root, "linkdir"))
	h, logs := newHandler(t, root)

	for _, sel := range []string{
		"/abs-file", "/abs-dir", "/abs-dir/secret.txt", "/rel-file", "/rel-dir", "/rel-dir/secret.txt",
		"/dir/deep-file", "/passwd", "/dangling", "/loop",
	} {
		rec := get(t, h, sel)
		if want := errorBytes(gopher.NotFound, sel); rec.String() != want {
			t.Errorf("%q: got %q, want %q", sel, rec.String(), want)
		}
	}
	if n := logs.FilterMessageSnippet("leaves the root").Len(); n != 8 {
		t.Errorf("%d warnings about paths leaving the root, want 8", n)
	}

	for sel, want := range map[string]string{
		"/link.txt":          "inside\n",
		"/dir/up.txt":        "inside\n",
		"/linkdir/inner.txt": "inner\n",
	} {
		rec := get(t, h, sel)
		if rec.String() != want || rec.lastServed() != "file" {
			t.Errorf("%q: got %q (%s), want %q", sel, rec.String(), rec.lastServed(), want)
		}
	}
	wantLinkdir := "0inner.txt\t/linkdir/inner.txt\tlocalhost\t7000\r\n" +
		"0up.txt\t/linkdir/up.txt\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/linkdir").String(); got != wantLinkdir {
		t.Errorf("/linkdir: got %q, want %q", got, wantLinkdir)
	}
	wantRoot := "1dir\t/dir\tlocalhost\t7000\r\n" +
		"1linkdir\t/linkdir\tlocalhost\t7000\r\n" +
		"0link.txt\t/link.txt\tlocalhost\t7000\r\n" +
		"0plain.txt\t/plain.txt\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/").String(); got != wantRoot {
		t.Errorf("root listing: got %q, want %q", got, wantRoot)
	}
}

// listingTree holds one of everything a listing must handle.
func listingTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	write(t, filepath.Join(base, "outside.txt"), "outside")
	root := filepath.Join(base, "root")
	for _, d := range []string{"Zeta", "alpha", "Beta", "émigré", ".git", "sub"} {
		mkdir(t, filepath.Join(root, d))
	}
	files := map[string]string{
		"b.txt": "b", "A.txt": "A", "a.TXT": "a", "a.txt": "a", "Ärger.txt": "Ä", "zz.txt": "z",
		"image.PNG": "", "anim.gif": "", "song.mp3": "", "movie.mkv": "", "paper.pdf": "",
		"archive.tar.gz": "", "old.hqx": "", "index.html": "", "cal.ics": "", "mail.eml": "",
		"setup.exe": "", "README": "Read me.\n", "blob": "\x00\x01\x02binary", "latin1": "caf\xe9\n",
		"empty": "", "go.mod": "module x\n", "Makefile": "all:\n\ttrue\n",
		// Never listed.
		".hidden": "", "GOPHERMAP": "", "Gophermap": "",
		"tab\tname.txt": "", "new\nline.txt": "", "carriage\rreturn": "", "back\\slash.txt": "",
		// Terminal controls: shown on a client's screen they would act.
		"esc\x1b[2Jclear.txt": "", "bell\x07.txt": "", "bs\x08\x08\x08exe": "", "del\x7f.txt": "",
		"c1-csi\u009b31m.txt": "", "raw-csi\x9b31m.txt": "",
	}
	for name, content := range files {
		write(t, filepath.Join(root, name), content)
	}
	symlink(t, "alpha", filepath.Join(root, "link-dir"))
	symlink(t, "README", filepath.Join(root, "link-file"))
	symlink(t, "../outside.txt", filepath.Join(root, "escape"))
	symlink(t, "nowhere", filepath.Join(root, "dangling"))
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestListingGolden(t *testing.T) {
	h, logs := newHandler(t, listingTree(t))
	rec := get(t, h, "/")
	checkGolden(t, "listing.golden", rec.Bytes())
	if rec.lastServed() != "menu" {
		t.Errorf("served %q, want menu", rec.lastServed())
	}
	// The unlistable names and the symlinks that lead nowhere are logged,
	// escaped: the first maxProblemLines of them one by one (in directory
	// order), then a count of the rest.
	want := map[string]bool{}
	for _, p := range []string{`tab\x09name.txt`, `new\x0aline.txt`, `carriage\x0dreturn`, `back\\slash.txt`,
		`esc\x1b[2Jclear.txt`, `bell\x07.txt`, `bs\x08\x08\x08exe`, `del\x7f.txt`, `c1-csi\xc2\x9b31m.txt`, `raw-csi\x9b31m.txt`,
		"escape", "dangling"} {
		want[p] = true
	}
	warned := map[string]bool{}
	more := 0
	for _, e := range logs.FilterLevelExact(zapcore.WarnLevel).All() {
		p, _ := e.ContextMap()["path"].(string)
		switch {
		case strings.Contains(e.Message, "cannot be written into a menu"), strings.Contains(e.Message, "symlink"):
			if !want[p] || warned[p] {
				t.Errorf("warning for %q: not one of the unlistable names, or twice", p)
			}
			warned[p] = true
		case strings.Contains(e.Message, "more"):
			fmt.Sscanf(e.Message[strings.Index(e.Message, "and ")+4:], "%d", &more)
		}
	}
	if len(warned) != min(len(want), maxProblemLines) || len(warned)+more != len(want) {
		t.Errorf("%d problems logged and %d counted, want %d in all, at most %d logged: %v", len(warned), more, len(want), maxProblemLines, logs.All())
	}
	// The listed subdirectory keeps its selector prefix.
	rec = get(t, h, "/sub")
	if rec.String() != ".\r\n" {
		t.Errorf("empty directory: got %q", rec.String())
	}
}

func TestNestedListingSelectors(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a", "b c", "d.txt"), "d")
	mkdir(t, filepath.Join(root, "a", "b c", "e"))
	h, _ := newHandler(t, root)
	want := "1e\t/a/b c/e\tlocalhost\t7000\r\n0d.txt\t/a/b c/d.txt\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/a/b c/").String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFIFORefused(t *testing.T) {
	root := t.TempDir()
	fifo := filepath.Join(root, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, root)
	for _, sel := range []string{"/fifo", "fifo/"} {
		rec := get(t, h, sel)
		if want := errorBytes(gopher.NotAllowed, sel); rec.String() != want {
			t.Errorf("%q: got %q, want %q", sel, rec.String(), want)
		}
	}
	if got := get(t, h, "/").String(); got != ".\r\n" {
		t.Errorf("listing shows the FIFO: %q", got)
	}
	// The defence against a file swapped for a FIFO after the stat: opening
	// it directly must neither block nor succeed.
	done := make(chan error, 1)
	go func() {
		f, err := h.openRegular("fifo")
		if f != nil {
			_ = f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errSpecial) {
			t.Errorf("openRegular(fifo) = %v, want errSpecial", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("openRegular blocks on a FIFO")
	}
	// The same for a directory listing: O_DIRECTORY refuses the FIFO.
	if _, err := h.listDir(context.Background(), "fifo", &problems{}); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("listDir(fifo) = %v, want ENOTDIR", err)
	}
}

func TestSocketRefused(t *testing.T) {
	// Unix socket paths are short (108 bytes): use a short temp dir.
	root, err := os.MkdirTemp("", "fs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	ln, err := net.Listen("unix", filepath.Join(root, "sock"))
	if err != nil {
		t.Skipf("cannot create a unix socket: %v", err)
	}
	defer ln.Close()
	h, _ := newHandler(t, root)
	if got, want := get(t, h, "/sock").String(), errorBytes(gopher.NotAllowed, "/sock"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := get(t, h, "/").String(); got != ".\r\n" {
		t.Errorf("listing shows the socket: %q", got)
	}
}

func TestUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything regardless of permissions; run as an ordinary user")
	}
	root := t.TempDir()
	write(t, filepath.Join(root, "secret.txt"), "secret")
	write(t, filepath.Join(root, "secret"), "secret")
	write(t, filepath.Join(root, "closed", "x.txt"), "x")
	write(t, filepath.Join(root, "plain.txt"), "plain")
	for _, p := range []string{"secret.txt", "secret", "closed"} {
		if err := os.Chmod(filepath.Join(root, p), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "closed"), 0o755) })
	h, logs := newHandler(t, root)
	for _, sel := range []string{"/secret.txt", "/secret", "/closed", "/closed/x.txt"} {
		rec := get(t, h, sel)
		if want := errorBytes(gopher.NotAllowed, sel); rec.String() != want {
			t.Errorf("%q: got %q, want %q", sel, rec.String(), want)
		}
	}
	// Listed (the request says why it fails), typed without reading.
	wantRoot := "1closed\t/closed\tlocalhost\t7000\r\n" +
		"0plain.txt\t/plain.txt\tlocalhost\t7000\r\n" +
		"9secret\t/secret\tlocalhost\t7000\r\n" +
		"0secret.txt\t/secret.txt\tlocalhost\t7000\r\n.\r\n"
	if got := get(t, h, "/").String(); got != wantRoot {
		t.Errorf("root: got %q, want %q", got, wantRoot)
	}
	if got := get(t, h, "/plain.txt").String(); got != "plain" {
		t.Errorf("server stopped working after refusals: %q", got)
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Errorf("permission errors logged as errors: %v", logs.All())
	}
}

func TestFileByteExact(t *testing.T) {
	root := t.TempDir()
	var content []byte
	for i := range 3 << 20 {
		content = append(content, byte(i*7+i/256))
	}
	content = append(content, "\r\n.\r\n\x00"...)
	if err := os.WriteFile(filepath.Join(root, "data.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, root)
	rec := get(t, h, "/data.bin")
	if !bytes.Equal(rec.Bytes(), content) {
		t.Errorf("got %d bytes, want the %d bytes of the file", rec.Len(), len(content))
	}
	if rec.lastServed() != "file" {
		t.Errorf("served %q, want file", rec.lastServed())
	}
}

func TestLargeDirectory(t *testing.T) {
	// Entries are hard links to one file outside the root: creating 10,000
	// files takes seconds on some disks, linking does not.
	base := t.TempDir()
	write(t, filepath.Join(base, "empty"), "")
	root := filepath.Join(base, "root")
	const dirs, files = 100, 9900
	for i := range dirs {
		mkdir(t, filepath.Join(root, fmt.Sprintf("D%04d", i)))
	}
	for i := range files {
		name := fmt.Sprintf("f%05d.txt", files-1-i)
		if i%10 == 0 {
			name = fmt.Sprintf("F%05d", files-1-i) // no extension: sniffed
		}
		if err := os.Link(filepath.Join(base, "empty"), filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := newHandler(t, root)
	rec := get(t, h, "/")
	lines := strings.Split(strings.TrimSuffix(rec.String(), "\r\n"), "\r\n")
	if len(lines) != dirs+files+1 || lines[len(lines)-1] != "." {
		t.Fatalf("got %d lines, want %d items and the terminator", len(lines), dirs+files)
	}
	for i := range dirs {
		want := fmt.Sprintf("1D%04d\t/D%04d\tlocalhost\t7000", i, i)
		if lines[i] != want {
			t.Fatalf("line %d = %q, want %q", i, lines[i], want)
		}
	}
	for i := range files {
		want := fmt.Sprintf("0f%05d.txt\t/f%05d.txt\tlocalhost\t7000", i, i)
		if i%10 == 9 {
			want = fmt.Sprintf("0F%05d\t/F%05d\tlocalhost\t7000", i, i)
		}
		if got := lines[dirs+i]; got != want {
			t.Fatalf("line %d = %q, want %q", dirs+i, got, want)
		}
	}
}

func TestListingCache(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.txt"), "a")
	write(t, filepath.Join(root, "blob"), "")
	h, _ := newHandler(t, root)
	clock := time.Now()
	h.now = func() time.Time { return clock }

	// A directory modified just now is listed but not cached: a change in
	// the same timestamp tick would go unnoticed.
	if got := get(t, h, "/").String(); !strings.Contains(got, "0blob\t") {
		t.Fatalf("listing: %q", got)
	}
	if n := h.cache.len(); n != 0 {
		t.Fatalf("fresh directory cached (%d entries)", n)
	}

	old := clock.Add(-time.Hour)
	if err := os.Chtimes(root, old, old); err != nil {
		t.Fatal(err)
	}
	get(t, h, "/")
	if n := h.cache.len(); n != 1 {
		t.Fatalf("old directory not cached (%d entries)", n)
	}
	// Rewriting a file in place leaves the directory's times alone: within
	// the TTL the cached listing is served...
	write(t, filepath.Join(root, "blob"), "\x00\x01binary")
	if got := get(t, h, "/").String(); !strings.Contains(got, "0blob\t") {
		t.Errorf("cache not used: %q", got)
	}
	// ...and after it the directory is listed afresh.
	clock = clock.Add(cacheTTL + time.Second)
	if got := get(t, h, "/").String(); !strings.Contains(got, "9blob\t") {
		t.Errorf("cache entry outlived its TTL: %q", got)
	}

	// Adding a file changes the directory: it is listed again at once.
	if err := os.Chtimes(root, old, old); err != nil {
		t.Fatal(err)
	}
	get(t, h, "/")
	write(t, filepath.Join(root, "new.txt"), "new")
	if got := get(t, h, "/").String(); !strings.Contains(got, "0new.txt\t/new.txt\t") {
		t.Errorf("new file missing from the listing of a changed directory: %q", got)
	}
	// So does a removal, even when the mtime is set back to the cached one
	// (the ctime still moves).
	get(t, h, "/")
	if err := os.Remove(filepath.Join(root, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(root, old, old); err != nil {
		t.Fatal(err)
	}
	if got := get(t, h, "/").String(); strings.Contains(got, "a.txt") {
		t.Errorf("removed file still listed: %q", got)
	}
}

func TestListingCacheBounds(t *testing.T) {
	now := at(time.Now())
	c := newListingCache(3, 100)
	id := dirID{ino: 1}
	for i := range 5 {
		c.put(fmt.Sprint(i), id, now, bodyMenu(make([]byte, 10)))
	}
	if c.len() != 3 || has(c, "0", id, now) || !has(c, "4", id, now) {
		t.Errorf("entry bound: %d entries", c.len())
	}
	// "2" is now the least recently used of 2, 3, 4... after touching 3 and 4.
	c.get("3", id, now)
	c.put("big", id, now, bodyMenu(make([]byte, 85)))
	if c.bytes > 100 || !has(c, "big", id, now) || has(c, "2", id, now) {
		t.Errorf("byte bound: %d bytes, %d entries", c.bytes, c.len())
	}
	c.put("huge", id, now, bodyMenu(make([]byte, 101)))
	if has(c, "huge", id, now) {
		t.Error("entry larger than the cache was stored")
	}
	n := c.len()
	if has(c, "big", dirID{ino: 2}, now) {
		t.Error("entry returned for a different directory state")
	}
	if c.len() != n-1 {
		t.Error("entry for an outdated directory state kept")
	}
	c.put("t", id, now, bodyMenu([]byte("x")))
	if has(c, "t", id, at(now().Add(cacheTTL+time.Second))) {
		t.Error("entry returned after its TTL")
	}
}

// has reports whether c holds an entry for path in state id at now.
func has(c *listingCache, path string, id dirID, now func() time.Time) bool {
	_, ok := c.get(path, id, now)
	return ok
}

// at is a clock stopped at t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// TestCacheKeepsWhatWasJustStored: a lookup that waits for the lock while
// the menu is stored must not take the new entry for one stored in the
// future and throw it away (the menu was then made twice).
func TestCacheKeepsWhatWasJustStored(t *testing.T) {
	id := dirID{ino: 1}
	for i := range 2000 {
		c := newListingCache(3, 100)
		stored := make(chan struct{})
		go func() {
			defer close(stored)
			c.put("k", id, time.Now, bodyMenu([]byte("x")))
		}()
		for looking := true; looking; {
			select {
			case <-stored:
				looking = false
			default:
			}
			c.get("k", id, time.Now)
		}
		if !has(c, "k", id, time.Now) {
			t.Fatalf("round %d: the entry stored during a lookup was lost", i)
		}
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	write(t, file, "x")
	for _, root := range []string{"", file, filepath.Join(dir, "missing")} {
		if h, err := New(Options{Root: root, Logger: zap.NewNop()}); err == nil {
			_ = h.Close()
			t.Errorf("New(%q) succeeded", root)
		}
	}
	h, err := New(Options{Root: dir})
	if err != nil {
		t.Fatalf("New without logger: %v", err)
	}
	if h.errEscape == nil {
		t.Error("could not learn os.Root's escape error")
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestClosedHandler(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.txt"), "a")
	h, logs := newHandler(t, root)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	rec := get(t, h, "/a.txt")
	if want := errorBytes(gopher.Internal, "/a.txt"); rec.String() != want {
		t.Errorf("got %q, want %q", rec.String(), want)
	}
	if logs.FilterLevelExact(zapcore.ErrorLevel).Len() != 1 {
		t.Errorf("internal error not logged: %v", logs.All())
	}
}

func TestCancelledListing(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.txt"), "a")
	h, _ := newHandler(t, root)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &recorder{}
	h.ServeGopher(ctx, rec, &gopher.Request{Selector: "/", Host: testHost, Port: testPort})
	if want := errorBytes(gopher.TimedOut, "/"); rec.String() != want {
		t.Errorf("got %q, want %q", rec.String(), want)
	}
}

func TestConcurrentRequests(t *testing.T) {
	root := spacecookieTree(t)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(root, "dir"), old, old); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, root)
	want := get(t, h, "/dir").String()
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			for range 50 {
				rec := &recorder{}
				h.ServeGopher(context.Background(), rec, &gopher.Request{Selector: "/dir", Host: testHost, Port: testPort})
				if rec.String() != want {
					errs <- rec.String()
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if got := <-errs; got != "" {
			t.Errorf("concurrent listing differs: %q", got)
		}
	}
	if h.cache.len() != 1 {
		t.Errorf("cache holds %d listings, want 1", h.cache.len())
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.CheckGolden(t, filepath.Join("testdata", name), got, *update)
}

func TestRootItems(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.txt"), "a")
	write(t, filepath.Join(root, "sub", "b.txt"), "b")
	write(t, filepath.Join(root, "mapped", "gophermap"), "iMapped\n")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(root, old, old); err != nil { // cacheable
		t.Fatal(err)
	}
	h, err := New(Options{Root: root, RootItems: []gopher.Item{
		{Type: gopher.TypeSearch, Display: "Search this gopherhole", Selector: "/search"},
		{Type: gopher.TypeMenu, Display: "Elsewhere", Selector: "/", Host: "other.test", Port: 70},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	want := "1mapped\t/mapped\tlocalhost\t7000\r\n" +
		"1sub\t/sub\tlocalhost\t7000\r\n" +
		"0a.txt\t/a.txt\tlocalhost\t7000\r\n" +
		"7Search this gopherhole\t/search\tlocalhost\t7000\r\n" +
		"1Elsewhere\t/\tother.test\t70\r\n" +
		".\r\n"
	for i := range 2 { // listed, then from the cache
		if got := get(t, h, "/").String(); got != want {
			t.Errorf("root listing %d:\n got %q\nwant %q", i, got, want)
		}
	}
	if n := h.cache.len(); n != 1 {
		t.Errorf("root listing not cached (%d entries)", n)
	}
	// A listing too large to keep as bytes is streamed from its compact
	// form: the items come last all the same.
	big, err := New(Options{Root: root, RootItems: []gopher.Item{{Type: gopher.TypeSearch, Display: "Search this gopherhole", Selector: "/search"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	big.entryBytes = 16
	for i := range 2 {
		if got := get(t, big, "/").String(); !strings.HasSuffix(got, "0a.txt\t/a.txt\tlocalhost\t7000\r\n7Search this gopherhole\t/search\tlocalhost\t7000\r\n.\r\n") {
			t.Errorf("streamed root listing %d: %q", i, got)
		}
	}
	// Another host's menu names that host in the items too.
	got := serve(t, h, &gopher.Request{Selector: "", Host: "b.test", Port: 7071}).String()
	if !strings.Contains(got, "7Search this gopherhole\t/search\tb.test\t7071\r\n") {
		t.Errorf("root listing for b.test: %q", got)
	}
	// Only the root's automatic listing has them.
	for _, sel := range []string{"/sub", "/mapped"} {
		if got := get(t, h, sel).String(); strings.Contains(got, "Search") || strings.Contains(got, "Elsewhere") {
			t.Errorf("%s offers the root items: %q", sel, got)
		}
	}
	write(t, filepath.Join(root, "gophermap"), "The author's map\n")
	if got := get(t, h, "/").String(); got != "iThe author's map\t\tlocalhost\t7000\r\n.\r\n" {
		t.Errorf("root gophermap with root items: %q", got)
	}
}

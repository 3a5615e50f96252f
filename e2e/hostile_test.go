package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The hostile suite goes beyond TestAttacksRefused: every form of traversal
// a client can put into a selector, symlinks that escape (also one swapped
// after the listing was made), dotfiles at every depth, gophermap sources,
// special files, unreadable files, symlink loops, files that change while
// they are sent, huge and deep directories and names that cannot be written
// into a menu. Every answer must be well-formed, nothing outside the root
// may leak, nothing may hang, and the daemon must stay healthy.

// outsideMarker is the content of every file outside the served root: it
// must never appear in any response.
const outsideMarker = "OUTSIDE-THE-ROOT"

// hostileTree builds base/{outside.txt, outside/…} and base/root/… and
// returns base and root.
func hostileTree(t *testing.T) (base, root string) {
	t.Helper()
	base = t.TempDir()
	root = filepath.Join(base, "root")
	writeTree(t, base, map[string]string{
		"outside.txt":           outsideMarker + " file\n",
		"outside/secret.txt":    outsideMarker + " dir file\n",
		"outside/inner/x.txt":   outsideMarker + " deeper\n",
		"root/about.txt":        "About this hole.\n",
		"root/sub/deep.txt":     "deep\n",
		"root/docs/real.txt":    "the real document\n",
		"root/docs/other.txt":   "another document\n",
		"root/etc/passwd.txt":   "not the system one\n",
		"root/sub/inner/x.txt":  "inner x\n",
		"root/....txt":          "dots then txt\n",
		"root/a..b.txt":         "double dot inside a name\n",
		"root/%2e%2e/literal":   "a directory really called %2e%2e\n",
		"root/percent%2fslash":  "a file really called percent%2fslash\n",
		"root/outside.txt.html": "<p>decoy</p>\n",
	})
	return base, root
}

// healthy checks that d still runs, still serves a known file and logged
// no error, panic or data race.
func healthy(t *testing.T, d *daemon, sel string, want []byte) {
	t.Helper()
	select {
	case <-d.done:
		t.Fatalf("gopherd exited: %v\n%s", d.err, d.log)
	default:
	}
	got, err := fetch(d.addr, "", sel, 10*time.Second)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after the attacks %q: %q, %v", sel, trim(got), err)
	}
	if p := logProblems(d.log.String()); len(p) > 0 {
		t.Errorf("unexpected log lines:\n%s", strings.Join(p, "\n"))
	}
}

// refused checks that resp is one error item carrying msg (any error when
// msg is empty) and leaks nothing from outside the root.
func refused(t *testing.T, request string, resp []byte, msg string) {
	t.Helper()
	if bytes.Contains(resp, []byte(outsideMarker)) || bytes.Contains(resp, []byte("root:x:0:0")) {
		t.Errorf("%q leaked: %q", request, trim(resp))
		return
	}
	if gopherPlusRequest(request) {
		if !gopherPlusError(resp, msg) {
			t.Errorf("%q: want a Gopher+ error reply containing %q, got %q", request, msg, trim(resp))
		}
		return
	}
	if !errorItem(resp, msg) {
		t.Errorf("%q: want one error item containing %q, got %q", request, msg, trim(resp))
	}
}

// menuItem is one parsed menu line.
type menuItem struct {
	Type                          byte
	Display, Selector, Host, Port string
}

// parseMenu checks that body is a well-formed menu (CRLF lines, exactly four
// TAB-separated fields, no stray CR or LF, terminator last and only there)
// and returns its items.
func parseMenu(t *testing.T, what string, body []byte) []menuItem {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n.\r\n")) && !bytes.Equal(body, []byte(".\r\n")) {
		t.Fatalf("%s: menu does not end with the terminator: %q", what, trim(body))
	}
	lines := bytes.Split(body[:len(body)-len(".\r\n")], []byte("\r\n"))
	lines = lines[:len(lines)-1] // the empty string after the last CRLF
	items := make([]menuItem, 0, len(lines))
	for i, l := range lines {
		if bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("%s: line %d holds a stray CR or LF: %q", what, i+1, l)
		}
		f := bytes.Split(l, []byte("\t"))
		if len(f) != 4 || len(f[0]) == 0 {
			t.Fatalf("%s: line %d has %d fields, want 4: %q", what, i+1, len(f), l)
		}
		if bytes.Equal(l, []byte(".")) {
			t.Fatalf("%s: terminator before the end, at line %d", what, i+1)
		}
		items = append(items, menuItem{Type: f[0][0], Display: string(f[0][1:]), Selector: string(f[1]), Host: string(f[2]), Port: string(f[3])})
	}
	return items
}

// TestTraversalEveryForm sends every traversal spelling a client can put on
// the wire: dot segments, percent-encoding (which Gopher does not decode),
// doubled slashes, backslashes, NUL, overlong and look-alike UTF-8 dots,
// absolute paths, and traversal hidden in the search and Gopher+ fields.
func TestTraversalEveryForm(t *testing.T) {
	slow(t)
	t.Parallel()
	base, root := hostileTree(t)
	d := startConfig(t, baseConfig(t, root))
	for _, tt := range []struct {
		request string
		msg     string // expected error message fragment
	}{
		// Dot segments, each spelling.
		{".", msgNotAllowed},
		{"/.", msgNotAllowed},
		{"/./", msgNotAllowed},
		{"./about.txt", msgNotAllowed},
		{"/sub/./deep.txt", msgNotAllowed},
		{"../", msgNotAllowed},
		{"/..", msgNotAllowed},
		{"/../", msgNotAllowed},
		{"/sub/..", msgNotAllowed},
		{"/sub/../", msgNotAllowed},
		{"sub/../../outside.txt", msgNotAllowed},
		{"/sub/inner/../../../outside.txt", msgNotAllowed},
		{"/../outside/secret.txt", msgNotAllowed},
		{"/" + strings.Repeat("../", 300) + "outside.txt", msgNotAllowed},
		{"/.../outside.txt", msgNotAllowed},
		{"/....//outside.txt", msgNotAllowed},
		{"/.. /outside.txt", msgNotAllowed},
		{"/..\t+", msgNotAllowed},
		{"/../outside.txt\t$", msgNotAllowed},
		{"/../outside.txt\t!", msgNotAllowed},
		{"/../outside.txt\tsearch words\t+", msgNotAllowed},
		{" /../outside.txt", msgNotAllowed},
		// Doubled slashes: empty components are skipped, never resolved
		// against the file system root.
		{"//outside.txt", msgNotFound},
		{"///../outside.txt", msgNotAllowed},
		{"/sub//..//..//outside.txt", msgNotAllowed},
		{"//" + base + "/outside.txt", msgNotFound},
		// Percent-encoding is not decoded: these are literal names.
		{"/%2e%2e/outside.txt", msgNotFound},
		{"/%2E%2E/outside.txt", msgNotFound},
		{"/%2e%2e%2foutside.txt", msgNotFound},
		{"/%252e%252e/outside.txt", msgNotFound},
		{"/%c0%ae%c0%ae/outside.txt", msgNotFound},
		{"/..%2foutside.txt", msgNotAllowed},
		{"/..%5coutside.txt", msgNotAllowed},
		// Backslashes are never separators and never allowed.
		{`\..\outside.txt`, msgNotAllowed},
		{`..\outside.txt`, msgNotAllowed},
		{`/sub\..\..\outside.txt`, msgNotAllowed},
		{`/sub/..\outside.txt`, msgNotAllowed},
		{`\\server\share\outside.txt`, msgNotAllowed},
		{`/sub\deep.txt`, msgNotAllowed},
		{`C:\Windows\win.ini`, msgNotAllowed},
		// NUL anywhere is a bad request, before any path handling.
		{"\x00", msgBadRequest},
		{"/about.txt\x00.png", msgBadRequest},
		{"/..\x00/outside.txt", msgBadRequest},
		{"/sub/deep.txt\x00", msgBadRequest},
		{"/about.txt\t\x00", msgBadRequest},
		// Overlong UTF-8 for '.', '/' and '\', and look-alike dots: bytes,
		// not characters, so never a dot segment.
		{"/\xc0\xae\xc0\xae/outside.txt", msgNotFound},
		{"/\xe0\x80\xae\xe0\x80\xae/outside.txt", msgNotFound},
		{"/\xf0\x80\x80\xae\xf0\x80\x80\xae/outside.txt", msgNotFound},
		{"/\xc0\xae\xc0\xae\xc0\xafoutside.txt", msgNotFound},
		{"/sub\xc0\xaf\xc0\xae\xc0\xae\xc0\xaf\xc0\xae\xc0\xae\xc0\xafoutside.txt", msgNotFound},
		{"/sub\xc1\x9c..\xc1\x9coutside.txt", msgNotFound},
		{"/..\xc0\xafoutside.txt", msgNotAllowed},
		{"/\xef\xbc\x8e\xef\xbc\x8e/outside.txt", msgNotFound},            // U+FF0E fullwidth full stop
		{"/\xe2\x80\xa4\xe2\x80\xa4/outside.txt", msgNotFound},            // U+2024 one dot leader
		{"/\xef\xbc\x8e\xef\xbc\x8e\xef\xbc\x8foutside.txt", msgNotFound}, // and U+FF0F fullwidth solidus
		// Absolute paths are relative to the root.
		{"/etc/passwd", msgNotFound},
		{"etc/passwd", msgNotFound},
		{"/proc/self/environ", msgNotFound},
		{"/proc/self/root/etc/passwd", msgNotFound},
		{base + "/outside.txt", msgNotFound},
		{root + "/../outside.txt", msgNotAllowed},
		{"file:///etc/passwd", msgNotFound},
		{"~root/.profile", msgNotAllowed},
		{"/~", msgNotFound},
	} {
		got, err := fetch(d.addr, "", tt.request, 10*time.Second)
		if err != nil {
			t.Errorf("%q: %v", tt.request, err)
			continue
		}
		refused(t, tt.request, got, tt.msg)
	}

	// Look-alikes of traversal that name real files inside the root are
	// served: the rules refuse components, not substrings.
	for sel, want := range map[string]string{
		"/a..b.txt":              "double dot inside a name\n",
		"/%2e%2e/literal":        "a directory really called %2e%2e\n",
		"/percent%2fslash":       "a file really called percent%2fslash\n",
		"/about.txt\t../outside": "About this hole.\n",        // the search field is not a path
		"/about.txt\t+":          "+-2\r\nAbout this hole.\n", // Gopher+: the file after its header
		"about.txt":              "About this hole.\n",
		"//sub//inner//x.txt":    "inner x\n",
	} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v; want %q", sel, trim(got), err, want)
		}
	}
	// "....txt" starts with a dot: a dotfile, refused and never listed.
	got, _ := fetch(d.addr, "", "/....txt", 10*time.Second)
	refused(t, "/....txt", got, msgNotAllowed)
	root0, _ := fetch(d.addr, "", "/", 10*time.Second)
	for _, it := range parseMenu(t, "/", root0) {
		if strings.HasPrefix(it.Display, ".") {
			t.Errorf("dotfile listed: %+v", it)
		}
	}
	healthy(t, d, "/about.txt", []byte("About this hole.\n"))
}

// TestSymlinkEscapes covers symlinks that leave the root, absolute and
// relative, to files and directories, directly and through chains, and
// checks that the listing leaves them out while in-root links work.
func TestSymlinkEscapes(t *testing.T) {
	t.Parallel()
	base, root := hostileTree(t)
	links := map[string]string{
		"abs-out":          filepath.Join(base, "outside.txt"),
		"rel-out":          "../outside.txt",
		"sub/up":           "../../outside.txt",
		"sub/inner/up3":    "../../../outside/secret.txt",
		"absdir-out":       filepath.Join(base, "outside"),
		"reldir-out":       "../outside",
		"parent":           "..",
		"fsroot":           "/",
		"sysetc":           "/etc",
		"proc":             "/proc/self/root",
		"chain1":           "chain2",
		"chain2":           "sub/chain3",
		"sub/chain3":       "../../outside.txt",
		"dirchain":         "sub/dir-up",
		"sub/dir-up":       "../..",
		"in-file":          "about.txt",
		"in-dir":           "sub",
		"in-rel-back":      "sub/../about.txt",
		"sub/in-back":      "../docs/real.txt",
		"abs-in":           filepath.Join(root, "about.txt"),
		"dangling":         "no-such-file",
		"dangling-abs-out": filepath.Join(base, "no-such-file"),
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	d := startConfig(t, baseConfig(t, root))
	for _, sel := range []string{
		"/abs-out", "/rel-out", "/sub/up", "/sub/inner/up3",
		"/absdir-out", "/absdir-out/", "/absdir-out/secret.txt", "/absdir-out/inner/x.txt",
		"/reldir-out/secret.txt", "/reldir-out",
		"/parent", "/parent/outside.txt", "/parent/root/about.txt",
		"/fsroot/etc/passwd", "/fsroot", "/sysetc/passwd", "/sysetc", "/proc/etc/passwd",
		"/chain1", "/chain2", "/sub/chain3",
		"/dirchain", "/dirchain/outside.txt", "/dirchain/root/about.txt",
		"/dangling", "/dangling-abs-out",
		// An absolute symlink is refused even when it points inside the
		// root: os.Root resolves relative to the root descriptor only.
		"/abs-in",
	} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			continue
		}
		refused(t, sel, got, msgNotFound)
	}
	for sel, want := range map[string]string{
		"/in-file":            "About this hole.\n",
		"/in-dir/deep.txt":    "deep\n",
		"/in-rel-back":        "About this hole.\n",
		"/sub/in-back":        "the real document\n",
		"/in-dir/in-back":     "the real document\n",
		"/in-dir/inner/x.txt": "inner x\n",
	} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v; want %q", sel, trim(got), err, want)
		}
	}

	// The listing shows in-root links only; escaping and dangling ones are
	// left out with a warning.
	listed := map[string]bool{}
	for _, dir := range []string{"/", "/sub", "/sub/inner"} {
		body, err := fetch(d.addr, "", dir, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range parseMenu(t, dir, body) {
			listed[it.Selector] = true
		}
	}
	for _, sel := range []string{"/in-file", "/in-dir", "/in-rel-back", "/sub/in-back"} {
		if !listed[sel] {
			t.Errorf("in-root link %s not listed", sel)
		}
	}
	for _, link := range []string{
		"abs-out", "rel-out", "sub/up", "sub/inner/up3", "absdir-out", "reldir-out", "parent", "fsroot",
		"sysetc", "proc", "chain1", "chain2", "sub/chain3", "dirchain", "sub/dir-up", "abs-in", "dangling", "dangling-abs-out",
	} {
		if listed["/"+link] {
			t.Errorf("escaping or dangling link /%s listed", link)
		}
	}
	if !strings.Contains(d.log.String(), "not listing symlink") {
		t.Errorf("no warning about the unlisted symlinks:\n%s", d.log)
	}
	healthy(t, d, "/in-file", []byte("About this hole.\n"))
}

// swapSymlink atomically replaces the symlink at path with one to target.
func swapSymlink(t testing.TB, path, target string) {
	tmp := path + ".swap"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Error(err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Error(err)
	}
}

// TestSymlinkSwappedAfterListing lists a directory, then replaces an in-root
// symlink it showed with one pointing outside, and requests it: the answer
// is decided when the request is resolved, not when the listing was made.
// It then flips the link back and forth while requesting it, so a
// check-then-open race would show as leaked content.
func TestSymlinkSwappedAfterListing(t *testing.T) {
	slow(t)
	t.Parallel()
	base, root := hostileTree(t)
	fileLink := filepath.Join(root, "docs", "current")
	dirLink := filepath.Join(root, "latest")
	if err := os.Symlink("real.txt", fileLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("docs", dirLink); err != nil {
		t.Fatal(err)
	}
	d := startConfig(t, baseConfig(t, root))

	listing := func(dir string) map[string]menuItem {
		body, err := fetch(d.addr, "", dir, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]menuItem{}
		for _, it := range parseMenu(t, dir, body) {
			out[it.Selector] = it
		}
		return out
	}
	if _, ok := listing("/docs")["/docs/current"]; !ok {
		t.Fatal("in-root file link not listed")
	}
	if it, ok := listing("/")["/latest"]; !ok || it.Type != '1' {
		t.Fatalf("in-root dir link not listed as a menu: %+v", it)
	}
	if got, _ := fetch(d.addr, "", "/latest/current", 10*time.Second); string(got) != "the real document\n" {
		t.Fatalf("before the swap: %q", got)
	}

	swapSymlink(t, fileLink, filepath.Join(base, "outside.txt"))
	swapSymlink(t, dirLink, "../outside")
	for _, sel := range []string{"/docs/current", "/latest", "/latest/", "/latest/secret.txt", "/latest/inner/x.txt"} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		refused(t, sel, got, msgNotFound)
	}
	if _, ok := listing("/docs")["/docs/current"]; ok {
		t.Error("swapped link still listed")
	}
	if _, ok := listing("/")["/latest"]; ok {
		t.Error("swapped dir link still listed")
	}

	// Flip both links between inside and outside while requesting them.
	// Bounded: flips stop after 2000 swaps or 5 s, requests after 300.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		end := time.Now().Add(5 * time.Second)
		for i := 0; i < 2000 && time.Now().Before(end); i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				swapSymlink(t, fileLink, "real.txt")
				swapSymlink(t, dirLink, "docs")
			} else {
				swapSymlink(t, fileLink, "../../outside.txt")
				swapSymlink(t, dirLink, filepath.Join(base, "outside"))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	served, refusedN := 0, 0
	for i := 0; i < 300; i++ {
		sel := []string{"/docs/current", "/latest/real.txt", "/latest/secret.txt"}[i%3]
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Errorf("%q during the flips: %v", sel, err)
			break
		}
		switch {
		case bytes.Contains(got, []byte(outsideMarker)):
			t.Fatalf("%q leaked during the flips: %q", sel, got)
		case string(got) == "the real document\n":
			served++
		case errorItem(got, msgNotFound):
			refusedN++
		default:
			t.Fatalf("%q during the flips: unexpected %q", sel, trim(got))
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("during the flips: %d served from inside, %d refused", served, refusedN)
	healthy(t, d, "/about.txt", []byte("About this hole.\n"))
}

// TestDotfilesAtEveryDepth puts dotfiles and dot-directories at six depths
// and checks that none is served (directly, with trailing or doubled
// slashes, or through a path below a dot-directory) or listed.
func TestDotfilesAtEveryDepth(t *testing.T) {
	slow(t)
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{}
	var secrets []string
	dir := ""
	for depth := 0; depth < 6; depth++ {
		for _, name := range []string{".env", ".htaccess", ".x.txt", "..hidden", "...", ".git/config", ".git/objects/ab/cd", ".ssh/id_ed25519", ".well-known/security.txt"} {
			p := dir + name
			files[p] = fmt.Sprintf("DOT-SECRET depth %d %s\n", depth, name)
			secrets = append(secrets, p)
		}
		files[dir+"visible.txt"] = fmt.Sprintf("visible at depth %d\n", depth)
		dir += fmt.Sprintf("d%d/", depth+1)
	}
	writeTree(t, root, files)
	d := startConfig(t, baseConfig(t, root))

	check := func(sel string) {
		t.Helper()
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			return
		}
		if bytes.Contains(got, []byte("DOT-SECRET")) {
			t.Errorf("%q leaked: %q", sel, trim(got))
			return
		}
		refused(t, sel, got, msgNotAllowed)
	}
	for _, p := range secrets {
		check("/" + p)
		check(p)
		check("//" + strings.ReplaceAll(p, "/", "//"))
		if i := strings.LastIndex(p, "/"); i > 0 && strings.Contains(p[:i], ".") {
			check("/" + p[:i]) // the dot-directory itself
			check("/" + p[:i] + "/")
		}
	}
	// Each level's listing shows the visible file and the next level only.
	dir = "/"
	for depth := 0; depth < 6; depth++ {
		body, err := fetch(d.addr, "", dir, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(body, []byte("DOT-SECRET")) {
			t.Fatalf("listing %s leaked content", dir)
		}
		var names []string
		for _, it := range parseMenu(t, dir, body) {
			names = append(names, it.Display)
			for _, c := range strings.Split(it.Selector, "/") {
				if strings.HasPrefix(c, ".") {
					t.Errorf("listing %s: item with a dot component: %+v", dir, it)
				}
			}
		}
		want := []string{fmt.Sprintf("d%d", depth+1), "visible.txt"}
		if depth == 5 {
			want = want[1:]
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("listing %s: got %q, want %q", dir, names, want)
		}
		dir += fmt.Sprintf("d%d/", depth+1)
	}
	healthy(t, d, "/d1/d2/visible.txt", []byte("visible at depth 2\n"))
}

// TestGophermapNeverServedRaw checks that gophermap source files, in either
// spelling and in any letter case, at the root and below, are refused as
// files and never show up as items of their directory's menu.
func TestGophermapNeverServedRaw(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	const src = "GOPHERMAP-SOURCE info line\n0About\tabout.txt\n"
	writeTree(t, root, map[string]string{
		"about.txt":       "about\n",
		"gophermap":       src,
		"sub/gophermap":   src,
		"sub2/.gophermap": src,
		"sub3/GOPHERMAP":  src,
		"sub4/GopherMap":  src,
		"both/gophermap":  src,
		"both/.gophermap": src,
		"plain/file.txt":  "file\n",
	})
	d := startConfig(t, baseConfig(t, root))
	for _, sel := range []string{
		"/gophermap", "gophermap", "//gophermap", "/gophermap/", "/.gophermap",
		"/sub/gophermap", "/sub//gophermap", "/sub2/.gophermap", "/sub3/GOPHERMAP", "/sub3/gophermap",
		"/sub4/GopherMap", "/both/gophermap", "/both/.gophermap", "/gophermap\t+", "/sub/gophermap\t$",
	} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			continue
		}
		if bytes.Equal(got, []byte(src)) {
			t.Errorf("%q served the gophermap source raw", sel)
			continue
		}
		refused(t, sel, got, msgNotAllowed)
	}
	// Menus (automatic listings now; rendered maps once they are supported)
	// never carry an item that links to the map file itself.
	for _, dir := range []string{"/", "/sub", "/sub2", "/sub3", "/sub4", "/both", "/plain"} {
		body, err := fetch(d.addr, "", dir, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(body, []byte(src)) {
			t.Fatalf("%s: menu is the raw map", dir)
		}
		for _, it := range parseMenu(t, dir, body) {
			if strings.HasSuffix(strings.ToLower(it.Selector), "gophermap") {
				t.Errorf("%s: map file listed: %+v", dir, it)
			}
		}
	}
	healthy(t, d, "/about.txt", []byte("about\n"))
}

// TestSpecialFilesDoNotHang puts FIFOs (one with a live writer), a Unix
// socket and, when running as root, character devices into the tree, and a
// FIFO swapped in for a file after the listing: every request is refused at
// once and no listing hangs or shows them.
func TestSpecialFilesDoNotHang(t *testing.T) {
	slow(t)
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"about.txt": "about\n", "swap.bin": "regular for now\n", "swapdir/x.txt": "x\n", "sub/ok.txt": "ok\n",
	})
	for _, p := range []string{"fifo", "sub/pipe.txt", "noext-fifo", "live-fifo", "fifo.tmp"} {
		if err := syscall.Mkfifo(filepath.Join(root, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A FIFO someone is writing to: opening it for reading would succeed
	// and then stream whatever the writer sends.
	live, err := os.OpenFile(filepath.Join(root, "live-fifo"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := live.Write([]byte("FROM-THE-FIFO\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("fifo", filepath.Join(root, "fifolink")); err != nil {
		t.Fatal(err)
	}
	sockPath := filepath.Join(root, "sock")
	var special = []string{"/fifo", "/sub/pipe.txt", "/noext-fifo", "/live-fifo", "/fifolink"}
	if len(sockPath) < 100 {
		ln, err := net.Listen("unix", sockPath)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		special = append(special, "/sock")
	}
	if os.Geteuid() == 0 {
		for name, dev := range map[string]int{"zero": 1<<8 | 5, "null": 1<<8 | 3, "urandom.txt": 1<<8 | 9} {
			if err := mknod(syscall.Mknod, filepath.Join(root, name), syscall.S_IFCHR|0o666, dev); err != nil {
				t.Fatalf("mknod %s: %v", name, err)
			}
			special = append(special, "/"+name)
		}
	} else {
		t.Log("not root: device nodes left out")
	}
	d := startConfig(t, baseConfig(t, root))

	for _, dir := range []string{"/", "/sub"} {
		body, err := fetch(d.addr, "", dir, 5*time.Second)
		if err != nil {
			t.Fatalf("listing %s: %v", dir, err)
		}
		for _, it := range parseMenu(t, dir, body) {
			for _, s := range special {
				if it.Selector == s {
					t.Errorf("special file listed: %+v", it)
				}
			}
		}
	}
	for _, sel := range special {
		got, err := fetch(d.addr, "", sel, 5*time.Second)
		if err != nil {
			t.Errorf("%q: %v (hung?)", sel, err)
			continue
		}
		if bytes.Contains(got, []byte("FROM-THE-FIFO")) {
			t.Errorf("%q: served the FIFO's data", sel)
		}
		refused(t, sel, got, msgNotAllowed)
	}

	// Swapped after the listing: a file and a directory become FIFOs.
	if _, err := fetch(d.addr, "", "/", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "fifo.tmp"), filepath.Join(root, "swap.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "swapdir")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "swapdir"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{"/swap.bin", "/swapdir", "/swapdir/"} {
		got, err := fetch(d.addr, "", sel, 5*time.Second)
		if err != nil {
			t.Errorf("%q after the swap: %v (hung?)", sel, err)
			continue
		}
		refused(t, sel, got, msgNotAllowed)
	}
	got, err := fetch(d.addr, "", "/swapdir/x.txt", 5*time.Second)
	if err != nil {
		t.Fatalf("/swapdir/x.txt: %v", err)
	}
	refused(t, "/swapdir/x.txt", got, "")
	healthy(t, d, "/sub/ok.txt", []byte("ok\n"))
}

// TestUnreadableFilesAndDirs serves a tree with chmod 000 files and
// directories, a directory that can be entered but not listed and one that
// can be listed but not entered. Root ignores permission bits, so as root
// the daemon runs as user nobody on a tree nobody can read except those
// parts.
func TestUnreadableFilesAndDirs(t *testing.T) {
	slow(t)
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, root, map[string]string{
		"pub.txt":          "public\n",
		"secret.txt":       "UNREADABLE-SECRET\n",
		"noext":            "UNREADABLE-SECRET without extension\n",
		"locked/inner.txt": "UNREADABLE-SECRET inside a locked dir\n",
		"nolist/known.txt": "known name in an unlistable dir\n",
		"noexec/f.txt":     "UNREADABLE-SECRET behind a dir without x\n",
		"sub/ok.txt":       "ok\n",
	})
	cfg := baseConfig(t, root)
	if os.Geteuid() == 0 {
		cfg["user"] = "nobody"
		for _, p := range []string{base, filepath.Dir(base)} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for p, mode := range map[string]os.FileMode{
		"secret.txt": 0, "noext": 0, "locked": 0, "nolist": 0o311, "noexec": 0o644,
	} {
		if err := os.Chmod(filepath.Join(root, p), mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		// Let t.TempDir's cleanup remove everything.
		for _, p := range []string{"locked", "nolist", "noexec"} {
			_ = os.Chmod(filepath.Join(root, p), 0o755)
		}
	})
	d := startConfig(t, cfg)
	if cfg["user"] != nil && !strings.Contains(d.log.String(), "dropped privileges") {
		t.Fatalf("daemon did not drop to nobody:\n%s", d.log)
	}
	for _, sel := range []string{"/secret.txt", "/noext", "/locked", "/locked/", "/locked/inner.txt", "/nolist", "/noexec/f.txt"} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			continue
		}
		if bytes.Contains(got, []byte("UNREADABLE-SECRET")) {
			t.Errorf("%q leaked: %q", sel, got)
			continue
		}
		refused(t, sel, got, msgNotAllowed)
	}
	// Permission to enter without permission to list: os.Root opens every
	// directory on the way for reading, so even a known name inside is
	// refused. Either answer is safe; anything else is not.
	if got, _ := fetch(d.addr, "", "/nolist/known.txt", 10*time.Second); string(got) != "known name in an unlistable dir\n" {
		refused(t, "/nolist/known.txt", got, msgNotAllowed)
	}
	// The root listing is still answered and well-formed.
	body, err := fetch(d.addr, "", "/", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range parseMenu(t, "/", body) {
		seen[it.Selector] = true
	}
	if !seen["/pub.txt"] || !seen["/sub"] {
		t.Errorf("root listing lost readable entries: %q", body)
	}
	// A directory that can be listed but not entered: either a menu or a
	// refusal, never a hang or a leak.
	body, err = fetch(d.addr, "", "/noexec", 10*time.Second)
	if err != nil {
		t.Fatalf("/noexec: %v", err)
	}
	if bytes.Contains(body, []byte("UNREADABLE-SECRET")) {
		t.Errorf("/noexec leaked: %q", body)
	}
	if !errorItem(body, "") {
		parseMenu(t, "/noexec", body)
	}
	healthy(t, d, "/sub/ok.txt", []byte("ok\n"))
}

// TestSymlinkLoops serves two-link and one-link loops, a directory link to
// its own directory, and a chain longer than any resolver follows.
func TestSymlinkLoops(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"about.txt": "about\n", "dir/f.txt": "f\n"})
	links := map[string]string{
		"a": "b", "b": "a", "self": "self", "me": ".", "dir/again": "../dir", "dir/loopdir": "loopdir",
	}
	// os.Root follows at most 8 symlinks per path (rootMaxSymlinks in
	// package os); the kernel's own limit is 40.
	const chain = 60
	for i := range chain {
		links[fmt.Sprintf("l%02d", i)] = fmt.Sprintf("l%02d", i+1)
	}
	links[fmt.Sprintf("l%02d", chain)] = "about.txt"
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	d := startConfig(t, baseConfig(t, root))
	for _, sel := range []string{"/a", "/b", "/self", "/a/x", "/self/", "/self/x", "/dir/loopdir", "/dir/loopdir/f.txt", "/l00",
		"/" + strings.Repeat("me/", 200) + "about.txt"} {
		got, err := fetch(d.addr, "", sel, 5*time.Second)
		if err != nil {
			t.Errorf("%q: %v (hung?)", sel, err)
			continue
		}
		refused(t, sel, got, msgNotFound)
	}
	// Finite repetition through a directory link is a real path.
	for sel, want := range map[string]string{
		"/me/me/me/about.txt":                        "about\n",
		"/" + strings.Repeat("me/", 7) + "about.txt": "about\n",
		"/dir/again/again/f.txt":                     "f\n",
		fmt.Sprintf("/l%02d", chain-4):               "about\n",
	} {
		got, err := fetch(d.addr, "", sel, 5*time.Second)
		if err != nil || string(got) != want {
			t.Errorf("%.60q: got %q, %v; want %q", sel, trim(got), err, want)
		}
	}
	for _, dir := range []string{"/", "/me", "/dir", "/me/dir/again"} {
		body, err := fetch(d.addr, "", dir, 5*time.Second)
		if err != nil {
			t.Fatalf("listing %s: %v", dir, err)
		}
		for _, it := range parseMenu(t, dir, body) {
			switch strings.TrimPrefix(it.Selector, strings.TrimSuffix(dir, "/")) {
			case "/a", "/b", "/self", "/loopdir", "/l00":
				t.Errorf("listing %s shows the loop %+v", dir, it)
			}
		}
	}
	healthy(t, d, "/about.txt", []byte("about\n"))
}

// TestFileChangedWhileSent truncates, deletes or replaces a large file
// while a slow client is receiving it. The transfer must end (complete or
// short), the daemon must not hang or crash, and the next request must be
// answered.
func TestFileChangedWhileSent(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"about.txt": "about\n"})
	d := startConfig(t, baseConfig(t, root))
	// Larger than the socket buffers on both sides hold, so most of the
	// file is still to be sent when it changes.
	const size = 16 << 20
	content := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstu\n"), size/32)
	// After the parallel subtests (and before the daemon is killed).
	t.Cleanup(func() { healthy(t, d, "/about.txt", []byte("about\n")) })
	for _, change := range []string{"truncate to zero", "truncate to 1 MiB", "delete", "replace"} {
		t.Run(change, func(t *testing.T) {
			t.Parallel()
			name := strings.ReplaceAll(change, " ", "-") + ".txt"
			path := filepath.Join(root, name)
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := dialFrom(d.addr, "", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A small receive buffer keeps most of the file on the
			// server's side when the change happens.
			_ = c.SetReadBuffer(64 << 10)
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.WriteString(c, "/"+name+"\r\n"); err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 0, 512<<10)
			buf := make([]byte, 16<<10)
			for len(head) < 256<<10 {
				n, err := c.Read(buf)
				head = append(head, buf[:n]...)
				if err != nil {
					t.Fatalf("reading the head: %v", err)
				}
				time.Sleep(2 * time.Millisecond)
			}
			if !bytes.Equal(head, content[:len(head)]) {
				t.Fatal("head of the transfer differs from the file")
			}
			switch change {
			case "truncate to zero":
				err = os.Truncate(path, 0)
			case "truncate to 1 MiB":
				err = os.Truncate(path, 1<<20)
			case "delete":
				err = os.Remove(path)
			case "replace":
				tmp := path + ".new"
				if err = os.WriteFile(tmp, []byte("short replacement\n"), 0o644); err == nil {
					err = os.Rename(tmp, path)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rest, err := io.ReadAll(c)
			total := len(head) + len(rest)
			t.Logf("%s: received %d of %d bytes in total (%v after the change), read error %v",
				change, total, size, time.Since(start).Round(time.Millisecond), err)
			if err != nil && !isReset(err) {
				t.Errorf("transfer did not end cleanly or with a reset: %v", err)
			}
			// Gopher carries no length: a short transfer must end in a
			// reset, or the client would keep the cut file as complete.
			if total < size && !isReset(err) {
				t.Errorf("short transfer (%d of %d bytes) ended with a clean close", total, size)
			}
			if total > size {
				t.Errorf("received %d bytes, more than the file had", total)
			}
			if got, err := fetch(d.addr, "", "/about.txt", 10*time.Second); err != nil || string(got) != "about\n" {
				t.Errorf("next request: %q, %v", got, err)
			}
		})
	}
}

// isReset reports a connection reset by the peer.
func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// TestTenThousandFiles lists a directory of 10,000 files (a tenth without
// extension, so their type is sniffed from their content).
func TestTenThousandFiles(t *testing.T) {
	slow(t)
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "many")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Hard links to one file: writing 10,000 files' data is slow on some
	// CI disks, linking is not, and each name is still a regular file.
	content := filepath.Join(t.TempDir(), "content")
	if err := os.WriteFile(content, []byte("text content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 10000
	for i := range n {
		name := fmt.Sprintf("f%05d.txt", i)
		if i%10 == 0 {
			name = fmt.Sprintf("f%05d", i)
		}
		if err := os.Link(content, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	d := startConfig(t, baseConfig(t, root))
	var first []byte
	for round := range 2 { // the second answer may come from the listing cache
		start := time.Now()
		body, err := fetch(d.addr, "", "/many", 60*time.Second)
		t.Logf("round %d: listing of %d files took %v", round, n, time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		items := parseMenu(t, "/many", body)
		if len(items) != n {
			t.Fatalf("round %d: %d items, want %d", round, len(items), n)
		}
		for i, it := range items {
			name := fmt.Sprintf("f%05d.txt", i)
			if i%10 == 0 {
				name = fmt.Sprintf("f%05d", i)
			}
			if it.Display != name || it.Selector != "/many/"+name || it.Type != '0' {
				t.Fatalf("item %d: %+v, want text item %s", i, it, name)
			}
		}
		if round == 0 {
			first = body
		} else if !bytes.Equal(first, body) {
			t.Fatal("second listing differs from the first")
		}
	}
	healthy(t, d, "/many/f00001.txt", []byte("text content\n"))
}

// TestTenLevelsDeep walks a tree ten directories deep menu by menu, as a
// client would, and fetches the leaf with several spellings of its path.
func TestTenLevelsDeep(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var parts []string
	for i := 1; i <= 10; i++ {
		parts = append(parts, fmt.Sprintf("level%02d", i))
	}
	deep := strings.Join(parts, "/")
	writeTree(t, root, map[string]string{deep + "/leaf.txt": "the bottom\n"})
	d := startConfig(t, baseConfig(t, root))
	sel := ""
	for depth := 0; depth <= 10; depth++ {
		body, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		items := parseMenu(t, "depth "+fmt.Sprint(depth), body)
		if len(items) != 1 {
			t.Fatalf("depth %d (%q): %d items, want 1", depth, sel, len(items))
		}
		want := menuItem{Type: '1', Display: fmt.Sprintf("level%02d", depth+1), Selector: sel + fmt.Sprintf("/level%02d", depth+1), Host: "localhost", Port: fmt.Sprint(d.port)}
		if depth == 10 {
			want = menuItem{Type: '0', Display: "leaf.txt", Selector: sel + "/leaf.txt", Host: "localhost", Port: fmt.Sprint(d.port)}
		}
		if items[0] != want {
			t.Fatalf("depth %d: got %+v, want %+v", depth, items[0], want)
		}
		sel = items[0].Selector
	}
	for _, s := range []string{sel, strings.TrimPrefix(sel, "/"), strings.ReplaceAll(sel, "/", "//"), sel + "/"} {
		if got, err := fetch(d.addr, "", s, 10*time.Second); err != nil || string(got) != "the bottom\n" {
			t.Errorf("%q: %q, %v", s, got, err)
		}
	}
	healthy(t, d, sel, []byte("the bottom\n"))
}

// TestAwkwardNames serves names with TAB, CR, LF, backslash, invalid UTF-8,
// terminal escapes and a menu-line injection attempt. Names that cannot be
// written into a menu line are left out with a warning that quotes them
// escaped; the protocol carries bytes, so every other name is listed
// byte-exact and can be fetched by the selector the menu gives. The menu
// stays well-formed throughout.
func TestAwkwardNames(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	unlistable := []string{
		"tab\tname.txt",
		"cr\rname.txt",
		"lf\nname.txt",
		"inject\r\n0evil\t/etc/passwd\tevil.example\t70.txt",
		"log\ninjection 2099-01-01T00:00:00.000Z error FORGED.txt",
		"back\\slash.txt",
		// Terminal controls would act on the client's screen.
		"esc-\x1b[31mred.txt",
		"bell-\x07.txt",
		"bs-\x08\x08\x08.txt",
		"del-\x7f.txt",
		"c1-\u009b31m.txt",
		"raw-c1-\x9b31m.txt",
	}
	listable := []string{
		"bad\xffutf8.txt",
		"latin1-\xe9t\xe9.txt",
		"overlong-\xc0\xae.txt",
		"surrogate-\xed\xbf\xbf.txt",
		"space name.txt",
		" leading-space.txt",
		"trailing-space.txt ",
		"utf8-\u00fcn\u00efc\u00f6d\u00e9.txt",
		"emoji-\U0001F600.txt",
		"percent%0d%0a.txt",
		"semi;colon&amp.txt",
	}
	files := map[string]string{"about.txt": "about\n", "dir\twith-tab/inside.txt": "hidden by its dir\n", "dir\xfe/inside.txt": "inside a non-UTF-8 dir\n"}
	for _, n := range unlistable {
		files[n] = "unlistable\n"
	}
	for i, n := range listable {
		files[n] = fmt.Sprintf("listable %d\n", i)
	}
	writeTree(t, root, files)
	d := startConfig(t, baseConfig(t, root))

	body, err := fetch(d.addr, "", "/", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	items := parseMenu(t, "/", body)
	bySel := map[string]menuItem{}
	for _, it := range items {
		bySel[it.Selector] = it
	}
	isControl := func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' || r >= 0x80 && r < 0xa0 }
	for _, n := range unlistable {
		prefix := strings.FieldsFunc(strings.ToValidUTF8(n, "\u0080"), isControl)[0]
		for _, it := range items {
			if strings.Contains(it.Display, prefix) {
				t.Errorf("unlistable name %q shows up as %+v", n, it)
			}
		}
	}
	if _, ok := bySel["/dir\twith-tab"]; ok {
		t.Error("directory with a TAB listed")
	}
	for i, n := range listable {
		it, ok := bySel["/"+n]
		if !ok {
			t.Errorf("%q not listed byte-exact", n)
			continue
		}
		if it.Display != n {
			t.Errorf("%q displayed as %q", n, it.Display)
		}
		got, err := fetch(d.addr, "", it.Selector, 10*time.Second)
		if want := fmt.Sprintf("listable %d\n", i); err != nil || string(got) != want {
			t.Errorf("fetching %q: %q, %v", it.Selector, got, err)
		}
	}
	if it, ok := bySel["/dir\xfe"]; !ok || it.Type != '1' {
		t.Errorf("non-UTF-8 directory not listed as a menu: %+v", it)
	} else if sub, err := fetch(d.addr, "", it.Selector, 10*time.Second); err != nil {
		t.Error(err)
	} else if si := parseMenu(t, it.Selector, sub); len(si) != 1 || si[0].Selector != "/dir\xfe/inside.txt" {
		t.Errorf("non-UTF-8 directory's menu: %q", sub)
	}

	// What a client can send for the unlistable names: a CR is a bad
	// request, a TAB ends the selector, a backslash is refused.
	for sel, msg := range map[string]string{
		"/cr\rname.txt":    msgBadRequest,
		"/tab\tname.txt":   msgNotFound,
		"/back\\slash.txt": msgNotAllowed,
	} {
		got, err := fetch(d.addr, "", sel, 10*time.Second)
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			continue
		}
		refused(t, sel, got, msg)
	}

	// The warnings name the unlistable files, escaped: the first eight of
	// a listing one by one, then a count of the rest (a directory of a
	// million such names is a handful of log lines). No raw control byte
	// reaches the log and no forged line appears.
	time.Sleep(100 * time.Millisecond)
	logs := d.log.String()
	named, more := 0, 0
	for _, line := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(line, "not listing file"):
			named++
			if !strings.Contains(line, `\\x`) && !strings.Contains(line, `\\\\`) {
				t.Errorf("unlistable name not escaped: %q", line)
			}
		case strings.Contains(line, " more {"):
			fmt.Sscanf(line[strings.Index(line, ": and ")+len(": and "):], "%d", &more)
		}
	}
	if want := len(unlistable) + 1; named != min(want, 8) || named+more != want {
		t.Errorf("%d warnings about unlistable names and %d counted, want %d in all, at most 8 one by one:\n%s", named, more, want, logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "\r") || strings.Contains(line, "\x1b") || strings.Contains(line, "\x07") {
			t.Errorf("raw control byte in log line %q", line)
		}
		if strings.HasPrefix(line, "0evil") || strings.HasPrefix(line, "injection ") {
			t.Errorf("forged log line: %q", line)
		}
	}
	healthy(t, d, "/about.txt", []byte("about\n"))
}

// TestInvisibleCharactersEscaped asks for selectors holding format
// characters (a right-to-left override, a zero-width space, a byte-order
// mark) and a C1 control: the error item and the access log must carry
// them escaped, never raw, so that neither a client's screen nor an
// operator's terminal shows a line that reads differently from what it
// holds.
func TestInvisibleCharactersEscaped(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"about.txt": "about\n"})
	d := startConfig(t, baseConfig(t, root))
	for sel, want := range map[string]string{
		"/invoice\u202etxt.exe": `/invoice\xe2\x80\xaetxt.exe`,
		"/zero\u200bwidth":      `/zero\xe2\x80\x8bwidth`,
		"/\ufeffbom":            `/\xef\xbb\xbfbom`,
		"/csi\u009b2J":          `/csi\xc2\x9b2J`,
	} {
		got := d.get(sel)
		if !errorItem(got, msgNotFound) || !bytes.Contains(got, []byte(want)) {
			t.Errorf("%q: got %q, want the not-found item naming %s", sel, got, want)
		}
		raw := strings.TrimPrefix(sel, "/")
		if bytes.Contains(got, []byte(raw)) {
			t.Errorf("%q: error item repeats the selector raw: %q", sel, got)
		}
	}
	healthy(t, d, "/about.txt", []byte("about\n"))
	logs := d.log.String()
	for _, r := range []string{"\u202e", "\u200b", "\ufeff", "\u009b"} {
		if strings.Contains(logs, r) {
			t.Errorf("log holds %U raw:\n%s", []rune(r)[0], logs)
		}
	}
	if !strings.Contains(logs, `invoice\\xe2\\x80\\xaetxt.exe`) {
		t.Errorf("access log does not name the escaped selector:\n%s", logs)
	}
}

// mknod calls syscall.Mknod, whose device argument is an int on Linux and
// darwin but a uint64 on FreeBSD: the type comes from the function passed.
func mknod[D ~int | ~uint64](mknod func(string, uint32, D) error, path string, mode uint32, dev int) error {
	return mknod(path, mode, D(dev))
}

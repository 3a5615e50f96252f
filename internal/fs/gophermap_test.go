//go:build unix

package fs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGophermapRendered(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "sub", "gophermap"), "Hello  there\n0A file\tfile.txt\n1Up\t..\n1Abs\t/x\n")
	write(t, filepath.Join(root, "sub", "file.txt"), "f\n")
	write(t, filepath.Join(root, "spacecookie", ".gophermap"), "iFrom .gophermap\t\n")
	h, _ := newHandler(t, root)

	got := get(t, h, "/sub").String()
	want := "iHello  there\t\tlocalhost\t7000\r\n" +
		"0A file\t/sub/file.txt\tlocalhost\t7000\r\n" +
		"1Up\t/\tlocalhost\t7000\r\n" +
		"1Abs\t/x\tlocalhost\t7000\r\n.\r\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := get(t, h, "/spacecookie").String(); got != "iFrom .gophermap\t\tlocalhost\t7000\r\n.\r\n" {
		t.Fatalf(".gophermap: got %q", got)
	}
	for _, sel := range []string{"/sub/gophermap", "/spacecookie/.gophermap"} {
		if rec := get(t, h, sel); rec.lastServed() != "not-allowed" {
			t.Errorf("%s served raw: %q", sel, rec.String())
		}
	}
}

func TestGophermapBothPresent(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), "Bucktooth\n")
	write(t, filepath.Join(root, ".gophermap"), "Spacecookie\n")
	h, logs := newHandler(t, root)
	if got := get(t, h, "/").String(); !strings.HasPrefix(got, "iBucktooth\t") {
		t.Fatalf("got %q, want the gophermap", got)
	}
	if logs.FilterMessageSnippet("both gophermap and .gophermap").Len() != 1 {
		t.Fatalf("no warning about two maps: %v", logs.All())
	}
}

func TestGophermapBadLineWarns(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), "first\n1Bad port\t/x\thost\tseventy\nlast\n")
	h, logs := newHandler(t, root)
	got := get(t, h, "/").String()
	if !strings.Contains(got, "ifirst\t") || !strings.Contains(got, "ilast\t") || strings.Contains(got, "Bad port") {
		t.Fatalf("menu: %q", got)
	}
	entries := logs.FilterMessageSnippet("gophermap:").All()
	if len(entries) != 1 || !strings.Contains(entries[0].Message, "gophermap:2:") {
		t.Fatalf("want one warning naming gophermap:2, got %v", logs.All())
	}
}

// TestGophermapCacheFollowsEdits checks that a rendered map is reused while
// the file is unchanged and that an edit shows on the next request.
func TestGophermapCacheFollowsEdits(t *testing.T) {
	root := t.TempDir()
	mapPath := filepath.Join(root, "gophermap")
	write(t, mapPath, "iversion one\n")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(mapPath, old, old); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, root)
	if got := get(t, h, "/").String(); !strings.Contains(got, "version one") {
		t.Fatalf("got %q", got)
	}
	if h.cache.len() != 1 {
		t.Fatalf("rendered map not cached: %d entries", h.cache.len())
	}
	write(t, mapPath, "iversion two\n")
	if got := get(t, h, "/").String(); !strings.Contains(got, "version two") {
		t.Fatalf("edited map not served: %q", got)
	}
	// Removing the map brings back the automatic listing.
	if err := os.Remove(mapPath); err != nil {
		t.Fatal(err)
	}
	if got := get(t, h, "/").String(); got != ".\r\n" {
		t.Fatalf("after removing the map: %q", got)
	}
}

// TestGophermapServeWarnings: a map served with lines a visitor sees
// wrongly (a link typed with spaces, text ending in a TAB) or cut by a
// lone "." gets a warning naming the lint rule, once per version of the
// map however often it is served; the cut is reported even when more
// problems than are logged one by one come before it.
func TestGophermapServeWarnings(t *testing.T) {
	root := t.TempDir()
	mapPath := filepath.Join(root, "gophermap")
	bad := strings.Repeat("1Bad port\t/x\thost\tseventy\n", maxProblemLines)
	write(t, mapPath, "0About  about.txt\nWelcome to my hole\t\n"+bad+".\nnever shown\n")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(mapPath, old, old); err != nil {
		t.Fatal(err)
	}
	h, logs := newHandler(t, root)
	for range 3 {
		get(t, h, "/")
	}
	rules := map[string]int{}
	for _, e := range logs.FilterMessageSnippet("gophermap:").All() {
		r, _ := e.ContextMap()["rule"].(string)
		rules[r]++
	}
	if rules["GM011"] != 1 || rules["GM001"] != 1 || rules["GM003"] != 1 || rules["GM005"] != maxProblemLines-2 {
		t.Fatalf("warnings by rule %v, want GM011, GM001 and GM003 once and the rest GM005: %v", rules, logs.All())
	}
	if logs.FilterMessageSnippet("and 2 more").Len() != 1 {
		t.Errorf("the problems over the limit are not counted: %v", logs.All())
	}
	// A new version warns again.
	write(t, mapPath, "text\n.\nmore\n")
	get(t, h, "/")
	if n := logs.FilterMessageSnippet("which ends the map").Len(); n != 2 {
		t.Errorf("%d cut warnings after an edit, want 2: %v", n, logs.All())
	}
}

package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The built-in search through the binary: what is found, what never is,
// how fresh the index stays, and what a hostile query can do to the menu.

// searchTree is a root with one word per place that search must or must
// not reach, every file also holding "common". Outside the root, a file
// the symlink link.txt points to.
func searchTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	outside := t.TempDir()
	writeTree(t, root, map[string]string{
		"notes.txt":              "Field notes\nA marmot whistled, a common sight.\n",
		"maps/gophermap":         "Mapped burrows of the mapword kind, common.\n0A link\tnotes.txt\n",
		".hidden.txt":            "dotfileword common\n",
		".dotdir/inside.txt":     "dotdirword common\n",
		"private/secret.txt":     "excludedword common\n",
		"cgi-bin/readme.txt":     "cgisourceword common\n",
		"cgi-bin/gophermap":      "cgimapword common\n",
		"apps/menu.txt":          "appsourceword common\n",
		"docs/.gophermap":        "Spacecookie's map with spacemapword, common.\n",
		"docs/manual.md":         "Manual\nThe manual, a common read.\n",
		"binary.bin":             "binaryword common\x00\x01\x02",
		"private.txt/inside.txt": "dirnamedtxt common\n",
	})
	writeTree(t, outside, map[string]string{"outside.txt": "outsideword common\n", "dir/in.txt": "outsidedirword common\n"})
	// Executable, as a program in the gateway directory is.
	script := filepath.Join(root, "cgi-bin", "hello.txt")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho cgiscriptword common\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for target, link := range map[string]string{
		filepath.Join(outside, "outside.txt"): "link.txt",
		filepath.Join(outside, "dir"):         "linkdir",
		"notes.txt":                           "zalias.txt", // inside the root: the file is indexed once, by its first path
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// searchDaemonConfig is baseConfig with a search section and two gateway
// directories.
func searchDaemonConfig(t *testing.T, root string, search map[string]any) map[string]any {
	cfg := baseConfig(t, root)
	cfg["cgi"] = map[string]any{"dirs": []any{
		map[string]any{"selector": "/cgi-bin/"},
		map[string]any{"selector": "/apps/", "output": "menu"},
	}}
	section := map[string]any{"exclude": []any{"/private/"}, "include": []any{"*.txt", "*.md", "gophermap", ".gophermap", "*.bin"}}
	for k, v := range search {
		section[k] = v
	}
	cfg["search"] = section
	return cfg
}

// search sends a query, waiting while the index is being built, and
// returns the answer.
func (d *daemon) search(words string) string {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := string(d.get("/search\t" + words))
		if !strings.HasPrefix(got, "3Search index is being built") {
			return got
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("index not built within 30s:\n%s", d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// searchUntil queries until the answer holds want.
func (d *daemon) searchUntil(words, want string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := d.search(words)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%q not found within 30s; last answer:\n%s\nlog:\n%s", want, got, d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// resultLinks checks that menu is a well-formed result menu (a count line,
// then a link and a snippet per result, then "."), every line four fields
// naming localhost and the daemon's port, and returns the links' type and
// selector ("0/notes.txt").
func resultLinks(t *testing.T, d *daemon, menu string) []string {
	t.Helper()
	if !strings.HasSuffix(menu, "\r\n.\r\n") {
		t.Fatalf("menu does not end in a terminator: %q", menu)
	}
	lines := strings.Split(strings.TrimSuffix(menu, "\r\n.\r\n"), "\r\n")
	var n int
	if _, err := fmt.Sscanf(lines[0], "i%d result", &n); err != nil {
		t.Fatalf("no count line: %q", lines[0])
	}
	if shown := min(n, 50); len(lines) != 1+2*shown {
		t.Fatalf("%d results, %d lines, want %d:\n%s", n, len(lines), 1+2*shown, menu)
	}
	tail := "\tlocalhost\t" + strconv.Itoa(d.port)
	var links []string
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 4 || strings.ContainsAny(l, "\r\n") || !strings.HasSuffix(l, tail) {
			t.Fatalf("line %d is not a menu line of this server: %q", i, l)
		}
		switch {
		case i == 0 || i%2 == 0:
			if l[0] != 'i' {
				t.Fatalf("line %d is not an info line: %q", i, l)
			}
		default:
			links = append(links, l[:1]+f[1])
		}
	}
	return links
}

func TestSearchThroughBinary(t *testing.T) {
	root := searchTree(t)
	d := startConfig(t, searchDaemonConfig(t, root, nil))

	got := resultLinks(t, d, d.search("common"))
	// private.txt is a directory that "*.txt" matches: everything below it
	// is included.
	want := []string{"0/docs/manual.md", "0/notes.txt", "0/private.txt/inside.txt", "1/docs", "1/maps"}
	if strings.Join(sorted(got), " ") != strings.Join(want, " ") {
		t.Errorf("results for common: %q, want %q", sorted(got), want)
	}
	if links := resultLinks(t, d, d.search("marmot")); len(links) != 1 || links[0] != "0/notes.txt" {
		t.Errorf("marmot: %q (the symlink zalias.txt is the same file)", links)
	}
	// Every result is served: search and serving agree on what is visible.
	for _, l := range got {
		body := string(d.get(l[1:]))
		if strings.HasPrefix(body, "3") {
			t.Errorf("result %s is not served: %q", l, body)
		}
	}
	// Never found, whatever the query: a dotfile, a file in a dot
	// directory, a symlink out of the root (to a file, to a directory), an
	// excluded directory, the gateway directories' programs and maps, a
	// file that is not text.
	never := []string{"dotfileword", "dotdirword", "outsideword", "outsidedirword", "excludedword",
		"cgisourceword", "cgimapword", "cgiscriptword", "appsourceword", "binaryword"}
	for _, w := range never {
		if got := d.search(w); !strings.HasPrefix(got, "i0 results for") {
			t.Errorf("%s found:\n%s", w, got)
		}
		if got := d.search(w[:4] + "*"); strings.Contains(got, w) {
			t.Errorf("%s found by prefix:\n%s", w, got)
		}
	}
	for i := 0; i < len(never); i += 4 { // 4 words: within max-terms (8)
		q := strings.Join(never[i:min(i+4, len(never))], " or ")
		if got := d.search(q); !strings.HasPrefix(got, "i0 results for") {
			t.Errorf("%q found:\n%s", q, got)
		}
	}
	// A directory named like a text file is a directory: its file is found
	// by its own path.
	if links := resultLinks(t, d, d.search("dirnamedtxt")); len(links) != 1 || links[0] != "0/private.txt/inside.txt" {
		t.Errorf("dirnamedtxt: %q", links)
	}

	// The root's listing offers the search; the empty query is the help.
	if menu := string(d.get("/")); !strings.Contains(menu, "7Search this gopherhole\t/search\tlocalhost\t"+strconv.Itoa(d.port)+"\r\n") {
		t.Errorf("root listing lacks the search item:\n%s", menu)
	}
	for _, req := range []string{"/search", "/search\t", "/search\t   "} {
		help := string(d.get(req))
		if !strings.Contains(help, "Type words to search for") || !strings.HasSuffix(help, "7Search this gopherhole\t/search\tlocalhost\t"+strconv.Itoa(d.port)+"\r\n.\r\n") {
			t.Errorf("%q: no help menu:\n%s", req, help)
		}
	}
	if got := string(d.get("/search\t" + strings.Repeat("a", 300))); got != "3Query too long.\tErr\tlocalhost\t"+strconv.Itoa(d.port)+"\r\n.\r\n" {
		t.Errorf("long query: %q", got)
	}
	if got := string(d.get("/search\taa bb cc dd ee ff gg hh ii")); !strings.HasPrefix(got, "3Query too long.\t") {
		t.Errorf("too many terms: %q", got)
	}
}

// TestSearchHostileQueries: nothing a client puts into a query adds a
// menu line or a field: TAB, CR, LF, C0 and C1 controls, DEL, Unicode line
// separators, terminal escapes.
func TestSearchHostileQueries(t *testing.T) {
	d := startConfig(t, searchDaemonConfig(t, searchTree(t), nil))
	d.search("marmot")
	for _, q := range []string{
		"marmot\tinjected\t/evil\tevil.example\t70",
		"marmot\rinjected\t/evil\tevil.example\t70",
		"marmot\ninjected\t/evil\tevil.example\t70",
		"marmot\r\n.\r\n1injected\t/evil\tevil.example\t70",
		"marmot \x00\x01\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f",
		"marmot \x01\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x1b]0;title\x07\x7f",
		"marmot \xc2\x85injected\xc2\x9b31m",
		"marmot \u2028injected\u2029\u202e\u200f",
		"marmot \xff\xfe invalid utf-8",
	} {
		t.Run(strconv.QuoteToASCII(q), func(t *testing.T) {
			menu := string(d.get("/search\t" + q))
			if strings.HasPrefix(menu, "3") {
				// The server refuses a request line with CR or NUL
				// before any handler sees it: one error item.
				if f := strings.Split(menu, "\t"); len(f) != 4 || !strings.HasSuffix(menu, "\tErr\tlocalhost\t"+strconv.Itoa(d.port)+"\r\n.\r\n") || strings.Count(menu, "\n") != 2 {
					t.Errorf("error answer is not one error item: %q", menu)
				}
				if !strings.ContainsAny(q, "\r\x00") {
					t.Errorf("refused: %q", menu)
				}
				return
			}
			// The words after a TAB or a control character may be words
			// of the query (nothing has them: no results) or not (the
			// part after LF is not part of the request): either way the
			// menu is the one its count line announces.
			links := resultLinks(t, d, menu)
			if len(links) > 1 || len(links) == 1 && links[0] != "0/notes.txt" {
				t.Errorf("links %q, want at most the one for marmot", links)
			}
			lines := strings.Split(menu, "\r\n")
			for _, c := range lines[0] {
				if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 && c < 0xa0 || c == '\u2028' || c == '\u2029' || c == '\u202e' || c == '\u200f' {
					t.Errorf("control character %U in the count line %q", c, lines[0])
				}
			}
		})
	}
}

// TestSearchBeingBuilt: until the first build is done a query gets the
// being-built answer and every other request is served meanwhile. The
// tree is large enough (30 MB) that the build takes far longer than the
// first request's round trip.
func TestSearchBeingBuilt(t *testing.T) {
	slow(t)
	root := t.TempDir()
	page := bytes.Repeat([]byte("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\n"), 140)
	for i := range 3000 {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i%30))
		if i < 30 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		body := append(fmt.Appendf(nil, "Page %d\nword%d\n", i, i), page...)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%04d.txt", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeTree(t, root, map[string]string{"about.txt": "About\n"})
	cfg := baseConfig(t, root)
	cfg["search"] = map[string]any{"max-index-bytes": "1GiB"}
	d := startConfig(t, cfg)
	port := strconv.Itoa(d.port)
	if got := string(d.get("/search\tword7")); got != "3Search index is being built, try again soon.\tErr\tlocalhost\t"+port+"\r\n.\r\n" {
		t.Fatalf("first query: %q (want the being-built answer)", got)
	}
	if got := string(d.get("/about.txt")); got != "About\n" {
		t.Errorf("a file while the index is built: %q", got)
	}
	links := resultLinks(t, d, d.search("word2999"))
	if len(links) != 1 || links[0] != "0/d29/p2999.txt" {
		t.Errorf("after the build: %q", links)
	}
	if !strings.Contains(d.log.String(), "search") {
		t.Errorf("no search line in the log:\n%s", d.log)
	}
}

// TestSearchFreshness: an edit is found after the next change scan, every
// reindex or on SIGHUP, and what was removed is no longer found.
func TestSearchFreshness(t *testing.T) {
	t.Run("reindex", func(t *testing.T) {
		root := searchTree(t)
		d := startConfig(t, searchDaemonConfig(t, root, map[string]any{"reindex": "200ms"}))
		d.searchUntil("marmot", "/notes.txt\t")
		writeTree(t, root, map[string]string{"notes.txt": "Field notes\nA wombat dug.\n", "new/fresh.txt": "Fresh\nfreshword\n"})
		d.searchUntil("wombat", "/notes.txt\t")
		d.searchUntil("freshword", "/new/fresh.txt\t")
		if err := os.Remove(filepath.Join(root, "new", "fresh.txt")); err != nil {
			t.Fatal(err)
		}
		d.searchUntil("freshword", "i0 results for")
		if got := d.search("marmot"); !strings.HasPrefix(got, "i0 results for") {
			t.Errorf("text no longer in the file still found:\n%s", got)
		}
	})
	t.Run("SIGHUP", func(t *testing.T) {
		root := searchTree(t)
		d := startConfig(t, searchDaemonConfig(t, root, map[string]any{"reindex": "1h"}))
		d.searchUntil("marmot", "/notes.txt\t")
		writeTree(t, root, map[string]string{"notes.txt": "Field notes\nA wombat dug.\n"})
		// Not before the SIGHUP: the hour has not passed.
		if got := d.search("wombat"); !strings.HasPrefix(got, "i0 results for") {
			t.Fatalf("found before the rescan:\n%s", got)
		}
		d.signal(syscall.SIGHUP)
		d.searchUntil("wombat", "/notes.txt\t")
		if !strings.Contains(d.log.String(), "configuration reloaded") {
			t.Errorf("no reload in the log:\n%s", d.log)
		}
	})
}

// TestSearchCurl: curl's gopher URL for a search, type 7 with %09.
func TestSearchCurl(t *testing.T) {
	curl := needTool(t, "curl")
	d := startConfig(t, searchDaemonConfig(t, searchTree(t), nil))
	d.search("marmot")
	url := fmt.Sprintf("gopher://127.0.0.1:%d/7/search%%09marmot", d.port)
	out, err := exec.Command(curl, "-sS", "--max-time", "20", url).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", url, err)
	}
	if !strings.HasPrefix(string(out), "i1 result for \"marmot\"\t") || !strings.Contains(string(out), "0Field notes\t/notes.txt\tlocalhost\t"+strconv.Itoa(d.port)+"\r\n") {
		t.Errorf("curl %s:\n%s", url, out)
	}
}

// TestSearchRealMaps indexes the real gophermaps of ../shared/corpus, each
// as the map of a directory of its own: a hit on a map links to its
// directory, which is served.
func TestSearchRealMaps(t *testing.T) {
	var src string
	wd, _ := os.Getwd()
	for dir := wd; dir != filepath.Dir(dir) && src == ""; dir = filepath.Dir(dir) {
		if p := filepath.Join(dir, "shared", "corpus", "gophermaps"); isDir(p) {
			src = p
		}
	}
	if src == "" {
		t.Skip("../shared/corpus not found: the reference corpus is not part of this checkout")
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, strings.ReplaceAll(e.Name(), ".", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "gophermap"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := baseConfig(t, root)
	cfg["search"] = map[string]any{}
	d := startConfig(t, cfg)
	links := resultLinks(t, d, d.search("gopher*"))
	if len(links) < 5 {
		t.Fatalf("only %d maps found for gopher* in %d real maps", len(links), len(ents))
	}
	for _, l := range links {
		if l[0] != '1' {
			t.Errorf("a hit on a map links to %s, not to its directory", l)
			continue
		}
		if body := string(d.get(l[1:])); strings.HasPrefix(body, "3") || !strings.HasSuffix(body, ".\r\n") {
			t.Errorf("result %s is not served as a menu: %.200q", l, body)
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// TestSearchPerVhostThroughBinary: a plain listener bound to b.test
// searches b.test's tree with its own search; the default host's search
// never finds b.test's files, and --check refuses a vhost's search
// selector in its own gateway directory (exit 2, file:line: key:).
func TestSearchPerVhostThroughBinary(t *testing.T) {
	curl := needTool(t, "curl")
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	_ = probe.Close()
	dRoot, bRoot := t.TempDir(), t.TempDir()
	writeTree(t, dRoot, map[string]string{"d.txt": "Default words\ndefaultword\n"})
	writeTree(t, bRoot, map[string]string{"b.txt": "B words\nbeeword\n"})
	p1, p2 := freePort(t), freePort(t)
	cfg := map[string]any{
		"hostname": "localhost", "root": dRoot,
		"listen": []any{
			map[string]any{"addr": "127.0.0.1", "port": p1},
			map[string]any{"addr": "127.0.0.2", "port": p2, "vhost": "b.test"},
		},
		"search": map[string]any{},
		"vhosts": []any{map[string]any{"hostname": "b.test", "root": bRoot, "search": map[string]any{}}},
	}
	d := start(t, fmt.Sprintf("127.0.0.1:%d", p1), writeConfig(t, cfg))
	d.searchUntil("defaultword", "0Default words\t/d.txt\tlocalhost\t"+strconv.Itoa(p1)+"\r\n")
	if got := d.search("beeword"); !strings.HasPrefix(got, "i0 results for") {
		t.Errorf("the default host finds b.test's file:\n%s", got)
	}
	want := fmt.Sprintf("0B words\t/b.txt\tb.test\t%d\r\n", p2)
	url := fmt.Sprintf("gopher://127.0.0.2:%d/7/search%%09beeword", p2)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command(curl, "-sS", "--max-time", "20", url).Output()
		if err != nil {
			t.Fatalf("curl %s: %v", url, err)
		}
		if strings.Contains(string(out), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("curl %s:\n%s", url, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, _ := exec.Command(curl, "-sS", "--max-time", "20", fmt.Sprintf("gopher://127.0.0.2:%d/7/search%%09defaultword", p2)).Output(); !strings.HasPrefix(string(out), "i0 results for") {
		t.Errorf("b.test finds the default host's file:\n%s", out)
	}

	cfg["vhosts"] = []any{map[string]any{"hostname": "b.test", "root": bRoot,
		"cgi": map[string]any{"dirs": []any{map[string]any{"selector": "/cgi-bin/"}}}, "search": map[string]any{"selector": "/cgi-bin/find"}}}
	path := writeConfig(t, cfg)
	code, _, errOut := runGopherd(t, "--check", path)
	if code != 2 || !strings.Contains(errOut, path+":") || !strings.Contains(errOut, `vhosts[0].search.selector: "/cgi-bin/find" is in the gateway directory "/cgi-bin/"`) {
		t.Errorf("--check on a vhost's search selector in its cgi directory: exit %d, %q", code, errOut)
	}
}

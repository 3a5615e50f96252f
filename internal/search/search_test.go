//go:build unix

package search

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"gopherd/internal/gopher"
)

const (
	testHost = "gopher.test"
	testPort = 7070
	// patience bounds every wait; nothing should come near it.
	patience = 10 * time.Second
)

// recorder is a gopher.ResponseWriter that keeps everything in memory.
type recorder struct {
	bytes.Buffer
	served string
}

func (r *recorder) Served(what string) { r.served = what }

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// age sets the times of every file under root an hour back, so that none
// is within the racy window and a change scan reads only what a test
// changes afterwards.
func age(t testing.TB, root string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.Mode()&os.ModeSymlink != 0 || fi.Mode()&os.ModeNamedPipe != 0 {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fixtureTree builds the tree most tests search. "secretword" is written
// only where search must never look: whatever the query, no result may
// come from there.
func fixtureTree(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	outside := t.TempDir()
	files := map[string]string{
		"about.txt":              "About this gopherhole\n\nGophers dig tunnels. The aardvark does too.\n",
		"animals/aardvark.txt":   "Aardvark\nThe aardvark eats ants and termites.\n",
		"animals/badger.md":      "# Badger\nBadgers dig setts; a badger is no aardvark.\n",
		"animals/zebra.txt":      "Zebra\nStripes, not spots. Zebras are not gophers.\n",
		"animals/gophermap":      "Animals of the burrow\n0Zebra facts\tzebra.txt\n1Elsewhere\t/secretselector\tsecrethost.example\t70\n",
		"notes/gophers.txt":      "Gopher notes\nThe gopher protocol, gophers and gopherholes.\n",
		"notes/picture.png":      "aardvark secretword",
		"notes/readme":           "aardvark secretword",
		"spacecookie/.gophermap": "Spacecookie map of the wombat\n",
		"both/gophermap":         "Bucktooth map of the koala\n",
		"both/.gophermap":        "Spacecookie map of the platypus secretword\n",
		"caps/Gophermap":         "aardvark secretword\n",
		"moles/gophermap":        "#!/bin/sh\necho 'iaardvark secretword'\n",
		"moles/mole.txt":         "A mole digs\n",
		"cgi-bin/script.txt":     "aardvark secretword\n",
		"cgi-bin/deep/more.txt":  "aardvark secretword\n",
		".secret.txt":            "aardvark zebra gopher secretword\n",
		".linked.txt":            "secretword reached through a symlink\n",
		".hidden/inside.txt":     "aardvark secretword\n",
		"notes/.draft.md":        "aardvark secretword\n",
		"tab\tname.txt":          "aardvark secretword\n",
		"back\\slash.txt":        "aardvark secretword\n",
	}
	for name, content := range files {
		write(t, filepath.Join(root, name), content)
	}
	write(t, filepath.Join(outside, "out.txt"), "aardvark secretword\n")
	write(t, filepath.Join(outside, "dir", "in.txt"), "aardvark secretword\n")
	for link, target := range map[string]string{
		"escape.txt":      filepath.Join(outside, "out.txt"),
		"escdir":          filepath.Join(outside, "dir"),
		"relescape.txt":   "../" + filepath.Base(outside) + "/out.txt",
		"link.txt":        "about.txt",
		"notes/dot.txt":   "../.linked.txt",
		"animals/up":      "..",
		"dangling.txt":    "nowhere.txt",
		"animals/map.txt": "gophermap",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	age(t, root)
	return root
}

// newHandler returns a Handler for root whose log the test can read, with
// opts applied to the fixture's options.
func newHandler(t testing.TB, root string, opts ...func(*Options)) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	o := Options{
		Root:     root,
		Exclude:  []string{"/cgi-bin/"},
		Hostname: testHost,
		Port:     testPort,
		Logger:   zap.New(core),
	}
	for _, f := range opts {
		f(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, logs
}

// built returns a Handler whose first index is built, synchronously.
func built(t testing.TB, root string, opts ...func(*Options)) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	h, logs := newHandler(t, root, opts...)
	if err := h.update(context.Background()); err != nil {
		t.Fatalf("update: %v", err)
	}
	return h, logs
}

// ask sends query q and returns the raw response.
func ask(t testing.TB, h *Handler, q string) *recorder {
	t.Helper()
	rec := &recorder{}
	h.ServeGopher(context.Background(), rec, &gopher.Request{Selector: "/search", Search: q, HasSearch: true})
	return rec
}

// menuLine is one parsed line of a response.
type menuLine struct {
	typ                     byte
	display, selector, host string
	port                    string
}

// parseMenu splits a response into lines, failing on anything that is not
// a well-formed menu: CRLF line ends, four TAB-separated fields, the
// terminator last and only there.
func parseMenu(t testing.TB, body []byte) []menuLine {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, ".\r\n") {
		t.Fatalf("response does not end with the terminator: %q", s)
	}
	s = strings.TrimSuffix(s, ".\r\n")
	var out []menuLine
	for s != "" {
		i := strings.Index(s, "\r\n")
		if i < 0 {
			t.Fatalf("line without CRLF: %q", s)
		}
		line := s[:i]
		s = s[i+2:]
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("stray CR or LF in line %q", line)
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" {
			t.Fatalf("line has %d fields, want 4: %q", len(f), line)
		}
		if f[2] != testHost || f[3] != "7070" {
			t.Fatalf("line has host %q port %q: %q", f[2], f[3], line)
		}
		out = append(out, menuLine{typ: f[0][0], display: f[0][1:], selector: f[1], host: f[2], port: f[3]})
	}
	return out
}

// results checks the structure of a result menu and returns the header
// and the results' selectors in order.
func results(t testing.TB, h *Handler, q string) (head string, sels []string) {
	t.Helper()
	rec := ask(t, h, q)
	lines := parseMenu(t, rec.Bytes())
	if len(lines) == 0 || lines[0].typ != 'i' {
		t.Fatalf("query %q: no count line: %q", q, rec.String())
	}
	if rec.served != "search" {
		t.Fatalf("query %q: served %q, want search: %q", q, rec.served, rec.String())
	}
	rest := lines[1:]
	if len(rest)%2 != 0 {
		t.Fatalf("query %q: results are not link + snippet pairs: %q", q, rec.String())
	}
	for i := 0; i < len(rest); i += 2 {
		link, snip := rest[i], rest[i+1]
		if link.typ != '0' && link.typ != '1' {
			t.Fatalf("query %q: result of type %q: %q", q, link.typ, rec.String())
		}
		if snip.typ != 'i' || snip.selector != "" {
			t.Fatalf("query %q: no snippet after %q: %q", q, link.selector, rec.String())
		}
		sels = append(sels, link.selector)
	}
	return lines[0].display, sels
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestQuerySemantics(t *testing.T) {
	h, _ := built(t, fixtureTree(t))
	all := []string{"/about.txt", "/animals", "/animals/aardvark.txt", "/animals/badger.md", "/animals/zebra.txt",
		"/both", "/moles/mole.txt", "/notes/dot.txt", "/notes/gophers.txt", "/spacecookie"}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"aardvark", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"}},
		{"AARDVARK", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"}},
		{"aardvark ants", []string{"/animals/aardvark.txt"}},
		{"aardvark AND ants", []string{"/animals/aardvark.txt"}},
		{"aardvark not badger", []string{"/about.txt", "/animals/aardvark.txt"}},
		{"aardvark and not badger", []string{"/about.txt", "/animals/aardvark.txt"}},
		{"zebra or wombat", []string{"/animals", "/animals/zebra.txt", "/spacecookie"}},
		// Left to right, no precedence: (zebra or aardvark) and ants.
		{"zebra or aardvark ants", []string{"/animals/aardvark.txt"}},
		{"ants zebra or aardvark", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"}},
		{"aardvark or zebra not stripes", []string{"/about.txt", "/animals", "/animals/aardvark.txt", "/animals/badger.md"}},
		{"gopher", []string{"/notes/gophers.txt"}},
		{"gopher*", []string{"/about.txt", "/animals/zebra.txt", "/notes/gophers.txt"}},
		{"Gopherh*", []string{"/about.txt", "/notes/gophers.txt"}},
		{"gopher* not tunnels", []string{"/animals/zebra.txt", "/notes/gophers.txt"}},
		{"badger-setts", []string{"/animals/badger.md"}},
		{"koala", []string{"/both"}},
		{"burrow", []string{"/animals"}},
		{"not aardvark", []string{"/animals", "/moles/mole.txt", "/animals/zebra.txt", "/both", "/notes/dot.txt", "/notes/gophers.txt", "/spacecookie"}},
		{"aardvark or not aardvark", all},
		{"nothinghere", nil},
		{"aardvark nothinghere", nil},
		{"nothinghere or koala", []string{"/both"}},
		{"aardvark " + strings.Repeat("x", 41), nil},
		{"aardvark a b c", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"}},
		{"aardvark and", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"}},
		{"or aardvark", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"}},
		// Gophermaps: display strings and info text only.
		{"secretselector", nil},
		{"secrethost", nil},
		{"platypus", nil},
		// A gophermap that is a program is never shown, so never indexed.
		{"mole", []string{"/moles/mole.txt"}},
		{"echo", nil},
		{"bin", nil},
	} {
		_, got := results(t, h, tc.q)
		if !slices.Equal(sorted(got), sorted(tc.want)) {
			t.Errorf("query %q: got %q, want %q", tc.q, sorted(got), sorted(tc.want))
		}
	}
}

// TestNeverVisible: a dotfile, a file in a dot-directory, a symlink out of
// the root, an excluded directory, a raw gophermap, a FIFO and names that
// cannot be linked never appear, whatever the query.
func TestNeverVisible(t *testing.T) {
	h, _ := built(t, fixtureTree(t))
	allowed := map[string]bool{
		"/about.txt": true, "/animals": true, "/animals/aardvark.txt": true, "/animals/badger.md": true,
		"/animals/zebra.txt": true, "/both": true, "/moles/mole.txt": true, "/notes/dot.txt": true, "/notes/gophers.txt": true, "/spacecookie": true,
	}
	for _, q := range []string{
		"secretword", "secret*", "se*", "aardvark", "aa*", "aardvark or secretword", "not secretword",
		"not nothinghere", "zz or not zz", "gopher*", "out", "inside", "script", "wombat or not wombat", "echo", "bin*",
	} {
		_, sels := results(t, h, q)
		for _, s := range sels {
			if !allowed[s] {
				t.Errorf("query %q found %q", q, s)
			}
		}
	}
	// The symlink to a dotfile was put inside the root by the operator and
	// is served, so it is searchable, under its own name: like serving.
	if _, sels := results(t, h, "secretword"); !slices.Equal(sels, []string{"/notes/dot.txt"}) {
		t.Errorf("secretword: got %q, want only the in-root symlink /notes/dot.txt", sels)
	}
	if st := h.Stats(); st.Docs != len(allowed) {
		t.Errorf("%d documents indexed, want %d", st.Docs, len(allowed))
	}
}

func TestResultMenu(t *testing.T) {
	h, _ := built(t, fixtureTree(t))
	rec := ask(t, h, "aardvark")
	lines := parseMenu(t, rec.Bytes())
	if got, want := lines[0].display, `3 results for "aardvark"`; got != want {
		t.Errorf("count line %q, want %q", got, want)
	}
	// aardvark.txt says it twice in 7 terms; badger.md once in 9, about.txt once in 11.
	want := []menuLine{
		{'0', "Aardvark", "/animals/aardvark.txt", testHost, "7070"},
		{'i', "Aardvark The aardvark eats ants and termites.", "", testHost, "7070"},
		{'0', "# Badger", "/animals/badger.md", testHost, "7070"},
		{'i', "…setts; a badger is no aardvark.", "", testHost, "7070"},
		{'0', "About this gopherhole", "/about.txt", testHost, "7070"},
		{'i', "…dig tunnels. The aardvark does too.", "", testHost, "7070"},
	}
	if !slices.Equal(lines[1:], want) {
		t.Errorf("results:\n got %q\nwant %q", lines[1:], want)
	}
	rec = ask(t, h, "burrow")
	lines = parseMenu(t, rec.Bytes())
	if want := (menuLine{'1', "Animals of the burrow", "/animals", testHost, "7070"}); len(lines) < 2 || lines[1] != want {
		t.Errorf("gophermap hit: got %q, want %q", lines, want)
	}
	if _, sels := results(t, h, "koala"); len(sels) != 1 {
		t.Fatalf("koala: %q", sels)
	}
	_, one := results(t, h, "koala")
	head, _ := results(t, h, "koala")
	if head != `1 result for "koala"` || len(one) != 1 {
		t.Errorf("single result header %q", head)
	}
}

func TestRanking(t *testing.T) {
	root := t.TempDir()
	filler := strings.Repeat("lorem ipsum ", 50) // 100 terms
	write(t, filepath.Join(root, "long-once.txt"), "gopher "+filler)
	write(t, filepath.Join(root, "long-often.txt"), strings.Repeat("gopher ", 5)+filler)
	write(t, filepath.Join(root, "short.txt"), "one gopher in five words")
	write(t, filepath.Join(root, "tie-a.txt"), "gopher here")
	write(t, filepath.Join(root, "tie-b.txt"), "gopher here")
	h, _ := built(t, root)
	_, sels := results(t, h, "gopher")
	// Scores: tie-a, tie-b 1/√2; long-often 5/√105; short 1/√5; long-once 1/√101.
	want := []string{"/tie-a.txt", "/tie-b.txt", "/long-often.txt", "/short.txt", "/long-once.txt"}
	if !slices.Equal(sels, want) {
		t.Errorf("ranking: got %q, want %q", sels, want)
	}
}

// TestQueryInjection: nothing in a query adds a menu line or reaches one
// raw.
func TestQueryInjection(t *testing.T) {
	h, _ := built(t, fixtureTree(t))
	for _, q := range []string{
		"aardvark\t\r\n",
		"aardvark\tifake\tline\tevil.example\t70",
		"aardvark or\r\n1Evil\t/\tevil.example\t70\r\n.\r\n",
		"aardvark\nifake\r\n",
		"aardvark\x00\x01\x07\x08\x0b\x0c\x1b[2J\x1b]0;title\x07\x7f",
		"aardvark\u0085\u2028\u2029\u202e",
		"aardvark \u061c\u200e\u200f\u202a\u2066\u2069 marks and isolates",
		"aardvark \xff\xfe\xc0",
	} {
		checkInjection(t, h, q)
	}
	long := "aardvark " + strings.Repeat("\t", 200)
	head, _ := results(t, h, long)
	if n := colWidth(strings.TrimSuffix(strings.TrimPrefix(head, `3 results for "`), `"`)); n != 70 {
		t.Errorf("long query shown in %d columns, want 70: %q", n, head)
	}
}

// TestUnsafeRunes names the characters that never reach a menu line as
// they are, and some that do.
func TestUnsafeRunes(t *testing.T) {
	for _, r := range "\x00\t\r\n\x1b\x7f\u0085\u009b\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" {
		if !unsafeRune(r) {
			t.Errorf("%U is let through", r)
		}
	}
	for _, r := range "a Zé\u00a0\u200b\u05d0\u0627…" {
		if unsafeRune(r) {
			t.Errorf("%U is replaced", r)
		}
	}
}

// checkInjection asks q and checks that the response has exactly the lines
// its count line announces and that the count line is clean.
func checkInjection(t *testing.T, h *Handler, q string) {
	t.Helper()
	checkAnnounced(t, q, ask(t, h, q).Bytes())
}

// checkAnnounced checks that the response to query q has exactly the
// lines its count line announces and that the count line is clean.
func checkAnnounced(t *testing.T, q string, body []byte) {
	t.Helper()
	lines := parseMenu(t, body)
	head := lines[0].display
	var n int
	if _, err := fmt.Sscanf(head, "%d result", &n); err != nil {
		t.Fatalf("query %q: count line %q", q, head)
	}
	if want := 1 + 2*min(n, DefaultLimits().MaxResults); len(lines) != want {
		t.Errorf("query %q: %d lines, want %d: %q", q, len(lines), want, body)
	}
	for _, r := range head {
		if unsafeRune(r) || r == utf8.RuneError {
			t.Errorf("query %q: character %U in the count line %q", q, r, head)
		}
	}
}

func TestHelpAndErrors(t *testing.T) {
	root := fixtureTree(t)
	h, _ := newHandler(t, root, func(o *Options) { o.Limits.MaxTerms = 3; o.Limits.MaxQueryBytes = 40 })

	help := func(req *gopher.Request) {
		t.Helper()
		rec := &recorder{}
		h.ServeGopher(context.Background(), rec, req)
		lines := parseMenu(t, rec.Bytes())
		last := lines[len(lines)-1]
		if want := (menuLine{'7', "Search this gopherhole", "/search", testHost, "7070"}); last != want {
			t.Errorf("help menu for %q ends with %q, want %q", req.Search, last, want)
		}
		for _, l := range lines[:len(lines)-1] {
			if l.typ != 'i' {
				t.Errorf("help menu line %q is not info", l.display)
			}
		}
	}
	// Before the first build: help works, queries get the being-built answer.
	help(&gopher.Request{Selector: "/search"})
	help(&gopher.Request{Selector: "/search", HasSearch: true})
	help(&gopher.Request{Selector: "/search", Search: " \t ", HasSearch: true})

	wantError := func(q, msg, served string) {
		t.Helper()
		rec := ask(t, h, q)
		want := "3" + msg + "\tErr\t" + testHost + "\t7070\r\n.\r\n"
		if rec.String() != want || rec.served != served {
			t.Errorf("query %q: got %q (%s), want %q (%s)", q, rec.String(), rec.served, want, served)
		}
	}
	wantError("aardvark", "Search index is being built, try again soon.", "busy")
	// Limits are checked before the index is needed.
	wantError(strings.Repeat("a", 41), "Query too long.", "too-large")
	wantError("one two three four", "Query too long.", "too-large")
	wantError("foo-bar-baz-qux", "Query too long.", "too-large")
	wantError("a b c", "No words to search for: use words of 2 to 40 letters or digits.", "bad-request")
	wantError("and or not", "No words to search for: use words of 2 to 40 letters or digits.", "bad-request")

	if err := h.update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, sels := results(t, h, "one two aardvark"); sels != nil {
		t.Errorf("three terms: %q", sels)
	}
	if _, sels := results(t, h, strings.Repeat("a", 30)+" aardvark"); sels != nil {
		t.Errorf("40-byte query: %q", sels)
	}
}

func TestTimeout(t *testing.T) {
	h, logs := built(t, fixtureTree(t), func(o *Options) { o.Limits.QueryTimeout = time.Nanosecond })
	rec := ask(t, h, "aardvark")
	if want := "3Search took too long: try fewer or longer words.\tErr\tgopher.test\t7070\r\n.\r\n"; rec.String() != want {
		t.Errorf("got %q, want %q", rec.String(), want)
	}
	if logs.FilterMessage("search query timed out").Len() != 1 {
		t.Errorf("timeout not logged")
	}
	// A connection the server gave up on gets nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec = &recorder{}
	h.ServeGopher(ctx, rec, &gopher.Request{Search: "aardvark", HasSearch: true})
	if rec.Len() != 0 {
		t.Errorf("cancelled request answered %q", rec.String())
	}
}

func TestMaxResults(t *testing.T) {
	h, _ := built(t, fixtureTree(t), func(o *Options) { o.Limits.MaxResults = 2 })
	head, sels := results(t, h, "aardvark")
	if head != `3 results for "aardvark"` || len(sels) != 2 {
		t.Errorf("got %q and %d links, want 3 results and 2 links", head, len(sels))
	}
}

func TestMaxFileBytes(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "big.txt"), "early words\n"+strings.Repeat("filler ", 200)+"lateword\n")
	write(t, filepath.Join(root, "cut.txt"), "start "+strings.Repeat("x", 100)+" halfway")
	h, _ := built(t, root, func(o *Options) { o.Limits.MaxFileBytes = 500 })
	if _, sels := results(t, h, "early"); len(sels) != 1 {
		t.Errorf("early: %q", sels)
	}
	if _, sels := results(t, h, "lateword"); len(sels) != 0 {
		t.Errorf("lateword beyond max-file-bytes found: %q", sels)
	}
	h, _ = built(t, root, func(o *Options) { o.Limits.MaxFileBytes = 110 })
	// "halfway" is cut at byte 110: not even its first letters are indexed.
	if _, sels := results(t, h, "half*"); len(sels) != 0 {
		t.Errorf("a word cut at max-file-bytes is indexed: %q", sels)
	}
}

func TestMaxIndexBytes(t *testing.T) {
	root := t.TempDir()
	for i := range 50 {
		write(t, filepath.Join(root, "f"+string(rune('a'+i/26))+string(rune('a'+i%26))+".txt"),
			"common "+strings.Repeat("word ", 100)+"\n")
	}
	age(t, root)
	h, logs := built(t, root, func(o *Options) { o.Limits.MaxIndexBytes = 8 << 10 })
	st := h.Stats()
	if !st.Full || st.Docs == 0 || st.Docs >= 50 {
		t.Fatalf("stats %+v: want a full index with some documents", st)
	}
	if st.IndexBytes > 8<<10+2<<10 {
		t.Errorf("index %d bytes, cap 8 KiB (one file may cross it)", st.IndexBytes)
	}
	head, _ := results(t, h, "common")
	if want := strings.Repeat("", 0); !strings.HasPrefix(head, want) || strings.HasPrefix(head, "50 ") {
		t.Errorf("all 50 files searchable past the cap: %q", head)
	}
	warn := func() []observer.LoggedEntry {
		return logs.FilterMessageSnippet("max-index-bytes").All()
	}
	if w := warn(); len(w) != 1 || w[0].Level != zapcore.WarnLevel || w[0].ContextMap()["max_index_bytes"] != int64(8<<10) {
		t.Fatalf("want one warning naming the cap, got %v", w)
	}
	// A new file and another scan: still full, still one warning.
	write(t, filepath.Join(root, "zz.txt"), "common\n")
	if err := h.update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := warn(); len(w) != 1 {
		t.Errorf("%d warnings after a second scan, want 1", len(w))
	}
}

// readCounts returns the files_read of every "search index updated" line.
func readCounts(logs *observer.ObservedLogs) []int64 {
	var out []int64
	for _, e := range logs.FilterMessage("search index updated").All() {
		out = append(out, e.ContextMap()["files_read"].(int64))
	}
	return out
}

// waitFor polls query q until its results are want.
func waitFor(t *testing.T, h *Handler, q string, want []string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		rec := ask(t, h, q)
		if rec.served == "search" {
			_, got := results(t, h, q)
			if slices.Equal(sorted(got), sorted(want)) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %q: still %q, want %q", q, rec.String(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFreshnessReindexInterval(t *testing.T) {
	root := fixtureTree(t)
	h, logs := newHandler(t, root, func(o *Options) { o.Reindex = 20 * time.Millisecond })
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, "aardvark", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md"})
	write(t, filepath.Join(root, "notes", "gophers.txt"), "Gopher notes\nNow about the aardvark too.\n")
	waitFor(t, h, "aardvark", []string{"/about.txt", "/animals/aardvark.txt", "/animals/badger.md", "/notes/gophers.txt"})
	if err := os.Remove(filepath.Join(root, "animals", "badger.md")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, "aardvark", []string{"/about.txt", "/animals/aardvark.txt", "/notes/gophers.txt"})
	write(t, filepath.Join(root, "animals", "gophermap"), "The new map of the aardvark\n")
	waitFor(t, h, "aardvark", []string{"/about.txt", "/animals", "/animals/aardvark.txt", "/notes/gophers.txt"})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	// The first build reads all 10 documents and the program map; after that each scan reads
	// only what changed (and a file changed within the racy window once
	// more), never the whole tree again.
	counts := readCounts(logs)
	if len(counts) < 4 || counts[0] != 11 {
		t.Fatalf("files read per update: %v", counts)
	}
	for _, n := range counts[1:] {
		if n > 2 {
			t.Errorf("a change scan read %d files: %v", n, counts)
		}
	}
}

func TestFreshnessReindexCall(t *testing.T) {
	root := fixtureTree(t)
	h, logs := newHandler(t, root)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h, "koala", []string{"/both"})
	write(t, filepath.Join(root, "new.md"), "A koala appears\n")
	// Without reindex (periodic scans are off) nothing changes...
	time.Sleep(50 * time.Millisecond)
	if _, sels := results(t, h, "koala"); len(sels) != 1 {
		t.Fatalf("index changed without a scan: %q", sels)
	}
	// ...until Reindex (SIGHUP).
	h.Reindex()
	waitFor(t, h, "koala", []string{"/both", "/new.md"})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if counts := readCounts(logs); !slices.Equal(counts, []int64{11, 1}) {
		t.Errorf("files read per update %v, want [11 1]", counts)
	}
}

func TestUnchangedScanKeepsIndex(t *testing.T) {
	root := fixtureTree(t)
	write(t, filepath.Join(root, "notes", "image"), "\x00\x01binary\x00")
	write(t, filepath.Join(root, "data.bin"), "\x00\x01\x02")
	age(t, root)
	h, logs := built(t, root, func(o *Options) { o.Include = []string{"*"} })
	first := h.cur.Load()
	if err := h.update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.cur.Load() != first {
		t.Errorf("an unchanged tree built a new index")
	}
	if n := logs.FilterMessage("search index unchanged").Len(); n != 1 {
		t.Errorf("%d unchanged scans logged, want 1", n)
	}
	// include "*" reaches files that are not text: they are read once,
	// recognised as binary and not indexed, and not read again.
	if _, sels := results(t, h, "binary"); len(sels) != 0 {
		t.Errorf("binary file indexed: %q", sels)
	}
	if _, sels := results(t, h, "secretword"); !slices.Equal(sorted(sels), []string{"/notes/dot.txt", "/notes/readme"}) {
		t.Errorf("include *: secretword in %q", sels)
	}
}

func TestStartClose(t *testing.T) {
	h, _ := newHandler(t, fixtureTree(t))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	waitFor(t, h, "koala", []string{"/both"})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := h.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
	// The last index still answers.
	if _, sels := results(t, h, "koala"); len(sels) != 1 {
		t.Errorf("after Close: %q", sels)
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	write(t, file, "x")
	for _, o := range []Options{
		{},
		{Root: filepath.Join(t.TempDir(), "missing")},
		{Root: file},
		{Root: t.TempDir(), Include: []string{"[x"}},
		{Root: t.TempDir(), Exclude: []string{""}},
		{Root: t.TempDir(), Selector: "/a\tb"},
	} {
		if h, err := New(o); err == nil {
			_ = h.Close()
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	// An open *os.Root is used and left open.
	r, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h, err := New(Options{FS: r})
	if err != nil {
		t.Fatal(err)
	}
	_ = h.Close()
	if _, err := r.Stat("."); err != nil {
		t.Errorf("Close closed the caller's root: %v", err)
	}
}

func TestPatterns(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a.txt", "docs/b.txt", "docs/deep/c.txt", "drafts/d.txt", "x/drafts/e.txt", "x/f.txt", "notes.txt/g.md", "h.log"} {
		write(t, filepath.Join(root, p), "needle\n")
	}
	for _, tc := range []struct {
		include, exclude []string
		want             []string
	}{
		{nil, nil, []string{"/a.txt", "/docs/b.txt", "/docs/deep/c.txt", "/drafts/d.txt", "/notes.txt/g.md", "/x/drafts/e.txt", "/x/f.txt"}},
		{nil, []string{"drafts"}, []string{"/a.txt", "/docs/b.txt", "/docs/deep/c.txt", "/notes.txt/g.md", "/x/f.txt"}},
		{nil, []string{"/drafts/"}, []string{"/a.txt", "/docs/b.txt", "/docs/deep/c.txt", "/notes.txt/g.md", "/x/drafts/e.txt", "/x/f.txt"}},
		{nil, []string{"/docs/*.txt"}, []string{"/a.txt", "/docs/deep/c.txt", "/drafts/d.txt", "/notes.txt/g.md", "/x/drafts/e.txt", "/x/f.txt"}},
		{[]string{"/docs/"}, nil, []string{"/docs/b.txt", "/docs/deep/c.txt"}},
		{[]string{"*.log"}, nil, []string{"/h.log"}},
		{[]string{"x/*.txt"}, nil, []string{"/x/f.txt"}},
	} {
		h, _ := built(t, root, func(o *Options) { o.Include, o.Exclude = tc.include, tc.exclude })
		if _, got := results(t, h, "needle"); !slices.Equal(sorted(got), tc.want) {
			t.Errorf("include %q exclude %q: got %q, want %q", tc.include, tc.exclude, sorted(got), tc.want)
		}
	}
}

func TestTitlesAndSnippets(t *testing.T) {
	root := t.TempDir()
	long := strings.Repeat("Wide title ", 10)
	write(t, filepath.Join(root, "long.txt"), long+"\nneedle\n")
	write(t, filepath.Join(root, "blank.txt"), "\n   \n\t\nneedle in the third line\n")
	write(t, filepath.Join(root, "empty-title.txt"), "  \n")
	write(t, filepath.Join(root, "cjk.txt"), strings.Repeat("漢字", 40)+"\nneedle\n")
	write(t, filepath.Join(root, "ctrl.txt"), "Evil\x1b[31m title\r\nneedle\n")
	write(t, filepath.Join(root, "far.txt"), "Far\n"+strings.Repeat("lorem ipsum dolor ", 20)+"the needle is here "+strings.Repeat("and more ", 20))
	h, _ := built(t, root)
	rec := ask(t, h, "needle")
	lines := parseMenu(t, rec.Bytes())
	titles := map[string]string{}
	snippets := map[string]string{}
	for i := 1; i+1 < len(lines); i += 2 {
		titles[lines[i].selector] = lines[i].display
		snippets[lines[i].selector] = lines[i+1].display
	}
	for sel, want := range map[string]string{
		"/long.txt":  cut(collapse(long), 67),
		"/blank.txt": "needle in the third line",
		"/cjk.txt":   strings.Repeat("漢字", 16) + "漢…",
		"/ctrl.txt":  "Evil [31m title",
		"/far.txt":   "Far",
	} {
		if titles[sel] != want {
			t.Errorf("title of %s: %q, want %q", sel, titles[sel], want)
		}
		if w := colWidth(titles[sel]); w > 67 {
			t.Errorf("title of %s is %d columns", sel, w)
		}
	}
	if got := snippets["/far.txt"]; !strings.HasPrefix(got, "…") || !strings.Contains(got, "the needle is here") || colWidth(got) > 70 {
		t.Errorf("snippet around a far hit: %q", got)
	}
	// The snippet finds the exact hit, also of a prefix, far into a file.
	for _, q := range []string{"needl*", "here"} {
		rec := ask(t, h, q+" is")
		if lines := parseMenu(t, rec.Bytes()); len(lines) != 3 || !strings.HasPrefix(lines[2].display, "…") || !strings.Contains(lines[2].display, "dolor the needle is here") {
			t.Errorf("snippet for %q: %q", q, rec.String())
		}
	}
	if _, sels := results(t, h, "title"); !slices.Contains(sels, "/long.txt") {
		t.Errorf("title words not found: %q", sels)
	}
	h2, _ := built(t, root, func(o *Options) { o.Include = []string{"empty-title.txt"} })
	rec = ask(t, h2, "not zz")
	if lines := parseMenu(t, rec.Bytes()); len(lines) != 3 || lines[1].display != "empty-title.txt" {
		t.Errorf("title falls back to the name: %q", rec.String())
	}
}

func colWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello, WORLD!", []string{"hello", "world"}},
		{"a bb c", []string{"bb"}},
		{"café naïve", []string{"café", "naïve"}},
		{"ΣΊΣΥΦΟΣ σίσυφος", []string{"σίσυφοσ", "σίσυφοσ"}},
		{"\u212aelvin kelvin", []string{"kelvin", "kelvin"}},
		{"a1b2 2024-01-02", []string{"a1b2", "2024", "01", "02"}},
		{"नमस्ते दुनिया", []string{"नमस्ते", "दुनिया"}},
		{strings.Repeat("x", 40) + " " + strings.Repeat("y", 41), []string{strings.Repeat("x", 40)}},
		{"don't\x00stop\xffnow", []string{"don", "stop", "now"}},
		{"東京タワー", []string{"東京タワー"}},
	} {
		var got []string
		tokenize(tc.in, nil, func(term []byte, runes, _, _ int) bool {
			if validTerm(runes) {
				got = append(got, string(term))
			}
			return true
		})
		if !slices.Equal(got, tc.want) {
			t.Errorf("tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // clauses, written back
		err  error
	}{
		{"a", "", errNoWords},
		{"   and  OR not ", "", errNoWords},
		{"gopher", "gopher", nil},
		{"Gopher holes", "gopher & holes", nil},
		{"gopher or hole", "gopher | hole", nil},
		{"gopher not hole", "gopher & !hole", nil},
		{"gopher or not hole", "gopher | !hole", nil},
		{"not gopher", "!gopher", nil},
		{"not not gopher", "gopher", nil},
		{"gopher and or hole", "gopher | hole", nil},
		{"gopher or and hole", "gopher & hole", nil},
		{"goph* hole*s", "goph* & hole", nil},
		{"foo-bar* baz", "foo+bar* & baz", nil},
		{"x* ab*", "ab*", nil},
		{"**", "", errNoWords},
		{"one two three four five six seven eight", "one & two & three & four & five & six & seven & eight", nil},
		{"one two three four five six seven eight nine", "", errTooLong},
		{"one-two-three-four-five-six-seven-eight-nine", "", errTooLong},
	} {
		q, err := parseQuery(tc.in, 8)
		if err != tc.err {
			t.Errorf("parseQuery(%q): error %v, want %v", tc.in, err, tc.err)
			continue
		}
		if got := q.String(); err == nil && got != tc.want {
			t.Errorf("parseQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// String writes q back for the tests: & and | between clauses, ! for not,
// + between the terms of one word, * after a prefix.
func (q query) String() string {
	var b strings.Builder
	for i, c := range q.clauses {
		if i > 0 {
			if c.or {
				b.WriteString(" | ")
			} else {
				b.WriteString(" & ")
			}
		}
		if c.neg {
			b.WriteByte('!')
		}
		for j, t := range c.terms {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(t.text)
			if t.prefix {
				b.WriteByte('*')
			}
		}
	}
	return b.String()
}

// TestRealGophermaps indexes the real maps of ../shared/corpus, each as
// the gophermap of its own directory, and finds each by a word of its
// first info line.
func TestRealGophermaps(t *testing.T) {
	dir := "../../../shared/corpus/gophermaps"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("reference corpus not available (%v)", err)
	}
	root := t.TempDir()
	words := map[string]string{} // directory selector → a word of its map
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(root, e.Name(), "gophermap"), string(data))
		var word string
		tokenize(mapText(data), nil, func(term []byte, runes, _, _ int) bool {
			if runes >= 6 && validTerm(runes) {
				word = string(term)
				return false
			}
			return true
		})
		if word != "" {
			words["/"+e.Name()] = word
		}
	}
	h, _ := built(t, root)
	if len(words) < 40 {
		t.Fatalf("only %d maps with a word", len(words))
	}
	for sel, w := range words {
		_, sels := results(t, h, w)
		if !slices.Contains(sels, sel) && len(sels) < DefaultLimits().MaxResults {
			t.Errorf("word %q of %s: results %q", w, sel, sels)
		}
	}
}

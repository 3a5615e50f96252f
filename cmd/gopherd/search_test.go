package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gopherd/internal/config"
	"gopherd/internal/gopher"
	"gopherd/internal/search"
	"gopherd/internal/testutil"
)

// searchSite is a tree with words in known places: "marmot" in a served
// text file, "ocelot" in a directory an exclude pattern names (or not,
// as the test reconfigures it), and "narwhal" in a script of the cgi
// directory, whose sources must never be searchable.
func searchSite(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"notes.txt":          "Field notes\nA marmot whistled.\n",
		"private/ocelot.txt": "Ocelot sightings\nThe ocelot sleeps.\n",
		"cgi-bin/readme.txt": "narwhal script notes\n",
	})
	if err := os.WriteFile(filepath.Join(root, "cgi-bin", "tusk.txt"), []byte("#!/bin/sh\necho narwhal\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// searchConfig is a configuration file serving root with search, and
// the cgi directory /cgi-bin/.
func searchConfig(t *testing.T, root string, exclude []string) map[string]any {
	return map[string]any{
		"hostname": "localhost",
		"root":     root,
		"listen":   map[string]any{"addr": "127.0.0.1", "port": testutil.FreePort(t)},
		"log":      map[string]any{"level": "debug"},
		"cgi":      map[string]any{"dirs": []any{map[string]any{"selector": "/cgi-bin/"}}},
		"search":   map[string]any{"selector": "/search", "exclude": exclude, "reindex": "1h"},
	}
}

// query sends a search and returns the answer, waiting while the index is
// being built.
func (r *running) query(words string) string {
	r.t.Helper()
	var got string
	waitFor(r.t, "the search index", func() bool {
		got = r.get("/search\t" + words)
		return !strings.Contains(got, "being built")
	})
	return got
}

// searchUntil queries until the answer satisfies cond.
func (r *running) searchUntil(what, words string, cond func(string) bool) {
	r.t.Helper()
	var got string
	deadline := time.Now().Add(patience)
	for got = r.query(words); !cond(got); got = r.query(words) {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; last answer to %q:\n%s\nlog:\n%s", what, words, got, r.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMainSearch(t *testing.T) {
	root := searchSite(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := searchConfig(t, root, []string{"/private/"})
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	_, port, _ := net.SplitHostPort(r.addr)

	if got := r.query("marmot"); !strings.Contains(got, "0Field notes\t/notes.txt\tlocalhost\t"+port+"\r\n") {
		t.Fatalf("marmot not found:\n%s", got)
	}
	for _, w := range []string{"ocelot", "narwhal", "script", "tusk"} {
		if got := r.query(w); !strings.HasPrefix(got, "i0 results for") {
			t.Errorf("%s found (excluded or in the cgi directory):\n%s", w, got)
		}
	}
	// The root's automatic listing offers the search.
	if menu := r.get("/"); !strings.Contains(menu, "7Search this gopherhole\t/search\tlocalhost\t"+port+"\r\n") {
		t.Errorf("root listing lacks the search item:\n%s", menu)
	}
	if menu := r.get("/private"); strings.Contains(menu, "Search this gopherhole") {
		t.Errorf("a subdirectory offers the search:\n%s", menu)
	}

	// SIGHUP with the search section unchanged keeps the index and
	// rescans it: an edit is found without waiting for reindex.
	before := r.d.searches.running[0].h
	writeFiles(t, root, map[string]string{"notes.txt": "Field notes\nA wombat dug.\n"})
	r.Reload()
	if r.d.searches.running[0].h != before {
		t.Error("an unchanged search section built a new index")
	}
	r.searchUntil("the edit after SIGHUP", "wombat", func(s string) bool { return strings.Contains(s, "/notes.txt\t") })
	if got := r.query("marmot"); !strings.HasPrefix(got, "i0 results for") {
		t.Errorf("the old text is still found:\n%s", got)
	}

	// A reload that changes the search section builds a new index and
	// closes the old one, which still answers what reaches it: the
	// connections accepted before the reload keep their handler chain.
	kept := r.d.searches.running[0].h
	cfg["search"] = map[string]any{"selector": "/search", "reindex": "1h"} // private/ no longer excluded
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if len(r.d.searches.running) != 1 || r.d.searches.running[0].h == kept {
		t.Fatalf("a changed search section kept the old index: %d running", len(r.d.searches.running))
	}
	r.searchUntil("the new index", "ocelot", func(s string) bool { return strings.Contains(s, "/private/ocelot.txt\t") })
	var w recorder
	kept.ServeGopher(context.Background(), &w, &gopher.Request{Selector: "/search", Search: "wombat", HasSearch: true, Host: "localhost", Port: 70})
	if got := w.String(); !strings.HasPrefix(got, "i1 result for \"wombat\"") {
		t.Errorf("the closed index does not answer the queries in flight:\n%s", got)
	}
	w.Reset()
	kept.ServeGopher(context.Background(), &w, &gopher.Request{Selector: "/search", Search: "ocelot", HasSearch: true, Host: "localhost", Port: 70})
	if got := w.String(); !strings.HasPrefix(got, "i0 results for") {
		t.Errorf("the closed index has indexed on:\n%s", got)
	}

	// Without the section, no search: the selector is the tree's again.
	delete(cfg, "search")
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if len(r.d.searches.running) != 0 {
		t.Errorf("%d search indexes still running without a search section", len(r.d.searches.running))
	}
	if got := r.get("/search\tocelot"); !strings.HasPrefix(got, "3") {
		t.Errorf("search answered without a search section:\n%s", got)
	}
	if menu := r.get("/"); strings.Contains(menu, "Search this gopherhole") {
		t.Errorf("root listing offers a search that is off:\n%s", menu)
	}
}

// recorder is a gopher.ResponseWriter that keeps the answer.
type recorder struct{ strings.Builder }

func (*recorder) Served(string) {}

// TestSearchReloadsLeakNothing: reloads that change the search section,
// and reloads that do not, leave as many goroutines as before.
func TestSearchReloadsLeakNothing(t *testing.T) {
	root := searchSite(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := searchConfig(t, root, nil)
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	r.query("marmot")
	// The connections' goroutines end once their answers are read: the
	// baseline is the lowest count over a moment.
	base := runtime.NumGoroutine()
	for range 20 {
		time.Sleep(10 * time.Millisecond)
		base = min(base, runtime.NumGoroutine())
	}
	for i := range 20 {
		if i%2 == 0 {
			cfg["search"].(map[string]any)["max-results"] = 10 + i // changed: a new index
		}
		writeJSON(t, cfgPath, cfg)
		r.Reload()
		if len(r.d.searches.running) != 1 {
			t.Fatalf("reload %d: %d search indexes running", i, len(r.d.searches.running))
		}
		r.query("marmot")
	}
	var n int
	deadline := time.Now().Add(patience)
	for n = runtime.NumGoroutine(); n > base && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if n > base {
		t.Errorf("goroutines grew from %d to %d across 20 reloads", base, n)
	}
	if !strings.Contains(r.log.String(), "configuration reloaded") {
		t.Errorf("no reload logged:\n%s", r.log)
	}
}

// TestSearchBadConfigKeepsRunning: a reload whose search section cannot
// be used keeps the running configuration and its index, and makes no
// index of its own.
func TestSearchBadConfigKeepsRunning(t *testing.T) {
	root := searchSite(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := searchConfig(t, root, nil)
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	r.query("marmot")
	before := r.d.searches.running[0].h
	cfg["search"] = map[string]any{"selector": "/cgi-bin/search"}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if !strings.Contains(r.log.String(), `search.selector: \"/cgi-bin/search\" is in the gateway directory`) {
		t.Errorf("log does not say why:\n%s", r.log)
	}
	if len(r.d.searches.running) != 1 || r.d.searches.running[0].h != before {
		t.Error("a refused reload changed the running search")
	}
	if got := r.query("marmot"); !strings.Contains(got, "/notes.txt\t") {
		t.Errorf("search after a refused reload:\n%s", got)
	}
}

func TestSearchOptions(t *testing.T) {
	if config.DefaultSearchSelector != search.DefaultSelector {
		t.Errorf("config's default selector %q, search's %q", config.DefaultSearchSelector, search.DefaultSelector)
	}
	o := searchOptions("/srv", &config.Search{Selector: "/s", Exclude: []string{"*.bak"}},
		&config.CGI{Dirs: []config.CGIDir{{Selector: "/cgi-bin/"}, {Selector: "/a*b[c]/"}}})
	want := []string{"*.bak", "/cgi-bin", `/a\*b\[c\]`}
	if !slices.Equal(o.Exclude, want) {
		t.Errorf("Exclude = %q, want %q", o.Exclude, want)
	}
	for _, name := range []string{"/a*b[c]", "/cgi-bin"} {
		if ok, err := path.Match(o.Exclude[len(o.Exclude)-1], name); err != nil || ok != (name == "/a*b[c]") {
			t.Errorf("quoted pattern %q on %q: %v %v", o.Exclude[len(o.Exclude)-1], name, ok, err)
		}
	}
	if ok, _ := path.Match(o.Exclude[2], "/axxb[c]"); ok {
		t.Error("a quoted * still matches anything")
	}
}

// TestDemo serves demo/ as make run does, with etc/demo.json: its map
// offers the search, which finds the demo's text.
func TestDemo(t *testing.T) {
	r := MustRunMain(t, "--root", filepath.Join("..", "..", "demo"), filepath.Join("..", "..", "etc", "demo.json"))
	_, port, _ := net.SplitHostPort(r.addr)
	if menu := r.get("/"); !strings.Contains(menu, "7Search this gopherhole\t/search\tlocalhost\t"+port+"\r\n") {
		t.Errorf("the demo's map does not offer the search:\n%s", menu)
	}
	if got := r.query("gopher"); !strings.Contains(got, "0gopherd\t/about.txt\tlocalhost\t"+port+"\r\n") {
		t.Errorf("search in the demo:\n%s", got)
	}
}

// TestSearchPerVhost: each host's search indexes its own root and names
// the host in its menus; a host without a search section has none; two
// hosts serving one root with one search configuration share its index.
func TestSearchPerVhost(t *testing.T) {
	dRoot, aRoot, bRoot := vhostTrees(t)
	writeFiles(t, dRoot, map[string]string{"d-words.txt": "D words\ndwordonly\n"})
	writeFiles(t, aRoot, map[string]string{"a-words.txt": "A words\nawordonly\n"})
	writeFiles(t, bRoot, map[string]string{"b-words.txt": "B words\nbwordonly\n"})
	dir := t.TempDir()
	cert, key := certPair(t, dir, "all", time.Time{}, 2, "main.test", "a.test", "b.test", "c.test")
	cfgPath := filepath.Join(dir, "gopherd.json")
	cfg := map[string]any{
		"hostname": "main.test", "root": dRoot,
		"listen": map[string]any{"addr": "127.0.0.1", "port": 0},
		"tls":    map[string]any{"certificate": cert, "key": key},
		"search": map[string]any{},
		"vhosts": []any{
			map[string]any{"hostname": "a.test", "root": aRoot, "search": map[string]any{"selector": "/find"}},
			map[string]any{"hostname": "b.test", "root": bRoot},
			map[string]any{"hostname": "c.test", "root": dRoot, "search": map[string]any{}},
		},
	}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	port := r.Addrs()[0].(*net.TCPAddr).Port
	ask := func(sni, req string) string {
		t.Helper()
		var got string
		waitFor(t, "the index of "+sni, func() bool {
			got, _ = mustSNI(t, r.addr, sni, req)
			return !strings.Contains(got, "being built")
		})
		return got
	}
	hostPort := func(host string) string { return fmt.Sprintf("\t%s\t%d\r\n", host, port) }

	if n := len(r.d.searches.running); n != 2 {
		t.Errorf("%d search indexes for main.test, a.test and c.test (main and c share one), want 2", n)
	}
	for _, tt := range []struct {
		sni, sel, word, file string
		others               []string
	}{
		{"main.test", "/search", "dwordonly", "/d-words.txt", []string{"awordonly", "bwordonly"}},
		{"c.test", "/search", "dwordonly", "/d-words.txt", []string{"awordonly", "bwordonly"}},
		{"a.test", "/find", "awordonly", "/a-words.txt", []string{"dwordonly", "bwordonly"}},
	} {
		got := ask(tt.sni, tt.sel+"\t"+tt.word)
		if !strings.Contains(got, "0A words\t"+tt.file+hostPort(tt.sni)) && !strings.Contains(got, "0D words\t"+tt.file+hostPort(tt.sni)) {
			t.Errorf("%s: %s not found in its own root:\n%s", tt.sni, tt.word, got)
		}
		for _, w := range tt.others {
			if got := ask(tt.sni, tt.sel+"\t"+w); !strings.HasPrefix(got, "i0 results for") {
				t.Errorf("%s finds %s of another host:\n%s", tt.sni, w, got)
			}
		}
		if menu, _ := mustSNI(t, r.addr, tt.sni, "/"); !strings.Contains(menu, "7Search this gopherhole\t"+tt.sel+hostPort(tt.sni)) {
			t.Errorf("%s: the root listing lacks its search item:\n%s", tt.sni, menu)
		}
	}
	if got, _ := mustSNI(t, r.addr, "b.test", "/search\tbwordonly"); !strings.HasPrefix(got, "3") {
		t.Errorf("b.test has no search section but answers one:\n%s", got)
	}
	if menu, _ := mustSNI(t, r.addr, "b.test", "/"); strings.Contains(menu, "Search this gopherhole") {
		t.Errorf("b.test's root listing offers a search:\n%s", menu)
	}

	// A reload that leaves the sections alone keeps both indexes; one
	// that gives b.test a search adds its own.
	before := slices.Clone(r.d.searches.running)
	r.Reload()
	if !slices.Equal(r.d.searches.running, before) {
		t.Error("an unchanged reload rebuilt an index")
	}
	cfg["vhosts"].([]any)[1].(map[string]any)["search"] = map[string]any{}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if n := len(r.d.searches.running); n != 3 || !slices.Contains(r.d.searches.running, before[0]) || !slices.Contains(r.d.searches.running, before[1]) {
		t.Errorf("after giving b.test a search: %d indexes, kept the others: %v", n, slices.Contains(r.d.searches.running, before[0]))
	}
	if got := ask("b.test", "/search\tbwordonly"); !strings.Contains(got, "/b-words.txt"+hostPort("b.test")) {
		t.Errorf("b.test's new search:\n%s", got)
	}
}

package gophermap

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// spacecookieDir finds shared/conformance/spacecookie by walking up from the
// test's working directory (the reference data lives beside the repository,
// e.g. /work/shared next to /work/main), or skips the test.
func spacecookieDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; {
		c := filepath.Join(d, "shared", "conformance", "spacecookie")
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Skipf("conformance data not found: no shared/conformance/spacecookie in %s or any parent; skipping the spacecookie comparison", wd)
		}
		d = parent
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expectedEntry is the shape of an entry in spacecookie/expected/*.json.
type expectedEntry struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Selector *struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	} `json:"selector"`
	Host *string `json:"host"`
	Port *int    `json:"port"`
}

func selectorKind(sel string) string {
	switch {
	case strings.HasPrefix(sel, "URL:"):
		return "url"
	case strings.HasPrefix(sel, "/"):
		return "absolute"
	}
	return "relative"
}

// checkEntry compares a parsed entry with spacecookie's expectation; a null
// selector, host or port must be absent (Has* false).
func checkEntry(t *testing.T, where string, got Entry, want expectedEntry) {
	t.Helper()
	if string(rune(got.Type)) != want.Type || got.Display != want.Name {
		t.Errorf("%s: type/name = %q %q, want %q %q", where, got.Type, got.Display, want.Type, want.Name)
	}
	if want.Selector == nil {
		if got.HasSelector {
			t.Errorf("%s: selector = %q, want none", where, got.Selector)
		}
	} else if !got.HasSelector || got.Selector != want.Selector.Value || selectorKind(got.Selector) != want.Selector.Kind {
		t.Errorf("%s: selector = %v %q, want %s %q", where, got.HasSelector, got.Selector, want.Selector.Kind, want.Selector.Value)
	}
	if want.Host == nil {
		if got.HasHost {
			t.Errorf("%s: host = %q, want none", where, got.Host)
		}
	} else if !got.HasHost || got.Host != *want.Host {
		t.Errorf("%s: host = %v %q, want %q", where, got.HasHost, got.Host, *want.Host)
	}
	if want.Port == nil {
		if got.HasPort {
			t.Errorf("%s: port = %d, want none", where, got.Port)
		}
	} else if !got.HasPort || got.Port != *want.Port {
		t.Errorf("%s: port = %v %d, want %d", where, got.HasPort, got.Port, *want.Port)
	}
}

func TestConformancePygopherd(t *testing.T) {
	dir := spacecookieDir(t)
	var exp struct {
		Entries []expectedEntry `json:"entries"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "expected", "pygopherd.gophermap.expected.json")), &exp); err != nil {
		t.Fatal(err)
	}
	entries, warns := Parse(readFile(t, filepath.Join(dir, "test", "data", "pygopherd.gophermap")))
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	if len(entries) != len(exp.Entries) || len(entries) == 0 {
		t.Fatalf("%d entries, want %d", len(entries), len(exp.Entries))
	}
	for i := range entries {
		checkEntry(t, "entry "+entries[i].Display, entries[i], exp.Entries[i])
	}
}

func TestConformanceBucktooth(t *testing.T) {
	dir := spacecookieDir(t)
	var exp struct {
		Count    int             `json:"entry_count"`
		Overbite []expectedEntry `json:"entries_named_/overbite"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "expected", "bucktooth.gophermap.expected.json")), &exp); err != nil {
		t.Fatal(err)
	}
	data := readFile(t, filepath.Join(dir, "test", "data", "bucktooth.gophermap"))
	entries, warns := Parse(data)
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	if len(entries) != exp.Count || exp.Count != 95 {
		t.Errorf("%d entries, want %d (95)", len(entries), exp.Count)
	}
	var overbite []Entry
	for _, e := range entries {
		if e.Display == "/overbite" {
			overbite = append(overbite, e)
		}
	}
	if len(overbite) != len(exp.Overbite) || len(overbite) != 1 {
		t.Fatalf("entries named /overbite: %+v, want %d", overbite, len(exp.Overbite))
	}
	checkEntry(t, "/overbite", overbite[0], exp.Overbite[0])

	// Resolved, it links to itself; the SDF line links to sdf.org's root
	// (Bucktooth's rule, where spacecookie would use the display string).
	menu, warns := Resolve(entries, Context{Dir: "/", Host: "gopher.floodgap.com", Port: 70})
	if len(warns) != 0 || len(menu) != 95 {
		t.Fatalf("resolve: %d items, warnings %q", len(menu), warns)
	}
	want := map[string]gopher.Item{
		"/overbite": link('1', "/overbite", "/overbite", "gopher.floodgap.com", 70),
		"Super-Dimensional Fortress: SDF Gopherspace":   link('1', "Super-Dimensional Fortress: SDF Gopherspace", "", "sdf.org", 70),
		"RIP, Master gopher at University of Minnesota": link('0', "RIP, Master gopher at University of Minnesota", "/umngone", "gopher.floodgap.com", 70),
		"Floodgap.com (Web pages)":                      link('h', "Floodgap.com (Web pages)", "URL:http://www.floodgap.com/", "gopher.floodgap.com", 70),
	}
	for _, it := range menu {
		if w, ok := want[it.Display]; ok {
			if it != w {
				t.Errorf("item %+v, want %+v", it, w)
			}
			delete(want, it.Display)
		}
	}
	if len(want) != 0 {
		t.Errorf("items not found: %+v", want)
	}
}

func TestConformanceLineCases(t *testing.T) {
	dir := spacecookieDir(t)
	var exp struct {
		Cases []struct {
			Input    string          `json:"input"`
			Expected []expectedEntry `json:"expected"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "expected", "gophermap-line-cases.json")), &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range exp.Cases {
		entries, warns := Parse([]byte(c.Input))
		if len(warns) != 0 {
			t.Errorf("%q: warnings %q", c.Input, warns)
		}
		if len(entries) != len(c.Expected) {
			t.Errorf("%q: %d entries, want %d", c.Input, len(entries), len(c.Expected))
			continue
		}
		for i := range entries {
			checkEntry(t, "input "+gopher.Quote(c.Input, 60), entries[i], c.Expected[i])
		}
	}
}

// TestConformanceIntegrationRoot renders spacecookie's integration root map
// as its end-to-end test does (localhost:7000, map in "/") and compares the
// wire bytes, with one deliberate difference applied to the expectation:
// info lines carry an empty selector where spacecookie copies the text.
func TestConformanceIntegrationRoot(t *testing.T) {
	dir := spacecookieDir(t)
	menu, warns := Render(readFile(t, filepath.Join(dir, "test", "integration", "root", ".gophermap")),
		Context{Dir: "/", Host: "localhost", Port: 7000})
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	want := readFile(t, filepath.Join(dir, "expected", "integration-root-menu.bin"))
	lines := bytes.SplitAfter(want, []byte("\r\n"))
	for i, l := range lines {
		if f := bytes.Split(l, []byte("\t")); len(f) == 4 && len(f[0]) > 0 && f[0][0] == 'i' {
			f[1] = nil
			lines[i] = bytes.Join(f, []byte("\t"))
		}
	}
	want = bytes.Join(lines, nil)
	if got := menu.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("root menu:\n got %q\nwant %q", got, want)
	}
}

// TestConformanceDocExamples checks that the examples from spacecookie's
// README and man page parse cleanly and resolve as documented.
func TestConformanceDocExamples(t *testing.T) {
	dir := spacecookieDir(t)
	ctx := Context{Dir: "/", Host: "localhost", Port: 70}
	for _, tt := range []struct {
		file  string
		items int
		check map[string]string // display → selector
	}{
		{"manpage-example.gophermap", 21, map[string]string{
			"README":      "/README.md",
			"man pages":   "/manpages",
			"GitHub page": "URL:https://github.com/sternenseemann/spacecookie/",
			"pygopherd":   "/devel/gopher/pygopherd",
		}},
		{"README-example.gophermap", 10, map[string]string{
			"Menu Entry for a directory full of funny stuff": "/funny",
			"Floodgap's gopher server":                       "/",
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			menu, warns := Render(readFile(t, filepath.Join(dir, "docs-examples", tt.file)), ctx)
			if len(warns) != 0 {
				t.Errorf("warnings: %q", warns)
			}
			if len(menu) != tt.items {
				t.Errorf("%d items, want %d", len(menu), tt.items)
			}
			for _, it := range menu {
				if sel, ok := tt.check[it.Display]; ok {
					if it.Selector != sel {
						t.Errorf("%q: selector %q, want %q", it.Display, it.Selector, sel)
					}
					delete(tt.check, it.Display)
				}
			}
			if len(tt.check) != 0 {
				t.Errorf("items not found: %q", tt.check)
			}
		})
	}
}

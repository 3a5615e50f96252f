package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// conformancePort is the port of spacecookie's integration config: the
// expected wire bytes name it in every menu line.
const conformancePort = 7000

// startConformance serves spacecookie's integration tree with its own config,
// changed only where a test run must differ. The copy is needed because the
// config listens on [::]:7000, which a test cannot count on getting, and
// gopherd writes the port it bound into menus unless public-port says
// otherwise; so the copy listens on a free loopback port and sets
// public-port to 7000, keeping the expected bytes valid. Its root is made
// absolute so the copy can live in a temp dir, and logging is switched on
// (the upstream config turns it off) because the harness waits for the
// startup line.
func startConformance(t *testing.T) (d *daemon, sc string) {
	t.Helper()
	sc = conformanceDir(t)
	data, err := os.ReadFile(filepath.Join(sc, "test", "integration", "spacecookie.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("spacecookie.json: %v", err)
	}
	if cfg["root"] != "./test/integration/root" || cfg["hostname"] != "localhost" {
		t.Fatalf("spacecookie.json is not the one these expectations were written for: %s", data)
	}
	if l, _ := cfg["listen"].(map[string]any); l["port"] != float64(conformancePort) {
		t.Fatalf("spacecookie.json does not listen on port %d: %s", conformancePort, data)
	}
	cfg["root"] = filepath.Join(sc, "test", "integration", "root")
	cfg["listen"] = map[string]any{"addr": "127.0.0.1", "port": freePort(t)}
	cfg["public-port"] = conformancePort
	cfg["log"] = map[string]any{"enable": true, "level": "debug"}
	return startConfig(t, cfg), sc
}

func readExpected(t *testing.T, sc, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sc, "expected", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// menuLines splits a menu response into its lines without CRLF, terminator
// included.
func menuLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\r\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\r\n")
}

// TestConformanceRootMenu checks that the root map renders as spacecookie's
// integration test expects, after the expected bytes are changed by each
// deliberate deviation (../shared/conformance/README.md), named one by one.
func TestConformanceRootMenu(t *testing.T) {
	d, sc := startConformance(t)
	root := filepath.Join(sc, "test", "integration", "root")
	src, err := os.ReadFile(filepath.Join(root, ".gophermap"))
	if err != nil {
		t.Fatal(err)
	}
	mapLines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	want := menuLines(readExpected(t, sc, "integration-root-menu.bin"))

	deviations := []struct {
		name  string
		apply func(menu, mapLines []string) (changed int)
	}{
		{
			// Name<TAB><TAB>host<TAB>port: spacecookie uses the name as
			// selector, gopherd (Bucktooth's rule) the empty selector.
			name: "empty selector links to the root of its host",
			apply: func(menu, mapLines []string) int {
				n := 0
				for _, ml := range mapLines {
					f := strings.Split(ml, "\t")
					if len(f) < 3 || f[1] != "" || f[0] == "" {
						continue
					}
					for i, l := range menu {
						g := strings.Split(l, "\t")
						if len(g) == 4 && g[0] == f[0] {
							g[1] = ""
							menu[i] = strings.Join(g, "\t")
							n++
						}
					}
				}
				return n
			},
		},
		{
			// spacecookie would answer with the directory listing if any
			// line were bad; the expected bytes are a rendered map, so
			// no line is bad and there is nothing to change.
			name:  "a bad line does not discard the whole map",
			apply: func(menu, mapLines []string) int { return 0 },
		},
		{
			// gopherd also reads "gophermap" and stops at a "." line.
			// Neither may occur in this tree, or the two servers would
			// render different maps: check that instead of changing bytes.
			name: "gophermap is read too and a \".\" line ends the map",
			apply: func(menu, mapLines []string) int {
				if _, err := os.Stat(filepath.Join(root, "gophermap")); err == nil {
					t.Errorf("the integration root has a gophermap: gopherd would serve it instead of .gophermap")
				}
				if slices.Contains(mapLines, ".") {
					t.Errorf("the integration map has a \".\" line: gopherd would stop there")
				}
				return 0
			},
		},
		{
			// spacecookie copies an info line's text into its selector.
			name: "info lines carry an empty selector",
			apply: func(menu, mapLines []string) int {
				n := 0
				for i, l := range menu {
					g := strings.Split(l, "\t")
					if len(g) == 4 && strings.HasPrefix(g[0], "i") && g[1] != "" {
						g[1] = ""
						menu[i] = strings.Join(g, "\t")
						n++
					}
				}
				return n
			},
		},
	}
	for _, dev := range deviations {
		t.Logf("deviation %q: %d expected line(s) changed", dev.name, dev.apply(want, mapLines))
	}
	wantBytes := []byte(strings.Join(want, "\r\n") + "\r\n")
	got := d.get("/")
	if !bytes.Equal(got, wantBytes) {
		t.Errorf("root menu differs from spacecookie's after the deviations:\n got: %q\nwant: %q", got, wantBytes)
	}
	// The empty selector and "/" name the same menu.
	if got2 := d.get(""); !bytes.Equal(got2, got) {
		t.Errorf("empty selector: got %q, want the root menu %q", got2, got)
	}
}

// TestConformanceDirMenu checks /dir, an automatic listing: the same items
// as spacecookie (dotfiles left out, the same item types), in gopherd's
// order, directories first, then files, each group by lower-cased name.
func TestConformanceDirMenu(t *testing.T) {
	d, sc := startConformance(t)
	want := menuLines(readExpected(t, sc, "integration-dir-menu.entries-sorted.bin"))
	got := menuLines(d.get("/dir"))
	if len(got) == 0 || got[len(got)-1] != "." {
		t.Fatalf("/dir: no terminator: %q", got)
	}
	got = got[:len(got)-1]
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Errorf("/dir items, sorted:\n got: %q\nwant: %q", sorted, want)
	}
	ordered := slices.Clone(want)
	slices.SortStableFunc(ordered, func(a, b string) int {
		if da, db := a[0] == '1', b[0] == '1'; da != db {
			if da {
				return -1
			}
			return 1
		}
		na, nb := strings.Split(a, "\t")[0][1:], strings.Split(b, "\t")[0][1:]
		return strings.Compare(strings.ToLower(na), strings.ToLower(nb))
	})
	if !slices.Equal(got, ordered) {
		t.Errorf("/dir order: directories first, then files, by lower-cased name:\n got: %q\nwant: %q", got, ordered)
	}
}

// TestConformanceErrors checks the error answers spacecookie's integration
// test asserts: the not-found item byte for byte, dotfiles refused, and
// URL: selectors.
func TestConformanceErrors(t *testing.T) {
	d, sc := startConformance(t)
	want := readExpected(t, sc, "integration-not-found-not-here.txt.bin")
	if got := d.get("/not-here.txt"); !bytes.Equal(got, want) {
		t.Errorf("/not-here.txt:\n got: %q\nwant: %q", got, want)
	}
	for _, sel := range []string{"/.gophermap", "/dir/.not-here", "/dir/.hidden"} {
		if got := d.get(sel); !errorItem(got, "allow") {
			t.Errorf("%s: want an error item saying it is not allowed, got %q", sel, got)
		}
	}
	// spacecookie answers a URL: selector with an error item. gopherd
	// deliberately differs (DESIGN.md section 3): a URL: selector with an
	// allowed scheme gets a redirect page, and only an unsafe one the
	// error item.
	got := string(d.get("URL:http://sterni.lv"))
	if !strings.HasPrefix(got, "<!DOCTYPE html>") || !strings.Contains(got, `content="1;url=http://sterni.lv"`) {
		t.Errorf("URL:http://sterni.lv: want gopherd's redirect page (spacecookie: an error item), got %q", got)
	}
	if got := d.get("URL:javascript:alert(1)"); !errorItem(got, "allow") {
		t.Errorf("URL:javascript:alert(1): want an error item, got %q", got)
	}
}

// TestConformancePlainFile checks that a text file comes back byte for byte,
// without CRLF conversion or a terminator.
func TestConformancePlainFile(t *testing.T) {
	d, sc := startConformance(t)
	want, err := os.ReadFile(filepath.Join(sc, "test", "integration", "root", "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.get("/plain.txt"); !bytes.Equal(got, want) {
		t.Errorf("/plain.txt: got %d bytes, want the file's %d bytes%s", len(got), len(want), firstDiff(got, want))
	}
}

// firstDiff describes where two byte strings first differ.
func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("; first difference at byte %d: %q vs %q", i, got[i:min(i+20, len(got))], want[i:min(i+20, len(want))])
		}
	}
	return ""
}

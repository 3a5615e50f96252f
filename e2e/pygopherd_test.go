package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The differential test serves testdata/difftree with gopherd and with
// pygopherd (Debian's package; it reads the same Bucktooth gophermaps, and
// authors copy maps from its sites) and compares the menus item by item:
// type, display string, selector, host and port.
//
// Both servers write the same hostname and the same public port into menus
// (gopherd's public-port, pygopherd's advertisedport), so ports and hosts
// filled in for empty or missing fields compare without any rewriting.
//
// What is normalised, because it is one of pygopherd's documented bugs
// (DESIGN.md sections 4 and 6), and only that:
//   - info text: pygopherd strips the whitespace around it, so gopherd's info
//     text is compared with its whitespace stripped (the exact text is
//     checked separately);
//   - pygopherd ends no menu with the "." terminator;
//   - pygopherd's info lines carry filler fields ("fake", "(NULL)", "0"):
//     they are replaced by gopherd's (empty selector, our host and port);
//   - fields after the port are not compared: pygopherd adds a Gopher+ "+"
//     to local links it finds on disk, gopherd writes what the map says.
//
// Every other disagreement is named in pygopherdDiffs or asserted on its
// own (the "." end line, bad lines), with pygopherd's exact answer, so the
// test fails if either server changes.

// pyPublicPort is the port both servers write into menus.
const pyPublicPort = 7000

// pyDiff is one item where pygopherd and the Bucktooth rule (gopherd)
// disagree beyond the normalisations.
type pyDiff struct {
	name string
	// py is pygopherd's item, after normalisation; it is found by its
	// display string, which is unique among the links of a map.
	py menuItem
	// gopherd is what gopherd writes instead; nil when gopherd leaves the
	// item out.
	gopherd *menuItem
}

// localItem makes a link item on this server, as both servers fill it in.
func localItem(typ byte, display, sel string) menuItem {
	return menuItem{Type: typ, Display: display, Selector: sel, Host: "localhost", Port: strconv.Itoa(pyPublicPort)}
}

func itemPtr(it menuItem) *menuItem { return &it }

// Names of the differences, shared by the items they explain.
const (
	diffEmptySelector = "Tdisplay<TAB><TAB>host<TAB>port: pygopherd uses the display string as a relative selector (as spacecookie does); Bucktooth's rule, which gopherd follows, is the empty selector, the root of that host"
	diffUncleanJoin   = "relative selectors: pygopherd joins them as directory + \"/\" + selector, leaving \".\", \"..\" and a trailing slash in; gopherd resolves them to a clean path"
	diffAboveRoot     = "a relative selector climbing above the root: pygopherd writes it (\"/../outside\"); gopherd drops the link with a warning"
	diffDisplayTrim   = "link display strings: pygopherd strips the whitespace at their end (it strips every field of a link line); gopherd keeps the display as written"
	diffEndLine       = "a line that is just \".\": gopherd ends the map there; pygopherd shows it as info text and renders the lines after it"
	diffBadLine       = "a bad line: pygopherd's handler raises and the whole response is empty; gopherd skips the line with a warning naming file:line and renders the rest"
)

// pygopherdDiffs lists, per menu selector, the items where the two servers
// disagree.
var pygopherdDiffs = map[string][]pyDiff{
	"/": {
		{diffEmptySelector,
			menuItem{Type: '1', Display: "Empty selector", Selector: "/Empty selector", Host: "gopher.floodgap.com", Port: "70"},
			&menuItem{Type: '1', Display: "Empty selector", Selector: "", Host: "gopher.floodgap.com", Port: "70"}},
		{diffUncleanJoin,
			localItem('1', "Relative directory with a slash", "/sub/"),
			itemPtr(localItem('1', "Relative directory with a slash", "/sub"))},
		{diffUncleanJoin,
			localItem('0', "Relative with a dot", "/./sub/notes.txt"),
			itemPtr(localItem('0', "Relative with a dot", "/sub/notes.txt"))},
		{diffUncleanJoin,
			localItem('0', "Relative with dot-dot inside", "/sub/../plain.txt"),
			itemPtr(localItem('0', "Relative with dot-dot inside", "/plain.txt"))},
		{diffAboveRoot,
			localItem('1', "Relative above the root", "/../outside"),
			nil},
		{diffDisplayTrim,
			localItem('0', "  Display with spaces around it", "/plain.txt"),
			itemPtr(localItem('0', "  Display with spaces around it  ", "/plain.txt"))},
	},
	"/sub": {
		{diffUncleanJoin,
			localItem('1', "Up one level", "/sub/.."),
			itemPtr(localItem('1', "Up one level", "/"))},
		{diffUncleanJoin,
			localItem('0', "Up and over", "/sub/../plain.txt"),
			itemPtr(localItem('0', "Up and over", "/plain.txt"))},
	},
}

// pygopherdAfterEnd is what pygopherd shows of /sub from its "." line on
// (diffEndLine), after normalisation.
var pygopherdAfterEnd = []menuItem{
	localItem('i', ".", ""),
	localItem('i', "Text after the end line.", ""),
	localItem('0', "Link after the end line", "/plain.txt"),
}

// pygopherdBadMaps are the maps holding one bad line each (diffBadLine):
// the directory, the bad line's number and a fragment of it.
var pygopherdBadMaps = []struct {
	dir  string
	line int
	text string
}{
	{"badport", 3, "\tseventy"},
	{"notype", 3, "\t/plain.txt"},
}

// pygopherdBinary finds pygopherd and its stock config, or skips.
func pygopherdBinary(t *testing.T) (bin, conf string) {
	t.Helper()
	bin, err := exec.LookPath("pygopherd")
	if err != nil {
		// Debian installs it into /usr/sbin, which a user's PATH may lack.
		bin = "/usr/sbin/pygopherd"
		if _, err := os.Stat(bin); err != nil {
			t.Skip("pygopherd is not installed (Debian package pygopherd, which .ci/run installs): skipping the differential test")
		}
	}
	conf = "/etc/pygopherd/pygopherd.conf"
	if _, err := os.Stat(conf); err != nil {
		t.Skipf("pygopherd is installed but its default config %s is missing: skipping the differential test", conf)
	}
	return bin, conf
}

var (
	iniSection = regexp.MustCompile(`^\[([^\]]+)\]\s*$`)
	iniKey     = regexp.MustCompile(`^([A-Za-z0-9_.]+)\s*[=:]`)
)

// rewriteINI returns the ConfigParser file src with the keys in set put
// right after their section's header and every former line of those keys
// and of the keys in drop (continuation lines included) removed:
// ConfigParser refuses a key given twice.
func rewriteINI(src string, set, drop map[string]map[string]string) string {
	var out []string
	section, skipping := "", false
	for _, line := range strings.Split(src, "\n") {
		if m := iniSection.FindStringSubmatch(line); m != nil {
			section, skipping = m[1], false
			out = append(out, line)
			keys := make([]string, 0, len(set[section]))
			for k := range set[section] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				out = append(out, k+" = "+set[section][k])
			}
			continue
		}
		if skipping && strings.TrimSpace(line) != "" && (line[0] == ' ' || line[0] == '\t') {
			continue
		}
		skipping = false
		if m := iniKey.FindStringSubmatch(line); m != nil {
			_, s := set[section][m[1]]
			_, d := drop[section][m[1]]
			if s || d {
				skipping = true
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// pygopherd is a pygopherd process started by a test.
type pygopherd struct {
	addr string
	log  *syncBuffer
}

// startPygopherd serves root with pygopherd on a free loopback port, in the
// foreground, as the current user, logging to its stdout, and stops it by
// PID when the test ends.
func startPygopherd(t *testing.T, bin, stockConf, root string) *pygopherd {
	t.Helper()
	stock, err := os.ReadFile(stockConf)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := rewriteINI(string(stock), map[string]map[string]string{
		"pygopherd": {
			"port":           strconv.Itoa(port),
			"interface":      "127.0.0.1",
			"root":           root,
			"servername":     "localhost",
			"advertisedport": strconv.Itoa(pyPublicPort),
			"detach":         "no",
			// The stock chroots into root when started as root.
			"usechroot": "no",
			// Threads, not a fork per request: killing the one PID
			// then ends everything it started.
			"servertype": "ThreadingTCPServer",
		},
		"logger": {"logmethod": "file"},
	}, map[string]map[string]string{
		"pygopherd": {"pidfile": "", "setuid": "", "setgid": ""},
	})
	dir := t.TempDir()
	confPath := filepath.Join(dir, "pygopherd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &pygopherd{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: &syncBuffer{}}
	cmd := exec.Command(bin, confPath)
	// Its mimetypes search path starts with the relative ./conf/mime.types.
	cmd.Dir = dir
	// It logs "Running." once the socket is bound; connections wait in
	// the backlog until it serves. (Probing with a connection instead
	// would make it serve "/" to nobody.)
	startPeer(t, "pygopherd", cmd, p.log, "Running.", 15*time.Second)
	return p
}

// get sends request and returns the whole response.
func (p *pygopherd) get(t *testing.T, request string) []byte {
	t.Helper()
	body, err := fetch(p.addr, "", request, 10*time.Second)
	if err != nil {
		t.Fatalf("pygopherd: request %q: %v\n%s", request, err, p.log)
	}
	return body
}

// splitMenu parses a menu response. With terminated, the "." terminator must
// end it; without, it may (pygopherd writes none). Fields after the port are
// ignored.
func splitMenu(body []byte, terminated bool) ([]menuItem, error) {
	s := string(body)
	if strings.HasSuffix(s, "\r\n.\r\n") || s == ".\r\n" {
		s = strings.TrimSuffix(s, ".\r\n")
	} else if terminated {
		return nil, errors.New("no \".\" terminator at the end")
	}
	if s == "" {
		return nil, nil
	}
	if !strings.HasSuffix(s, "\r\n") {
		return nil, errors.New("the last line does not end in CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	items := make([]menuItem, 0, len(lines))
	for i, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return nil, fmt.Errorf("line %d holds a stray CR or LF: %q", i+1, l)
		}
		f := strings.Split(l, "\t")
		if len(f) < 4 || f[0] == "" {
			return nil, fmt.Errorf("line %d has %d fields, want at least 4: %q", i+1, len(f), l)
		}
		items = append(items, menuItem{Type: f[0][0], Display: f[0][1:], Selector: f[1], Host: f[2], Port: f[3]})
	}
	return items, nil
}

// normalisePygopherd replaces the filler fields of pygopherd's info lines
// by gopherd's. It reports an info line whose host and port are not the
// filler, so a change in pygopherd does not go unnoticed.
func normalisePygopherd(items []menuItem) error {
	for i, it := range items {
		if it.Type != 'i' {
			continue
		}
		if it.Host != "(NULL)" || it.Port != "0" {
			return fmt.Errorf("info item %d: host and port %q %q, want pygopherd's filler \"(NULL)\" \"0\"", i+1, it.Host, it.Port)
		}
		items[i] = localItem('i', it.Display, "")
	}
	return nil
}

// normaliseGopherd strips the whitespace around info text, as pygopherd
// does.
func normaliseGopherd(items []menuItem) {
	for i := range items {
		if items[i].Type == 'i' {
			items[i].Display = strings.TrimSpace(items[i].Display)
		}
	}
}

// applyDiffs checks each named difference against pygopherd's items and
// replaces pygopherd's item by gopherd's (or removes it).
func applyDiffs(t *testing.T, sel string, py []menuItem, diffs []pyDiff) []menuItem {
	t.Helper()
	for _, d := range diffs {
		at := -1
		for i, it := range py {
			if it.Type != 'i' && it.Display == d.py.Display {
				if at >= 0 {
					t.Fatalf("%s: two pygopherd links are called %q", sel, d.py.Display)
				}
				at = i
			}
		}
		switch {
		case at < 0:
			t.Errorf("%s: difference %q: pygopherd has no link %q", sel, d.name, d.py.Display)
			continue
		case py[at] != d.py:
			t.Errorf("%s: difference %q: pygopherd's item is now\n%+v, expected\n%+v", sel, d.name, py[at], d.py)
		}
		if d.gopherd == nil {
			py = slices.Delete(py, at, at+1)
		} else {
			py[at] = *d.gopherd
		}
	}
	return py
}

// compareItems reports every item where got (gopherd) and want (the other
// server's, made comparable) differ.
func compareItems(t *testing.T, sel string, got, want []menuItem) {
	t.Helper()
	compareWith(t, "pygopherd", sel, got, want)
}

// compareWith is compareItems against the server called other.
func compareWith(t *testing.T, other, sel string, got, want []menuItem) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w *menuItem
		if i < len(got) {
			g = &got[i]
		}
		if i < len(want) {
			w = &want[i]
		}
		switch {
		case g == nil:
			t.Errorf("%s item %d: gopherd has none, %s %+v", sel, i+1, other, *w)
		case w == nil:
			t.Errorf("%s item %d: gopherd %+v, %s has none", sel, i+1, *g, other)
		case *g != *w:
			t.Errorf("%s item %d:\n   gopherd %+v\n %9s %+v", sel, i+1, *g, other, *w)
		}
	}
}

// copyDifftree copies testdata/difftree into a fresh temp dir: pygopherd
// writes cache files into the tree it serves, and each server gets its own.
func copyDifftree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "difftree")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "difftree"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// withoutLine returns data without its 1-based line n.
func withoutLine(data []byte, n int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	return bytes.Join(slices.Delete(lines, n-1, n), nil)
}

func TestPygopherdDifferential(t *testing.T) {
	slow(t)
	bin, stockConf := pygopherdBinary(t)
	gdRoot, pyRoot := copyDifftree(t), copyDifftree(t)

	// For each bad map, pygopherd also gets a copy without the bad line:
	// gopherd's rendering of the bad map must equal pygopherd's rendering
	// of that copy.
	for _, bm := range pygopherdBadMaps {
		data, err := os.ReadFile(filepath.Join(pyRoot, bm.dir, "gophermap"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		if len(lines) < bm.line || !strings.Contains(lines[bm.line-1], bm.text) {
			t.Fatalf("%s/gophermap: line %d is not the bad line holding %q", bm.dir, bm.line, bm.text)
		}
		writeTree(t, pyRoot, map[string]string{bm.dir + "-fixed/gophermap": string(withoutLine(data, bm.line))})
	}

	cfg := baseConfig(t, gdRoot)
	cfg["public-port"] = pyPublicPort
	gd := startConfig(t, cfg)
	py := startPygopherd(t, bin, stockConf, pyRoot)

	menus := func(t *testing.T, gdSel, pySel string) (g, p []menuItem) {
		t.Helper()
		gRaw, pRaw := gd.get(gdSel), py.get(t, pySel)
		g, err := splitMenu(gRaw, true)
		if err != nil {
			t.Fatalf("gopherd %s: %v: %q", gdSel, err, gRaw)
		}
		p, err = splitMenu(pRaw, false)
		if err != nil {
			t.Fatalf("pygopherd %s: %v: %q", pySel, err, pRaw)
		}
		if len(p) == 0 {
			t.Fatalf("pygopherd %s: empty answer:\n%s", pySel, py.log)
		}
		if err := normalisePygopherd(p); err != nil {
			t.Fatalf("pygopherd %s: %v", pySel, err)
		}
		return g, p
	}

	t.Run("root", func(t *testing.T) {
		g, p := menus(t, "/", "/")
		// Whitespace around info text is kept exactly by gopherd; only
		// then is it stripped for the comparison.
		for _, want := range []string{"   Info text with three leading spaces.", "Info text with trailing spaces.   "} {
			if !slices.Contains(g, localItem('i', want, "")) {
				t.Errorf("gopherd /: no info item %q with its whitespace kept", want)
			}
		}
		normaliseGopherd(g)
		compareItems(t, "/", g, applyDiffs(t, "/", p, pygopherdDiffs["/"]))
		if !strings.Contains(gd.log.String(), "gophermap: gophermap:22: ") {
			t.Errorf("gopherd /: no warning for line 22 (the link above the root):\n%s", gd.log)
		}
	})

	t.Run("sub", func(t *testing.T) {
		g, p := menus(t, "/sub", "/sub")
		normaliseGopherd(g)
		end := slices.Index(p, localItem('i', ".", ""))
		if end < 0 {
			t.Fatalf("difference %q: pygopherd /sub shows no \".\" info line: %+v", diffEndLine, p)
		}
		if !slices.Equal(p[end:], pygopherdAfterEnd) {
			t.Errorf("difference %q: pygopherd /sub from the \".\" line on:\n%+v, expected\n%+v", diffEndLine, p[end:], pygopherdAfterEnd)
		}
		compareItems(t, "/sub", g, applyDiffs(t, "/sub", p[:end], pygopherdDiffs["/sub"]))
	})

	for _, bm := range pygopherdBadMaps {
		t.Run(bm.dir, func(t *testing.T) {
			if raw := py.get(t, "/"+bm.dir); len(raw) != 0 {
				t.Errorf("difference %q: pygopherd /%s: want an empty answer, got %q", diffBadLine, bm.dir, raw)
			}
			g, p := menus(t, "/"+bm.dir, "/"+bm.dir+"-fixed")
			normaliseGopherd(g)
			compareItems(t, "/"+bm.dir, g, p)
			if want := fmt.Sprintf("%s/gophermap:%d: ", bm.dir, bm.line); !strings.Contains(gd.log.String(), want) {
				t.Errorf("difference %q: gopherd logged no warning %q:\n%s", diffBadLine, want, gd.log)
			}
		})
	}

	t.Run("file", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(gdRoot, "plain.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if got := gd.get("/plain.txt"); !bytes.Equal(got, want) {
			t.Errorf("gopherd /plain.txt: %q, want %q", got, want)
		}
		if got := py.get(t, "/plain.txt"); !bytes.Equal(got, want) {
			t.Errorf("pygopherd /plain.txt: %q, want %q", got, want)
		}
	})

	// pygopherd must not have touched gopherd's copy, and gopherd none.
	if err := checkUnchanged(gdRoot); err != nil {
		t.Error(err)
	}
}

// checkUnchanged reports a file in root that testdata/difftree lacks.
func checkUnchanged(root string) error {
	var extra []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if _, err := os.Lstat(filepath.Join("testdata", "difftree", rel)); err != nil {
			extra = append(extra, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("files appeared in gopherd's tree: %q", extra)
	}
	return nil
}

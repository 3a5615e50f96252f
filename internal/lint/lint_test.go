package lint

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"gopherd/internal/gophermap"
)

// findings flattens maps into "path:line:col RULE" strings, in order.
func findings(maps []Map) []string {
	var out []string
	for _, m := range maps {
		if m.Err != nil {
			out = append(out, m.Path+": "+m.Err.Error())
		}
		for _, f := range m.Findings {
			out = append(out, fmt.Sprintf("%s:%d:%d %s", m.Path, f.Line, f.Col, f.Rule))
		}
	}
	return out
}

func write(t testing.TB, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// TestFixtures lints the rule fixtures of internal/gophermap as a tree:
// each directory's map triggers its rule, at its place, with the facts
// (what exists, a second map, a program) read from the real files.
func TestFixtures(t *testing.T) {
	maps, err := Check(Options{Root: "../gophermap/testdata/lint", Host: "localhost", Port: 70})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GM001/gophermap:2:17 GM001",
		"GM002/gophermap:2:1 GM002",
		"GM003/gophermap:1:25 GM003",
		"GM004/gophermap:2:8 GM004",
		"GM005/gophermap:2:33 GM005",
		"GM005/gophermap:3:19 GM005",
		"GM006/gophermap:2:12 GM006",
		"GM007/gophermap:1:71 GM007",
		"GM008/gophermap:1:72 GM008",
		"GM009/gophermap:2:1 GM009",
		"GM010/gophermap:2:43 GM010",
		"GM011/gophermap:2:1 GM011",
		"GM012/gophermap:1:1 GM012",
		"GM013/.gophermap:1:1 GM013",
		"GM014/gophermap:1:4 GM014",
	}
	if got := findings(maps); !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(maps) != 16 {
		t.Errorf("%d maps checked, want 16 (the clean one and GM013's served one included)", len(maps))
	}
}

// TestWelcomeClean: the welcome map that make install puts into a new root
// has nothing to fix. (The demo tree is checked through the program, with
// the configuration make run serves it with: its search link needs it.)
func TestWelcomeClean(t *testing.T) {
	welcome, err := os.ReadFile("../../etc/welcome.gophermap")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), string(welcome), 0o644)
	maps, err := Check(Options{Root: root, Host: "localhost", Port: 70})
	if err != nil {
		t.Fatal(err)
	}
	if got := findings(maps); len(maps) != 1 || len(got) != 0 {
		t.Errorf("%d maps, findings:\n%s", len(maps), strings.Join(got, "\n"))
	}
}

// TestWalk: which maps a walk checks, and the facts of the tree the rules
// get.
func TestWalk(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "gophermap"), "0Here\tthere.txt\n0Missing\tnowhere.txt\n1Gateway\t/cgi-bin/x\n0Dotfile\t.hidden\n", 0o644)
	write(t, filepath.Join(root, "there.txt"), "x\n", 0o644)
	write(t, filepath.Join(root, ".hidden"), "x\n", 0o644)
	write(t, filepath.Join(root, ".dot", "gophermap"), "\tnever served\n", 0o644)
	write(t, filepath.Join(root, "cgi-bin", "gophermap"), "\tnever served\n", 0o644)
	write(t, filepath.Join(root, "exec", "gophermap"), "text\n", 0o755)
	write(t, filepath.Join(root, "both", "gophermap"), "served\n", 0o644)
	write(t, filepath.Join(root, "both", ".gophermap"), "\tshadowed\n", 0o644)
	write(t, filepath.Join(root, "only", ".gophermap"), "spacecookie's\n", 0o644)
	if err := os.Symlink("..", filepath.Join(root, "only", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo", "gophermap"), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "big", "gophermap"), strings.Repeat("x\n", 2<<20+1), 0o644)
	routed := func(sel string) bool { return strings.HasPrefix(sel, "/cgi-bin") }
	o := Options{Root: root, Host: "localhost", Port: 70, Routed: routed}
	maps, err := Check(o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"big/gophermap: 4194306 bytes, " + errTooLarge.Error(),
		"both/.gophermap:1:1 GM013",
		"exec/gophermap:1:1 GM012",
		"gophermap:2:10 GM004",
		"gophermap:4:10 GM004",
	}
	if got := findings(maps); !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var paths []string
	for _, m := range maps {
		paths = append(paths, m.Path)
	}
	if want := []string{"big/gophermap", "both/.gophermap", "both/gophermap", "exec/gophermap", "gophermap", "only/.gophermap"}; !slices.Equal(paths, want) {
		t.Errorf("maps checked %q, want %q", paths, want)
	}

	// Executable maps on: the exec bit is how they are meant.
	o.RunsPrograms = true
	if maps, err := Check(o, "exec"); err != nil || len(findings(maps)) != 0 {
		t.Errorf("with executable maps on: %q, %v", findings(maps), err)
	}
	// Paths: a directory is walked, a file is checked whatever its name,
	// and a map named on its own still meets its rival.
	write(t, filepath.Join(root, "notes", "draft.map"), "\tbad\n", 0o644)
	maps, err = Check(o, "notes/draft.map", "both/.gophermap", ".dot")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := findings(maps), []string{".dot/gophermap:1:1 GM002", "both/.gophermap:1:1 GM013", "notes/draft.map:1:1 GM002"}; !slices.Equal(got, want) {
		t.Errorf("paths: %q, want %q", got, want)
	}
	if _, err := Check(o, "no/such/dir"); err == nil {
		t.Error("a path that does not exist is not an error")
	}
	if _, err := Check(Options{Root: filepath.Join(root, "none")}); err == nil {
		t.Error("a root that does not exist is not an error")
	}
}

// corpusDir holds real maps from public gopherholes (see its README).
const corpusDir = "../../../shared/corpus"

// corpusEntry is one map of corpus.json.
type corpusEntry struct {
	Name string `json:"name"`
	Repo string `json:"repo"`
	Path string `json:"path"`
	Mode string `json:"mode"`
}

// corpusTree lays the corpus out as the repositories it came from, each
// map at its path with its mode, and returns the trees' roots.
func corpusTree(t testing.TB) (string, []corpusEntry) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "corpus.json"))
	if err != nil {
		t.Skipf("reference corpus not available (%v): the corpus checks did not run", err)
	}
	var entries []corpusEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(corpusDir, "gophermaps", e.Name))
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if e.Mode == "100755" {
			mode = 0o755
		}
		write(t, filepath.Join(root, strings.ReplaceAll(e.Repo, "/", "__"), filepath.FromSlash(e.Path)), string(body), mode)
	}
	return root, entries
}

// TestCorpus lints every real map of the corpus, in the trees they came
// from: no crash, and for the rules that can be decided without judgment
// (GM002, GM003, GM005, GM011, GM013, GM014) exactly what an independent
// reading of each file finds, so that a false positive fails as surely as
// a miss.
func TestCorpus(t *testing.T) {
	root, entries := corpusTree(t)
	decided := []string{gophermap.RuleType, gophermap.RuleTrailingTab, gophermap.RulePort, gophermap.RuleCut, gophermap.RuleTwoMaps, gophermap.RuleEncoding}
	start := time.Now()
	checked, total := 0, 0
	got := map[string][]string{}
	repos := map[string]bool{}
	for _, e := range entries {
		repos[strings.ReplaceAll(e.Repo, "/", "__")] = true
	}
	for repo := range repos {
		maps, err := Check(Options{Root: filepath.Join(root, repo), Host: "localhost", Port: 70})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range maps {
			checked++
			if m.Err != nil {
				t.Errorf("%s/%s: %v", repo, m.Path, m.Err)
			}
			total += len(m.Findings)
			key := repo + "/" + m.Path
			for _, f := range m.Findings {
				if slices.Contains(decided, f.Rule) {
					got[key] = append(got[key], fmt.Sprintf("%d:%d %s", f.Line, f.Col, f.Rule))
				}
			}
		}
	}
	t.Logf("linted %d corpus maps (%d findings) in %v", checked, total, time.Since(start))
	mapped, expected := 0, 0
	for _, e := range entries {
		name := path.Base(e.Path)
		if strings.HasSuffix(name, ".gph") {
			// geomyidae's menus are checked too, by their own rules,
			// which the rules of thumb below do not read.
			mapped++
			continue
		}
		if name != "gophermap" && name != ".gophermap" {
			continue // not a map by name: a walk does not check it
		}
		mapped++
		repo := strings.ReplaceAll(e.Repo, "/", "__")
		key := repo + "/" + e.Path
		data, err := os.ReadFile(filepath.Join(corpusDir, "gophermaps", e.Name))
		if err != nil {
			t.Fatal(err)
		}
		want := expectDecided(data)
		if name == ".gophermap" {
			if _, err := os.Stat(filepath.Join(root, repo, path.Dir(e.Path), "gophermap")); err == nil {
				want = []string{"1:1 GM013"}
			}
		}
		expected += len(want)
		if g := got[key]; !slices.Equal(g, want) {
			t.Errorf("%s (%s):\n lint: %q\n file: %q", key, e.Name, g, want)
		}
	}
	if expected == 0 {
		t.Error("the corpus holds no finding of a decided rule: the comparison proves nothing")
	}
	if checked != mapped || mapped < 50 {
		t.Errorf("%d maps checked, %d in the corpus by name", checked, mapped)
	}
}

// expectDecided reads a map as plain rules of thumb, independently of the
// linter's code, and lists the findings the decided rules must give, as
// "line:col RULE" sorted by position.
func expectDecided(data []byte) []string {
	text := string(data)
	var out []string
	add := func(line, col int, rule string) { out = append(out, fmt.Sprintf("%d:%d %s", line, col, rule)) }
	if strings.HasPrefix(text, "#!") {
		return nil // a program: not read as a map
	}
	skip := 0
	if strings.HasPrefix(text, "\xef\xbb\xbf") {
		add(1, 1, gophermap.RuleEncoding)
		skip = 3
	}
	raw := strings.SplitAfter(text, "\n")
	if raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	firstEnding, mixed := "", false
	badUTF8 := false
	for i, r := range raw {
		n := i + 1
		body, ending := strings.TrimSuffix(r, "\n"), ""
		if strings.HasSuffix(r, "\n") {
			ending = "\n"
			if strings.HasSuffix(body, "\r") {
				body, ending = strings.TrimSuffix(body, "\r"), "\r\n"
			}
		} else {
			body = strings.TrimSuffix(body, "\r")
		}
		off := 0
		if n == 1 {
			body, off = body[skip:], skip
		}
		if ending != "" {
			if firstEnding == "" {
				firstEnding = ending
			} else if ending != firstEnding && !mixed {
				mixed = true
				add(n, len(r)-len(ending)+1, gophermap.RuleEncoding)
			}
		}
		if body == "." {
			for _, later := range raw[i+1:] {
				if strings.TrimSpace(later) != "" {
					add(n, off+1, gophermap.RuleCut)
					break
				}
			}
			break
		}
		if !utf8.ValidString(body) && !badUTF8 {
			badUTF8 = true
			for j := 0; j < len(body); {
				c, size := utf8.DecodeRuneInString(body[j:])
				if c == utf8.RuneError && size == 1 {
					add(n, off+j+1, gophermap.RuleEncoding)
					break
				}
				j += size
			}
		}
		if j := strings.IndexByte(body, '\r'); j >= 0 {
			add(n, off+j+1, gophermap.RuleEncoding)
		}
		// The fields as the server reads them: a CR inside a line is a
		// space.
		spaced := strings.ReplaceAll(body, "\r", " ")
		tab := strings.IndexByte(body, '\t')
		if tab < 0 {
			continue
		}
		if tab == 0 || spaced[0] <= ' ' || spaced[0] >= 0x7f {
			add(n, off+1, gophermap.RuleType)
			continue
		}
		typ := body[0]
		fields := strings.Split(spaced, "\t")
		if typ != 'i' && len(fields) == 2 && fields[1] == "" && len(fields[0]) == 1 {
			add(n, off+tab+1, gophermap.RuleTrailingTab) // "1<TAB>": nothing to show
			continue
		}
		if typ != 'i' && len(fields) >= 4 {
			port := strings.Trim(fields[3], " ")
			if port != "" && !validPort(port) {
				add(n, off+len(strings.Join(fields[:3], "\t"))+1+strings.Index(fields[3], port)+1, gophermap.RulePort)
				continue
			}
		}
		if typ == 'i' {
			continue
		}
		if raw := strings.Split(body, "\t"); len(raw) == 2 && raw[1] == "" && typ != '3' && strings.Contains(raw[0][1:], " ") {
			add(n, off+tab+1, gophermap.RuleTrailingTab)
			continue
		}
		if !strings.ContainsRune("0123456789+gIThisd;cMp", rune(typ)) {
			add(n, off+1, gophermap.RuleType)
			continue
		}
		if len(fields) >= 3 && strings.ContainsFunc(fields[2], unicode.IsSpace) {
			add(n, off+len(fields[0])+len(fields[1])+3, gophermap.RulePort)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		var la, ca, lb, cb int
		var ra, rb string
		fmt.Sscanf(a, "%d:%d %s", &la, &ca, &ra)
		fmt.Sscanf(b, "%d:%d %s", &lb, &cb, &rb)
		return cmp.Or(cmp.Compare(la, lb), cmp.Compare(ca, cb), cmp.Compare(ra, rb))
	})
	return out
}

func validPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

// BenchmarkCorpus lints the whole corpus, laid out as its trees; compare
// ns/op with BenchmarkCorpusRead, which only reads the same files.
func BenchmarkCorpus(b *testing.B) {
	root, _ := corpusTree(b)
	repos, err := os.ReadDir(root)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, r := range repos {
			if _, err := Check(Options{Root: filepath.Join(root, r.Name()), Host: "localhost", Port: 70}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCorpusRead walks and reads the corpus trees without linting:
// the floor BenchmarkCorpus stands on.
func BenchmarkCorpusRead(b *testing.B) {
	root, _ := corpusTree(b)
	for b.Loop() {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				_, err = os.ReadFile(p)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

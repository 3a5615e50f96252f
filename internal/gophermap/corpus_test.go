package gophermap

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// corpusEntry is one map of shared/corpus/corpus.json.
type corpusEntry struct {
	Name    string `json:"name"`
	Dialect string `json:"dialect"`
}

// corpus finds shared/corpus by walking up from the test's directory and
// returns its maps of dialect want (the guess corpus.json records), or
// skips.
func corpus(t *testing.T, want string) (dir string, names []string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared", "corpus")
		if data, err := os.ReadFile(filepath.Join(c, "corpus.json")); err == nil {
			var entries []corpusEntry
			if err := json.Unmarshal(data, &entries); err != nil {
				t.Fatalf("%s/corpus.json: %v", c, err)
			}
			for _, e := range entries {
				if e.Dialect == want {
					names = append(names, e.Name)
				}
			}
			if len(names) == 0 {
				t.Fatalf("%s/corpus.json lists no map of dialect %q", c, want)
			}
			return filepath.Join(c, "gophermaps"), names
		}
		if filepath.Dir(d) == d {
			t.Skipf("reference corpus not found: no shared/corpus/corpus.json in %s or any parent; skipping the real maps", wd)
		}
	}
}

// corpusTree answers every include with "no such file" and lists three
// entries: the corpus holds maps, not their trees.
type corpusTree struct{ includes, listings int }

func (c *corpusTree) Listing(context.Context) ([]ListEntry, error) {
	c.listings++
	return []ListEntry{{Name: "dir", Type: '1', Dir: true}, {Name: "a.txt", Type: '0'}, {Name: "b.png", Type: 'I'}}, nil
}

func (c *corpusTree) Include(context.Context, string) (string, string, error) {
	c.includes++
	return "", "", errors.New("no such file")
}

// TestCorpusGophernicus renders the real Gophernicus maps of the corpus in
// the gophernicus dialect: every item can go on the wire, and no line of
// one of Gophernicus' kinds (by its first byte, restated here) is left as
// text.
func TestCorpusGophernicus(t *testing.T) {
	dir, names := corpus(t, DialectGophernicus)
	directives := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			tree := &corpusTree{}
			var warns []Warning
			r := Renderer{Context: Context{Dir: "/corpus", Host: "example.org", Port: 70}, Dialect: Gophernicus{}, Tree: tree,
				Warn: func(w Warning) { warns = append(warns, w) }}
			shown := map[string]bool{}
			for it := range r.Items(context.Background(), string(data)) {
				if !it.Valid() {
					t.Fatalf("invalid item %+v", it)
				}
				if it.Type == gopher.TypeInfo {
					shown[it.Display] = true
				}
			}
			for l := range Lines(string(data)) {
				text := strings.TrimSuffix(strings.TrimPrefix(l.Text, utf8BOM), "\r")
				if text == "" || !strings.ContainsRune("#!-:*=~%.", rune(text[0])) {
					continue
				}
				directives++
				if shown[text] {
					t.Errorf("line %d %q is shown as text", l.Num, text)
				}
				if text[0] == '.' || text[0] == '*' {
					break // the rest of the map is not read
				}
			}
			for _, w := range warns {
				if w.Line < 1 {
					t.Errorf("warning without a line: %v", w)
				}
			}
		})
	}
	if directives == 0 {
		t.Error("the corpus's Gophernicus maps hold no directive at all: the dialect guess is wrong")
	}
}

// gphLinkLine is a well-formed .gph link as geomyidae(8) describes it,
// restated independently of the parser.
var gphLinkLine = regexp.MustCompile(`^\[[^|\]]+\|([^|\\]|\\\|)*\|([^|\\]|\\\|)*\|[^|]*\|[^|\]]*\]`)

// TestCorpusGPH renders the real .gph files of the corpus: links are links,
// and no well-formed link line is left as text.
func TestCorpusGPH(t *testing.T) {
	dir, names := corpus(t, "geomyidae-gph")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			r := Renderer{Context: Context{Dir: "/", Host: "example.org", Port: 70}, Dialect: GPH{}}
			links, shown := 0, map[string]bool{}
			for it := range r.Items(context.Background(), string(data)) {
				if !it.Valid() {
					t.Fatalf("invalid item %+v", it)
				}
				if it.Type == gopher.TypeInfo {
					shown[it.Display] = true
				} else {
					links++
				}
			}
			for l := range Lines(string(data)) {
				if gphLinkLine.MatchString(l.Text) && !strings.HasPrefix(l.Text, "[i|") && shown[l.Text] {
					t.Errorf("line %d %q is a link shown as text", l.Num, l.Text)
				}
			}
			if links == 0 {
				t.Error("no links")
			}
		})
	}
}

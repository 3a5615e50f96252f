//go:build unix

package search

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"gopherd/internal/gopher"
)

// FuzzQuery sends any query to a handler over the fixture tree and checks
// that the parser never panics or lets more terms through than allowed, and
// that the answer is always a well-formed menu: exactly the lines its first
// line announces, every one with four fields, nothing from the query
// outside the count line's display string, which holds no control
// character.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"", " ", "aardvark", "aardvark ants", "zebra or wombat", "not aardvark", "aardvark not badger",
		"gopher*", "*", "a*", "and or not", "NOT NOT x", "foo-bar* baz", "aardvark\tifake\tx\t70",
		"aardvark\r\n.\r\n", "\x00\x1b[2J", "\xff\xfe", "ΣΊΣΥΦΟΣ", "漢字*", strings.Repeat("x", 41),
		strings.Repeat("ab ", 100), "one two three four five six seven eight nine",
	} {
		f.Add(s)
	}
	h, _ := built(f, fixtureTree(f))
	lim := h.lim
	f.Fuzz(func(t *testing.T, q string) {
		if pq, err := parseQuery(q, lim.MaxTerms); err == nil {
			if pq.terms > lim.MaxTerms || len(pq.clauses) == 0 {
				t.Fatalf("parseQuery(%q): %d terms in %d clauses", q, pq.terms, len(pq.clauses))
			}
			for _, c := range pq.clauses {
				for _, tm := range c.terms {
					if !tm.never && !validTerm(utf8.RuneCountInString(tm.text)) {
						t.Fatalf("parseQuery(%q): term %q", q, tm.text)
					}
				}
			}
		}
		rec := &recorder{}
		h.ServeGopher(context.Background(), rec, &gopher.Request{Selector: "/search", Search: q, HasSearch: true})
		lines := parseMenu(t, rec.Bytes())
		if len(lines) == 0 {
			t.Fatalf("query %q: empty menu", q)
		}
		first := lines[0]
		switch first.typ {
		case '3':
			if len(lines) != 1 {
				t.Fatalf("query %q: error with %d lines", q, len(lines))
			}
		case 'i':
			var n int
			if _, err := fmt.Sscanf(first.display, "%d result", &n); err != nil {
				// The help menu: info lines and the search item.
				if last := lines[len(lines)-1]; last.typ != '7' || rec.served != "menu" {
					t.Fatalf("query %q: neither results nor help: %q", q, rec.String())
				}
				return
			}
			if want := 1 + 2*min(n, lim.MaxResults); len(lines) != want {
				t.Fatalf("query %q: %d lines for %d results", q, len(lines), n)
			}
			for _, r := range first.display {
				if unsafeRune(r) || r == utf8.RuneError {
					t.Fatalf("query %q: %U in the count line", q, r)
				}
			}
			if colWidth(first.display) > len(fmt.Sprint(n))+len(` results for ""`)+queryCols {
				t.Fatalf("query %q: count line %q too wide", q, first.display)
			}
		default:
			t.Fatalf("query %q: first line of type %q", q, first.typ)
		}
	})
}

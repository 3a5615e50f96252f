//go:build unix

package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvaluateMatchesBruteForce compares the index's evaluation of random
// queries with a direct reading of the definition over the documents'
// terms: the same documents, the same hit counts (a document's hits are
// those of the positive clauses it matched since it last entered the
// result).
func TestEvaluateMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	vocab := []string{"ab", "abc", "abd", "b1", "ca", "cab", "dd", "de", "ee", "eef", "ff", "gg", "hh", "ii", "jj"}
	root := t.TempDir()
	const ndocs = 300
	for i := range ndocs {
		var words []string
		// Skewed: early words are common, late ones rare.
		for range 1 + r.IntN(30) {
			words = append(words, vocab[min(r.IntN(len(vocab)), r.IntN(len(vocab)))])
		}
		write(t, filepath.Join(root, fmt.Sprintf("d%02d", i%17), fmt.Sprintf("f%03d.txt", i)), strings.Join(words, " "))
	}
	h, _ := built(t, root)
	x := h.cur.Load()
	// counts[d][term] from the stored texts.
	counts := make([]map[string]uint32, len(x.docs))
	for d := range x.docs {
		counts[d] = map[string]uint32{}
		tokenize(x.docs[d].text, nil, func(tm []byte, runes, _, _ int) bool {
			if validTerm(runes) {
				counts[d][string(tm)]++
			}
			return true
		})
	}
	termHits := func(d int, q qterm) uint32 {
		var n uint32
		for tm, c := range counts[d] {
			if q.prefix && strings.HasPrefix(tm, q.text) || !q.prefix && tm == q.text {
				n += c
			}
		}
		return n
	}
	ops := []string{"", "", "", "and ", "or ", "not ", "or not ", "and not "}
	for range 3000 {
		var sb strings.Builder
		for range 1 + r.IntN(5) {
			sb.WriteString(ops[r.IntN(len(ops))])
			w := vocab[r.IntN(len(vocab))]
			if r.IntN(4) == 0 {
				w = w[:1+r.IntN(len(w))] + "*"
			}
			if r.IntN(10) == 0 {
				w += "-" + vocab[r.IntN(len(vocab))]
			}
			sb.WriteString(w + " ")
		}
		qs := sb.String()
		q, err := parseQuery(qs, 100)
		if err != nil {
			continue
		}
		got, err := x.evaluate(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		// The definition: left to right over sets of documents.
		in := make([]bool, len(x.docs))
		hits := make([]uint32, len(x.docs))
		for i, c := range q.clauses {
			for d := range x.docs {
				match := true
				var hh uint32
				for _, tm := range c.terms {
					n := uint32(0)
					if !tm.never {
						n = termHits(d, tm)
					}
					if n == 0 {
						match = false
					}
					hh += n
				}
				if c.neg {
					match, hh = !match, 0
				}
				switch {
				case i == 0:
					in[d], hits[d] = match, 0
					if match {
						hits[d] = hh
					}
				case c.or:
					if match {
						hits[d] += hh
					}
					in[d] = in[d] || match
				default:
					in[d] = in[d] && match
					hits[d] += hh
					if !in[d] {
						hits[d] = 0 // hits count only while the document is in
					}
				}
			}
		}
		var want []hit
		for d := range x.docs {
			if in[d] {
				want = append(want, hit{doc: uint32(d), hits: hits[d]})
			}
		}
		if len(got) != len(want) {
			t.Fatalf("query %q: %d documents, want %d", qs, len(got), len(want))
		}
		for i := range got {
			if got[i].doc != want[i].doc || got[i].hits != want[i].hits {
				t.Fatalf("query %q: result %d is doc %d with %d hits, want doc %d with %d", qs, i, got[i].doc, got[i].hits, want[i].doc, want[i].hits)
			}
		}
	}
}

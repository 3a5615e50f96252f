package search

import (
	"context"
	"slices"
	"strings"
)

// noOffset marks a hit without a position (a document matched only by
// negation); its snippet starts at the beginning.
const noOffset = ^uint32(0)

// positive returns the terms whose occurrences make hits: those of the
// clauses that are not negated.
func (q query) positive() []qterm {
	var out []qterm
	for _, c := range q.clauses {
		if c.neg {
			continue
		}
		for _, t := range c.terms {
			if !t.never {
				out = append(out, t)
			}
		}
	}
	return out
}

// ctxCheckEvery is how many postings are decoded between checks of the
// query's deadline.
const ctxCheckEvery = 1024

// hit is a document matching (part of) a query: how often the query's
// positive terms occur in it and in which offsetBlock the first of them is
// (noOffset: none).
type hit struct {
	doc, hits, blk uint32
}

// evaluate returns the documents matching q in document order. The
// clauses are applied left to right; only within the leading run of
// clauses joined by AND, where order cannot matter, the rarest positive
// clause goes first and the others are intersected with it while their
// postings are decoded, so that a rare word makes the common ones cheap.
func (x *index) evaluate(ctx context.Context, q query) ([]hit, error) {
	n := 1
	for n < len(q.clauses) && !q.clauses[n].or {
		n++
	}
	acc, err := x.andRun(ctx, q.clauses[:n])
	if err != nil {
		return nil, err
	}
	for _, c := range q.clauses[n:] {
		switch {
		case c.or:
			set, err := x.clauseHits(ctx, c)
			if err != nil {
				return nil, err
			}
			if c.neg {
				set = x.complement(set)
			}
			acc = union(acc, set)
		case c.neg:
			acc, err = x.subtractClause(ctx, acc, c)
		default:
			acc, err = x.intersectClause(ctx, acc, c)
		}
		if err != nil {
			return nil, err
		}
	}
	return acc, ctx.Err()
}

// andRun returns the documents matching all clauses of run, joined by AND.
func (x *index) andRun(ctx context.Context, run []clause) ([]hit, error) {
	var pos, neg []clause
	for _, c := range run {
		if c.neg {
			neg = append(neg, c)
		} else {
			pos = append(pos, c)
		}
	}
	slices.SortStableFunc(pos, func(a, b clause) int { return x.clauseCost(a) - x.clauseCost(b) })
	var acc []hit
	var err error
	if len(pos) == 0 {
		acc = x.complement(nil)
	} else if acc, err = x.clauseHits(ctx, pos[0]); err != nil {
		return nil, err
	} else {
		pos = pos[1:]
	}
	for _, c := range pos {
		if acc, err = x.intersectClause(ctx, acc, c); err != nil {
			return nil, err
		}
	}
	for _, c := range neg {
		if acc, err = x.subtractClause(ctx, acc, c); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// subtractClause removes from acc the documents that hold every term of c.
func (x *index) subtractClause(ctx context.Context, acc []hit, c clause) ([]hit, error) {
	if len(acc) == 0 {
		return acc, nil
	}
	in, err := x.intersectClause(ctx, slices.Clone(acc), c)
	if err != nil {
		return nil, err
	}
	return difference(acc, in), nil
}

// clauseCost estimates what decoding clause c costs: the bytes of its
// rarest term's postings.
func (x *index) clauseCost(c clause) int {
	cost := -1
	for _, t := range c.terms {
		if n := x.termCost(t); cost < 0 || n < cost {
			cost = n
		}
	}
	return cost
}

func (x *index) termCost(t qterm) int {
	lo, hi := 0, 0
	switch {
	case t.never:
		return 0
	case t.prefix:
		lo, hi = x.prefixRange(t.text)
	default:
		i, ok := x.find(t.text)
		if !ok {
			return 0
		}
		lo, hi = i, i+1
	}
	if lo == hi {
		return 0
	}
	start := uint32(0)
	if lo > 0 {
		start = x.postEnd[lo-1]
	}
	return int(x.postEnd[hi-1] - start)
}

// clauseHits returns the documents holding all terms of c.
func (x *index) clauseHits(ctx context.Context, c clause) ([]hit, error) {
	terms := slices.Clone(c.terms)
	slices.SortStableFunc(terms, func(a, b qterm) int { return x.termCost(a) - x.termCost(b) })
	set, err := x.termHits(ctx, terms[0])
	if err != nil {
		return nil, err
	}
	return x.intersectClause(ctx, set, clause{terms: terms[1:]})
}

// intersectClause keeps the documents of acc that hold every term of c,
// adding their hits. acc is reused.
func (x *index) intersectClause(ctx context.Context, acc []hit, c clause) ([]hit, error) {
	var err error
	for _, t := range c.terms {
		if len(acc) == 0 {
			return acc, nil
		}
		if acc, err = x.intersectTerm(ctx, acc, t); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// intersectTerm keeps the documents of acc that hold t. For a plain term
// it decodes the postings only as far as acc reaches and writes the result
// over acc itself.
func (x *index) intersectTerm(ctx context.Context, acc []hit, t qterm) ([]hit, error) {
	if t.never {
		return acc[:0], nil
	}
	if t.prefix {
		if lo, hi := x.prefixRange(t.text); hi-lo != 1 {
			set, err := x.termHits(ctx, t)
			if err != nil {
				return nil, err
			}
			return intersect(acc, set), nil
		}
	}
	var i int
	if t.prefix {
		i, _ = x.prefixRange(t.text)
	} else {
		var ok bool
		if i, ok = x.find(t.text); !ok {
			return acc[:0], nil
		}
	}
	b := x.postings(i)
	out := acc[:0]
	var doc, tf, blk uint32
	steps := 0
	for _, h := range acc {
		for doc < h.doc || steps == 0 {
			if len(b) == 0 {
				return out, nil
			}
			delta, t, bl, n := step(b)
			b = b[n:]
			doc += delta
			tf, blk = t, bl
			if steps++; steps%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
		if doc == h.doc {
			out = append(out, combine(h, hit{hits: tf, blk: blk}))
		}
	}
	return out, nil
}

// termHits returns the documents holding t: for a prefix, any term that
// starts with it.
func (x *index) termHits(ctx context.Context, t qterm) ([]hit, error) {
	if t.never {
		return nil, nil
	}
	if !t.prefix {
		i, ok := x.find(t.text)
		if !ok {
			return nil, nil
		}
		return x.decode(ctx, i)
	}
	lo, hi := x.prefixRange(t.text)
	switch hi - lo {
	case 0:
		return nil, nil
	case 1:
		return x.decode(ctx, lo)
	}
	// Many terms: add their postings up per document instead of merging
	// lists pairwise, which would cost a pass over the result per term.
	hits := make([]uint32, len(x.docs))
	offs := make([]uint32, len(x.docs))
	n, count := 0, 0
	for i := lo; i < hi; i++ {
		r := postingReader{b: x.postings(i)}
		for p, ok := r.next(); ok; p, ok = r.next() {
			if count++; count%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			switch {
			case hits[p.doc] == 0:
				n++
				offs[p.doc] = p.blk
			case p.blk < offs[p.doc]:
				offs[p.doc] = p.blk
			}
			hits[p.doc] += p.tf
		}
	}
	out := make([]hit, 0, n)
	for d, h := range hits {
		if h > 0 {
			out = append(out, hit{doc: uint32(d), hits: h, blk: offs[d]})
		}
	}
	return out, nil
}

// decode returns the postings of term i as hits.
// It is postingReader.next written out, since this loop is where a query
// on a common word spends its time.
func (x *index) decode(ctx context.Context, i int) ([]hit, error) {
	b := x.postings(i)
	// A posting takes two bytes or more.
	out := make([]hit, 0, len(b)/2)
	var doc uint32
	for len(b) > 0 {
		if len(out)%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		delta, tf, blk, n := step(b)
		b = b[n:]
		doc += delta
		out = append(out, hit{doc: doc, hits: tf, blk: blk})
	}
	return out, nil
}

// complement returns every document not in set, without hits.
func (x *index) complement(set []hit) []hit {
	out := make([]hit, 0, len(x.docs)-len(set))
	j := 0
	for d := range uint32(len(x.docs)) {
		if j < len(set) && set[j].doc == d {
			j++
			continue
		}
		out = append(out, hit{doc: d, blk: noOffset})
	}
	return out
}

// combine adds b's hits and first position to a's.
func combine(a, b hit) hit {
	return hit{doc: a.doc, hits: a.hits + b.hits, blk: min(a.blk, b.blk)}
}

func intersect(a, b []hit) []hit {
	out := make([]hit, 0, min(len(a), len(b)))
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].doc < b[j].doc:
			i++
		case a[i].doc > b[j].doc:
			j++
		default:
			out = append(out, combine(a[i], b[j]))
			i++
			j++
		}
	}
	return out
}

func union(a, b []hit) []hit {
	out := make([]hit, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].doc < b[j].doc:
			out = append(out, a[i])
			i++
		case a[i].doc > b[j].doc:
			out = append(out, b[j])
			j++
		default:
			out = append(out, combine(a[i], b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func difference(a, b []hit) []hit {
	out := make([]hit, 0, len(a))
	j := 0
	for _, h := range a {
		for j < len(b) && b[j].doc < h.doc {
			j++
		}
		if j < len(b) && b[j].doc == h.doc {
			continue
		}
		out = append(out, h)
	}
	return out
}

// ranked is a hit with its score.
type ranked struct {
	hit
	score float32
}

// score is term frequency with a length norm: the hits divided by the
// square root of the document's length in terms (Lucene's classic norm), so
// that a short note about a word beats a long file that mentions it in
// passing, but not a long file that is all about it.
func (x *index) score(h hit) ranked {
	return ranked{hit: h, score: float32(h.hits) * x.norm[h.doc]}
}

// better orders results: higher score first, then more hits, then shorter
// documents, then selectors in byte order (so the order never depends on
// when a file was indexed).
func (x *index) better(a, b ranked) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.hits != b.hits {
		return a.hits > b.hits
	}
	if ta, tb := x.docs[a.doc].terms, x.docs[b.doc].terms; ta != tb {
		return ta < tb
	}
	return strings.Compare(x.docs[a.doc].sel, x.docs[b.doc].sel) < 0
}

// topK keeps the k best hits seen so far in a heap with the worst at the
// root, so that most hits cost one comparison.
type topK struct {
	x    *index
	k    int
	heap []ranked
}

func (t *topK) worse(i, j int) bool { return t.x.better(t.heap[j], t.heap[i]) }

func (t *topK) add(h hit) {
	r := t.x.score(h)
	if len(t.heap) < t.k {
		t.heap = append(t.heap, r)
		for i := len(t.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.worse(i, p) {
				break
			}
			t.heap[i], t.heap[p] = t.heap[p], t.heap[i]
			i = p
		}
		return
	}
	if t.k == 0 || r.score < t.heap[0].score || r.score == t.heap[0].score && !t.x.better(r, t.heap[0]) {
		return
	}
	t.heap[0] = r
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(t.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(t.heap) && t.worse(r, l) {
			m = r
		}
		if !t.worse(m, i) {
			return
		}
		t.heap[i], t.heap[m] = t.heap[m], t.heap[i]
		i = m
	}
}

// sorted returns the hits kept, best first.
func (t *topK) sorted() []ranked {
	slices.SortFunc(t.heap, func(a, b ranked) int {
		if t.x.better(a, b) {
			return -1
		}
		if t.x.better(b, a) {
			return 1
		}
		return 0
	})
	return t.heap
}

// top returns the k best of hs, best first.
func (x *index) top(hs []hit, k int) []ranked {
	t := topK{x: x, k: k, heap: make([]ranked, 0, min(k, len(hs)))}
	for _, h := range hs {
		t.add(h)
	}
	return t.sorted()
}

// search returns the k best documents matching q, best first, and how many
// match in all. A query of one plain word, the most common kind, streams
// its postings into the ranking without building the list of hits first.
func (x *index) search(ctx context.Context, q query, k int) ([]ranked, int, error) {
	if len(q.clauses) == 1 && !q.clauses[0].neg && len(q.clauses[0].terms) == 1 {
		if t := q.clauses[0].terms[0]; !t.prefix && !t.never {
			i, ok := x.find(t.text)
			if !ok {
				return nil, 0, nil
			}
			top := topK{x: x, k: k, heap: make([]ranked, 0, k)}
			b := x.postings(i)
			var doc uint32
			n := 0
			for len(b) > 0 {
				if n++; n%ctxCheckEvery == 0 {
					if err := ctx.Err(); err != nil {
						return nil, 0, err
					}
				}
				delta, tf, blk, m := step(b)
				b = b[m:]
				doc += delta
				top.add(hit{doc: doc, hits: tf, blk: blk})
			}
			return top.sorted(), n, ctx.Err()
		}
	}
	hits, err := x.evaluate(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return x.top(hits, k), len(hits), nil
}

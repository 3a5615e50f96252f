package search

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"strings"

	"gopherd/internal/fs"
	"gopherd/internal/gopher"
)

// An index is immutable once built: queries read it without locks while the
// background goroutine builds its successor, which replaces it atomically.
//
// Layout, chosen for a small heap: all terms, sorted, in one string with an
// end offset per term; all postings in one byte slice, term after term, with
// an end offset per term. A posting is two or three unsigned varints: the
// document number as a delta from the previous posting of the same term
// (the first from 0), shifted left by one with the low bit set when the
// term occurs once in the document (most postings: the frequency is then
// left out); else the frequency; then the offset of the term's first
// occurrence in blocks of offsetBlock bytes, which the snippet turns into
// the exact position by scanning one block of the text. Lists are in
// document order, so intersections and unions are linear merges. On a
// corpus of 50 MiB this is about 2.7 bytes a posting.
type index struct {
	docs []doc
	// norm is each document's length norm, 1/√terms, kept apart from docs
	// so that ranking thousands of hits reads a small array.
	norm     []float32
	termData string
	termEnd  []uint32
	post     []byte
	postEnd  []uint32

	// bySel finds a document by its selector; skipped remembers included
	// files that were read but not indexed (not text, unreadable), so
	// that the change scan does not read them again while they stay the
	// same.
	bySel   map[string]uint32
	skipped map[string]fileKey

	// textBytes is the text held; bytes estimates the whole index's
	// memory (what max-index-bytes caps); full tells that indexing
	// stopped at the cap.
	textBytes int64
	bytes     int64
	full      bool

	// answers caches the result menus of queries asked again; nil keeps
	// none.
	answers *answers
}

// doc is one indexed file or gophermap.
type doc struct {
	sel   string          // selector of the result link
	src   string          // root-relative path of the file that was read
	typ   gopher.ItemType // TypeText, or TypeMenu for a gophermap
	title string          // cleaned and cut for the menu
	text  string          // the indexed text, for snippets
	terms uint32          // number of terms, for the length norm
	key   fileKey         // what the change scan compares
	// postBytes is what the document's postings take, for the index's
	// memory account.
	postBytes uint32
}

// docOverhead approximates what a doc costs beyond its strings and
// postings: the struct, its bySel entry and the slice slot.
const docOverhead = 160

// termOverhead is what each term costs beyond its bytes: two offsets.
const termOverhead = 8

func (d *doc) cost() int64 {
	return int64(len(d.text)+len(d.sel)+len(d.src)+len(d.title)) + int64(d.postBytes) + docOverhead
}

// fileKey is what tells one state of a file from another.
type fileKey struct {
	id    fs.FileID
	hasID bool
	size  int64
	mtime int64
	// racy marks a file modified so shortly before it was read that a
	// later write could leave its times unchanged: it is read again at the
	// next scan whatever its key.
	racy bool
}

// same reports whether a (recorded at the last read) still describes the
// file whose current key is b.
func (a fileKey) same(b fileKey) bool {
	return !a.racy && a.hasID == b.hasID && a.id == b.id && a.size == b.size && a.mtime == b.mtime
}

func emptyIndex() *index {
	return &index{bySel: map[string]uint32{}, skipped: map[string]fileKey{}}
}

func (x *index) numTerms() int { return len(x.termEnd) }

func (x *index) term(i int) string {
	start := uint32(0)
	if i > 0 {
		start = x.termEnd[i-1]
	}
	return x.termData[start:x.termEnd[i]]
}

func (x *index) postings(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = x.postEnd[i-1]
	}
	return x.post[start:x.postEnd[i]]
}

// find returns the number of term t, or ok false.
func (x *index) find(t string) (int, bool) {
	i := sort.Search(x.numTerms(), func(i int) bool { return x.term(i) >= t })
	return i, i < x.numTerms() && x.term(i) == t
}

// prefixRange returns the numbers [lo, hi) of the terms starting with p.
func (x *index) prefixRange(p string) (lo, hi int) {
	n := x.numTerms()
	lo = sort.Search(n, func(i int) bool { return x.term(i) >= p })
	// The terms with the prefix follow each other from lo on.
	hi = lo + sort.Search(n-lo, func(i int) bool { return !strings.HasPrefix(x.term(lo+i), p) })
	return lo, hi
}

// offsetBlock is the granularity of first-occurrence offsets: one varint
// byte covers the first 8 KiB of a file, two its first MiB.
const offsetBlock = 64

// posting is one decoded posting; blk is the first occurrence's block.
type posting struct {
	doc, tf, blk uint32
}

// postingReader decodes a posting list.
type postingReader struct {
	b   []byte
	doc uint32
}

func (r *postingReader) next() (posting, bool) {
	if len(r.b) == 0 {
		return posting{}, false
	}
	delta, tf, blk, n := step(r.b)
	r.b = r.b[n:]
	r.doc += delta
	return posting{doc: r.doc, tf: tf, blk: blk}, true
}

// step decodes the posting at the start of b (which must hold one) into
// its document delta, frequency and block, and returns its length. Most
// postings are two one-byte varints; that case takes no further call.
func step(b []byte) (delta, tf, blk uint32, n int) {
	if len(b) >= 2 && b[0]&1 == 1 && b[0] < 0x80 && b[1] < 0x80 {
		return uint32(b[0] >> 1), 1, uint32(b[1]), 2
	}
	v, k := binary.Uvarint(b)
	n = k
	tf = 1
	if v&1 == 0 {
		t, k := binary.Uvarint(b[n:])
		tf = uint32(t)
		n += k
	}
	bl, k := binary.Uvarint(b[n:])
	return uint32(v >> 1), tf, uint32(bl), n + k
}

func appendPosting(b []byte, delta, tf, blk uint32) []byte {
	if tf == 1 {
		b = binary.AppendUvarint(b, uint64(delta)<<1|1)
	} else {
		b = binary.AppendUvarint(b, uint64(delta)<<1)
		b = binary.AppendUvarint(b, uint64(tf))
	}
	return binary.AppendUvarint(b, uint64(blk))
}

// builder collects the postings of new documents. Documents get numbers
// from base on, in the order they are added.
type builder struct {
	base  uint32
	docs  []doc
	ids   map[string]uint32 // term → builder-local term number
	terms []string
	posts [][]byte
	last  []uint32 // last document number added per term
	// The per-document accumulator, indexed by term number: stamp tells
	// whether the slot belongs to the current document.
	stamp   []uint32
	tf      []uint32
	off     []uint32
	touched []uint32
	scratch []byte
	// texts holds the documents' texts.
	texts textArena
	// bytes is the memory estimate of what was added: documents and new
	// terms.
	bytes int64
}

// textArena packs texts into shared chunks: each text allocated on its
// own would be rounded up to the allocator's size class, up to an eighth
// more. A chunk lives as long as any text in it; after many edits a few
// old chunks may be held by one text each, which bounds the waste by the
// number of scans that read files.
type textArena struct {
	cur strings.Builder
	// left is how many bytes of text are still to come, so that a scan
	// that reads one file does not take a whole chunk for it.
	left int64
}

// Chunk bounds of a textArena; a text of more than arenaMax bytes gets an
// allocation of its own.
const (
	arenaChunk = 1 << 20
	arenaMin   = 16 << 10
	arenaMax   = arenaChunk / 4
)

// add returns a copy of b that lives in the arena.
func (a *textArena) add(b []byte) string {
	if len(b) > arenaMax {
		return string(b)
	}
	if a.cur.Cap()-a.cur.Len() < len(b) {
		a.cur = strings.Builder{}
		a.cur.Grow(int(min(max(a.left, int64(len(b)), arenaMin), arenaChunk)))
	}
	start := a.cur.Len()
	a.cur.Write(b)
	// Builder.String shares the buffer, and later writes never change
	// the bytes already written: the substring stays valid.
	return a.cur.String()[start:]
}

func newBuilder(base uint32) *builder {
	return &builder{base: base, ids: make(map[string]uint32)}
}

// add tokenizes d.text and adds d with its postings.
func (b *builder) add(d doc) {
	num := b.base + uint32(len(b.docs))
	stamp := uint32(len(b.docs)) + 1
	b.touched = b.touched[:0]
	var terms uint32
	b.scratch = tokenize(d.text, b.scratch, func(t []byte, runes, start, _ int) bool {
		if !validTerm(runes) {
			return true
		}
		terms++
		id, ok := b.ids[string(t)]
		if !ok {
			id = b.newTerm(string(t))
		}
		if b.stamp[id] != stamp {
			b.stamp[id] = stamp
			b.tf[id] = 0
			b.off[id] = uint32(start)
			b.touched = append(b.touched, id)
		}
		b.tf[id]++
		return true
	})
	var postBytes int
	for _, id := range b.touched {
		before := len(b.posts[id])
		b.posts[id] = appendPosting(b.posts[id], num-b.last[id], b.tf[id], b.off[id]/offsetBlock)
		b.last[id] = num
		postBytes += len(b.posts[id]) - before
	}
	d.terms = terms
	d.postBytes = uint32(postBytes)
	b.docs = append(b.docs, d)
	b.bytes += d.cost()
}

func (b *builder) newTerm(t string) uint32 {
	id := uint32(len(b.terms))
	b.ids[t] = id
	b.terms = append(b.terms, t)
	b.posts = append(b.posts, nil)
	b.last = append(b.last, 0)
	b.stamp = append(b.stamp, 0)
	b.tf = append(b.tf, 0)
	b.off = append(b.off, 0)
	b.bytes += int64(len(t)) + termOverhead
	return id
}

// sortedTerms returns the builder's term numbers in term order.
func (b *builder) sortedTerms() []uint32 {
	order := make([]uint32, len(b.terms))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int { return strings.Compare(b.terms[x], b.terms[y]) })
	return order
}

// merge returns the index made of old's documents for which keep is true
// (renumbered from 0, in their old order) followed by the builder's, whose
// base must be the number of kept documents. old's postings are copied,
// never re-read from disk; skipped becomes the new index's skipped set.
func merge(old *index, keep []bool, b *builder, skipped map[string]fileKey, full bool) *index {
	remap := make([]int32, len(old.docs))
	docs := make([]doc, 0, int(b.base)+len(b.docs))
	for i := range old.docs {
		remap[i] = -1
		if keep[i] {
			remap[i] = int32(len(docs))
			docs = append(docs, old.docs[i])
		}
	}
	if len(docs) != int(b.base) {
		panic("search: builder base does not match the kept documents")
	}
	docs = append(docs, b.docs...)

	order := b.sortedTerms()
	nx := &index{docs: docs, skipped: skipped, full: full}
	newTermBytes := 0
	for _, id := range order {
		newTermBytes += len(b.terms[id])
	}
	var data strings.Builder
	data.Grow(len(old.termData) + newTermBytes)
	nx.termEnd = make([]uint32, 0, old.numTerms()+len(order))
	nx.postEnd = make([]uint32, 0, old.numTerms()+len(order))
	newPost := 0
	for _, id := range order {
		newPost += len(b.posts[id])
	}
	nx.post = make([]byte, 0, len(old.post)+newPost)

	// emit appends one term whose postings come from old term oi (-1:
	// none) and builder term bi (-1: none), dropping it when none is left.
	emit := func(t string, oi, bi int) {
		start := len(nx.post)
		var last uint32
		if oi >= 0 {
			r := postingReader{b: old.postings(oi)}
			for p, ok := r.next(); ok; p, ok = r.next() {
				nd := remap[p.doc]
				if nd < 0 {
					continue
				}
				nx.post = appendPosting(nx.post, uint32(nd)-last, p.tf, p.blk)
				last = uint32(nd)
			}
		}
		if bi >= 0 {
			r := postingReader{b: b.posts[bi]}
			for p, ok := r.next(); ok; p, ok = r.next() {
				nx.post = appendPosting(nx.post, p.doc-last, p.tf, p.blk)
				last = p.doc
			}
		}
		if len(nx.post) == start {
			return
		}
		data.WriteString(t)
		nx.termEnd = append(nx.termEnd, uint32(data.Len()))
		nx.postEnd = append(nx.postEnd, uint32(len(nx.post)))
	}
	oi, bi := 0, 0
	for oi < old.numTerms() || bi < len(order) {
		switch {
		case bi == len(order):
			emit(old.term(oi), oi, -1)
			oi++
		case oi == old.numTerms():
			emit(b.terms[order[bi]], -1, int(order[bi]))
			bi++
		default:
			ot, bt := old.term(oi), b.terms[order[bi]]
			switch c := strings.Compare(ot, bt); {
			case c < 0:
				emit(ot, oi, -1)
				oi++
			case c > 0:
				emit(bt, -1, int(order[bi]))
				bi++
			default:
				emit(ot, oi, int(order[bi]))
				oi++
				bi++
			}
		}
	}
	nx.termData = data.String()
	nx.termEnd = slices.Clip(nx.termEnd)
	nx.postEnd = slices.Clip(nx.postEnd)
	nx.post = slices.Clip(nx.post)
	nx.bySel = make(map[string]uint32, len(docs))
	nx.norm = make([]float32, len(docs))
	for i := range nx.docs {
		d := &nx.docs[i]
		nx.norm[i] = float32(1 / math.Sqrt(float64(max(d.terms, 1))))
		nx.bySel[d.sel] = uint32(i)
		nx.textBytes += int64(len(d.text))
		nx.bytes += int64(len(d.text)+len(d.sel)+len(d.src)+len(d.title)) + docOverhead
	}
	nx.bytes += int64(len(nx.termData)) + int64(len(nx.termEnd))*termOverhead + int64(len(nx.post))
	return nx
}

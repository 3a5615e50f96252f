package search

import (
	"container/list"
	"hash/maphash"
	"sync"
)

// answers keeps the result menus of the queries asked most often of one
// index, so that a query asked again, the common case for the few words
// everybody looks for and for a client that repeats one expensive query,
// costs a map look-up instead of an evaluation and a menu. An index is
// immutable, so its answers stay right for its whole life: a change scan
// that finds something new makes a new index, with an empty cache.
//
// A query is kept only when it is asked a second time while remembered
// (seen), so that queries asked once, however many, never push out the
// ones asked again; least recently used answers go first, within a budget
// of bytes. An answer depends on the query as written (the count line
// repeats it) and on the host and port its menu names.
type answers struct {
	mu       sync.Mutex
	seed     maphash.Seed
	seen     map[uint64]struct{}
	lru      *list.List // of *answer, most recently used first
	byKey    map[answerKey]*list.Element
	bytes    int64
	maxBytes int64
	maxEntry int64
	hits     int64 // answers served from the cache, for benchmarks
}

type answerKey struct {
	query, host string
	port        int
}

type answer struct {
	key  answerKey
	body []byte
}

// maxSeen bounds the queries remembered as asked once; the memory is
// forgotten as a whole when it is full.
const maxSeen = 8192

// answerBudget is the cache's share of max-index-bytes: a sixteenth, at
// most 4 MiB.
func answerBudget(maxIndexBytes int64) int64 {
	return min(maxIndexBytes/16, 4<<20)
}

// newAnswers returns a cache holding at most maxBytes of menus, none
// larger than an eighth of it; nil (no caching) when maxBytes is too small
// to be of use.
func newAnswers(maxBytes int64) *answers {
	if maxBytes < 64<<10 {
		return nil
	}
	return &answers{
		seed:     maphash.MakeSeed(),
		seen:     make(map[uint64]struct{}),
		lru:      list.New(),
		byKey:    make(map[answerKey]*list.Element),
		maxBytes: maxBytes,
		maxEntry: maxBytes / 8,
	}
}

// get returns the kept answer for k, or nil. A nil cache keeps nothing.
func (a *answers) get(k answerKey) []byte {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	el, ok := a.byKey[k]
	if !ok {
		return nil
	}
	a.lru.MoveToFront(el)
	a.hits++
	return el.Value.(*answer).body
}

// put offers the answer body for k, which get did not have. It is kept if
// k was offered before; body must not change afterwards.
func (a *answers) put(k answerKey, body []byte) {
	if a == nil || int64(len(body)) > a.maxEntry {
		return
	}
	h := a.hash(k)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, again := a.seen[h]; !again {
		if len(a.seen) >= maxSeen {
			clear(a.seen)
		}
		a.seen[h] = struct{}{}
		return
	}
	if _, ok := a.byKey[k]; ok { // two requests raced
		return
	}
	delete(a.seen, h)
	a.byKey[k] = a.lru.PushFront(&answer{key: k, body: body})
	a.bytes += a.cost(k, body)
	for a.bytes > a.maxBytes {
		old := a.lru.Remove(a.lru.Back()).(*answer)
		delete(a.byKey, old.key)
		a.bytes -= a.cost(old.key, old.body)
	}
}

func (a *answers) hash(k answerKey) uint64 {
	var h maphash.Hash
	h.SetSeed(a.seed)
	_, _ = h.WriteString(k.query)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(k.host)
	_ = h.WriteByte(byte(k.port))
	_ = h.WriteByte(byte(k.port >> 8))
	return h.Sum64()
}

// cost is what an entry holds: the menu, the key's strings, and about a
// hundred bytes of list element, map entry and struct.
func (a *answers) cost(k answerKey, body []byte) int64 {
	return int64(len(body)+len(k.query)+len(k.host)) + 100
}

// served reports how many answers get has returned.
func (a *answers) served() int64 {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits
}

// len reports how many answers are kept.
func (a *answers) len() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lru.Len()
}

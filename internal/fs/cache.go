package fs

import (
	"container/list"
	"sync"
	"time"
)

// Listing cache bounds. A 10,000-entry listing is about 1 MiB, so the byte
// budget holds a few of those next to many small ones.
const (
	cacheMaxEntries = 512
	cacheMaxBytes   = 16 << 20
	// cacheMaxEntryBytes keeps one huge directory from flushing all others.
	// A menu larger than this is kept in its compact form (see menu).
	cacheMaxEntryBytes = cacheMaxBytes / 4
	// cacheTTL bounds how stale a cached listing can be for changes that
	// leave the directory's own times alone: a file without extension
	// rewritten in place (its sniffed type), a symlink's target changing
	// type. A listing that was costly to make keeps longer (see
	// listingTTL).
	cacheTTL = 10 * time.Second
	// racyWindow: a listing is only cached when the directory's mtime is at
	// least this old. Otherwise a change made later within the same
	// timestamp tick (coarse kernel clocks, 2 s on FAT) would leave the
	// mtime equal and the stale listing in place.
	racyWindow = 2 * time.Second
)

// dirID identifies one state of a directory: any change to its entries
// changes mtime and ctime; replacing it changes the inode.
type dirID struct {
	dev, ino     uint64
	mtime, ctime int64
}

// listingCache holds rendered listings and maps, least recently used
// evicted first, bounded both in entries and in bytes.
type listingCache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int
	bytes      int
	lru        *list.List // of *cacheEntry, most recently used at the front
	byPath     map[string]*list.Element
}

type cacheEntry struct {
	path   string
	id     dirID
	stored time.Time
	m      menu
}

func newListingCache(maxEntries, maxBytes int) *listingCache {
	return &listingCache{
		maxEntries: maxEntries,
		maxBytes:   maxBytes,
		lru:        list.New(),
		byPath:     make(map[string]*list.Element),
	}
}

// get returns the menu stored for path if the directory (or map) is still
// in state id and the entry is younger than its TTL. The menu's bytes are
// shared: callers only read them. The clock is read under the lock, as put
// reads it: a time taken before waiting for the lock could be older than
// an entry stored meanwhile, which would look stored in the future and be
// thrown away, and the menu made again.
func (c *listingCache) get(path string, id dirID, clock func() time.Time) (menu, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := clock()
	el, ok := c.byPath[path]
	if !ok {
		return menu{}, false
	}
	e := el.Value.(*cacheEntry)
	if e.id != id || now.Sub(e.stored) > e.m.lifetime() || now.Before(e.stored) {
		c.remove(el)
		return menu{}, false
	}
	c.lru.MoveToFront(el)
	return e.m, true
}

// put stores m as the menu of path in state id, evicting the least
// recently used entries beyond the bounds. A menu that costs more than one
// entry may is not stored.
func (c *listingCache) put(path string, id dirID, clock func() time.Time, m menu) {
	if m.cost > cacheMaxEntryBytes || m.cost > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := clock()
	if el, ok := c.byPath[path]; ok {
		c.remove(el)
	}
	c.byPath[path] = c.lru.PushFront(&cacheEntry{path: path, id: id, stored: now, m: m})
	c.bytes += m.cost
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *listingCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.byPath, e.path)
	c.bytes -= e.m.cost
}

// len reports how many menus are stored.
func (c *listingCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

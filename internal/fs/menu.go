package fs

import (
	"context"
	"iter"
	"time"

	"gopherd/internal/gopher"
)

// streamBuffer is how much of a streamed menu is held at once: large enough
// that a menu goes out in few writes, small enough that any number of
// clients streaming huge menus cost little.
const streamBuffer = 32 << 10

// menu is a directory's response as it is made once and kept: either its
// bytes, or, for a menu larger than one cache entry may be, a compact form
// (the map's text, a listing's names) from which each request streams the
// items through a streamBuffer. Either way a menu of any size costs the
// cache at most cacheMaxEntryBytes and a request at most streamBuffer.
type menu struct {
	// body is the whole response, terminator included.
	body []byte
	// items, when body is nil, yields the menu's items for one request;
	// it stops early when ctx ends.
	items func(ctx context.Context) iter.Seq[gopher.Item]
	// fail, when non-zero, is the error every request for this version
	// gets: the map is too large, or rendering it took too long.
	fail gopher.ErrorKind
	// cost is what the menu holds in memory, charged to the cache.
	cost int
	// ttl is how long the cache may keep it; 0 means cacheTTL.
	ttl time.Duration
}

// lifetime is how long a cached m is good for.
func (m menu) lifetime() time.Duration {
	if m.ttl > 0 {
		return m.ttl
	}
	return cacheTTL
}

// bodyMenu is the menu whose response is body.
func bodyMenu(body []byte) menu {
	return menu{body: body, cost: len(body)}
}

// failMenu is the menu of a version that cannot be served: every request
// gets kind. It costs a cache entry's bookkeeping only.
func failMenu(kind gopher.ErrorKind) menu {
	return menu{fail: kind, cost: 64}
}

// writeMenu sends m as the answer to r.
func (h *Handler) writeMenu(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, p string, m menu) {
	if m.fail != 0 {
		h.writeError(w, r, m.fail)
		return
	}
	gopher.Served(w, "menu")
	if m.body != nil {
		if _, err := w.Write(m.body); err != nil {
			h.clientGone(p, err)
		}
		return
	}
	buf := make([]byte, 0, streamBuffer)
	for it := range m.items(ctx) {
		buf = it.AppendTo(buf)
		if len(buf) >= streamBuffer-4<<10 {
			if _, err := w.Write(buf); err != nil {
				h.clientGone(p, err)
				return
			}
			buf = buf[:0]
			if cap(buf) > 2*streamBuffer {
				// One huge item grew it; do not keep that for the rest.
				buf = make([]byte, 0, streamBuffer)
			}
		}
	}
	if ctx.Err() != nil {
		// Cut short (the server is shutting down): a menu without its
		// terminator would pass for a whole one with some clients.
		gopher.Abort(w)
		return
	}
	if _, err := w.Write(append(buf, gopher.Terminator...)); err != nil {
		h.clientGone(p, err)
	}
}

package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"strings"

	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// Gophermap file names, in order of preference: Bucktooth's and pygopherd's
// name first (it is the dialect gopherd implements), then spacecookie's.
// When a directory holds both, the first wins and a warning says so.
var gophermapNames = [...]string{gophermapName, ".gophermap"}

// maxGophermapBytes bounds what is read of one map: far above any real
// menu (a 5,000-line map is about 300 KiB), low enough that a stray huge
// file cannot exhaust memory. A larger map is refused, not cut: half a menu
// would pass for the whole one.
const maxGophermapBytes = 4 << 20

// mapCacheKey keeps rendered maps apart from listings in the shared cache.
const mapCacheKey = "\x00map:"

// findGophermap returns the path and stat result of the map that applies to
// directory dir, or ok false when there is none.
func (h *Handler) findGophermap(dir string) (p string, fi os.FileInfo, ok bool) {
	return FindGophermap(h.root, dir)
}

// gophermapMenu returns the menu of map file p (stat result fi) for
// directory dir, in the dialect configured for dir, made once per version
// of the map (see menuFor). The cache key is the map's own identity: a map
// edited in place changes its mtime and ctime but not its directory's.
func (h *Handler) gophermapMenu(ctx context.Context, r *gopher.Request, dir, p string, fi os.FileInfo) (menu, error) {
	return h.mapMenu(ctx, r, dir, p, fi, h.dialects.of(dir))
}

// mapMenu is gophermapMenu in dialect d: also the menu of a geomyidae
// .gph file p in directory dir. A menu made with the tree's help (an
// include, a listing) is only reused while what it read is unchanged.
func (h *Handler) mapMenu(ctx context.Context, r *gopher.Request, dir, p string, fi os.FileInfo, d gophermap.Dialect) (menu, error) {
	key := mapCacheKey + cacheScope(r) + p
	id, cacheable := dirIdentity(fi)
	if cacheable {
		// Before the render and its closure are built: the hot path.
		if m, ok := h.cached(key, id); ok {
			return m, nil
		}
	}
	cacheable = cacheable && h.now().Sub(fi.ModTime()) >= racyWindow
	rd := gophermap.Renderer{Context: gophermap.Context{Dir: "/" + dir, Host: r.Host, Port: r.Port}, Dialect: d, Path: p}
	return h.menuFor(ctx, key, id, cacheable, p, func(ctx context.Context) (menu, *problems, error) {
		return h.renderGophermap(ctx, rd, dir, p)
	})
}

// cached returns the menu cached under key for version id, if what else
// it was made from is unchanged too.
func (h *Handler) cached(key string, id dirID) (menu, bool) {
	m, ok := h.cache.get(key, id, h.now)
	if ok && len(m.deps) > 0 && !h.fresh(m) {
		return menu{}, false
	}
	return m, ok
}

// renderGophermap reads map p and makes its menu with rd: its bytes when
// they fit a cache entry, else the map's text, from which each request
// streams the menu. Two passes (measure, then write into a buffer of the
// exact size) keep the memory of a render at the map plus its menu. The
// maps it includes and the listing it appends are read once, in the first
// pass, and kept with the streamed form.
func (h *Handler) renderGophermap(ctx context.Context, rd gophermap.Renderer, dir, p string) (menu, *problems, error) {
	probs := &problems{}
	switch path.Base(p) {
	case gophermapName:
		if _, err := h.root.Stat(path.Join(dir, ".gophermap")); err == nil {
			probs.addLine(problemLine{msg: "both gophermap and .gophermap exist: serving gophermap", path: dir, rule: gophermap.RuleTwoMaps})
		}
		fallthrough
	case ".gophermap":
		if fi, err := h.root.Stat(path.Join(dir, GPHIndex)); err == nil && fi.Mode().IsRegular() {
			probs.addLine(problemLine{msg: fmt.Sprintf("both %s and %s exist: serving %s", path.Base(p), GPHIndex, path.Base(p)), path: dir, rule: gophermap.RuleTwoMaps})
		}
	}
	text, size, err := h.readGophermap(p)
	if pm := (*programMap)(nil); errors.As(err, &pm) && IsGPH(p) {
		// geomyidae's dynamic menus are .dcgi files; a .gph is text, and
		// one that starts like a program is a mistake or a trap.
		probs.add(`.gph file starts with "#!" like a program: refused, never run or shown as its source`, p, nil)
		return failMenu(gopher.NotAllowed), probs, nil
	}
	if err != nil {
		return menu{}, probs, err
	}
	if text == "" && size > 0 {
		probs.add(fmt.Sprintf("gophermap: %s: %s bytes, over the %d MiB limit: not rendered, clients get an error item", p, thousands(int(size)), maxGophermapBytes>>20), p, nil)
		return failMenu(gopher.Internal), probs, nil
	}
	tree := h.newMapTree(dir, probs)
	rd.Tree = tree
	rd.Warn = func(w gophermap.Warning) {
		if w.Rule == gophermap.RuleCut {
			// The rest of the map is never shown: said whatever else
			// is wrong with it.
			probs.addFirst(problemLine{msg: fmt.Sprintf("gophermap: %s:%d: %s", p, w.Line, w.Msg), path: p, col: w.Col, rule: w.Rule})
			return
		}
		if probs.full() {
			probs.more++
			return
		}
		probs.addLine(problemLine{msg: fmt.Sprintf("gophermap: %s:%d: %s", p, w.Line, w.Msg), path: p, col: w.Col, rule: w.Rule})
	}
	n := rd.Size(ctx, text)
	if err := ctx.Err(); err != nil {
		return menu{}, probs, err
	}
	// The problems are known now; the next passes need not hear them.
	rd.Warn = nil
	m := menu{deps: tree.deps, noCache: tree.uncacheable}
	if n <= h.entryBytes {
		body := rd.Append(ctx, make([]byte, 0, n), text)
		if err := ctx.Err(); err != nil {
			return menu{}, probs, err
		}
		m.body, m.cost = body, len(body)
		return m, probs, nil
	}
	m.items = func(ctx context.Context) iter.Seq[gopher.Item] { return rd.Items(ctx, text) }
	m.cost = len(text) + tree.bytes
	return m, probs, nil
}

// readGophermap reads map file p whole. A map over maxGophermapBytes is not
// read: text is then empty and size says how large it is. A map that is a
// program, whatever its size, is a *programMap error: never cached, since
// whether it may run is the runner's to decide on every request.
func (h *Handler) readGophermap(p string) (text string, size int64, err error) {
	f, err := h.openRegular(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("gophermap %s: %w", p, err)
	}
	var head [len(programPrefix)]byte
	if n, _ := f.ReadAt(head[:], 0); IsProgramMap(head[:n]) {
		return "", 0, &programMap{path: p}
	}
	if fi.Size() > maxGophermapBytes {
		return "", fi.Size(), nil
	}
	// Read straight into the string the renderer works on: one copy of the
	// map in memory, not two.
	var b strings.Builder
	b.Grow(int(fi.Size()) + 1)
	n, err := io.Copy(&b, io.LimitReader(f, maxGophermapBytes+1))
	if err != nil {
		return "", 0, fmt.Errorf("reading gophermap %s: %w", p, err)
	}
	if n > maxGophermapBytes {
		// It grew while it was read.
		return "", n, nil
	}
	return b.String(), n, nil
}

// serveGPH answers r with the menu of geomyidae file p (stat result fi):
// its links are relative to the file's directory.
func (h *Handler) serveGPH(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, p string, fi os.FileInfo) {
	m, err := h.mapMenu(ctx, r, path.Dir(p), p, fi, gophermap.GPH{})
	if err != nil {
		h.fail(w, r, p, err)
		return
	}
	h.writeMenu(ctx, w, r, p, m)
}

// isRegular reports whether p is a regular file (after symlinks).
func (h *Handler) isRegular(p string) bool {
	fi, err := h.root.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

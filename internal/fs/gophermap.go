package fs

import (
	"context"
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
// directory dir, made once per version of the map (see menuFor). The cache
// key is the map's own identity: a map edited in place changes its mtime
// and ctime but not its directory's.
func (h *Handler) gophermapMenu(ctx context.Context, r *gopher.Request, dir, p string, fi os.FileInfo) (menu, error) {
	key := mapCacheKey + cacheScope(r) + p
	id, cacheable := dirIdentity(fi)
	if cacheable {
		// Before the render and its closure are built: the hot path.
		if m, ok := h.cache.get(key, id, h.now()); ok {
			return m, nil
		}
	}
	cacheable = cacheable && h.now().Sub(fi.ModTime()) >= racyWindow
	rd := gophermap.Renderer{Context: gophermap.Context{Dir: "/" + dir, Host: r.Host, Port: r.Port}}
	return h.menuFor(ctx, key, id, cacheable, p, func(ctx context.Context) (menu, *problems, error) {
		return h.renderGophermap(ctx, rd, dir, p)
	})
}

// renderGophermap reads map p and makes its menu with rd: its bytes when
// they fit a cache entry, else the map's text, from which each request
// streams the menu. Two passes (measure, then write into a buffer of the
// exact size) keep the memory of a render at the map plus its menu.
func (h *Handler) renderGophermap(ctx context.Context, rd gophermap.Renderer, dir, p string) (menu, *problems, error) {
	probs := &problems{}
	if path.Base(p) == gophermapName {
		if _, err := h.root.Stat(path.Join(dir, ".gophermap")); err == nil {
			probs.addLine(problemLine{msg: "both gophermap and .gophermap exist: serving gophermap", path: dir, rule: gophermap.RuleTwoMaps})
		}
	}
	text, size, err := h.readGophermap(p)
	if err != nil {
		return menu{}, probs, err
	}
	if text == "" && size > 0 {
		probs.add(fmt.Sprintf("gophermap: %s: %s bytes, over the %d MiB limit: not rendered, clients get an error item", p, thousands(int(size)), maxGophermapBytes>>20), p, nil)
		return failMenu(gopher.Internal), probs, nil
	}
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
	if n <= h.entryBytes {
		body := rd.Append(ctx, make([]byte, 0, n), text)
		if err := ctx.Err(); err != nil {
			return menu{}, probs, err
		}
		return bodyMenu(body), probs, nil
	}
	return menu{
		items: func(ctx context.Context) iter.Seq[gopher.Item] { return rd.Items(ctx, text) },
		cost:  len(text),
	}, probs, nil
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

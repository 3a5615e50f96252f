package fs

import (
	"fmt"
	"io"
	"os"
	"path"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// Gophermap file names, in order of preference: Bucktooth's and pygopherd's
// name first (it is the dialect gopherd implements), then spacecookie's.
// When a directory holds both, the first wins and a warning says so.
var gophermapNames = [...]string{gophermapName, ".gophermap"}

// maxGophermapBytes bounds what is read of one map: far above any real
// menu (a 5,000-line map is about 300 KiB), low enough that a stray huge
// file cannot exhaust memory.
const maxGophermapBytes = 4 << 20

// mapCacheKey keeps rendered maps apart from listings in the shared cache.
const mapCacheKey = "\x00map:"

// findGophermap returns the path and stat result of the map that applies to
// directory dir, or ok false when there is none.
func (h *Handler) findGophermap(dir string) (p string, fi os.FileInfo, ok bool) {
	return FindGophermap(h.root, dir)
}

// renderedGophermap returns the menu of map file p (stat result fi) for
// directory dir, from the cache when the file is unchanged. The cache key
// is the map's own identity: a map edited in place changes its mtime and
// ctime but not its directory's.
func (h *Handler) renderedGophermap(r *gopher.Request, dir, p string, fi os.FileInfo) ([]byte, error) {
	key := mapCacheKey + cacheScope(r) + p
	id, cacheable := dirIdentity(fi)
	now := h.now()
	if cacheable {
		if body := h.cache.get(key, id, now); body != nil {
			return body, nil
		}
	}
	if path.Base(p) == gophermapName {
		if _, err := h.root.Stat(path.Join(dir, ".gophermap")); err == nil {
			h.log.Warn("both gophermap and .gophermap exist: serving gophermap", quotedPath(dir))
		}
	}
	data, err := h.readGophermap(p)
	if err != nil {
		return nil, err
	}
	if IsProgramMap(data) {
		// Never cached: whether it may run is the runner's to decide
		// on every request.
		return nil, &programMap{path: p}
	}
	menu, warnings := gophermap.Render(data, gophermap.Context{Dir: "/" + dir, Host: r.Host, Port: r.Port})
	for _, w := range warnings {
		h.log.Warn("gophermap: "+gopher.Quote(fmt.Sprintf("%s:%d: %s", p, w.Line, w.Msg), 2*maxLogPath), zap.String("path", gopher.Quote(p, maxLogPath)))
	}
	body := menu.Bytes()
	if cacheable && now.Sub(fi.ModTime()) >= racyWindow {
		h.cache.put(key, id, now, body)
	}
	return body, nil
}

// readGophermap reads at most maxGophermapBytes of map file p; a longer map
// is cut at the limit with a warning rather than refused, so the menu still
// renders.
func (h *Handler) readGophermap(p string) ([]byte, error) {
	f, err := h.openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxGophermapBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading gophermap %s: %w", p, err)
	}
	if len(data) > maxGophermapBytes {
		h.log.Warn("gophermap larger than 4 MiB: rendering only its first 4 MiB", quotedPath(p))
		data = data[:maxGophermapBytes]
	}
	return data, nil
}

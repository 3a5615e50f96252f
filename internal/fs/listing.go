package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopherd/internal/gopher"
)

// dirMenu returns the complete response (terminator included) for directory
// dir, whose stat result is fi: its gophermap rendered when it has one, else
// the automatic listing. The returned slice may be shared with the cache:
// callers only read it.
//
// A cached listing proves there was no map when it was made, and creating
// or removing a map changes the directory's identity, so a cache hit needs
// no look-up of map files.
func (h *Handler) dirMenu(ctx context.Context, r *gopher.Request, dir string, fi os.FileInfo) ([]byte, error) {
	key := cacheScope(r) + dir
	if id, ok := dirIdentity(fi); ok {
		if body := h.cache.get(key, id, h.now()); body != nil {
			return body, nil
		}
	}
	if p, mfi, ok := h.findGophermap(dir); ok {
		return h.renderedGophermap(r, dir, p, mfi)
	}
	return h.cachedListing(ctx, r, dir, fi)
}

// cacheScope keeps apart the menus of one directory written for different
// host names or ports: menus carry them in every line.
func cacheScope(r *gopher.Request) string {
	return r.Host + "\x00" + strconv.Itoa(r.Port) + "\x00"
}

// cachedListing returns dir's automatic listing, from the cache when the
// directory is unchanged since it was listed.
func (h *Handler) cachedListing(ctx context.Context, r *gopher.Request, dir string, fi os.FileInfo) ([]byte, error) {
	key := cacheScope(r) + dir
	id, cacheable := dirIdentity(fi)
	now := h.now()
	if cacheable {
		if body := h.cache.get(key, id, now); body != nil {
			return body, nil
		}
	}
	menu, err := h.listDir(ctx, dir, r.Host, r.Port)
	if err != nil {
		return nil, err
	}
	if dir == "." {
		menu = h.appendRootItems(menu, r)
	}
	body := menu.Bytes()
	// id was taken before reading the directory, so a change made while it
	// was read makes the next request miss instead of serving a mix.
	if cacheable && now.Sub(fi.ModTime()) >= racyWindow {
		h.cache.put(key, id, now, body)
	}
	return body, nil
}

// appendRootItems appends Options.RootItems to the root's listing m, for
// the host and port of r where an item names none.
func (h *Handler) appendRootItems(m gopher.Menu, r *gopher.Request) gopher.Menu {
	for _, it := range h.rootItems {
		if it.Host == "" {
			it.Host, it.Port = r.Host, r.Port
		}
		m = append(m, it)
	}
	return m
}

// listEntry is what a listing sorts: small, so that sorting moves little.
type listEntry struct {
	name string
	fold string // lower-cased name
	typ  gopher.ItemType
}

// ctxCheckEvery is how many entries are listed between checks for a
// cancelled request.
const ctxCheckEvery = 256

// listDir builds the automatic menu of directory dir: subdirectories first,
// then files, each group sorted by lower-cased name, bytewise (so names
// starting with non-ASCII letters come after "z"), ties bytewise. Dotfiles
// and gophermaps are left out silently; names that cannot appear in a menu
// line, special files and symlinks that lead nowhere (or out of the root)
// are left out with a log line.
//
// The cost per entry is constant: the entry type comes from the directory
// itself (d_type), symlinks alone are stat'ed, and only files whose
// extension is unknown are opened, to read their first 512 bytes.
func (h *Handler) listDir(ctx context.Context, dir, host string, port int) (gopher.Menu, error) {
	// O_DIRECTORY: if dir was swapped for a FIFO since the stat, the open
	// fails instead of blocking.
	f, err := OpenDir(h.root, dir)
	if err != nil {
		return nil, err
	}
	des, err := readDirTypes(f)
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	prefix := "/"
	if dir != "." {
		prefix = "/" + dir + "/"
	}
	ents := make([]listEntry, 0, len(des))
	var head []byte
	for i, de := range des {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("listing %s: %w", dir, err)
			}
		}
		name := de.Name()
		if !allowedName(name) {
			continue
		}
		p := joinPath(dir, name)
		if !MenuSafeName(name) {
			h.log.Warn("not listing file: its name cannot be written into a menu", quotedPath(p))
			continue
		}
		mode := de.Type()
		if mode&iofs.ModeSymlink != 0 {
			fi, err := h.root.Stat(p)
			if err != nil {
				h.log.Warn("not listing symlink: it leads nowhere or out of the root", quotedPath(p), quotedErr(err))
				continue
			}
			mode = fi.Mode().Type()
		}
		var t gopher.ItemType
		switch {
		case mode.IsDir():
			t = gopher.TypeMenu
		case mode.IsRegular():
			var ok bool
			if t, ok = typeByExt(name); !ok {
				if head == nil {
					head = make([]byte, sniffLen)
				}
				if t, ok = h.sniff(p, name, head); !ok {
					continue
				}
			}
		default:
			h.log.Debug("not listing special file", quotedPath(p))
			continue
		}
		ents = append(ents, listEntry{name: name, fold: strings.ToLower(name), typ: t})
	}
	slices.SortFunc(ents, compareEntries)
	menu := make(gopher.Menu, len(ents))
	for i, e := range ents {
		menu[i] = gopher.Item{Type: e.typ, Display: e.name, Selector: prefix + e.name, Host: host, Port: port}
	}
	return menu, nil
}

func compareEntries(a, b listEntry) int {
	if aDir, bDir := a.typ == gopher.TypeMenu, b.typ == gopher.TypeMenu; aDir != bDir {
		if aDir {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.fold, b.fold); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// sniff types file p (named name) by its first bytes, read into buf. ok is
// false when p turned out not to be a regular file (it is then not listed).
// An unreadable file is listed as binary: the request for it will say why it
// cannot be had.
func (h *Handler) sniff(p, name string, buf []byte) (t gopher.ItemType, ok bool) {
	f, err := h.openRegular(p)
	if err != nil {
		if errors.Is(err, errSpecial) {
			return 0, false
		}
		h.log.Debug("cannot read file to guess its type", quotedPath(p), quotedErr(err))
		return gopher.TypeBinary, true
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		h.log.Warn("cannot read file to guess its type", quotedPath(p), quotedErr(err))
		return gopher.TypeBinary, true
	}
	return TypeOf(name, buf[:n]), true
}

// joinPath joins a root-relative directory and an entry name.
func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

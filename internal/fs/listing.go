package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// dirMenu returns the menu of directory dir, whose stat result is fi: its
// gophermap rendered when it has one, else the automatic listing, each made
// once per version (see menuFor).
//
// A cached listing proves there was no map when it was made, and creating
// or removing a map changes the directory's identity, so a cache hit needs
// no look-up of map files.
func (h *Handler) dirMenu(ctx context.Context, r *gopher.Request, dir string, fi os.FileInfo) (menu, error) {
	key := cacheScope(r) + dir
	id, cacheable := dirIdentity(fi)
	if cacheable {
		if m, ok := h.cached(key, id); ok {
			return m, nil
		}
	}
	if p, mfi, ok := h.findGophermap(dir); ok {
		return h.gophermapMenu(ctx, r, dir, p, mfi)
	}
	// geomyidae's index, when there is no gophermap.
	if p := joinPath(dir, GPHIndex); h.isRegular(p) {
		mfi, err := h.root.Stat(p)
		if err == nil {
			return h.mapMenu(ctx, r, dir, p, mfi, gophermap.GPH{})
		}
	}
	// id was taken before reading the directory, so a change made while it
	// is read makes the next request miss instead of serving a mix.
	cacheable = cacheable && h.now().Sub(fi.ModTime()) >= racyWindow
	return h.menuFor(ctx, key, id, cacheable, dir, func(ctx context.Context) (menu, *problems, error) {
		return h.renderListing(ctx, dir, r.Host, r.Port)
	})
}

// cacheScope keeps apart the menus of one directory written for different
// host names or ports: menus carry them in every line.
func cacheScope(r *gopher.Request) string {
	return r.Host + "\x00" + strconv.Itoa(r.Port) + "\x00"
}

// renderListing makes the automatic listing of dir: its bytes when they fit
// a cache entry, else the sorted names and types, a fraction of the menu's
// size, from which each request streams the menu.
func (h *Handler) renderListing(ctx context.Context, dir, host string, port int) (menu, *problems, error) {
	probs := &problems{}
	ents, err := h.listDir(ctx, dir, probs)
	if err != nil {
		return menu{}, probs, err
	}
	prefix := "/"
	var extra []gopher.Item
	if dir != "." {
		prefix = "/" + dir + "/"
	} else {
		extra = h.rootItemsFor(host, port)
	}
	item := func(e listEntry) gopher.Item {
		return gopher.Item{Type: e.typ, Display: e.name, Selector: prefix + e.name, Host: host, Port: port}
	}
	size := len(gopher.Terminator)
	for _, e := range ents {
		size += len(prefix) + 2*len(e.name) + len(host) + (gopher.Item{Type: e.typ, Port: port}).Len()
	}
	extraSize := 0
	for _, it := range extra {
		extraSize += it.Len()
	}
	size += extraSize
	if size <= h.entryBytes {
		body := make([]byte, 0, size)
		for _, e := range ents {
			body = item(e).AppendTo(body)
		}
		for _, it := range extra {
			body = it.AppendTo(body)
		}
		return bodyMenu(append(body, gopher.Terminator...)), probs, nil
	}
	// The compact form: every name in one string, where each one ends,
	// and its type.
	var names strings.Builder
	ends := make([]int32, len(ents))
	types := make([]gopher.ItemType, len(ents))
	for i, e := range ents {
		names.WriteString(e.name)
		ends[i], types[i] = int32(names.Len()), e.typ
	}
	all := names.String()
	return menu{
		items: func(ctx context.Context) iter.Seq[gopher.Item] {
			return func(yield func(gopher.Item) bool) {
				start := int32(0)
				for i, end := range ends {
					if i%ctxCheckEvery == 0 && ctx.Err() != nil {
						return
					}
					if !yield(item(listEntry{name: all[start:end], typ: types[i]})) {
						return
					}
					start = end
				}
				for _, it := range extra {
					if !yield(it) {
						return
					}
				}
			}
		},
		cost: len(all) + 5*len(ents) + extraSize,
	}, probs, nil
}

// rootItemsFor returns Options.RootItems for a menu naming host and port,
// which an item without a host of its own takes.
func (h *Handler) rootItemsFor(host string, port int) []gopher.Item {
	if len(h.rootItems) == 0 {
		return nil
	}
	out := slices.Clone(h.rootItems)
	for i := range out {
		if out[i].Host == "" {
			out[i].Host, out[i].Port = host, port
		}
	}
	return out
}

// listEntry is what a listing sorts: small, so that sorting moves little.
type listEntry struct {
	name string
	fold string // lower-cased name
	typ  gopher.ItemType
	dir  bool
}

// ctxCheckEvery is how many entries are listed between checks for a
// cancelled request.
const ctxCheckEvery = 256

// listDir returns the entries of the automatic menu of directory dir:
// subdirectories first, then files (geomyidae menus, typed '1', among
// them), each group sorted by lower-cased name,
// bytewise (so names starting with non-ASCII letters come after "z"), ties
// bytewise. Dotfiles and gophermaps are left out silently; names that cannot
// appear in a menu line and symlinks that lead nowhere (or out of the root)
// are left out with a problem recorded in probs, special files with a debug
// line.
//
// The cost per entry is constant: the entry type comes from the directory
// itself (d_type), symlinks alone are stat'ed, and only files whose
// extension is unknown are opened, to read their first 512 bytes.
func (h *Handler) listDir(ctx context.Context, dir string, probs *problems) ([]listEntry, error) {
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
			probs.add("not listing file: its name cannot be written into a menu", p, nil)
			continue
		}
		mode := de.Type()
		if mode&iofs.ModeSymlink != 0 {
			fi, err := h.root.Stat(p)
			if err != nil {
				probs.add("not listing symlink: it leads nowhere or out of the root", p, err)
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
		ents = append(ents, listEntry{name: name, fold: strings.ToLower(name), typ: t, dir: mode.IsDir()})
	}
	slices.SortFunc(ents, compareEntries)
	return ents, nil
}

func compareEntries(a, b listEntry) int {
	if aDir, bDir := a.dir, b.dir; aDir != bDir {
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

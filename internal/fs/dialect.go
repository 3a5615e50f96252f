package fs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// This file is how the tree serves maps of other servers' dialects: which
// dialect a directory's map is read in, and the gophermap.Tree through
// which Gophernicus' "*" and "=" lines read the tree, by the same rules
// as everything else (os.Root, the dotfile rule, no special files) and
// never running anything.

// DialectRule chooses the dialect of the maps in the directories under a
// selector prefix.
type DialectRule struct {
	// Prefix is a selector prefix such as "/~alice/": the directory it
	// names and every one below it. It is compared in canonical form
	// (gopher.CanonicalSelector), with a final "/".
	Prefix string
	// Dialect reads the maps there.
	Dialect gophermap.Dialect
}

// dialects is the dialect choice of one handler: a default and the rules,
// longest prefix first.
type dialects struct {
	def   gophermap.Dialect
	rules []DialectRule
}

func newDialects(def gophermap.Dialect, rules []DialectRule) dialects {
	if def == nil {
		def = gophermap.Bucktooth{}
	}
	d := dialects{def: def}
	for _, r := range rules {
		r.Prefix = dirPrefix(r.Prefix)
		d.rules = append(d.rules, r)
	}
	// Longest first, so that the first match is the longest one.
	slices.SortStableFunc(d.rules, func(a, b DialectRule) int { return len(b.Prefix) - len(a.Prefix) })
	return d
}

// dirPrefix is the canonical form of a selector prefix of directories:
// "/~alice" and "//~alice/" are both "/~alice/"; "/" stays "/".
func dirPrefix(sel string) string {
	c := gopher.CanonicalSelector(sel)
	if !strings.HasSuffix(c, "/") {
		c += "/"
	}
	return c
}

// of returns the dialect of the map in directory dir (relative to the
// root, "." for the root).
func (d dialects) of(dir string) gophermap.Dialect {
	if len(d.rules) == 0 {
		return d.def
	}
	sel := "/"
	if dir != "." {
		sel = "/" + dir + "/"
	}
	for _, r := range d.rules {
		if strings.HasPrefix(sel, r.Prefix) {
			return r.Dialect
		}
	}
	return d.def
}

// gphExt is the extension of geomyidae's menu files, compared without
// case as geomyidae does.
const gphExt = ".gph"

// GPHIndex is the file that is a directory's menu when it has no
// gophermap: geomyidae's index.
const GPHIndex = "index.gph"

// IsGPH reports whether a file called name is a geomyidae menu (".gph"):
// such a file is served as a menu, listed as one, and never served raw.
func IsGPH(name string) bool {
	return len(name) > len(gphExt) && strings.EqualFold(name[len(name)-len(gphExt):], gphExt)
}

// dep is a file or directory a menu was made from besides its own map:
// a cached menu is only good while each of them is in the same state.
type dep struct {
	path   string
	id     dirID
	exists bool
}

// fresh reports whether every dependency of m is unchanged.
func (h *Handler) fresh(m menu) bool {
	for _, d := range m.deps {
		fi, err := h.root.Stat(d.path)
		if !d.exists {
			if err == nil {
				return false
			}
			continue
		}
		if err != nil {
			return false
		}
		if id, ok := dirIdentity(fi); !ok || id != d.id {
			return false
		}
	}
	return true
}

// version mixes the states of m's dependencies into id, so that a map
// whose includes or listing changed reports its problems again.
func version(id dirID, deps []dep) dirID {
	if len(deps) == 0 {
		return id
	}
	f := fnv.New64a()
	for _, d := range deps {
		fmt.Fprintf(f, "%s\x00%v\x00%t\x00", d.path, d.id, d.exists)
	}
	id.ctime ^= int64(f.Sum64())
	return id
}

// maxIncludeBytes bounds what all the maps one map includes may hold
// together: as much again as one map may be.
const maxIncludeBytes = maxGophermapBytes

// errNeverRun ends the reason given for an include that Gophernicus would
// run.
var errNeverRun = errors.New("gopherd never runs anything")

// mapTree is the gophermap.Tree of the map in directory dir. What it reads
// it keeps: a menu too large for the cache is rendered again for every
// request from the map's text, and must then find the same includes and
// listing without touching the tree. It is safe for concurrent use.
type mapTree struct {
	h     *Handler
	dir   string
	probs *problems

	mu       sync.Mutex
	includes map[string]included // by the argument as written
	listing  []gophermap.ListEntry
	listErr  error
	listed   bool
	deps     []dep
	bytes    int
	// uncacheable is set when something read is too new to be trusted
	// (racyWindow) or its identity cannot be known.
	uncacheable bool
}

type included struct {
	name, text string
	err        error
}

var _ gophermap.Tree = (*mapTree)(nil)

func (h *Handler) newMapTree(dir string, probs *problems) *mapTree {
	return &mapTree{h: h, dir: dir, probs: probs, includes: make(map[string]included)}
}

// Listing implements gophermap.Tree: the directory's automatic listing as
// listDir makes it (its problems are the map's).
func (t *mapTree) Listing(ctx context.Context) ([]gophermap.ListEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.listed {
		return t.listing, t.listErr
	}
	fi, err := t.h.root.Stat(t.dir)
	if err == nil {
		t.depend(t.dir, fi)
		var ents []listEntry
		ents, err = t.h.listDir(ctx, t.dir, t.probs)
		if err == nil {
			t.listing = make([]gophermap.ListEntry, len(ents))
			for i, e := range ents {
				t.listing[i] = gophermap.ListEntry{Name: e.name, Type: e.typ, Dir: e.dir}
				t.bytes += len(e.name) + 8
			}
		}
	}
	if err != nil && ctx.Err() != nil {
		// Not a property of the directory: the next render tries again.
		return nil, err
	}
	if err != nil {
		err = errors.New("the directory cannot be listed")
	}
	t.listErr, t.listed = err, true
	return t.listing, err
}

// Include implements gophermap.Tree. The argument names a file: relative to
// the map's directory (where Gophernicus, which runs in the directory it
// serves, looks for it), or absolute under the root's own path on the
// server. It is read as a map if it is a regular file inside the root that
// is neither a dotfile, nor executable, nor a program ("#!"), nor too
// large. Anything else, a command line above all, is refused with the
// reason; nothing is ever run.
func (t *mapTree) Include(ctx context.Context, arg string) (name, text string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if inc, ok := t.includes[arg]; ok {
		return inc.name, inc.text, inc.err
	}
	name, text, err = t.read(arg)
	if err != nil && ctx.Err() != nil {
		return "", "", err
	}
	t.includes[arg] = included{name, text, err}
	return name, text, err
}

// read finds and reads the file arg names; see Include.
func (t *mapTree) read(arg string) (name, text string, err error) {
	p, err := t.h.includePath(t.dir, arg)
	if err != nil {
		return "", "", err
	}
	fi, err := t.h.root.Stat(p)
	switch {
	case err != nil && gophermap.IncludeCommand(arg):
		t.dependMissing(p)
		return "", "", fmt.Errorf("a shell command (Gophernicus would run it): %w", errNeverRun)
	case errors.Is(err, iofs.ErrNotExist):
		t.dependMissing(p)
		return "", "", errors.New("no such file")
	case err != nil:
		kind, _ := t.h.classify(err)
		if kind == gopher.NotFound {
			return "", "", errors.New("no such file inside the root")
		}
		return "", "", errors.New("the file cannot be read")
	case fi.IsDir():
		return "", "", errors.New("a directory, not a map file")
	case !fi.Mode().IsRegular():
		return "", "", errors.New("not a regular file")
	case fi.Mode().Perm()&0o111 != 0:
		t.depend(p, fi)
		return "", "", fmt.Errorf("an executable file (Gophernicus would run it): %w", errNeverRun)
	case fi.Size() > maxGophermapBytes:
		t.depend(p, fi)
		return "", "", fmt.Errorf("larger than %d MiB", maxGophermapBytes>>20)
	case int64(t.bytes)+fi.Size() > maxIncludeBytes:
		return "", "", fmt.Errorf("the maps included in one menu may hold %d MiB together", maxIncludeBytes>>20)
	}
	f, err := OpenRegular(t.h.root, p)
	if err != nil {
		return "", "", errors.New("the file cannot be read")
	}
	defer f.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, io.LimitReader(f, maxGophermapBytes+1)); err != nil {
		return "", "", errors.New("the file cannot be read")
	}
	text = b.String()
	switch {
	case len(text) > maxGophermapBytes:
		return "", "", fmt.Errorf("larger than %d MiB", maxGophermapBytes>>20)
	case IsProgramMap([]byte(text[:min(len(text), len(programPrefix))])):
		t.depend(p, fi)
		return "", "", fmt.Errorf(`a program (its first line starts with "#!"): %w`, errNeverRun)
	}
	t.depend(p, fi)
	t.bytes += len(text)
	return p, text, nil
}

// depend records that the menu was made from p in the state fi.
func (t *mapTree) depend(p string, fi os.FileInfo) {
	id, ok := dirIdentity(fi)
	if !ok || t.h.now().Sub(fi.ModTime()) < racyWindow {
		t.uncacheable = true
	}
	t.deps = append(t.deps, dep{path: p, id: id, exists: true})
}

// dependMissing records that the menu was made while p did not exist.
func (t *mapTree) dependMissing(p string) {
	t.deps = append(t.deps, dep{path: p})
}

// includePath returns the root-relative path of the file an include line
// of the map in dir names, or why it names none that may be read.
func (h *Handler) includePath(dir, arg string) (string, error) {
	rel := arg
	if strings.HasPrefix(arg, "/") {
		var ok bool
		if rel, ok = h.underRoot(arg); !ok {
			if gophermap.IncludeCommand(arg) {
				return "", fmt.Errorf("a shell command (Gophernicus would run it): %w", errNeverRun)
			}
			return "", errors.New("an absolute path outside the served root: never read, never run")
		}
	} else {
		rel = path.Join(dir, arg)
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", errors.New("a path that leads above the root")
	}
	for c := range strings.SplitSeq(rel, "/") {
		if c != "" && c != "." && (c[0] == '.' || strings.ContainsAny(c, "\x00\\")) {
			return "", errors.New("a dotfile, or a name no selector may hold: never read")
		}
	}
	return rel, nil
}

// underRoot returns the root-relative form of abs, an absolute path on the
// server, when it lies inside the served root (as Gophernicus' maps name
// their includes by the server's paths).
func (h *Handler) underRoot(abs string) (string, bool) {
	clean := filepath.ToSlash(filepath.Clean(abs))
	for _, r := range h.rootPaths {
		if clean == r {
			return ".", true
		}
		if rest, ok := strings.CutPrefix(clean, strings.TrimSuffix(r, "/")+"/"); ok {
			return rest, true
		}
	}
	return "", false
}

// Dialect returns the dialect the map of directory dir (relative to the
// root, "." for the root) is read in: for tools that read maps as the
// tree serves them (gopherd lint). A directory's index.gph is always read
// as geomyidae's.
func (h *Handler) Dialect(dir string) gophermap.Dialect {
	return h.dialects.of(dir)
}

// MapTree returns the gophermap.Tree that a map in directory dir (relative
// to the root, "." for the root) is rendered with: its includes and its
// listing read by the rules serving uses. It is for tools that read maps
// outside a request (gopherd convert); problems found while listing are
// not logged.
func (h *Handler) MapTree(dir string) gophermap.Tree {
	return h.newMapTree(dir, &problems{})
}

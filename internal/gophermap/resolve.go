package gophermap

import (
	"path"
	"strings"

	"gopherd/internal/gopher"
)

// resolver resolves entries for one map: Context with its directory
// cleaned once.
type resolver struct {
	dir  string
	host string
	port int
	// dirOK is false when the directory holds a byte no menu line may
	// (only a Context built by hand can): relative links are then
	// dropped before joining, which would only make garbage.
	dirOK bool
}

func newResolver(c Context) resolver {
	dir := cleanDir(c.Dir)
	return resolver{dir: dir, host: c.Host, port: c.Port, dirOK: (gopher.Item{Selector: dir}).Valid()}
}

// item turns e into a menu item. A problem other than fine means the
// entry cannot be written; its message is built only when asked for.
func (r resolver) item(e Entry) (it gopher.Item, bad problem) {
	if e.Type == gopher.TypeInfo {
		it = gopher.Info(e.Display, r.host, r.port)
	} else {
		sel, ok := resolveSelector(e, r.dir, r.dirOK)
		if !ok {
			return it, problem{what: aboveRoot, detail: sel}
		}
		it = gopher.Item{Type: e.Type, Display: e.Display, Selector: sel, Host: r.host, Port: r.port, Extra: e.Extra}
		if e.HasHost {
			it.Host = e.Host
		}
		if e.HasPort {
			it.Port = e.Port
		}
	}
	if !it.Valid() {
		return it, problem{what: unwritable}
	}
	return it, bad
}

// Resolve turns entries into menu items for a map in directory c.Dir:
// relative selectors are joined to the directory, missing hosts and ports
// filled in from c. Entries that cannot be written (a relative selector
// climbing above the root, or a field holding TAB, CR or LF, which only
// hand-built entries or a Dir with such bytes can produce) are dropped
// with a warning.
func Resolve(entries []Entry, c Context) (gopher.Menu, []Warning) {
	r := newResolver(c)
	menu := make(gopher.Menu, 0, len(entries))
	var warnings []Warning
	for _, e := range entries {
		it, bad := r.item(e)
		if bad.what != fine {
			warnings = append(warnings, bad.warning(e.Line, bad.message()))
			continue
		}
		menu = append(menu, it)
	}
	return menu, warnings
}

// cleanDir makes Dir a clean rooted path; it cannot climb above "/".
func cleanDir(dir string) string {
	if dir == "" || dir == "/" {
		return "/"
	}
	return path.Clean("/" + dir)
}

// resolveSelector returns the selector an entry links to. ok is false when
// a relative selector leaves the root; sel is then the selector as written.
// With dirOK false a relative selector resolves to dir alone, which holds
// the unwritable byte: the item is dropped as it would be once joined,
// without the garbage of joining.
func resolveSelector(e Entry, dir string, dirOK bool) (sel string, ok bool) {
	sel = e.Selector
	if !e.HasSelector {
		sel = e.Display
	}
	switch {
	case sel == "":
		// The root of the host, never "this directory".
		return "", true
	case sel[0] == '/', strings.HasPrefix(sel, "URL:"):
		return sel, true
	case e.Type == gopher.TypeTelnet || e.Type == gopher.TypeTN3270:
		// RFC 1436: the selector of a telnet session is the login name.
		return sel, true
	case e.Literal:
		return sel, true
	}
	if escapes(dir, sel) {
		return sel, false
	}
	if !dirOK {
		return dir, true
	}
	return joinClean(dir, sel), true
}

// joinClean is path.Join(dir, sel) for a clean rooted dir and a relative
// sel. A selector that needs no cleaning but perhaps the drop of a final
// "/" (the common case, "docs/" or "a.txt") is joined with one allocation:
// path.Join makes two when it has to clean, and a map of many such lines
// under a deep directory would allocate twice its menu for them.
func joinClean(dir, sel string) string {
	s := strings.TrimSuffix(sel, "/")
	if s == "" || strings.Contains(sel, "//") || hasDotComponent(s) {
		return path.Join(dir, sel)
	}
	if dir == "/" {
		return "/" + s
	}
	return dir + "/" + s
}

// hasDotComponent reports whether the slash-separated s has a "." or ".."
// component.
func hasDotComponent(s string) bool {
	for c := range strings.SplitSeq(s, "/") {
		if c == "." || c == ".." {
			return true
		}
	}
	return false
}

// escapes reports whether joining rel to the clean rooted dir climbs above
// the root. path.Join alone would silently clamp "/.." to "/", turning a
// mistake into a link to the wrong place.
func escapes(dir, rel string) bool {
	depth := strings.Count(dir, "/")
	if dir == "/" {
		depth = 0
	}
	for rel != "" {
		var comp string
		comp, rel, _ = strings.Cut(rel, "/")
		switch comp {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

package gophermap

import (
	"path"
	"strings"

	"gopherd/internal/gopher"
)

// Resolve turns entries into menu items for a map in directory c.Dir:
// relative selectors are joined to the directory, missing hosts and ports
// filled in from c. Entries that cannot be written (a relative selector
// climbing above the root, or a field holding TAB, CR or LF, which only
// hand-built entries or a Dir with such bytes can produce) are dropped
// with a warning.
func Resolve(entries []Entry, c Context) (gopher.Menu, []Warning) {
	dir := cleanDir(c.Dir)
	menu := make(gopher.Menu, 0, len(entries))
	var warnings []Warning
	for _, e := range entries {
		var it gopher.Item
		if e.Type == gopher.TypeInfo {
			it = gopher.Info(e.Display, c.Host, c.Port)
		} else {
			sel, ok := resolveSelector(e, dir)
			if !ok {
				warnings = append(warnings, Warning{e.Line, `selector "` + gopher.Quote(sel, quoteMax) + `" leads above the root; link dropped`})
				continue
			}
			it = gopher.Item{Type: e.Type, Display: e.Display, Selector: sel, Host: c.Host, Port: c.Port, Extra: e.Extra}
			if e.HasHost {
				it.Host = e.Host
			}
			if e.HasPort {
				it.Port = e.Port
			}
		}
		if !it.Valid() {
			warnings = append(warnings, Warning{e.Line, "a field holds a TAB, CR or LF; item dropped"})
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
func resolveSelector(e Entry, dir string) (sel string, ok bool) {
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
	}
	if escapes(dir, sel) {
		return sel, false
	}
	return path.Join(dir, sel), true
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

package fs

import (
	"context"
	"errors"

	"gopherd/internal/gopher"
)

// This file is what internal/fs shares with the CGI gateway: the selector
// rules, so that a program is found by exactly the rules that find a file,
// and the hook through which a gophermap that is a program is handed over
// instead of being shown as its source.

// SelectorPath returns the path relative to the root that selector sel
// names, by the rules ServeGopher applies: empty components are ignored, a
// component starting with "." or holding NUL or a backslash, or naming a
// gophermap, is refused (ok false). The root itself is ".". The path is
// still to be resolved through an os.Root.
func SelectorPath(sel string) (p string, ok bool) {
	return resolve(sel)
}

// MapRunner takes over a directory whose gophermap is a program: its first
// line starts with "#!" (Bucktooth's "moles", Gophernicus' executable
// maps). Such a map is never rendered as text: that would show the
// program's source to every client.
type MapRunner interface {
	// ServeMapProgram answers r for directory dir, whose map is the file
	// mapPath; both are relative to the root, as SelectorPath returns
	// them. It writes a complete response.
	ServeMapProgram(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, dir, mapPath string)
}

// programPrefix marks a gophermap that is a program.
const programPrefix = "#!"

// errProgramMap is returned, wrapped in a *programMap, when a directory's
// gophermap is a program.
var errProgramMap = errors.New("gophermap is a program")

// programMap names the map that is a program.
type programMap struct{ path string }

func (p *programMap) Error() string { return p.path + ": " + errProgramMap.Error() }
func (p *programMap) Unwrap() error { return errProgramMap }

// serveProgramMap hands directory dir, whose map pm is a program, to the
// MapRunner, or refuses it when there is none.
func (h *Handler) serveProgramMap(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, dir string, pm *programMap) {
	if h.maps != nil {
		h.maps.ServeMapProgram(ctx, w, r, dir, pm.path)
		return
	}
	h.log.Warn("gophermap is a program (its first line starts with #!) and nothing may run it: refused, never shown as its source", quotedPath(pm.path))
	h.writeError(w, r, gopher.NotAllowed)
}

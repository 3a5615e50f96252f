package cgi

import (
	"errors"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"gopherd/internal/fs"
	"gopherd/internal/gopher"
)

// script is a request mapped to a program.
type script struct {
	rel      string // path relative to the root: "cgi-bin/x"
	name     string // SCRIPT_NAME: "/cgi-bin/x"
	dir      string // the selector of its directory, for menu output: "/cgi-bin"
	pathInfo string // PATH_INFO: "" or "/a/b"
	query    string // the part after the first "?"
	hasQuery bool
}

// find maps selector sel, inside the gateway directory prefix, to a
// program. kind is non-zero when the request is answered with that error.
func (g *Gateway) find(prefix, sel string) (script, gopher.ErrorKind) {
	var sc script
	p, query, hasQuery := strings.Cut(sel, "?")
	sc.query, sc.hasQuery = query, hasQuery
	rel, ok := fs.SelectorPath(p)
	if !ok {
		g.log.Debug("cgi: refusing selector by the tree's rules", quoted("selector", sel))
		return sc, gopher.NotAllowed
	}
	base := strings.Trim(prefix, "/")
	comps := strings.Split(rel, "/")
	baseComps := strings.Split(base, "/")
	if rel == "." || len(comps) < len(baseComps) || strings.Join(comps[:len(baseComps)], "/") != base {
		// The router sends only selectors under prefix here; the "?" cut
		// can take a request for "/cgi-bin?x" out of it.
		return sc, gopher.NotFound
	}
	fi, err := g.root.Stat(base)
	if err != nil || !fi.IsDir() {
		return sc, gopher.NotFound
	}
	prog := ""
	i := len(baseComps)
	for ; i < len(comps); i++ {
		cur := strings.Join(comps[:i+1], "/")
		fi, err := g.root.Stat(cur)
		if err != nil {
			return sc, g.statFailed(cur, err)
		}
		if fi.IsDir() {
			continue
		}
		if !fi.Mode().IsRegular() {
			g.log.Warn("cgi: refusing special file", quoted("path", cur))
			return sc, gopher.NotAllowed
		}
		prog = cur
		i++
		break
	}
	rest := comps[i:]
	index := prog == ""
	if index {
		prog = path.Join(rel, IndexName)
		if _, err := g.root.Stat(prog); err != nil {
			g.log.Debug("cgi: directory without "+IndexName+": not listed", quoted("path", rel))
			return sc, gopher.NotFound
		}
	}
	sc.rel = prog
	sc.name = "/" + prog
	sc.dir = "/" + path.Dir(prog)
	switch {
	case len(rest) > 0:
		sc.pathInfo = "/" + strings.Join(rest, "/")
		if strings.HasSuffix(p, "/") {
			sc.pathInfo += "/"
		}
	case !index && strings.HasSuffix(p, "/"):
		sc.pathInfo = "/" // "/cgi-bin/x/"
	}
	return sc, g.runnable(prog)
}

// mapScript is the script of an executable gophermap: the map of directory
// dir, run for selector sel.
func (g *Gateway) mapScript(sel, dir, mapPath string) (script, gopher.ErrorKind) {
	_, query, hasQuery := strings.Cut(sel, "?")
	d := "/"
	if dir != "." {
		d = "/" + dir
	}
	sc := script{rel: mapPath, name: "/" + mapPath, dir: d, query: query, hasQuery: hasQuery}
	fi, err := g.root.Stat(mapPath)
	if err != nil {
		return sc, g.statFailed(mapPath, err)
	}
	if !fi.Mode().IsRegular() {
		return sc, gopher.NotAllowed
	}
	return sc, g.runnable(mapPath)
}

// statFailed maps a failed look-up to the error item, as internal/fs
// does: from outside, a path that leaves the root does not exist.
func (g *Gateway) statFailed(p string, err error) gopher.ErrorKind {
	switch {
	case errors.Is(err, iofs.ErrNotExist), errors.Is(err, syscall.ENOTDIR),
		errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.ENAMETOOLONG):
		return gopher.NotFound
	case errors.Is(err, iofs.ErrPermission):
		return gopher.NotAllowed
	}
	if g.errEscape != nil && errors.Is(err, g.errEscape) {
		g.log.Warn("cgi: refusing path that leaves the root (symlink?)", quoted("path", p))
		return gopher.NotFound
	}
	g.log.Error("cgi: cannot look up program", quoted("path", p), zap.String("error", gopher.Quote(err.Error(), 2*maxLogField)))
	return gopher.Internal
}

// runnable checks the rules a program must pass to run: a refusal is an
// error item and a warning, never the file's source.
func (g *Gateway) runnable(rel string) gopher.ErrorKind {
	fi, err := g.root.Stat(rel)
	if err != nil {
		return g.statFailed(rel, err)
	}
	m := fi.Mode()
	var why string
	switch {
	case !m.IsRegular():
		why = "not a regular file"
	case m&0o111 == 0:
		why = "not executable (chmod +x it to run it)"
	case m&0o002 != 0:
		why = "world-writable: anyone could change what runs"
	case m&(os.ModeSetuid|os.ModeSetgid) != 0:
		why = "setuid or setgid"
	}
	if why == "" {
		if di, err := g.root.Stat(path.Dir(rel)); err == nil && di.Mode()&0o002 != 0 && di.Mode()&os.ModeSticky == 0 {
			why = "in a world-writable directory: anyone could replace it"
		}
	}
	if why != "" {
		g.log.Warn("cgi: refusing to run program: "+why, quoted("path", rel))
		return gopher.NotAllowed
	}
	return 0
}

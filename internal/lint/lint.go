// Package lint checks the gophermaps of a served tree before visitors see
// them: it finds the maps by the rules that serve them (internal/fs: which
// map applies to a directory, which names are never served), gives the
// rules of internal/gophermap what they need to know of the tree (what a
// link's selector names, a map's execute bit, a second map in its
// directory) and collects their findings. It never runs anything and
// opens nothing for writing.
package lint

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"gopherd/internal/fs"
	"gopherd/internal/gophermap"
)

// mapNames are the names of a directory's menu file in internal/fs, the
// one served first: the first that exists shadows the others.
var mapNames = [...]string{"gophermap", ".gophermap", fs.GPHIndex}

// Options says how one host serves its tree.
type Options struct {
	// Root is the served directory.
	Root string
	// Host, Aliases and Port are the host's names and the port its menus
	// name: links to them are local and are checked against the tree.
	Host    string
	Aliases []string
	Port    int
	// Width is the widest info line and display string; 0 means
	// gophermap.DefaultWidth.
	Width int
	// Rules returns the rule set for the gophermaps of directory dir
	// (relative to the root, "." for the root itself); nil means
	// Bucktooth's everywhere. geomyidae's .gph files always have their
	// own (gophermap.RuleSetOf(gophermap.GPH{})).
	Rules func(dir string) gophermap.RuleSet
	// Tree returns the served tree of directory dir, through which the
	// include lines of its maps are checked as the server reads them
	// (fs.Handler.MapTree); nil judges them by the line alone.
	Tree func(dir string) gophermap.Tree
	// Routed reports whether selector sel is answered by a handler other
	// than the tree (a URL: page, caps.txt, the gateway's directories):
	// a link to it counts as served, and the maps of a directory routed
	// elsewhere are never served, so they are not checked. nil means the
	// tree answers everything.
	Routed func(sel string) bool
	// RunsPrograms: executable maps are on (cgi.executable-gophermaps).
	RunsPrograms bool
}

// Map is one map checked.
type Map struct {
	// Path is the map's path relative to the root, slash-separated.
	Path     string
	Findings []gophermap.Finding
	// Err says why the map could not be checked (it cannot be read, or is
	// larger than any map that is served); Findings is then empty.
	Err error
}

// Check lints the maps under each of paths (relative to the root,
// slash-separated; a directory is walked, a file is linted whatever its
// name) or, without paths, under the whole root. The maps come back in
// path order, each once. An error means the root cannot be opened or a
// path does not exist; a map that cannot be read is a Map with Err.
func Check(o Options, paths ...string) ([]Map, error) {
	root, err := os.OpenRoot(o.Root)
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	defer root.Close()
	c := &checker{o: o, root: root, seen: map[string]bool{}}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for _, p := range paths {
		p = path.Clean(p)
		fi, err := root.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		if fi.IsDir() {
			err = c.walk(p)
		} else {
			c.file(p)
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(c.maps, func(a, b Map) int { return strings.Compare(a.Path, b.Path) })
	return c.maps, nil
}

type checker struct {
	o    Options
	root *os.Root
	seen map[string]bool
	maps []Map
}

// walk lints the maps of dir and of every directory below it that could
// be served: none whose name is a dotfile's, and none that another
// handler answers. Symbolic links to directories are not followed, so
// that a loop cannot make the walk endless.
func (c *checker) walk(dir string) error {
	err := iofs.WalkDir(c.root.FS(), dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // an unreadable directory: it cannot be served either
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && !fs.AllowedName(d.Name()) {
			return iofs.SkipDir
		}
		if c.o.Routed != nil && c.o.Routed(dirSelector(p)) {
			return iofs.SkipDir
		}
		c.dir(p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("lint: %w", err)
	}
	return nil
}

// dir lints the maps of directory dir: its menu files and the .gph files
// it holds, which are served as menus too.
func (c *checker) dir(dir string) {
	for _, name := range mapNames {
		p := path.Join(dir, name)
		if fi, err := c.root.Stat(p); err == nil && fi.Mode().IsRegular() {
			c.file(p)
		}
	}
	ents, err := iofs.ReadDir(c.root.FS(), dir)
	if err != nil {
		return // unreadable: it cannot be served either
	}
	for _, e := range ents {
		if name := e.Name(); e.Type().IsRegular() && fs.IsGPH(name) && fs.AllowedName(name) {
			c.file(path.Join(dir, name))
		}
	}
}

// file lints map p.
func (c *checker) file(p string) {
	if c.seen[p] {
		return
	}
	c.seen[p] = true
	dir, name := path.Split(p)
	dir = path.Clean(dir)
	// A menu file is shadowed by one served before it; a file named on
	// the command line whatever its name is by none.
	shadowed := ""
	for _, first := range mapNames {
		if first == name || !slices.Contains(mapNames[:], name) {
			break
		}
		if fi, err := c.root.Stat(path.Join(dir, first)); err == nil && fi.Mode().IsRegular() {
			shadowed = first
			break
		}
	}
	m := Map{Path: p}
	text, fi, err := c.read(p)
	if err != nil {
		m.Err = err
		c.maps = append(c.maps, m)
		return
	}
	rules := gophermap.RuleSet{}
	switch {
	case fs.IsGPH(name):
		rules = gophermap.RuleSetOf(gophermap.GPH{})
	case c.o.Rules != nil:
		rules = c.o.Rules(dir)
	}
	var tree gophermap.Tree
	if c.o.Tree != nil {
		tree = c.o.Tree(dir)
	}
	m.Findings = gophermap.Lint(text, gophermap.LintOptions{
		Context: gophermap.Context{Dir: dirSelector(dir), Host: c.o.Host, Port: c.o.Port},
		Aliases: c.o.Aliases,
		Rules:   rules,
		Width:   c.o.Width,
		Target:  c.target,
		Program: fs.IsProgramMap([]byte(text)),
		// An executable bit means a program to Gophernicus; geomyidae runs
		// .dcgi files, never a .gph.
		Executable:   fi.Mode().Perm()&0o111 != 0 && !fs.IsGPH(name),
		RunsPrograms: c.o.RunsPrograms,
		Tree:         tree,
		Shadowed:     shadowed,
	})
	c.maps = append(c.maps, m)
}

// errTooLarge is the Err of a map larger than any that is served.
var errTooLarge = errors.New("larger than any map gopherd serves: visitors get an error item")

// read reads map p whole, as serving would: a regular file (never a FIFO
// or device), at most fs.MaxGophermapBytes.
func (c *checker) read(p string) (string, os.FileInfo, error) {
	f, err := fs.OpenRegular(c.root, p)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	if fi.Size() > fs.MaxGophermapBytes {
		return "", nil, fmt.Errorf("%d bytes, %w", fi.Size(), errTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(f, fs.MaxGophermapBytes+1))
	if err != nil {
		return "", nil, err
	}
	if len(data) > fs.MaxGophermapBytes {
		return "", nil, fmt.Errorf("%d bytes, %w", len(data), errTooLarge)
	}
	return string(data), fi, nil
}

// target says what a local selector names, as the server would answer it.
func (c *checker) target(sel string) gophermap.Target {
	if c.o.Routed != nil && c.o.Routed(sel) {
		return gophermap.TargetServed
	}
	p, ok := fs.SelectorPath(sel)
	if !ok {
		return gophermap.TargetRefused
	}
	fi, err := c.root.Stat(p)
	switch {
	case err != nil:
		return gophermap.TargetMissing
	case !fi.IsDir() && !fi.Mode().IsRegular():
		return gophermap.TargetRefused // a FIFO, socket or device
	}
	return gophermap.TargetServed
}

// dirSelector is the selector of directory dir (relative to the root).
func dirSelector(dir string) string {
	if dir == "." || dir == "" {
		return "/"
	}
	return "/" + dir
}

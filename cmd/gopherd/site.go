package main

import (
	"fmt"

	"gopherd/internal/cgi"
	"gopherd/internal/config"
	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/pages"
	"gopherd/internal/search"
)

// site composes the handler chain for configuration c, whose menus name
// port: every handler is registered on one router, in this one place, with
// the file tree as the fallback. A new kind of content (the gateway,
// search, robots.txt) is one more registration here. The search handler
// comes from plan, which keeps a running index whose configuration is
// unchanged.
func (d *daemon) site(c *config.Config, port int, plan *searchPlan) (gopher.Handler, error) {
	// Without a cgi section nothing runs: a gophermap that is a program
	// is refused (never shown as its source), and no directory runs
	// programs.
	var maps fs.MapRunner = cgi.RefuseMaps{Logger: d.logger}
	var gateway []cgi.Route
	if c.CGI != nil {
		gw, err := cgi.New(d.cgiOptions(c))
		if err != nil {
			return nil, fmt.Errorf("cgi: %w", err)
		}
		maps, gateway = gw, gw.Routes()
	}
	var finder gopher.Handler
	var rootItems []gopher.Item
	if c.Search != nil {
		sh, err := plan.handler(searchOptions(c.Root, c.Search, c.CGI))
		if err != nil {
			return nil, err
		}
		// The root's automatic listing offers the search; a gophermap
		// offers it when its author writes the line.
		finder, rootItems = sh, []gopher.Item{search.Item(c.Search.Selector, "", 0)}
	}
	tree, err := fs.New(fs.Options{Root: c.Root, Logger: d.logger, Maps: maps, RootItems: rootItems})
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", c.Root, err)
	}
	mux := gopher.NewServeMux()
	caps := pages.Caps{Version: d.version, TLSPort: d.tlsPort(c, port)}
	type registration struct {
		prefix  bool
		pattern string
		h       gopher.Handler
	}
	regs := []registration{
		{true, pages.URLPrefix, pages.URLRedirect{}},
		{false, pages.CapsSelector, &pages.Document{Body: caps.Bytes(), Served: "caps", Tree: tree}},
		{true, "/", tree},
	}
	// The gateway's directories, and every spelling of a selector in
	// them (the router compares canonical forms), never reach the tree:
	// a program is run or refused, never served as its source.
	for _, r := range gateway {
		regs = append(regs, registration{r.Prefix, r.Pattern, r.Handler})
	}
	// The search's selector is in no gateway directory (config says so).
	if finder != nil {
		regs = append(regs, registration{false, c.Search.Selector, finder})
	}
	for _, reg := range regs {
		if reg.prefix {
			err = mux.HandlePrefix(reg.pattern, reg.h)
		} else {
			err = mux.Handle(reg.pattern, reg.h)
		}
		if err != nil {
			return nil, fmt.Errorf("composing handlers: %w", err)
		}
	}
	return mux, nil
}

// cgiOptions is the gateway's configuration for c. The slots are the
// daemon's, shared by the gateways of successive reloads, so that programs
// still running from before a reload count against the caps after it.
func (d *daemon) cgiOptions(c *config.Config) cgi.Options {
	o := cgi.Options{
		Root:                 c.Root,
		ExecutableGophermaps: c.CGI.ExecutableGophermaps,
		Timeout:              c.CGI.Timeout,
		KillGrace:            c.CGI.KillGrace,
		MaxOutputBytes:       c.CGI.MaxOutputBytes,
		MaxConcurrent:        c.CGI.MaxConcurrent,
		MaxConcurrentPerIP:   c.CGI.MaxConcurrentPerIP,
		Env:                  c.CGI.Env,
		Version:              d.version,
		Logger:               d.logger,
		Slots:                d.cgiSlots,
	}
	switch c.CGI.RemoteAddr {
	case config.RemotePrefix:
		o.RemoteAddr = cgi.AddrPrefix
	case config.RemoteNone:
		o.RemoteAddr = cgi.AddrNone
	}
	for _, dir := range c.CGI.Dirs {
		out := cgi.Raw
		if dir.Output == config.CGIMenu {
			out = cgi.Menu
		}
		o.Dirs = append(o.Dirs, cgi.Dir{Selector: dir.Selector, Output: out})
	}
	return o
}

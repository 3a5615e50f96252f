package main

import (
	"fmt"
	"slices"

	"gopherd/internal/cgi"
	"gopherd/internal/config"
	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/pages"
)

// site composes the handler chain for configuration c, whose menus name
// port: every handler is registered on one router, in this one place, with
// the file tree as the fallback. A new kind of content (the gateway,
// search, robots.txt) is one more registration here.
func (d *daemon) site(c *config.Config, port int) (gopher.Handler, error) {
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
	tree, err := fs.New(fs.Options{Root: c.Root, Logger: d.logger, Maps: maps})
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", c.Root, err)
	}
	mux := gopher.NewServeMux()
	caps := pages.Caps{Version: d.version, TLSPort: d.tlsPort(c, port),
		Admin: c.Caps.Admin, Description: c.Caps.Description, Geolocation: c.Caps.Geolocation}
	robots := pages.Robots{Disallow: slices.Clone(c.Robots.Disallow), CrawlDelay: c.Robots.CrawlDelay}
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
	// robots.txt asks crawlers to keep out of the gateway's directories
	// and the configured entries.
	for _, r := range gateway {
		if r.Prefix {
			robots.Disallow = append(robots.Disallow, r.Pattern)
		}
	}
	regs = append(regs, registration{false, pages.RobotsSelector, &pages.Document{Body: robots.Bytes(), Served: "robots", Tree: tree}})
	// The gateway's directories, and every spelling of a selector in
	// them (the router compares canonical forms), never reach the tree:
	// a program is run or refused, never served as its source.
	for _, r := range gateway {
		regs = append(regs, registration{r.Prefix, r.Pattern, r.Handler})
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
	if d.metrics != nil {
		o.Observe = d.metrics.GatewayRun
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

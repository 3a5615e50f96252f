package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"gopherd/internal/cgi"
	"gopherd/internal/config"
	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
	"gopherd/internal/gopherplus"
	"gopherd/internal/pages"
	"gopherd/internal/search"
	"gopherd/internal/server"
)

// site composes the handler chain of one host, h, of configuration c,
// whose caps.txt announces tlsPort: every handler is registered on one
// router, in this one place, with the host's file tree as the fallback,
// and Gopher+ requests are answered around the router. Each host gets a
// chain of its own: its own root (its own os.Root in fs and the gateway),
// its own caches, its own gateway. The host's name and port reach the
// handlers in every request (gopher.Request.Host and Port), so nothing here
// writes them down; serving adds what answers around the router. A new kind of content (search, robots.txt) is one more
// registration here, made from h, so that it is per host too: the
// host's search indexes its own root. The search handler comes from plan,
// which keeps a running index whose configuration is unchanged. The
// server-wide keys of c (robots-txt, caps) apply to every host.
func (d *daemon) site(c *config.Config, h config.Vhost, tlsPort int, slots *cgi.Slots, renderTimeout time.Duration, plan *searchPlan) (*gopher.ServeMux, error) {
	// Without a cgi section nothing runs: a gophermap that is a program
	// is refused (never shown as its source), and no directory runs
	// programs.
	var maps fs.MapRunner = cgi.RefuseMaps{Logger: d.logger}
	var gateway []cgi.Route
	if h.CGI != nil {
		gw, err := cgi.New(d.cgiOptions(h.Root, h.CGI, slots))
		if err != nil {
			return nil, fmt.Errorf("cgi: %w", err)
		}
		maps, gateway = gw, gw.Routes()
	}
	var finder gopher.Handler
	var rootItems []gopher.Item
	if h.Search != nil {
		sh, err := plan.handler(searchOptions(h.Root, h.Search, h.CGI))
		if err != nil {
			return nil, err
		}
		// The root's automatic listing offers the search; a gophermap
		// offers it when its author writes the line.
		finder, rootItems = sh, []gopher.Item{search.Item(h.Search.Selector, "", 0)}
	}
	opts, err := treeOptions(h)
	if err != nil {
		return nil, err
	}
	opts.Root, opts.Logger, opts.Maps, opts.RenderTimeout, opts.RootItems = h.Root, d.logger, maps, renderTimeout, rootItems
	tree, err := fs.New(opts)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", h.Root, err)
	}
	mux := gopher.NewServeMux()
	caps := pages.Caps{Version: d.version, TLSPort: tlsPort,
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
	// The search's selector is in no gateway directory (config says so).
	if finder != nil {
		regs = append(regs, registration{false, h.Search.Selector, finder})
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

// serving is the handler that answers the requests of a host whose router
// site made: the router itself, and Gopher+ requests answered around it
// unless configuration c turns them off.
func serving(c *config.Config, mux *gopher.ServeMux) gopher.Handler {
	if c.GopherPlus == config.GopherPlusOff {
		return mux
	}
	return gopherplus.Handler{Next: mux}
}

// treeOptions are the options of host h's file tree that say how it
// presents its files: the dialect of its gophermaps and the text mode of
// its text files (Hosts fills both in for every host).
func treeOptions(h config.Vhost) (fs.Options, error) {
	var o fs.Options
	var err error
	if h.Gophermap != nil {
		if o.Dialect, err = dialect(h.Gophermap.Dialect.String()); err != nil {
			return o, err
		}
		for _, prefix := range slices.Sorted(maps.Keys(h.Gophermap.Dialects)) {
			d, err := dialect(h.Gophermap.Dialects[prefix])
			if err != nil {
				return o, fmt.Errorf("gophermap.dialects %s: %w", prefix, err)
			}
			o.Dialects = append(o.Dialects, fs.DialectRule{Prefix: prefix, Dialect: d})
		}
	}
	if h.TextMode != nil && *h.TextMode == config.TextRFC1436 {
		o.TextMode = fs.TextRFC1436
	}
	for _, prefix := range slices.Sorted(maps.Keys(h.TextModePaths)) {
		m, ok := config.ParseTextMode(h.TextModePaths[prefix])
		if !ok {
			return o, fmt.Errorf("text-mode-paths %s: unknown text mode %q", prefix, h.TextModePaths[prefix])
		}
		rule := fs.TextModeRule{Prefix: prefix, Mode: fs.TextRaw}
		if m == config.TextRFC1436 {
			rule.Mode = fs.TextRFC1436
		}
		o.TextModes = append(o.TextModes, rule)
	}
	return o, nil
}

// dialect is the gophermap dialect a configuration names.
func dialect(name string) (gophermap.Dialect, error) {
	d, ok := gophermap.LookupDialect(name)
	if !ok || name == gophermap.DialectGPH {
		return nil, fmt.Errorf("unknown gophermap dialect %q", name)
	}
	return d, nil
}

// cgiOptions is the configuration of the gateway of the host serving
// root with section c. The slots are the host's, shared by its gateways of
// successive reloads, so that programs still running from before a reload
// count against the caps after it.
func (d *daemon) cgiOptions(root string, c *config.CGI, slots *cgi.Slots) cgi.Options {
	o := cgi.Options{
		Root:                 root,
		ExecutableGophermaps: c.ExecutableGophermaps,
		Timeout:              c.Timeout,
		KillGrace:            c.KillGrace,
		MaxOutputBytes:       c.MaxOutputBytes,
		MaxConcurrent:        c.MaxConcurrent,
		MaxConcurrentPerIP:   c.MaxConcurrentPerIP,
		Env:                  c.Env,
		Version:              d.version,
		Logger:               d.logger,
		Slots:                slots,
		NoExec:               d.noExec,
	}
	if d.metrics != nil {
		o.Observe = d.metrics.GatewayRun
	}
	switch c.RemoteAddr {
	case config.RemotePrefix:
		o.RemoteAddr = cgi.AddrPrefix
	case config.RemoteNone:
		o.RemoteAddr = cgi.AddrNone
	}
	for _, dir := range c.Dirs {
		out := cgi.Raw
		if dir.Output == config.CGIMenu {
			out = cgi.Menu
		}
		o.Dirs = append(o.Dirs, cgi.Dir{Selector: dir.Selector, Output: out})
	}
	return o
}

// menuTimeout bounds the making of a menu (a gophermap rendered, a directory
// listed) by the time a client has to send its request: past it the client
// gets a timeout error item.
func menuTimeout(c *config.Config) time.Duration {
	if c.Limits.RequestTimeout > 0 {
		return c.Limits.RequestTimeout
	}
	return server.DefaultLimits().RequestTimeout
}

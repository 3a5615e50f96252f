package main

import (
	"fmt"

	"gopherd/internal/config"
	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/pages"
	"gopherd/internal/server"
)

// site composes the handler chain for configuration c, whose menus name
// port: every handler is registered on one router, in this one place, with
// the file tree as the fallback. A new kind of content (the gateway,
// search, robots.txt) is one more registration here.
func (d *daemon) site(c *config.Config, port int) (gopher.Handler, error) {
	// Making a menu is bounded by the same time a client has to send its
	// request: past it the client gets a timeout error item.
	renderTimeout := c.Limits.RequestTimeout
	if renderTimeout <= 0 {
		renderTimeout = server.DefaultLimits().RequestTimeout
	}
	tree, err := fs.New(fs.Options{Root: c.Root, Logger: d.logger, RenderTimeout: renderTimeout})
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", c.Root, err)
	}
	mux := gopher.NewServeMux()
	caps := pages.Caps{Version: d.version, TLSPort: d.tlsPort(c, port)}
	for _, reg := range []struct {
		prefix  bool
		pattern string
		h       gopher.Handler
	}{
		{true, pages.URLPrefix, pages.URLRedirect{}},
		{false, pages.CapsSelector, &pages.Document{Body: caps.Bytes(), Served: "caps", Tree: tree}},
		{true, "/", tree},
	} {
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

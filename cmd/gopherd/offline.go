package main

import (
	"net"

	"go.uber.org/zap"

	"gopherd/internal/config"
)

// The commands that look at a configuration's content without serving it
// (gopherd render, gopherd lint, --check) build the daemon's own handler
// chains, through site, with nothing bound and nothing run: the
// listeners are stand-ins with the configured addresses, so that every
// host gets the menu port and caps.txt the running daemon would give it,
// and every gateway is a stand-in that starts no program.

// configuredListener stands for a listener the configuration names: it
// has the configured address and accepts nothing.
type configuredListener struct{ addr net.TCPAddr }

func (l *configuredListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l *configuredListener) Close() error              { return nil }
func (l *configuredListener) Addr() net.Addr            { return &l.addr }

// offlineDaemon is a daemon for configuration c that serves nothing: its
// listeners are configuredListeners, its gateways run nothing. A listener
// on port 0 (any free port) names port 0, which the running daemon would
// replace with the port it got.
func offlineDaemon(c *config.Config, version string, logger *zap.Logger) *daemon {
	if logger == nil {
		logger = zap.NewNop()
	}
	d := &daemon{cfg: c, logger: logger, version: version, noExec: true}
	for _, l := range c.Listen {
		d.listeners = append(d.listeners, &configuredListener{addr: net.TCPAddr{IP: net.ParseIP(l.Addr), Port: l.Port}})
	}
	d.lopts = listenerOptions(c.Listen, d.listeners, false)
	return d
}

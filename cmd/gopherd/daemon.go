package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/config"
	"gopherd/internal/fs"
	"gopherd/internal/server"
	"gopherd/internal/tlscert"
)

// shutdownGrace is how long transfers in flight may continue after SIGTERM
// or SIGINT. It stays below systemd's default TimeoutStopSec (90 s) so the
// daemon, not the service manager, decides what gets cut. A second signal
// cuts at once.
const shutdownGrace = 30 * time.Second

// daemon is one running gopherd process: its listeners, server and the
// configuration it was started with.
type daemon struct {
	opts    *options
	cfg     *config.Config
	logger  *zap.Logger
	level   zap.AtomicLevel
	version string

	listeners []net.Listener
	modes     []server.TLSMode // of each listener, fixed until restart
	activated bool             // listeners came from systemd socket activation
	srv       *server.Server
	notify    notifier

	// certs holds the TLS certificate, swapped on reload; tlsConf serves
	// from it and is the same for the whole life of the process.
	certs   tlscert.Holder
	tlsConf *tls.Config
}

func (d *daemon) run() int {
	d.notify = notifier{logger: d.logger}
	lns, err := inheritedListeners()
	if err != nil {
		d.logger.Error("socket activation", zap.Error(err))
		return exitFailure
	}
	if lns != nil {
		d.activated = true
		d.logger.Info("socket activation: serving the inherited sockets, \"listen\" from the config is ignored",
			zap.Strings("sockets", listenerAddrs(lns)))
	} else if lns, err = listenAll(d.cfg.Listen); err != nil {
		d.logger.Error("cannot listen", zap.Error(err))
		return exitFailure
	}
	d.listeners = lns
	d.modes = listenerModes(d.cfg.Listen, lns, d.activated)

	settings, err := d.settings(d.cfg)
	if err != nil {
		d.logger.Error("cannot serve root", zap.Error(err))
		closeAll(lns)
		return exitFailure
	}
	// The root is open and the sockets are bound: nothing needs root any more.
	if err := dropPrivileges(d.cfg.User, d.logger); err != nil {
		d.logger.Error("cannot drop privileges", zap.Error(err))
		closeAll(lns)
		return exitFailure
	}
	d.srv = server.New(d.logger, settings)

	serveErr := make(chan error, len(lns))
	for i, ln := range lns {
		go func() { serveErr <- d.srv.ServeTLSMode(ln, d.modes[i]) }()
	}
	if settings.TLS != nil {
		d.logCertificate("TLS enabled")
	}
	d.logger.Info("gopherd started",
		zap.String("version", d.version),
		zap.String("root", d.cfg.Root),
		zap.Strings("listen", listenerAddrs(lns)),
		zap.String("hostname", settings.Hostname),
		zap.Int("port", settings.Port))
	d.notify.ready(fmt.Sprintf("Serving %s on %s", d.cfg.Root, strings.Join(listenerAddrs(lns), ", ")))
	wdCtx, stopWatchdog := context.WithCancel(context.Background())
	defer stopWatchdog()
	go d.notify.watchdog(wdCtx)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.reload()
				continue
			}
			return d.shutdown(sig, sigs)
		case err := <-serveErr:
			if errors.Is(err, server.ErrServerClosed) {
				continue
			}
			d.logger.Error("listener failed", zap.Error(err))
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			_ = d.srv.Shutdown(ctx)
			cancel()
			return exitFailure
		}
	}
}

// settings builds the server settings, including a fresh content handler,
// for configuration c.
func (d *daemon) settings(c *config.Config) (server.Settings, error) {
	port := menuPort(c, d.listeners)
	h, err := fs.New(fs.Options{
		Root: c.Root, Hostname: c.Hostname, Port: port,
		Version: d.version, TLSPort: d.tlsPort(c, port), Logger: d.logger,
	})
	if err != nil {
		return server.Settings{}, fmt.Errorf("root %s: %w", c.Root, err)
	}
	var tlsConf *tls.Config
	if c.TLS.Enabled() {
		if d.tlsConf == nil {
			d.tlsConf = d.certs.Config()
		}
		tlsConf = d.tlsConf
	}
	return server.Settings{
		Handler:  h,
		Hostname: c.Hostname,
		Port:     port,
		HideIPs:  c.Log.HideIPs,
		TLS:      tlsConf,
		HTTPPage: c.HTTPPage,
		Limits: server.Limits{
			RequestBytes:        c.Limits.RequestBytes,
			RequestTimeout:      c.Limits.RequestTimeout,
			IdleTimeout:         c.Limits.IdleTimeout,
			MaxConnections:      c.Limits.MaxConnections,
			MaxConnectionsPerIP: c.Limits.MaxConnectionsPerIP,
		},
	}, nil
}

// tlsPort is the port announced for Gopher over TLS in caps.txt: the menu
// port when the first listener takes TLS, else the first TLS listener's
// port; 0 without TLS.
func (d *daemon) tlsPort(c *config.Config, port int) int {
	if !c.TLS.Enabled() {
		return 0
	}
	for i, m := range d.modes {
		if m == server.TLSOff {
			continue
		}
		if i == 0 {
			return port
		}
		if a, ok := d.listeners[i].Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return 0
}

// menuPort is the port written into menus: public-port when set, else the
// port the first listener really got.
func menuPort(c *config.Config, lns []net.Listener) int {
	if c.PublicPort != 0 {
		return c.PublicPort
	}
	if len(lns) > 0 {
		if a, ok := lns[0].Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return c.MenuPort()
}

// reload re-reads the configuration and the TLS certificate and swaps in a
// new handler and certificate. A config that fails to load or validate, or
// a certificate that fails to load, leaves the running ones in place.
// Connections in flight, TLS ones included, finish with what they started
// with. The old handler is not closed: connections in flight still use it,
// and its root directory descriptor is released by the garbage collector
// once they are done.
func (d *daemon) reload() {
	d.notify.reloading()
	defer func() { d.notify.ready("Serving " + d.cfg.Root) }()
	d.logger.Info("reloading configuration", zap.String("config", d.opts.configFile))
	cfg, err := loadConfig(d.opts)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		d.logger.Error("reload failed, keeping the running configuration", zap.Error(err))
		return
	}
	if !cfg.TLS.Enabled() {
		for i, m := range d.modes {
			if m == server.TLSOnly {
				d.logger.Error("reload failed, keeping the running configuration",
					zap.String("error", fmt.Sprintf("listener %s serves TLS only and needs a certificate until restart", d.listeners[i].Addr())))
				return
			}
		}
	}
	// A certificate that does not load (a renewal half written, a key
	// that does not match) keeps the running one, with the rest of the
	// configuration: connections never see a half-applied reload.
	cert, certWarnings, err := loadCertificate(cfg)
	if err != nil {
		d.logger.Error("reload failed, keeping the running configuration and certificate", zap.Error(err))
		return
	}
	settings, err := d.settings(cfg)
	if err != nil {
		d.logger.Error("reload failed, keeping the running configuration", zap.Error(err))
		return
	}
	for _, w := range cfg.Warnings {
		d.logger.Warn("config: " + w.String())
	}
	for _, w := range certWarnings {
		d.logger.Warn(w)
	}
	if !d.activated && !slices.Equal(cfg.Listen, d.cfg.Listen) {
		d.logger.Warn("listen changed: ignored until restart")
	}
	if cfg.User != d.cfg.User {
		d.logger.Warn("user changed: ignored until restart")
	}
	if cfg.Log.Enable != d.cfg.Log.Enable || cfg.Log.HideTime != d.cfg.Log.HideTime {
		d.logger.Warn("log.enable and log.hide-time changes: ignored until restart")
	}
	if err := d.level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		d.logger.Warn("log.level not applied", zap.Error(err))
	}
	if cert != nil {
		d.certs.Store(cert)
	}
	d.srv.Update(settings)
	d.cfg = cfg
	d.logger.Info("configuration reloaded",
		zap.String("root", cfg.Root),
		zap.String("hostname", settings.Hostname),
		zap.Int("port", settings.Port),
		zap.Bool("tls", settings.TLS != nil))
	if settings.TLS != nil {
		d.logCertificate("TLS certificate loaded")
	}
}

// logCertificate says which certificate TLS clients get now.
func (d *daemon) logCertificate(msg string) {
	c := d.certs.Certificate()
	if c == nil || c.Leaf == nil {
		return
	}
	d.logger.Info(msg,
		zap.String("certificate", d.cfg.TLS.Certificate),
		zap.String("subject", c.Leaf.Subject.String()),
		zap.Strings("names", certNames(c)),
		zap.Time("not_after", c.Leaf.NotAfter))
}

// certNames lists the names and addresses a certificate is for.
func certNames(c *tls.Certificate) []string {
	names := slices.Clone(c.Leaf.DNSNames)
	for _, ip := range c.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// listenerModes gives each listener its TLS mode from the configuration:
// by position for the configured listeners; for sockets inherited from
// systemd, the mode of the listen entry with the same port, else auto.
func listenerModes(ls []config.Listen, lns []net.Listener, activated bool) []server.TLSMode {
	modes := make([]server.TLSMode, len(lns))
	for i, ln := range lns {
		var l config.Listen
		switch {
		case !activated && i < len(ls):
			l = ls[i]
		case activated:
			a, ok := ln.Addr().(*net.TCPAddr)
			if !ok {
				continue
			}
			for _, x := range ls {
				if x.Port == a.Port {
					l = x
					break
				}
			}
		}
		modes[i] = serverTLSMode(l.TLS)
	}
	return modes
}

func serverTLSMode(m config.TLSMode) server.TLSMode {
	switch m {
	case config.TLSOnly:
		return server.TLSOnly
	case config.TLSOff:
		return server.TLSOff
	}
	return server.TLSAuto
}

func (d *daemon) shutdown(sig os.Signal, sigs <-chan os.Signal) int {
	d.notify.stopping()
	d.logger.Info("shutting down: finishing transfers in flight",
		zap.String("signal", sig.String()), zap.Duration("grace", shutdownGrace))
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	go func() {
		select {
		case s := <-sigs:
			d.logger.Warn("second signal: closing connections now", zap.String("signal", s.String()))
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := d.srv.Shutdown(ctx); err != nil {
		d.logger.Warn("shutdown cut transfers short", zap.Error(err))
	}
	d.logger.Info("stopped")
	return exitOK
}

// listenAll binds every configured listener; on any failure it closes the
// ones already bound.
func listenAll(ls []config.Listen) ([]net.Listener, error) {
	var lns []net.Listener
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.String())
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("cannot listen: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

func listenerAddrs(lns []net.Listener) []string {
	out := make([]string, len(lns))
	for i, ln := range lns {
		out[i] = ln.Addr().String()
	}
	return out
}

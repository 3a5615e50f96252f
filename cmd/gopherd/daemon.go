package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"gopherd/internal/cgi"
	"gopherd/internal/config"
	"gopherd/internal/gopher"
	"gopherd/internal/metrics"
	"gopherd/internal/rate"
	"gopherd/internal/server"
	"gopherd/internal/tlscert"
)

// daemon is one running gopherd: its listeners, server and the
// configuration it runs with.
type daemon struct {
	opts    *options
	cfg     *config.Config
	logger  *zap.Logger
	level   zap.AtomicLevel
	version string

	listeners []net.Listener
	lopts     []server.ListenerOptions // of each listener, fixed until restart
	activated bool                     // listeners came from systemd socket activation
	srv       *server.Server
	notify    notifier
	stopWD    context.CancelFunc // ends the watchdog pings and the memory returner

	// certs holds the TLS certificate, swapped on reload; tlsConf serves
	// from it and is the same for the whole life of the process.
	certs   tlscert.Holder
	tlsConf *tls.Config

	// cgiSlots counts each host's running programs across reloads, by
	// the host's name in canonical form: a host's programs count against
	// its own caps, never another's.
	cgiSlots map[string]*cgi.Slots
	// searches are the search indexes the running configuration mounts,
	// kept across reloads that leave their configuration alone.
	searches searches

	// rate holds the rate budgets, kept across reloads that leave them
	// alone; nil without budgets.
	rate *rate.Limiter
	// metrics, when the configuration asks for them, counts what the
	// server and the gateway do; metricsSrv serves them on metricsLn.
	metrics    *metrics.Metrics
	metricsLn  net.Listener
	metricsSrv *http.Server

	// noExec builds every gateway as a stand-in that runs nothing
	// (cgi.Options.NoExec): the handler chains of gopherd render and
	// gopherd lint, which never execute anything.
	noExec bool
}

// start inherits or binds the listeners, opens the root, drops privileges
// and starts serving; a listener that fails later is reported on failed.
// On error nothing is left open.
func (d *daemon) start(certs certificates, failed chan<- error) error {
	d.notify = notifier{logger: d.logger}
	lns, metricsLn, err := inheritedListeners()
	if err != nil {
		return fmt.Errorf("socket activation: %w", err)
	}
	if lns != nil {
		d.activated = true
		d.logger.Info("socket activation: serving the inherited sockets instead of \"listen\"; a listen entry with a socket's port lends it its tls mode",
			zap.Strings("sockets", listenerAddrs(lns)))
	} else if lns, err = listenAll(d.cfg.Listen); err != nil {
		return err
	}
	d.listeners = lns
	d.lopts = listenerOptions(d.cfg.Listen, lns, d.activated)
	d.metrics = newMetrics(d.cfg, metricsLn != nil, d.version)
	if err := d.startMetrics(metricsLn); err != nil {
		closeAll(lns)
		return err
	}

	settings, plan, err := d.settings(d.cfg, certs)
	if err != nil {
		closeAll(lns)
		d.stopMetrics()
		return fmt.Errorf("cannot serve root: %w", err)
	}
	d.rate = settings.Rate
	// The root is open and the sockets are bound: nothing needs root any more.
	if err := dropPrivileges(d.cfg.User, d.logger); err != nil {
		plan.abort()
		closeAll(lns)
		d.stopMetrics()
		return fmt.Errorf("cannot drop privileges: %w", err)
	}
	d.srv = server.New(d.logger, settings)
	// Indexing starts only now, as the user that serves: the index never
	// holds text the server could not read.
	d.searches.commit(plan)
	for i, ln := range lns {
		go func() {
			if err := d.srv.Serve(ln, d.lopts[i]); err != nil && !errors.Is(err, server.ErrServerClosed) {
				select {
				case failed <- fmt.Errorf("listener %s failed: %w", ln.Addr(), err):
				default:
				}
			}
		}()
	}
	if settings.TLS != nil {
		d.logCertificates("TLS enabled", d.cfg, certs)
	}
	d.logger.Info("gopherd started", append([]zap.Field{
		zap.String("version", d.version),
		zap.String("root", d.cfg.Root),
		zap.Strings("listen", listenerAddrs(lns)),
		zap.String("hostname", settings.Hostname),
		zap.Int("port", settings.Port)},
		vhostFields(settings)...)...)
	d.notify.ready(d.status())
	wdCtx, stopWatchdog := context.WithCancel(context.Background())
	d.stopWD = stopWatchdog
	go d.notify.watchdog(wdCtx)
	go newMemoryReturner().run(wdCtx)
	return nil
}

// status is the one-line state systemctl status shows.
func (d *daemon) status() string {
	return fmt.Sprintf("Serving %s on %s", d.cfg.Root, strings.Join(listenerAddrs(d.listeners), ", "))
}

// settings builds the server settings for configuration c with its
// certificates: a fresh handler chain for each host (see site), the
// default host's and each vhost's; and the plan of the search indexes they
// mount, to be committed once the server uses the settings
// (searches.commit) or else aborted. On error the plan is aborted already.
func (d *daemon) settings(c *config.Config, certs certificates) (server.Settings, *searchPlan, error) {
	plan := d.searches.plan(d.logger)
	hosts := c.Hosts()
	built := make([]server.Host, len(hosts))
	slots := make(map[string]*cgi.Slots, len(hosts))
	for i, h := range hosts {
		ln := d.hostListener(h, i == 0)
		port := d.hostPort(c, h, ln)
		key := gopher.CanonicalHost(h.Hostname)
		if slots[key] = d.cgiSlots[key]; slots[key] == nil {
			slots[key] = cgi.NewSlots()
		}
		mux, err := d.site(c, h, d.tlsPort(c, ln, port), slots[key], menuTimeout(c), plan)
		if err != nil {
			plan.abort()
			if i > 0 {
				err = fmt.Errorf("vhost %s: %w", h.Hostname, err)
			}
			return server.Settings{}, nil, err
		}
		built[i] = server.Host{Hostname: h.Hostname, Aliases: h.Aliases, Port: port, Handler: serving(c, mux)}
		if i > 0 {
			built[i].Certificate = certs.vhosts[i-1]
		}
	}
	var tlsConf *tls.Config
	if c.TLS.Enabled() {
		if d.tlsConf == nil {
			d.tlsConf = d.certs.Config()
		}
		tlsConf = d.tlsConf
	}
	// Programs of hosts that are gone keep the slots they hold; the
	// counts of hosts that stay carry over.
	d.cgiSlots = slots
	return server.Settings{
		Handler:          built[0].Handler,
		Hostname:         built[0].Hostname,
		Port:             built[0].Port,
		Vhosts:           built[1:],
		RejectUnknownSNI: c.TLS.UnknownSNI == config.SNIReject,
		HideIPs:          c.Log.HideIPs,
		TLS:              tlsConf,
		HTTPPage:         c.HTTPPage,
		Rate:             d.rateLimiter(c),
		Events:           d.events(),
		Limits: server.Limits{
			RequestBytes:            c.Limits.RequestBytes,
			RequestTimeout:          c.Limits.RequestTimeout,
			IdleTimeout:             c.Limits.IdleTimeout,
			MaxConnections:          c.Limits.MaxConnections,
			MaxConnectionsPerIP:     c.Limits.MaxConnectionsPerIP,
			MaxConnectionsPerPrefix: c.Limits.MaxConnectionsPerPrefix,
			MinReadRate:             int(c.Limits.MinReadRate),
		},
	}, plan, nil
}

// hostListener returns the index of the listener whose port host h's
// menus name: the first listener bound to h (for the default host, the
// first bound to no vhost), else the first listener; -1 without
// listeners.
func (d *daemon) hostListener(h config.Vhost, isDefault bool) int {
	for i, o := range d.lopts {
		if isDefault && o.Vhost == "" {
			return i
		}
		for _, name := range h.Names() {
			if o.Vhost != "" && o.Vhost == gopher.CanonicalHost(name) {
				return i
			}
		}
	}
	if len(d.listeners) > 0 {
		return 0
	}
	return -1
}

// hostPort is the port written into host h's menus: its public-port when
// set (Hosts fills in the top-level one), else the port listener ln really
// got.
func (d *daemon) hostPort(c *config.Config, h config.Vhost, ln int) int {
	if h.PublicPort != 0 {
		return h.PublicPort
	}
	if ln >= 0 && ln < len(d.listeners) {
		if a, ok := d.listeners[ln].Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return c.MenuPort()
}

// tlsPort is the port announced for Gopher over TLS in a host's caps.txt:
// the host's menu port when its listener ln takes TLS, else the first TLS
// listener's port (a TLS client's server name chooses the host there);
// 0 without TLS.
func (d *daemon) tlsPort(c *config.Config, ln, port int) int {
	if !c.TLS.Enabled() {
		return 0
	}
	if ln >= 0 && ln < len(d.lopts) && d.lopts[ln].TLS != server.TLSOff {
		return port
	}
	for i, o := range d.lopts {
		if o.TLS == server.TLSOff {
			continue
		}
		if a, ok := d.listeners[i].Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return 0
}

// vhostFields are the log fields naming the vhosts of st, none without.
func vhostFields(st server.Settings) []zap.Field {
	if len(st.Vhosts) == 0 {
		return nil
	}
	names := make([]string, len(st.Vhosts))
	for i, h := range st.Vhosts {
		names[i] = h.Hostname
	}
	return []zap.Field{zap.Strings("vhosts", names)}
}

// reload re-reads the configuration and the TLS certificate and swaps in a
// new handler and certificate. A config that fails to load or validate, or
// a certificate that fails to load, leaves the running ones in place.
// Connections in flight, TLS ones included, finish with what they started
// with. The old handler is not closed: connections in flight still use it,
// and its root directory descriptor is released by the garbage collector
// once they are done. Search indexes are the exception: each has a
// goroutine, so the ones the new configuration no longer mounts are closed
// (see searches).
func (d *daemon) reload() {
	d.notify.reloading()
	defer func() { d.notify.ready(d.status()) }()
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
		for i, o := range d.lopts {
			if o.TLS == server.TLSOnly {
				d.logger.Error("reload failed, keeping the running configuration",
					zap.String("error", fmt.Sprintf("listener %s serves TLS only and needs a certificate until restart", d.listeners[i].Addr())))
				return
			}
		}
	}
	// A listener stays bound to its vhost until restart: a configuration
	// without that host would leave its clients to another host's files.
	for i, o := range d.lopts {
		if o.Vhost != "" && cfg.HostIndex(o.Vhost) < 0 {
			d.logger.Error("reload failed, keeping the running configuration",
				zap.String("error", fmt.Sprintf("listener %s serves vhost %s until restart; the new configuration has no host of that name", d.listeners[i].Addr(), o.Vhost)))
			return
		}
	}
	// A certificate that does not load (a renewal half written, a key
	// that does not match, a vhost's that does not name it) keeps the
	// running ones, with the rest of the configuration: connections never
	// see a half-applied reload.
	certs, err := loadCertificates(cfg)
	if err != nil {
		d.logger.Error("reload failed, keeping the running configuration and certificate", zap.Error(err))
		return
	}
	settings, plan, err := d.settings(cfg, certs)
	if err != nil {
		d.logger.Error("reload failed, keeping the running configuration", zap.Error(err))
		return
	}
	for _, w := range cfg.Warnings {
		d.logger.Warn("config: " + w.String())
	}
	for _, w := range certs.warnings {
		d.logger.Warn(w)
	}
	if !d.activated && !slices.EqualFunc(cfg.Listen, d.cfg.Listen, config.Listen.Equal) {
		d.logger.Warn("listen changed: ignored until restart")
	}
	if cfg.User != d.cfg.User {
		d.logger.Warn("user changed: ignored until restart")
	}
	if (cfg.Metrics == nil) != (d.cfg.Metrics == nil) || cfg.Metrics != nil && *cfg.Metrics != *d.cfg.Metrics {
		d.logger.Warn("metrics changed: ignored until restart")
	}
	if cfg.Log.Enable != d.cfg.Log.Enable || cfg.Log.HideTime != d.cfg.Log.HideTime {
		d.logger.Warn("log.enable and log.hide-time changes: ignored until restart")
	}
	if err := d.level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		d.logger.Warn("log.level not applied", zap.Error(err))
	}
	if certs.def != nil {
		d.certs.Store(certs.def)
	}
	d.srv.Update(settings)
	d.rate = settings.Rate
	// An unchanged search keeps its index and rescans (SIGHUP reindexes);
	// a changed one is built anew, and the old one closed.
	d.searches.commit(plan)
	d.cfg = cfg
	d.logger.Info("configuration reloaded", append([]zap.Field{
		zap.String("root", cfg.Root),
		zap.String("hostname", settings.Hostname),
		zap.Int("port", settings.Port),
		zap.Bool("tls", settings.TLS != nil)},
		vhostFields(settings)...)...)
	if settings.TLS != nil {
		d.logCertificates("TLS certificate loaded", cfg, certs)
	}
}

// logCertificates says which certificates TLS clients get now: the
// default one, and each vhost's own.
func (d *daemon) logCertificates(msg string, c *config.Config, certs certificates) {
	logCert := func(msg, file string, cert *tls.Certificate, more ...zap.Field) {
		if cert == nil || cert.Leaf == nil {
			return
		}
		d.logger.Info(msg, append(more,
			zap.String("certificate", file),
			zap.String("subject", cert.Leaf.Subject.String()),
			zap.Strings("names", certNames(cert)),
			zap.Time("not_after", cert.Leaf.NotAfter))...)
	}
	logCert(msg, c.TLS.Certificate, d.certs.Certificate())
	for i, v := range c.Vhosts {
		logCert(msg, v.TLS.Certificate, certs.vhosts[i], zap.String("vhost", v.Hostname))
	}
}

// certNames lists the names and addresses a certificate is for.
func certNames(c *tls.Certificate) []string {
	names := slices.Clone(c.Leaf.DNSNames)
	for _, ip := range c.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// listenerOptions gives each listener its options (TLS mode, vhost) from
// the configuration: by position for the configured listeners; for sockets
// inherited from systemd, those of the listen entry with the same port,
// else the defaults.
func listenerOptions(ls []config.Listen, lns []net.Listener, activated bool) []server.ListenerOptions {
	opts := make([]server.ListenerOptions, len(lns))
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
		opts[i] = server.ListenerOptions{TLS: serverTLSMode(l.TLS), Vhost: gopher.CanonicalHost(l.Vhost), Proxy: proxyOptions(l)}
	}
	return opts
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

// stopping tells the service manager and the log that a shutdown begins.
func (d *daemon) stopping(why string) {
	d.notify.stopping()
	d.logger.Info("shutting down: finishing transfers in flight",
		zap.String("signal", why), zap.Duration("grace", shutdownGrace))
}

// shutdown stops serving: see server.Shutdown.
func (d *daemon) shutdown(ctx context.Context) error {
	d.stopWD()
	err := d.srv.Shutdown(ctx)
	d.stopMetrics()
	if err != nil {
		d.logger.Warn("shutdown cut transfers short", zap.Error(err))
	}
	d.searches.close(d.logger)
	d.logger.Info("stopped")
	_ = d.logger.Sync()
	return err
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

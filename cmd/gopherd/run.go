package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"

	"gopherd/internal/config"
	"gopherd/internal/gophermap"
	"gopherd/internal/tlscert"
)

// Main is the gopherd daemon as a value: ParseFlags reads the command line
// and the configuration, Run binds (or inherits) the listeners and starts
// serving, Reload applies a changed configuration, and Shutdown or Close
// stop it. main drives it from the process's signals; tests drive the very
// same code in-process (see MustRunMain in the tests).
type Main struct {
	Stdout  io.Writer
	Stderr  io.Writer
	Version string

	opts  options
	cfg   *config.Config
	certs certificates

	mu     sync.Mutex // guards d against Reload racing Shutdown
	d      *daemon
	failed chan error
}

// ParseFlags parses the command line (without the program name), then
// loads and checks the configuration it names and the TLS certificate the
// configuration names. Errors are usage or configuration errors (exit
// code 2); --help and --version print and return an error with exit code 0.
func (m *Main) ParseFlags(args []string) error {
	fs := newFlagSet(&m.opts, m.Stderr)
	if err := fs.Parse(args); err != nil {
		var b bytes.Buffer
		fmt.Fprintf(&b, "gopherd: %v\n", err)
		printUsage(fs, &b)
		return usageError(errors.New(string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))))
	}
	switch {
	case m.opts.help:
		printUsage(fs, m.Stdout)
		return &exitError{code: exitOK}
	case m.opts.version:
		fmt.Fprintf(m.Stdout, "gopherd %s\n", m.Version)
		return &exitError{code: exitOK}
	case m.opts.strict && !m.opts.check:
		var b bytes.Buffer
		fmt.Fprintln(&b, "gopherd: --strict goes with --check (gopherd lint has a --strict of its own)")
		printUsage(fs, &b)
		return usageError(errors.New(string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))))
	case fs.NArg() > 1:
		var b bytes.Buffer
		fmt.Fprintf(&b, "gopherd: at most one config file, got %d arguments\n", fs.NArg())
		printUsage(fs, &b)
		return usageError(errors.New(string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))))
	}
	m.opts.configFile = fs.Arg(0)
	cfg, err := loadConfig(&m.opts)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return usageError(err)
	}
	// The certificates are read now, before privileges are dropped, and
	// a broken one is a configuration error like any other.
	certs, err := loadCertificates(cfg)
	if err != nil {
		return usageError(err)
	}
	m.cfg, m.certs = cfg, certs
	return nil
}

// CheckOnly reports whether the command line asked for --check.
func (m *Main) CheckOnly() bool { return m.opts.check }

// Check prints the configuration's warnings and a one-line verdict, for
// --check. ParseFlags has done the checking.
func (m *Main) Check() error {
	for _, w := range m.cfg.Warnings {
		fmt.Fprintf(m.Stderr, "warning: %s\n", w)
	}
	for _, w := range m.certs.warnings {
		fmt.Fprintf(m.Stderr, "warning: %s\n", w)
	}
	src := m.cfg.Source
	if src == "" {
		src = "built-in defaults"
	}
	var vhosts strings.Builder
	for i, v := range m.cfg.Vhosts {
		sep := ", "
		if i == 0 {
			sep = "; vhosts: "
		}
		fmt.Fprintf(&vhosts, "%s%s (%s)", sep, v.Hostname, v.Root)
	}
	fmt.Fprintf(m.Stdout, "%s: configuration OK, serving %s%s\n", src, m.cfg.Root, vhosts.String())
	return m.checkMaps()
}

// checkShown is how many findings --check prints; gopherd lint prints
// them all.
const checkShown = 5

// checkMaps lints the maps of every host, for --check: a count, and the
// first few findings on stderr. They fail the check only with --strict.
func (m *Main) checkMaps() error {
	res, err := lintConfig(m.cfg, m.Version, lintSettings{width: gophermap.DefaultWidth})
	if err != nil {
		fmt.Fprintf(m.Stderr, "warning: the gophermaps were not checked: %v\n", err)
		if m.opts.strict {
			return &exitError{code: exitFailure}
		}
		return nil
	}
	for i, f := range res.findings {
		if i == checkShown {
			fmt.Fprintf(m.Stderr, "... and %d more: see them all with gopherd lint%s\n", len(res.findings)-checkShown, lintArgs(m.opts))
			break
		}
		fmt.Fprintln(m.Stderr, f)
	}
	for _, e := range res.failed {
		fmt.Fprintf(m.Stderr, "%s\n", e)
	}
	fmt.Fprintf(m.Stdout, "gophermaps: %s\n", res.summary())
	if m.opts.strict && res.fails(true) {
		return &exitError{code: exitFailure, err: errors.New("gopherd: --strict: the gophermaps have errors or warnings")}
	}
	return nil
}

// lintArgs are the arguments of gopherd lint that check what --check
// checked with options o.
func lintArgs(o options) string {
	switch {
	case o.configFile != "":
		return " --config " + o.configFile
	case o.root != "":
		return " --root " + o.root
	}
	return ""
}

// Run starts the daemon: the logger, the listeners (inherited from systemd
// or bound), the served root, the privilege drop, then serving. It returns
// once every listener is serving; Failed reports a listener that fails
// later. ctx bounds the start-up only.
func (m *Main) Run(ctx context.Context) error {
	if m.cfg == nil {
		return usageError(errors.New("gopherd: Run before ParseFlags"))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	logger, level, err := newLogger(m.cfg.Log, m.Stderr)
	if err != nil {
		return usageError(fmt.Errorf("gopherd: %w", err))
	}
	for _, w := range m.cfg.Warnings {
		logger.Warn("config: " + w.String())
	}
	for _, w := range m.certs.warnings {
		logger.Warn(w)
	}
	d := &daemon{opts: &m.opts, cfg: m.cfg, logger: logger, level: level, version: m.Version}
	if m.certs.def != nil {
		d.certs.Store(m.certs.def)
	}
	m.failed = make(chan error, 1)
	if err := d.start(m.certs, m.failed); err != nil {
		_ = logger.Sync()
		return err
	}
	m.mu.Lock()
	m.d = d
	m.mu.Unlock()
	return nil
}

// Addrs returns the addresses the daemon listens on, in listener order.
func (m *Main) Addrs() []net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.d == nil {
		return nil
	}
	out := make([]net.Addr, len(m.d.listeners))
	for i, ln := range m.d.listeners {
		out[i] = ln.Addr()
	}
	return out
}

// Failed delivers the error of a listener that stopped serving: the
// daemon should then shut down.
func (m *Main) Failed() <-chan error { return m.failed }

// Reload re-reads the configuration and the certificate and applies them;
// on any error the running configuration stays (see daemon.reload).
func (m *Main) Reload() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.d != nil {
		m.d.reload()
		// The log is asynchronous: what the reload says is out (or the
		// output is stalled) when Reload returns.
		_ = m.d.logger.Sync()
	}
}

// Stopping tells the service manager and the log that a shutdown begins
// because of sig.
func (m *Main) Stopping(sig os.Signal) {
	if d := m.daemon(); d != nil {
		d.stopping(sig.String())
	}
}

// CutNow logs that a second signal cuts the transfers in flight.
func (m *Main) CutNow(sig os.Signal) {
	if d := m.daemon(); d != nil {
		d.logger.Warn("second signal: closing connections now", zap.String("signal", sig.String()))
	}
}

// Shutdown stops the listeners and waits for the transfers in flight, until
// ctx ends; then it cuts them (see server.Shutdown).
func (m *Main) Shutdown(ctx context.Context) error {
	d := m.daemon()
	if d == nil {
		return nil
	}
	return d.shutdown(ctx)
}

// Close stops the daemon at once, cutting transfers in flight.
func (m *Main) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (m *Main) daemon() *daemon {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.d
}

// loadCertificate loads the certificate and key of cfg's tls section, or
// returns nil when TLS is off. Errors and warnings name the configuration
// file and the tls key.
func loadCertificate(cfg *config.Config) (*tls.Certificate, []string, error) {
	if !cfg.TLS.Enabled() {
		return nil, nil, nil
	}
	prefix := "tls: "
	if cfg.Source != "" {
		prefix = cfg.Source + ": tls: "
	}
	cert, warnings, err := tlscert.Load(cfg.TLS.Certificate, cfg.TLS.Key, cfg.Hostname)
	if err != nil {
		return nil, nil, fmt.Errorf("%s%w", prefix, err)
	}
	for i, w := range warnings {
		warnings[i] = prefix + w
	}
	return cert, warnings, nil
}

// certificates are the certificates of one configuration: the default
// host's (nil without TLS) and each vhost's own (by index in Vhosts; nil
// for a vhost that is served with the default one), with the warnings an
// operator should hear about them.
type certificates struct {
	def      *tls.Certificate
	vhosts   []*tls.Certificate
	warnings []string
}

// loadCertificates loads every certificate cfg names. A vhost's own
// certificate must name every name of the vhost (its hostname and
// aliases): a client that chose the host by one of them would refuse it.
// Each such problem is reported as file:line: key: what, all at once.
func loadCertificates(cfg *config.Config) (certificates, error) {
	def, warnings, err := loadCertificate(cfg)
	if err != nil {
		return certificates{}, err
	}
	cs := certificates{def: def, warnings: warnings, vhosts: make([]*tls.Certificate, len(cfg.Vhosts))}
	var problems []config.Problem
	for i, v := range cfg.Vhosts {
		if !v.TLS.Enabled() {
			// Served with the default certificate: a warning, as for
			// the top-level hostname, when it does not name the host.
			if def != nil {
				if missing := unnamed(def, v.Names()); missing != "" {
					key := fmt.Sprintf("vhosts[%d].hostname", i)
					cs.warnings = append(cs.warnings, cfg.ProblemAt(key, fmt.Sprintf(
						"the top-level certificate %s does not name %s; clients that check names will refuse it (give the vhost a tls section of its own)",
						cfg.TLS.Certificate, missing)).String())
				}
			}
			continue
		}
		key := fmt.Sprintf("vhosts[%d].tls.certificate", i)
		cert, warns, err := tlscert.Load(v.TLS.Certificate, v.TLS.Key, "")
		if err != nil {
			problems = append(problems, cfg.ProblemAt(key, err.Error()))
			continue
		}
		if missing := unnamed(cert, v.Names()); missing != "" {
			problems = append(problems, cfg.ProblemAt(key, fmt.Sprintf(
				"certificate %s does not name %s: clients that choose the host by that name would refuse it", v.TLS.Certificate, missing)))
			continue
		}
		for _, w := range warns { // expired, not yet valid, a key every user may read
			cs.warnings = append(cs.warnings, cfg.ProblemAt(key, w).String())
		}
		cs.vhosts[i] = cert
	}
	if len(problems) > 0 {
		return certificates{}, &config.Error{Problems: problems}
	}
	return cs, nil
}

// unnamed lists, quoted, the names cert is not valid for, "" when it
// names them all.
func unnamed(cert *tls.Certificate, names []string) string {
	var missing []string
	for _, n := range names {
		if cert.Leaf.VerifyHostname(strings.TrimSuffix(n, ".")) != nil {
			missing = append(missing, strconv.Quote(n))
		}
	}
	return strings.Join(missing, ", ")
}

package main

import (
	"crypto/tls"
	"fmt"
	"io"

	"gopherd/internal/config"
	"gopherd/internal/tlscert"
)

// Main is the gopherd program with its standard streams passed in, so
// end-to-end tests can drive the same code path as the binary.
type Main struct {
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
}

// Run runs gopherd with the command-line arguments args (without the program
// name) and returns the process exit code.
func (m *Main) Run(args []string) int {
	if len(args) > 0 && args[0] == "cert" {
		return m.runCert(args[1:])
	}
	var o options
	fs := newFlagSet(&o, m.Stderr)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(m.Stderr, "gopherd: %v\n", err)
		printUsage(fs, m.Stderr)
		return exitUsage
	}
	switch {
	case o.help:
		printUsage(fs, m.Stdout)
		return exitOK
	case o.version:
		fmt.Fprintf(m.Stdout, "gopherd %s\n", m.Version)
		return exitOK
	case fs.NArg() > 1:
		fmt.Fprintf(m.Stderr, "gopherd: at most one config file, got %d arguments\n", fs.NArg())
		printUsage(fs, m.Stderr)
		return exitUsage
	}
	o.configFile = fs.Arg(0)

	cfg, err := loadConfig(&o)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "%v\n", err)
		return exitUsage
	}
	// The certificate is read now, before privileges are dropped, and a
	// broken one is a configuration error like any other.
	cert, certWarnings, err := loadCertificate(cfg)
	if err != nil {
		fmt.Fprintf(m.Stderr, "%v\n", err)
		return exitUsage
	}
	if o.check {
		for _, w := range cfg.Warnings {
			fmt.Fprintf(m.Stderr, "warning: %s\n", w)
		}
		for _, w := range certWarnings {
			fmt.Fprintf(m.Stderr, "warning: %s\n", w)
		}
		src := cfg.Source
		if src == "" {
			src = "built-in defaults"
		}
		fmt.Fprintf(m.Stdout, "%s: configuration OK, serving %s\n", src, cfg.Root)
		return exitOK
	}

	logger, level, err := newLogger(cfg.Log, m.Stderr)
	if err != nil {
		fmt.Fprintf(m.Stderr, "gopherd: %v\n", err)
		return exitUsage
	}
	defer func() { _ = logger.Sync() }()
	for _, w := range cfg.Warnings {
		logger.Warn("config: " + w.String())
	}
	for _, w := range certWarnings {
		logger.Warn(w)
	}
	d := &daemon{opts: &o, cfg: cfg, logger: logger, level: level, version: m.Version}
	if cert != nil {
		d.certs.Store(cert)
	}
	return d.run()
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

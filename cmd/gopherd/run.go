package main

import (
	"fmt"
	"io"
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
	if o.check {
		for _, w := range cfg.Warnings {
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
	d := &daemon{opts: &o, cfg: cfg, logger: logger, level: level, version: m.Version}
	return d.run()
}

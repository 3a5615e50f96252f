package main

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/pflag"

	"gopherd/internal/config"
)

// Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// options are the command line's settings. Flags override the config file.
type options struct {
	configFile string
	root       string
	listen     []string
	hostname   string
	check      bool
	strict     bool
	help       bool
	version    bool
}

func newFlagSet(o *options, output io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("gopherd", pflag.ContinueOnError)
	fs.SetOutput(output)
	fs.SortFlags = false
	fs.StringVarP(&o.root, "root", "r", "", "serve `DIR` (overrides \"root\")")
	fs.StringArrayVarP(&o.listen, "listen", "l", nil, "listen on `ADDR:PORT` (repeatable; overrides \"listen\")")
	fs.StringVarP(&o.hostname, "hostname", "H", "", "host `NAME` written into menus (overrides \"hostname\")")
	fs.BoolVarP(&o.check, "check", "t", false, "check the configuration, the root and its gophermaps, then exit")
	fs.BoolVar(&o.strict, "strict", false, "with --check: fail (exit 1) when the gophermaps have errors or warnings")
	fs.BoolVarP(&o.version, "version", "V", false, "print the version and exit")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	fs.Usage = func() { printUsage(fs, output) }
	return fs
}

func printUsage(fs *pflag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: gopherd [flags] [CONFIG]
       gopherd cert --host NAME [--days N] [--cert FILE] [--key FILE]
       gopherd lint [--config FILE | --root DIR] [--dialect NAME] [--width N]
                    [--format text|json] [--strict] [PATH...]
       gopherd render [--config FILE | --root DIR] [--raw] SELECTOR

Serve a directory tree over Gopher (RFC 1436). CONFIG is a JSON file (see
gopherd.json(5)); without it gopherd serves the current directory on
127.0.0.1:7070 with hostname localhost. With "tls" in CONFIG, every
listener serves Gopher over TLS (gophers://) on the same port as well.

gopherd cert writes a self-signed certificate and key for that; see
gopherd cert --help. gopherd lint checks gophermaps for the mistakes
visitors would see, gopherd render prints what a selector's answer is;
neither serves or runs anything (see gopherd lint --help, gopherd render
--help).

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseListen turns ADDR:PORT into a listener address. An empty ADDR means
// every address ("::", which also accepts IPv4).
func parseListen(s string) (config.Listen, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return config.Listen{}, fmt.Errorf("--listen %q: want ADDR:PORT: %w", s, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return config.Listen{}, fmt.Errorf("--listen %q: port must be a number from 0 (any free port) to 65535", s)
	}
	if host == "" {
		host = "::"
	}
	return config.Listen{Addr: host, Port: p}, nil
}

// loadConfig reads the config file (or the zero-config defaults) and applies
// the command line's overrides. It does not validate.
func loadConfig(o *options) (*config.Config, error) {
	var cfg *config.Config
	if o.configFile == "" {
		cfg = config.Default()
	} else {
		c, err := config.Load(o.configFile)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if o.root != "" {
		cfg.Root = o.root
	}
	if o.hostname != "" {
		cfg.Hostname = o.hostname
	}
	if len(o.listen) > 0 {
		cfg.Listen = nil
		for _, s := range o.listen {
			l, err := parseListen(s)
			if err != nil {
				return nil, err
			}
			cfg.Listen = append(cfg.Listen, l)
		}
	}
	return cfg, nil
}

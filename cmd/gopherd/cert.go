package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"gopherd/internal/tlscert"
)

// Default file names of `gopherd cert`, in the working directory.
const (
	defaultCertFile = "cert.pem"
	defaultKeyFile  = "key.pem"
)

type certOptions struct {
	hosts []string
	days  int
	cert  string
	key   string
	help  bool
}

func newCertFlagSet(o *certOptions, output io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("gopherd cert", pflag.ContinueOnError)
	fs.SetOutput(output)
	fs.SortFlags = false
	fs.StringSliceVar(&o.hosts, "host", nil, "host `NAME` or IP address the certificate is for (required; repeatable or comma-separated; the first is the subject)")
	fs.IntVar(&o.days, "days", tlscert.DefaultDays, "validity in `N` days")
	fs.StringVar(&o.cert, "cert", defaultCertFile, "write the certificate to `FILE`")
	fs.StringVar(&o.key, "key", defaultKeyFile, "write the private key (mode 0600) to `FILE`")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	fs.Usage = func() { printCertUsage(fs, output) }
	return fs
}

func printCertUsage(fs *pflag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: gopherd cert --host NAME [--days N] [--cert FILE] [--key FILE]

Write a self-signed certificate (ECDSA P-256) and its private key for
serving Gopher over TLS (gophers://). Existing files are never
overwritten. Point the configuration's "tls" at the two files:

  "tls": {"certificate": "/etc/gopherd/cert.pem", "key": "/etc/gopherd/key.pem"}

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// runCert is `gopherd cert`.
func runCert(m streams, args []string) int {
	var o certOptions
	fs := newCertFlagSet(&o, m.Stderr)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(m.Stderr, "gopherd cert: %v\n", err)
		printCertUsage(fs, m.Stderr)
		return exitUsage
	}
	switch {
	case o.help:
		printCertUsage(fs, m.Stdout)
		return exitOK
	case fs.NArg() > 0:
		fmt.Fprintf(m.Stderr, "gopherd cert: unexpected argument %q\n", fs.Arg(0))
		printCertUsage(fs, m.Stderr)
		return exitUsage
	case len(o.hosts) == 0:
		fmt.Fprintln(m.Stderr, "gopherd cert: --host is required: the name clients use to reach the server")
		printCertUsage(fs, m.Stderr)
		return exitUsage
	case o.days < 1 || o.days > tlscert.MaxDays:
		fmt.Fprintf(m.Stderr, "gopherd cert: --days must be between 1 and %d, got %d\n", tlscert.MaxDays, o.days)
		return exitUsage
	case o.cert == "" || o.key == "":
		fmt.Fprintln(m.Stderr, "gopherd cert: --cert and --key must not be empty")
		return exitUsage
	case filepath.Clean(o.cert) == filepath.Clean(o.key):
		fmt.Fprintln(m.Stderr, "gopherd cert: --cert and --key name the same file")
		return exitUsage
	}
	now := time.Now()
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Options{Hosts: o.hosts, Days: o.days, Now: now})
	if err != nil {
		fmt.Fprintf(m.Stderr, "gopherd cert: %v\n", err)
		return exitUsage
	}
	if err := tlscert.WriteFiles(o.cert, certPEM, o.key, keyPEM); err != nil {
		fmt.Fprintf(m.Stderr, "gopherd cert: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(m.Stdout, "wrote %s: self-signed certificate for %s, valid until %s\n",
		o.cert, o.hosts[0], now.AddDate(0, 0, o.days).UTC().Format(time.DateOnly))
	fmt.Fprintf(m.Stdout, "wrote %s: its private key (mode 0600: keep it secret)\n", o.key)
	fmt.Fprintf(m.Stdout, "configuration:\n  \"tls\": {\"certificate\": %s, \"key\": %s}\n", jsonPath(o.cert), jsonPath(o.key))
	return exitOK
}

// jsonPath is path made absolute and written as a JSON string, ready to
// paste into the configuration.
func jsonPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	b, _ := json.Marshal(path)
	return string(b)
}

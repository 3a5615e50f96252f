// Package tlscert loads, holds and generates the certificate gopherd serves
// over TLS ("gophers"). A Holder hands the current certificate to every
// handshake and lets a configuration reload swap it without touching the
// connections in flight; Load reads a certificate and key from PEM files and
// says what an operator should hear about them; Generate and WriteFiles make
// a self-signed certificate for `gopherd cert`.
package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"time"
)

// maxPEMSize bounds what Load reads from each file: certificate chains are a
// few KiB, and a mistaken path (a device, a log file) must not eat memory.
const maxPEMSize = 1 << 20

// Holder holds the certificate served to new handshakes. It is safe for
// concurrent use; the zero Holder holds none.
type Holder struct {
	cert atomic.Pointer[tls.Certificate]
}

// Store makes c the certificate for handshakes from now on. Handshakes
// already past certificate selection, and connections already established,
// keep the one they got.
func (h *Holder) Store(c *tls.Certificate) { h.cert.Store(c) }

// Certificate returns the certificate currently served, or nil.
func (h *Holder) Certificate() *tls.Certificate { return h.cert.Load() }

// GetCertificate is a tls.Config.GetCertificate that serves the current
// certificate whatever name the client asked for: a gopher server has one
// certificate, and a client checking names will report a mismatch itself.
func (h *Holder) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := h.cert.Load()
	if c == nil {
		return nil, errors.New("no certificate loaded")
	}
	return c, nil
}

// Config returns a server tls.Config that takes its certificate from h.
// The same Config stays valid across Store calls.
func (h *Holder) Config() *tls.Config {
	return &tls.Config{
		GetCertificate: h.GetCertificate,
		// TLS 1.0 and 1.1 are deprecated (RFC 8996); every client that
		// knows gophers:// speaks 1.2.
		MinVersion: tls.VersionTLS12,
	}
}

// Load reads the PEM certificate chain in certFile and the PEM private key in
// keyFile, checks that they belong together, and returns them ready for a
// Holder. The warnings are problems that do not stop the pair from working
// but that an operator should hear about: a key file any user can read, a
// certificate that has expired or is not valid yet, and (when hostname is not
// empty) a certificate that does not name hostname.
func Load(certFile, keyFile, hostname string) (*tls.Certificate, []string, error) {
	certPEM, err := readPEM(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %w", certFile, err)
	}
	keyPEM, err := readPEM(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", keyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s with key %s: %w", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		// X509KeyPair fills Leaf since Go 1.23; parse it here in case a
		// GODEBUG setting turned that off.
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("certificate %s: %w", certFile, err)
		}
		cert.Leaf = leaf
	}

	var warnings []string
	if w, err := KeyFileWarning(keyFile); err != nil {
		return nil, nil, err
	} else if w != "" {
		warnings = append(warnings, w)
	}
	now := time.Now()
	switch {
	case now.After(leaf.NotAfter):
		warnings = append(warnings, fmt.Sprintf("certificate %s expired on %s; clients that check it will refuse it",
			certFile, leaf.NotAfter.UTC().Format(time.DateOnly)))
	case now.Before(leaf.NotBefore):
		warnings = append(warnings, fmt.Sprintf("certificate %s is not valid before %s; clients that check it will refuse it",
			certFile, leaf.NotBefore.UTC().Format(time.RFC3339)))
	}
	if hostname != "" && leaf.VerifyHostname(hostname) != nil {
		warnings = append(warnings, fmt.Sprintf("certificate %s does not name the hostname %q; clients that check names will refuse it",
			certFile, hostname))
	}
	return &cert, warnings, nil
}

// KeyFileWarning returns a warning when the key file at path is readable by
// every user, or "" when it is not. Group-readable keys are normal (Debian's
// ssl-cert group), so only the "other" bits count.
func KeyFileWarning(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("key %s: %w", path, cause(err))
	}
	if perm := fi.Mode().Perm(); perm&0o004 != 0 {
		return fmt.Sprintf("key %s is readable by every user (mode %04o): anyone on this machine can impersonate the server; chmod o-r it",
			path, perm), nil
	}
	return "", nil
}

// readPEM reads a PEM file of at most maxPEMSize bytes. Only regular files
// are read, so a FIFO or a device given by mistake cannot hang or flood the
// loader.
func readPEM(path string) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading blocks until a
	// writer comes along.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, cause(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, cause(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMSize+1))
	if err != nil {
		return nil, cause(err)
	}
	if len(data) > maxPEMSize {
		return nil, fmt.Errorf("larger than %d bytes", maxPEMSize)
	}
	return data, nil
}

// cause strips the operation and path an *fs.PathError repeats, since every
// message here already names the file.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

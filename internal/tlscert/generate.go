package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"gopherd/internal/gopher"
)

// Limits and defaults of Generate.
const (
	DefaultDays = 365
	MaxDays     = 36500
	// backdate is how far before Options.Now a certificate becomes valid,
	// so a client whose clock is a little behind does not refuse it.
	backdate = time.Hour
)

// Options say what certificate Generate makes.
type Options struct {
	// Hosts are the DNS names (a leading "*." makes a wildcard) and IP
	// addresses the certificate is for; the first is also its subject's
	// common name. At least one is required.
	Hosts []string
	// Days is how long the certificate is valid, from Now; 0 means
	// DefaultDays.
	Days int
	// Now is when validity starts (less an hour for clock skew); the zero
	// time means time.Now().
	Now time.Time
}

// Generate makes a self-signed certificate and its ECDSA P-256 private key
// for o.Hosts and returns both PEM-encoded: the certificate as
// "CERTIFICATE", the key as PKCS #8 "PRIVATE KEY".
func Generate(o Options) (certPEM, keyPEM []byte, err error) {
	if len(o.Hosts) == 0 {
		return nil, nil, errors.New("no host name given")
	}
	days := o.Days
	if days == 0 {
		days = DefaultDays
	}
	if days < 1 || days > MaxDays {
		return nil, nil, fmt.Errorf("days must be between 1 and %d, got %d", MaxDays, days)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: o.Hosts[0]},
		NotBefore: now.Add(-backdate).UTC(),
		NotAfter:  now.AddDate(0, 0, days).UTC(),
		// ECDSA keys only sign; a self-signed leaf is not a CA, or
		// browsers refuse it as a server certificate.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range o.Hosts {
		if a, err := netip.ParseAddr(h); err == nil {
			if a.Zone() != "" {
				return nil, nil, fmt.Errorf("invalid host %q: a certificate cannot name an IPv6 zone", h)
			}
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
			continue
		}
		// A wildcard may lead: "*.example.org".
		if !gopher.ValidHost(strings.TrimPrefix(h, "*.")) {
			return nil, nil, fmt.Errorf("invalid host %q: want a DNS name (\"*.\" allowed first) or an IP address", h)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, strings.TrimSuffix(h, "."))
	}
	// RFC 5280: a positive serial of at most 20 octets; 128 random bits
	// keep two certificates for the same name apart.
	tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("serial number: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// WriteFiles writes certPEM to certFile (mode 0644) and keyPEM to keyFile
// (mode 0600). Neither file may exist: it refuses, writing nothing, when
// either does, so that a certificate in use is never replaced by accident.
// On a failure half way, the files it created are removed.
func WriteFiles(certFile string, certPEM []byte, keyFile string, keyPEM []byte) (err error) {
	for _, p := range []string{certFile, keyFile} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; not overwriting it (remove it or choose another name)", p)
		}
	}
	var created []string
	defer func() {
		if err != nil {
			for _, p := range created {
				_ = os.Remove(p)
			}
		}
	}()
	// The key first: if anything fails, no certificate is left without
	// its key.
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{keyFile, keyPEM, 0o600}, {certFile, certPEM, 0o644}} {
		// O_EXCL makes the refusal hold even against a file created since
		// the check above, and never follows a symlink planted there.
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists; not overwriting it (remove it or choose another name)", f.path)
			}
			return fmt.Errorf("creating %s: %w", f.path, cause(err))
		}
		created = append(created, f.path)
		// The umask may have taken bits away, never added any; Chmod
		// makes the certificate's mode exact too.
		if err := fh.Chmod(f.mode); err != nil {
			fh.Close()
			return fmt.Errorf("chmod %s: %w", f.path, cause(err))
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return fmt.Errorf("writing %s: %w", f.path, cause(err))
		}
		if err := fh.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", f.path, cause(err))
		}
	}
	return nil
}

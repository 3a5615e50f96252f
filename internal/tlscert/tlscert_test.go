package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pair generates a certificate for hosts and writes it into dir as
// cert.pem and key.pem (mode 0600).
func pair(t *testing.T, dir string, o Options) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := WriteFiles(certFile, certPEM, keyFile, keyPEM); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	return certFile, keyFile
}

func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, rest := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("not one CERTIFICATE block: %q", certPEM)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerate(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	certPEM, keyPEM, err := Generate(Options{Hosts: []string{"gopher.example.org", "127.0.0.1", "*.example.org", "::1"}, Days: 10, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	c := parseCert(t, certPEM)
	if c.Subject.CommonName != "gopher.example.org" {
		t.Errorf("CN = %q", c.Subject.CommonName)
	}
	if got := strings.Join(c.DNSNames, ","); got != "gopher.example.org,*.example.org" {
		t.Errorf("DNS names = %q", got)
	}
	if len(c.IPAddresses) != 2 || !c.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || !c.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("IP addresses = %v", c.IPAddresses)
	}
	if !c.NotBefore.Equal(now.Add(-time.Hour)) || !c.NotAfter.Equal(now.AddDate(0, 0, 10)) {
		t.Errorf("validity %v – %v", c.NotBefore, c.NotAfter)
	}
	if c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("IsCA %v, key usage %v", c.IsCA, c.KeyUsage)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", c.PublicKey)
	}
	if c.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %v not positive", c.SerialNumber)
	}
	// Trusting the certificate itself is enough to verify it, for each of
	// its names: that is how clients pin a self-signed certificate.
	roots := x509.NewCertPool()
	roots.AddCert(c)
	for _, name := range []string{"gopher.example.org", "x.example.org", "127.0.0.1", "::1"} {
		if _, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "other.org", Roots: roots, CurrentTime: now}); err == nil {
		t.Error("verified for a name it does not carry")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		t.Fatalf("key PEM: %q", keyPEM)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("key does not match certificate: %v", err)
	}

	// Two certificates for one name differ in serial and key.
	certPEM2, _, err := Generate(Options{Hosts: []string{"gopher.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	c2 := parseCert(t, certPEM2)
	if c2.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two certificates got the same serial")
	}
	if d := c2.NotAfter.Sub(c2.NotBefore); d != DefaultDays*24*time.Hour+time.Hour {
		t.Errorf("default validity %v", d)
	}
}

func TestGenerateRejects(t *testing.T) {
	for _, o := range []Options{
		{},
		{Hosts: []string{""}},
		{Hosts: []string{"a b"}},
		{Hosts: []string{"ok.org", "bad\tname"}},
		{Hosts: []string{"a..b"}},
		{Hosts: []string{"fe80::1%eth0"}},
		{Hosts: []string{strings.Repeat("a", 64) + ".org"}},
		{Hosts: []string{"x.org"}, Days: -1},
		{Hosts: []string{"x.org"}, Days: MaxDays + 1},
	} {
		if _, _, err := Generate(o); err == nil {
			t.Errorf("Generate(%+v) succeeded", o)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	certFile, keyFile := pair(t, dir, Options{Hosts: []string{"localhost"}})
	for _, f := range []struct {
		path string
		mode fs.FileMode
	}{{certFile, 0o644}, {keyFile, 0o600}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != f.mode {
			t.Errorf("%s: mode %v, want %v", f.path, fi.Mode().Perm(), f.mode)
		}
	}
	certBefore, _ := os.ReadFile(certFile)
	keyBefore, _ := os.ReadFile(keyFile)

	certPEM, keyPEM, err := Generate(Options{Hosts: []string{"other"}})
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh.pem")
	dangling := filepath.Join(dir, "dangling.pem")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, cert, key string }{
		{"both exist", certFile, keyFile},
		{"cert exists", certFile, fresh},
		{"key exists", fresh, keyFile},
		{"dangling symlink", fresh, dangling},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFiles(tt.cert, certPEM, tt.key, keyPEM)
			if err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("WriteFiles = %v, want a refusal", err)
			}
			if _, err := os.Lstat(fresh); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("refusal left %s behind", fresh)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("write followed the dangling symlink")
	}
	certAfter, _ := os.ReadFile(certFile)
	keyAfter, _ := os.ReadFile(keyFile)
	if string(certAfter) != string(certBefore) || string(keyAfter) != string(keyBefore) {
		t.Error("existing files changed")
	}

	// A failure half way (no such directory for the certificate) leaves
	// no key behind.
	key2 := filepath.Join(dir, "key2.pem")
	if err := WriteFiles(filepath.Join(dir, "no", "cert.pem"), certPEM, key2, keyPEM); err == nil {
		t.Fatal("WriteFiles into a missing directory succeeded")
	}
	if _, err := os.Lstat(key2); !errors.Is(err, fs.ErrNotExist) {
		t.Error("failed write left the key behind")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := pair(t, dir, Options{Hosts: []string{"gopher.example.org"}})
	cert, warnings, err := Load(certFile, keyFile, "gopher.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none", warnings)
	}
	if cert.Leaf == nil || cert.Leaf.Subject.CommonName != "gopher.example.org" {
		t.Errorf("leaf = %+v", cert.Leaf)
	}

	_, warnings, err = Load(certFile, keyFile, "elsewhere.org")
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], `does not name the hostname "elsewhere.org"`) {
		t.Errorf("other hostname: warnings %q, err %v", warnings, err)
	}

	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err = Load(certFile, keyFile, "")
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "readable by every user (mode 0644)") ||
		!strings.Contains(warnings[0], keyFile) {
		t.Errorf("world-readable key: warnings %q, err %v", warnings, err)
	}
	if err := os.Chmod(keyFile, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, warnings, _ = Load(certFile, keyFile, ""); len(warnings) != 0 {
		t.Errorf("group-readable key: warnings %q, want none", warnings)
	}

	expiredDir := t.TempDir()
	ec, ek := pair(t, expiredDir, Options{Hosts: []string{"x"}, Days: 1, Now: time.Now().AddDate(0, 0, -3)})
	if _, warnings, err = Load(ec, ek, ""); err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "expired on") {
		t.Errorf("expired: warnings %q, err %v", warnings, err)
	}
	futureDir := t.TempDir()
	fc, fk := pair(t, futureDir, Options{Hosts: []string{"x"}, Now: time.Now().AddDate(0, 0, 3)})
	if _, warnings, err = Load(fc, fk, ""); err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "not valid before") {
		t.Errorf("not yet valid: warnings %q, err %v", warnings, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := pair(t, dir, Options{Hosts: []string{"a"}})
	otherDir := t.TempDir()
	_, otherKey := pair(t, otherDir, Options{Hosts: []string{"a"}})
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not pem\n"), 0o600)
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, nil, 0o600)
	big := filepath.Join(dir, "big.pem")
	os.WriteFile(big, make([]byte, maxPEMSize+1), 0o600)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name, cert, key string
		want            []string
	}{
		{"missing cert", missing, keyFile, []string{"certificate " + missing, "no such file"}},
		{"missing key", certFile, missing, []string{"key " + missing, "no such file"}},
		{"key of another certificate", certFile, otherKey, []string{"does not match"}},
		{"garbage cert", garbage, keyFile, []string{"certificate " + garbage}},
		{"cert and key swapped", keyFile, certFile, []string{"certificate " + keyFile}},
		{"empty key", certFile, empty, []string{"key " + empty}},
		{"too big", big, keyFile, []string{"larger than"}},
		{"fifo", fifo, keyFile, []string{"not a regular file"}},
		{"directory", dir, keyFile, []string{"not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(tt.cert, tt.key, "")
			if err == nil || c != nil {
				t.Fatalf("Load = %v, %v; want an error", c, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Count(err.Error(), filepath.Base(tt.cert)) > 1 && tt.cert != tt.key {
				t.Errorf("error repeats the file name: %q", err)
			}
		})
	}
}

func TestHolder(t *testing.T) {
	var h Holder
	if _, err := h.GetCertificate(nil); err == nil {
		t.Error("empty Holder returned a certificate")
	}
	cfg := h.Config()
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x", cfg.MinVersion)
	}
	dir := t.TempDir()
	certFile, keyFile := pair(t, dir, Options{Hosts: []string{"first"}})
	first, _, err := Load(certFile, keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	h.Store(first)
	got, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "anything"})
	if err != nil || got != first {
		t.Fatalf("GetCertificate = %v, %v", got, err)
	}
	dir2 := t.TempDir()
	certFile2, keyFile2 := pair(t, dir2, Options{Hosts: []string{"second"}})
	second, _, err := Load(certFile2, keyFile2, "")
	if err != nil {
		t.Fatal(err)
	}
	h.Store(second)
	if got, _ := cfg.GetCertificate(&tls.ClientHelloInfo{}); got != second || h.Certificate() != second {
		t.Error("the Config does not follow Store")
	}
}

package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/testutil"
)

// TestCertAndTLSReload makes a certificate with the cert subcommand, serves
// TLS with it, replaces it and reloads: new TLS clients get the new one.
func TestCertAndTLSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	code, out, errOut := runProgram(t, nil, "cert", "--host", "gopher.test", "--cert", certFile, "--key", keyFile)
	if code != 0 || !strings.Contains(out, `"tls": {"certificate": `) {
		t.Fatalf("cert: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runProgram(t, nil, "cert", "--host", "gopher.test", "--cert", certFile, "--key", keyFile); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("cert over an existing file: exit %d, %q", code, errOut)
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a.txt": "over tls\n"})
	cfgPath := filepath.Join(dir, "gopherd.json")
	port := testutil.FreePort(t)
	cfg := map[string]any{"hostname": "gopher.test", "root": root,
		"listen": map[string]any{"addr": "127.0.0.1", "port": port},
		"tls":    map[string]any{"certificate": certFile, "key": keyFile}}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	if got := r.get("/caps.txt"); !strings.Contains(got, fmt.Sprintf("ServerTLSPort=%d\n", port)) {
		t.Errorf("caps.txt does not announce TLS:\n%s", got)
	}
	serial := func() string {
		pem, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		c, err := tls.Dial("tcp", r.addr, &tls.Config{RootCAs: pool, ServerName: "gopher.test"})
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(patience))
		if _, err := io.WriteString(c, "/a.txt\r\n"); err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(c); string(b) != "over tls\n" {
			t.Errorf("over TLS: %q", b)
		}
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	for _, f := range []string{certFile, keyFile} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := runProgram(t, nil, "cert", "--host", "gopher.test", "--cert", certFile, "--key", keyFile); code != 0 {
		t.Fatalf("second cert: %d %s%s", code, out, errOut)
	}
	r.Reload()
	if after := serial(); after == before {
		t.Errorf("certificate not replaced by reload:\n%s", r.log)
	}

	// Taking TLS away while a listener is TLS-only is refused.
	cfg["listen"] = map[string]any{"addr": "127.0.0.1", "port": testutil.FreePort(t), "tls": "only"}
	writeJSON(t, cfgPath, cfg)
	r2 := mustStart(t, cfgPath)
	if got := r2.get("/a.txt"); !strings.Contains(got, "TLS required") {
		t.Errorf("plain request on a TLS-only listener: %q", got)
	}
	delete(cfg, "tls")
	writeJSON(t, cfgPath, cfg)
	if code, _, errOut := runProgram(t, nil, "--check", cfgPath); code != 2 || !strings.Contains(errOut, "needs a certificate") {
		t.Errorf("--check of tls only without a certificate: %d %q", code, errOut)
	}
	cfg["listen"] = map[string]any{"addr": "127.0.0.1", "port": 1}
	writeJSON(t, cfgPath, cfg)
	r2.Reload()
	if !strings.Contains(r2.log.String(), "serves TLS only and needs a certificate until restart") {
		t.Errorf("TLS removed under a TLS-only listener was not refused:\n%s", r2.log)
	}
}

// TestSdNotifyInProcess speaks the sd_notify protocol with the daemon:
// READY with the listen addresses in STATUS, after a reload too (issue 16
// item 12), watchdog pings, RELOADING and STOPPING.
func TestSdNotifyInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	ns, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "100000")
	read := func(want string) string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = ns.SetReadDeadline(time.Now().Add(patience))
		for {
			n, err := ns.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %q: %v", want, err)
			}
			if msg := string(buf[:n]); strings.Contains(msg, want) {
				return msg
			}
		}
	}
	r := MustRunMain(t, "--root", t.TempDir())
	if msg := read("READY=1"); !strings.Contains(msg, "STATUS=Serving ") || !strings.Contains(msg, r.addr) {
		t.Errorf("READY: %q", msg)
	}
	read("WATCHDOG=1")
	r.Reload()
	read("RELOADING=1")
	if msg := read("READY=1"); !strings.Contains(msg, r.addr) {
		t.Errorf("STATUS after reload lost the addresses: %q", msg)
	}
	r.Stopping(os.Interrupt)
	read("STOPPING=1")
}

func TestLookupCredentials(t *testing.T) {
	c, err := lookupCredentials("0:0")
	if err != nil || c.uid != 0 || c.gid != 0 {
		t.Errorf("0:0: %+v, %v", c, err)
	}
	if c, err := lookupCredentials("65534"); err != nil || c.uid != 65534 {
		t.Errorf("65534: %+v, %v", c, err)
	}
	if _, err := lookupCredentials("1:x"); err == nil {
		t.Error("1:x accepted")
	}
	if _, err := lookupCredentials("no-such-user-gopherd"); err == nil {
		t.Error("unknown user accepted")
	}
	if c, err := lookupCredentials("root"); err != nil || c.uid != 0 || len(c.groups) == 0 {
		t.Errorf("root: %+v, %v", c, err)
	}
}

// TestDropPrivilegesToSelf switches to the account the test already runs
// as, which needs no privilege and changes nothing.
func TestDropPrivilegesToSelf(t *testing.T) {
	self := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	if os.Geteuid() == 0 {
		// As root, the full path runs: setgroups, setgid, setuid to root
		// itself, then the check.
		self = "0:0"
	}
	if err := dropPrivileges(self, zap.NewNop()); err != nil {
		t.Errorf("drop to %s: %v", self, err)
	}
	if err := dropPrivileges("", zap.NewNop()); err != nil {
		t.Errorf("no user: %v", err)
	}
	if os.Geteuid() != 0 {
		if err := dropPrivileges("0:0", zap.NewNop()); err == nil || !strings.Contains(err.Error(), "cannot switch") {
			t.Errorf("unprivileged switch to root: %v", err)
		}
	}
}

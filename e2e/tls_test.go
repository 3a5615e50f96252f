package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeCert runs `gopherd cert` in dir for hosts and returns the files.
func makeCert(t *testing.T, dir string, hosts ...string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	args := []string{"cert", "--cert", certFile, "--key", keyFile, "--days", "2"}
	for _, h := range hosts {
		args = append(args, "--host", h)
	}
	if code, out, errOut := runGopherd(t, args...); code != 0 {
		t.Fatalf("gopherd cert: exit %d\n%s%s", code, out, errOut)
	}
	return certFile, keyFile
}

// trusting is a client TLS config that trusts only the certificate in
// certFile.
func trusting(t *testing.T, certFile string) *tls.Config {
	t.Helper()
	pemData, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemData) {
		t.Fatalf("no certificate in %s", certFile)
	}
	return &tls.Config{RootCAs: roots, ServerName: "localhost"}
}

// tlsConfig is a daemon config serving root with the certificate pair.
func tlsConfig(t *testing.T, root, certFile, keyFile string) map[string]any {
	cfg := baseConfig(t, root)
	cfg["tls"] = map[string]any{"certificate": certFile, "key": keyFile}
	return cfg
}

// tlsGet sends request over TLS and returns the response and the
// certificate the server showed.
func tlsGet(t *testing.T, addr string, cfg *tls.Config, request string) ([]byte, *x509.Certificate) {
	t.Helper()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("TLS read %q: %v", request, err)
	}
	return body, c.(*tls.Conn).ConnectionState().PeerCertificates[0]
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (.ci/run installs it)", name)
	}
	return p
}

func TestTLSCurlAndPlainOnOnePort(t *testing.T) {
	slow(t)
	curl := needTool(t, "curl")
	root := t.TempDir()
	content := bytes.Repeat([]byte("gophers over TLS\n"), 40000) // bigger than a TLS record and the socket buffers
	writeTree(t, root, map[string]string{"big.txt": string(content)})
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost", "127.0.0.1")
	d := startConfig(t, tlsConfig(t, root, certFile, keyFile))
	waitLog(t, d, "TLS enabled")

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"gophers with --cacert", []string{"--cacert", certFile, fmt.Sprintf("gophers://localhost:%d/0/big.txt", d.port)}},
		{"gophers with -k", []string{"-k", fmt.Sprintf("gophers://127.0.0.1:%d/0/big.txt", d.port)}},
		{"plain gopher", []string{fmt.Sprintf("gopher://127.0.0.1:%d/0/big.txt", d.port)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errb bytes.Buffer
			cmd := exec.Command(curl, append([]string{"-sS", "--max-time", "20"}, tt.args...)...)
			cmd.Stderr = &errb
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("curl: %v\n%s", err, errb.String())
			}
			if !bytes.Equal(out, content) {
				t.Fatalf("curl: %d bytes, want %d", len(out), len(content))
			}
		})
	}
	// Without trusting the certificate, curl refuses it: TLS really is
	// in use, with the generated certificate.
	if err := exec.Command(curl, "-sS", "--max-time", "20", fmt.Sprintf("gophers://localhost:%d/", d.port)).Run(); err == nil {
		t.Error("curl accepted the self-signed certificate without --cacert")
	}

	waitLog(t, d, `"tls": true`)
	var tlsLines, plainLines int
	for _, line := range strings.Split(d.log.String(), "\n") {
		if !strings.Contains(line, `"selector": "/big.txt"`) {
			continue
		}
		if !strings.Contains(line, `"client": "[redacted]"`) {
			t.Errorf("client not redacted: %s", line)
		}
		if strings.Contains(line, `"tls": true`) {
			tlsLines++
		} else {
			plainLines++
		}
	}
	if tlsLines != 2 || plainLines != 1 {
		t.Errorf("%d TLS and %d plain access lines, want 2 and 1:\n%s", tlsLines, plainLines, d.log)
	}
	if strings.Contains(d.log.String(), "127.0.0.1:") && strings.Contains(d.log.String(), "->") {
		t.Errorf("a connection address in the log:\n%s", d.log)
	}
}

func TestTLSOnlyListener(t *testing.T) {
	curl := needTool(t, "curl")
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "secret\n"})
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost")
	cfg := tlsConfig(t, root, certFile, keyFile)
	autoPort, onlyPort := freePort(t), freePort(t)
	cfg["listen"] = []map[string]any{
		{"addr": "127.0.0.1", "port": autoPort},
		{"addr": "127.0.0.1", "port": onlyPort, "tls": "only"},
	}
	d := start(t, fmt.Sprintf("127.0.0.1:%d", onlyPort), writeConfig(t, cfg))

	out, err := exec.Command(curl, "-sS", "--max-time", "20", "--cacert", certFile,
		fmt.Sprintf("gophers://localhost:%d/0/a.txt", onlyPort)).Output()
	if err != nil || string(out) != "secret\n" {
		t.Fatalf("gophers on the TLS-only port: %q, %v", out, err)
	}
	resp := string(d.get("/a.txt"))
	if !strings.HasPrefix(resp, "3TLS required") || !strings.HasSuffix(resp, "\r\n.\r\n") {
		t.Errorf("plain request on the TLS-only port: %q", resp)
	}
	waitLog(t, d, `"served": "tls-required"`)
}

func TestTLSOpenSSLRoundTrip(t *testing.T) {
	openssl := needTool(t, "openssl")
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "hello over openssl\n"})
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost", "127.0.0.1")
	d := startConfig(t, tlsConfig(t, root, certFile, keyFile))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// -verify_return_error: a certificate the CA file does not vouch for
	// ends the session instead of a warning.
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", d.addr, "-servername", "localhost",
		"-CAfile", certFile, "-verify_return_error", "-verify_hostname", "localhost", "-quiet", "-ign_eof")
	cmd.Stdin = strings.NewReader("/a.txt\r\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl s_client: %v\nstdout %q\nstderr %s", err, out.String(), errb.String())
	}
	if out.String() != "hello over openssl\n" {
		t.Errorf("openssl s_client got %q\nstderr %s", out.String(), errb.String())
	}
	// The response ended with close_notify, not a bare end of stream,
	// which OpenSSL 3 reports as "unexpected eof while reading".
	if strings.Contains(errb.String(), "unexpected eof") {
		t.Errorf("no close_notify before the end of the stream:\n%s", errb.String())
	}
}

// TestTLSStalledHandshake: a client that starts a handshake and then sends
// nothing is cut off at the request deadline, and the server goes on
// serving.
func TestTLSStalledHandshake(t *testing.T) {
	slow(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost")
	cfg := tlsConfig(t, root, certFile, keyFile)
	cfg["limits"] = map[string]any{"request-timeout": "1s"}
	d := startConfig(t, cfg)

	const slack = 5 * time.Second
	c := d.dial("")
	defer c.Close()
	if _, err := c.Write([]byte{0x16, 0x03}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_ = c.SetReadDeadline(began.Add(time.Second + slack))
	b, err := io.ReadAll(c)
	if err != nil && !closedByReset(err) {
		t.Fatalf("stalled handshake not cut off within request-timeout + %v: %v", slack, err)
	}
	if len(b) != 0 {
		t.Errorf("stalled handshake got %q", b)
	}
	waitLog(t, d, "TLS handshake failed")
	if !strings.Contains(d.log.String(), `"error": "timeout"`) {
		t.Errorf("handshake failure not logged as a timeout:\n%s", d.log)
	}
	if got, _ := tlsGet(t, d.addr, trusting(t, certFile), "/a.txt"); string(got) != "a\n" {
		t.Errorf("after the stalled handshake: %q", got)
	}
}

func TestTLSCertificateReloadOnSIGHUP(t *testing.T) {
	root := t.TempDir()
	big := bytes.Repeat([]byte("reload over TLS!"), 1<<20) // 16 MiB
	writeTree(t, root, map[string]string{"a.txt": "a\n", "big.bin": string(big)})
	live := t.TempDir()
	certFile, keyFile := makeCert(t, live, "first.test", "localhost")
	d := startConfig(t, tlsConfig(t, root, certFile, keyFile))

	_, peer := tlsGet(t, d.addr, trusting(t, certFile), "/a.txt")
	if peer.Subject.CommonName != "first.test" {
		t.Fatalf("before reload: certificate for %q", peer.Subject.CommonName)
	}
	firstCfg := trusting(t, certFile)

	// A transfer in flight over TLS across the reload.
	dl := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: firstCfg}
	inflight, err := dl.Dial("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer inflight.Close()
	_ = inflight.SetDeadline(time.Now().Add(60 * time.Second))
	io.WriteString(inflight, "/big.bin\r\n")
	head := make([]byte, 1<<16)
	if _, err := io.ReadFull(inflight, head); err != nil {
		t.Fatal(err)
	}

	// Renew: a new pair for another name replaces the files in place; the
	// new key is world-readable, which earns a warning.
	next := t.TempDir()
	newCert, newKey := makeCert(t, next, "second.test", "localhost")
	for _, f := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		data, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	waitLog(t, d, "configuration reloaded")
	waitLog(t, d, "readable by every user")
	_, peer = tlsGet(t, d.addr, trusting(t, newCert), "/a.txt")
	if peer.Subject.CommonName != "second.test" {
		t.Fatalf("after reload: certificate for %q", peer.Subject.CommonName)
	}
	rest, err := io.ReadAll(inflight)
	if err != nil || !bytes.Equal(append(head, rest...), big) {
		t.Fatalf("TLS transfer in flight broken by the reload: %d of %d bytes, %v", len(head)+len(rest), len(big), err)
	}

	// A broken certificate keeps the running one, and the log says why.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	waitLog(t, d, "reload failed")
	logs := d.log.String()
	failure := logs[strings.LastIndex(logs, "reload failed"):]
	if !strings.Contains(failure, certFile) || !strings.Contains(failure, "PEM") {
		t.Errorf("the failed reload does not say why:\n%s", failure)
	}
	_, peer = tlsGet(t, d.addr, trusting(t, newCert), "/a.txt")
	if peer.Subject.CommonName != "second.test" {
		t.Fatalf("after a broken reload: certificate for %q", peer.Subject.CommonName)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTLSKeyWorldReadableWarning(t *testing.T) {
	root := t.TempDir()
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost")
	cfg := tlsConfig(t, root, certFile, keyFile)
	cfgPath := writeConfig(t, cfg)

	code, out, errOut := runGopherd(t, "--check", cfgPath)
	if code != 0 || !strings.Contains(out, "OK") || strings.Contains(errOut, "readable by every user") {
		t.Fatalf("--check with a 0600 key: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runGopherd(t, "--check", cfgPath)
	if code != 0 || !strings.Contains(out, "OK") ||
		!strings.Contains(errOut, "warning: ") || !strings.Contains(errOut, keyFile+" is readable by every user") {
		t.Fatalf("--check with a 0644 key: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	d := startConfig(t, cfg)
	waitLog(t, d, keyFile+" is readable by every user")
}

func TestTLSBrokenCertificateAtStart(t *testing.T) {
	root := t.TempDir()
	dir := t.TempDir()
	certFile, keyFile := makeCert(t, dir, "localhost")
	_, otherKey := makeCert(t, t.TempDir(), "localhost")
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate\n"), 0o600)

	for _, tt := range []struct {
		name, cert, key string
		want            []string
	}{
		{"missing key", certFile, filepath.Join(dir, "nope.pem"), []string{"tls.key", "does not exist"}},
		{"garbage certificate", garbage, keyFile, []string{"tls: certificate " + garbage}},
		{"key of another certificate", certFile, otherKey, []string{"does not match"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfgPath := writeConfig(t, tlsConfig(t, root, tt.cert, tt.key))
			for _, args := range [][]string{{"--check", cfgPath}, {cfgPath}} {
				code, out, errOut := runGopherd(t, args...)
				if code != 2 || out != "" {
					t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
				}
				for _, w := range tt.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("%v: stderr lacks %q: %s", args, w, errOut)
					}
				}
			}
		})
	}

	// "only" without a certificate is a configuration error.
	cfg := baseConfig(t, root)
	cfg["listen"].(map[string]any)["tls"] = "only"
	code, _, errOut := runGopherd(t, "--check", writeConfig(t, cfg))
	if code != 2 || !strings.Contains(errOut, `listen.tls: "only" needs a certificate`) {
		t.Errorf("only without tls: exit %d, stderr %q", code, errOut)
	}
}

func TestHTTPPage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	d := startConfig(t, baseConfig(t, root))

	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/some/page?q=<x>", d.addr))
	if err != nil {
		t.Fatalf("HTTP GET: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Proto != "HTTP/1.0" || resp.StatusCode != http.StatusBadRequest ||
		resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !resp.Close ||
		resp.ContentLength != int64(len(body)) {
		t.Errorf("GET: %s %s, headers %v, %d body bytes", resp.Proto, resp.Status, resp.Header, len(body))
	}
	link := fmt.Sprintf(`<a href="gopher://localhost:%d/">`, d.port)
	if !bytes.Contains(body, []byte(link)) || !bytes.Contains(body, []byte("Gopher server")) {
		t.Errorf("GET body lacks %s:\n%s", link, body)
	}

	// HEAD: the same headers, no body.
	c := d.dial("")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "HEAD / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: e2e\r\n\r\n")
	raw, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("HEAD", "/", nil)
	hresp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), req)
	if err != nil {
		t.Fatalf("HEAD: %v\n%q", err, raw)
	}
	if hresp.StatusCode != http.StatusBadRequest || hresp.ContentLength != int64(len(body)) || !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		t.Errorf("HEAD: %s, Content-Length %d, raw %q", hresp.Status, hresp.ContentLength, raw)
	}

	// POST with a body.
	presp, err := client.Post("http://"+d.addr+"/form", "application/x-www-form-urlencoded", strings.NewReader("a=b"))
	if err != nil {
		t.Fatalf("HTTP POST: %v", err)
	}
	io.Copy(io.Discard, presp.Body)
	presp.Body.Close()
	if presp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST: %s", presp.Status)
	}
	waitLog(t, d, `"served": "http"`)

	// Gopher requests are unaffected.
	if got := string(d.get("/a.txt")); got != "a\n" {
		t.Errorf("gopher after HTTP: %q", got)
	}
}

func TestHTTPPageOff(t *testing.T) {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	cfg["http-page"] = false
	d := startConfig(t, cfg)
	resp := string(d.get("GET / HTTP/1.1\r\nHost: localhost\r\n"))
	if strings.HasPrefix(resp, "HTTP/") || !strings.HasPrefix(resp, "3") {
		t.Errorf("with http-page off: %q, want a Gopher error item", resp)
	}
}

func TestCertSubcommand(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(gopherdBin, "cert", "--host", "gopher.example.org", "--days", "30")
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("gopherd cert: %v\n%s", err, errb.String())
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if !strings.Contains(out.String(), `"tls": {"certificate": "`+certFile+`", "key": "`+keyFile+`"}`) {
		t.Errorf("output lacks the config snippet:\n%s", out.String())
	}
	for f, mode := range map[string]os.FileMode{certFile: 0o644, keyFile: 0o600} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", f, fi.Mode().Perm(), mode)
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	if leaf.Subject.CommonName != "gopher.example.org" || leaf.VerifyHostname("gopher.example.org") != nil {
		t.Errorf("certificate for %v %v", leaf.Subject, leaf.DNSNames)
	}
	if days := time.Until(leaf.NotAfter).Hours() / 24; days < 29 || days > 30.1 {
		t.Errorf("valid for %.1f more days, want 30", days)
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v", leaf.PublicKeyAlgorithm)
	}

	// Never overwrites: exit 1, message, files unchanged.
	before := mustRead(t, certFile)
	cmd = exec.Command(gopherdBin, "cert", "--host", "other")
	cmd.Dir = dir
	errb.Reset()
	cmd.Stderr = &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "already exists") {
		t.Errorf("second run: %v, stderr %q; want exit 1 refusing to overwrite", err, errb.String())
	}
	if !bytes.Equal(mustRead(t, certFile), before) {
		t.Error("existing certificate overwritten")
	}

	code, stdout, _ := runGopherd(t, "cert", "--help")
	if code != 0 || !strings.Contains(stdout, "Usage: gopherd cert --host NAME") {
		t.Errorf("cert --help: exit %d, %q", code, stdout)
	}
	for _, f := range []string{"--host", "--days", "--cert", "--key"} {
		if !strings.Contains(stdout, f) {
			t.Errorf("cert --help lacks %s", f)
		}
	}
	if _, stdout, _ := runGopherd(t, "--help"); !strings.Contains(stdout, "gopherd cert") {
		t.Errorf("main --help does not mention gopherd cert:\n%s", stdout)
	}
	for _, args := range [][]string{
		{"cert"},
		{"cert", "--host", "a b"},
		{"cert", "--host", "x", "--days", "0"},
		{"cert", "--host", "x", "--bogus"},
		{"cert", "--host", "x", "extra"},
	} {
		if code, out, errOut := runGopherd(t, args...); code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a usage error", args, code, out, errOut)
		}
	}
}

// closedByReset tells a connection the server reset (it closed with
// unread bytes, the handshake's) from one that failed otherwise.
func closedByReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}

// TestCapsAnnouncesTLS checks the generated caps.txt with and without TLS.
func TestCapsAnnouncesTLS(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	plain := startConfig(t, baseConfig(t, root))
	caps := string(plain.get("/caps.txt"))
	if !strings.Contains(caps, "ServerSoftware=gopherd\n") || !strings.Contains(caps, "ServerVersion=e2e-test\n") || strings.Contains(caps, "ServerTLSPort") {
		t.Fatalf("caps.txt without TLS:\n%s", caps)
	}
	if menu := string(plain.get("/")); strings.Contains(menu, "caps") {
		t.Fatalf("generated caps.txt listed: %q", menu)
	}
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost")
	cfg := tlsConfig(t, root, certFile, keyFile)
	d := startConfig(t, cfg)
	want := fmt.Sprintf("ServerTLSPort=%d\n", d.port)
	if caps := string(d.get("caps.txt")); !strings.Contains(caps, want) {
		t.Fatalf("caps.txt with TLS lacks %q:\n%s", want, caps)
	}
}

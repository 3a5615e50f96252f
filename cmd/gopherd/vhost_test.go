package main

import (
	"bytes"
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

	"gopherd/internal/tlscert"
)

// certPair writes a self-signed certificate for hosts into dir as
// name.pem and name.key, valid from now (less an hour) for days.
func certPair(t *testing.T, dir, name string, now time.Time, days int, hosts ...string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Options{Hosts: hosts, Now: now, Days: days})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := tlscert.WriteFiles(certFile, certPEM, keyFile, keyPEM); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// sniFetch sends request over TLS with server name sni (none when "")
// and returns the answer and the certificate the server showed. Names are
// not verified here: tests look at the certificate themselves.
func sniFetch(addr, sni, request string) (string, *x509.Certificate, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience},
		Config: &tls.Config{ServerName: sni, InsecureSkipVerify: true}} //nolint:gosec // certificates are checked by the tests
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		return "", nil, err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", nil, err
	}
	return string(b), c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// mustSNI is sniFetch that fails the test on an error.
func mustSNI(t *testing.T, addr, sni, request string) (string, *x509.Certificate) {
	t.Helper()
	body, cert, err := sniFetch(addr, sni, request)
	if err != nil {
		t.Fatalf("TLS %q with SNI %q: %v", request, sni, err)
	}
	return body, cert
}

// checkMenuHost checks that every item of menu names host and port, and
// that it lists want.
func checkMenuHost(t *testing.T, what, menu, host string, port int, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(menu, ".\r\n"), "\r\n")
	if len(lines) < 2 || !strings.HasSuffix(menu, ".\r\n") {
		t.Errorf("%s: not a menu: %q", what, menu)
		return
	}
	for _, l := range lines[:len(lines)-1] {
		f := strings.Split(l, "\t")
		if len(f) < 4 || f[2] != host || f[3] != fmt.Sprint(port) {
			t.Errorf("%s: item %q does not name %s:%d", what, l, host, port)
		}
	}
	for _, w := range want {
		if !strings.Contains(menu, w) {
			t.Errorf("%s: menu lacks %q:\n%s", what, w, menu)
		}
	}
}

// vhostTrees makes the trees of the default host (D) and of a.test (A)
// and b.test (B), each with a file only it has.
func vhostTrees(t *testing.T) (d, a, b string) {
	t.Helper()
	d, a, b = t.TempDir(), t.TempDir(), t.TempDir()
	writeFiles(t, d, map[string]string{"d-only.txt": "D\n"})
	writeFiles(t, a, map[string]string{"a-only.txt": "A\n", "sub/deep.txt": "deep A\n"})
	writeFiles(t, b, map[string]string{"b-only.txt": "B\n"})
	return d, a, b
}

// TestVhostsOnOneTLSPort: two vhosts and the default host on one port,
// chosen by SNI; each host's menus, error items, files and certificate are
// its own; unknown names get the default host, or a refused handshake.
func TestVhostsOnOneTLSPort(t *testing.T) {
	dRoot, aRoot, bRoot := vhostTrees(t)
	dir := t.TempDir()
	defCert, defKey := certPair(t, dir, "default", time.Time{}, 2, "main.test", "b.test")
	aCert, aKey := certPair(t, dir, "a", time.Time{}, 2, "a.test", "www.a.test")
	cfgPath := filepath.Join(dir, "gopherd.json")
	cfg := map[string]any{
		"hostname": "main.test", "root": dRoot,
		"listen": map[string]any{"addr": "127.0.0.1", "port": 0},
		"tls":    map[string]any{"certificate": defCert, "key": defKey},
		"vhosts": []any{
			map[string]any{"hostname": "a.test", "aliases": []string{"www.a.test"}, "root": aRoot,
				"tls": map[string]any{"certificate": aCert, "key": aKey}},
			map[string]any{"hostname": "b.test", "root": bRoot},
		},
	}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	port := r.Addrs()[0].(*net.TCPAddr).Port

	for _, tt := range []struct {
		sni, host, file, other string
		certFor                string
	}{
		{"a.test", "a.test", "a-only.txt", "/b-only.txt", "a.test"},
		{"WWW.A.TEST", "a.test", "a-only.txt", "/d-only.txt", "www.a.test"},
		{"b.test", "b.test", "b-only.txt", "/a-only.txt", "b.test"},
		{"", "main.test", "d-only.txt", "/a-only.txt", "main.test"},
		{"unknown.test", "main.test", "d-only.txt", "/b-only.txt", "main.test"},
	} {
		menu, cert := mustSNI(t, r.addr, tt.sni, "/")
		checkMenuHost(t, "SNI "+tt.sni, menu, tt.host, port, "0"+tt.file+"\t/"+tt.file+"\t")
		if err := cert.VerifyHostname(tt.certFor); err != nil {
			t.Errorf("SNI %q: the certificate shown is for %v: %v", tt.sni, cert.DNSNames, err)
		}
		// A file that only another host has is not found, under this
		// host's name: no request is answered from another root.
		got, _ := mustSNI(t, r.addr, tt.sni, tt.other)
		if !strings.HasPrefix(got, "3") || !strings.Contains(got, "\t"+tt.host+"\t") || strings.Contains(got, "\r\n0") {
			t.Errorf("SNI %q, %s: %q, want a not-found item naming %s", tt.sni, tt.other, got, tt.host)
		}
		if got, _ := mustSNI(t, r.addr, tt.sni, "/caps.txt"); !strings.Contains(got, fmt.Sprintf("ServerTLSPort=%d\n", port)) {
			t.Errorf("SNI %q: caps.txt %q", tt.sni, got)
		}
	}
	// Plain Gopher carries no name: the default host.
	checkMenuHost(t, "plain", r.get("/"), "main.test", port, "d-only.txt")
	if !strings.Contains(r.log.String(), `"vhost": "a.test"`) || !strings.Contains(r.log.String(), `"vhost": "main.test"`) {
		t.Errorf("the access log does not name the vhosts:\n%s", r.log)
	}

	// unknown-sni "reject": the handshake fails with unrecognized_name.
	cfg["tls"] = map[string]any{"certificate": defCert, "key": defKey, "unknown-sni": "reject"}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if _, _, err := sniFetch(r.addr, "unknown.test", "/"); err == nil || !strings.Contains(err.Error(), "unrecognized name") {
		t.Errorf("unknown SNI with reject: %v, want the unrecognized_name alert", err)
	}
	if menu, _ := mustSNI(t, r.addr, "b.test", "/"); !strings.Contains(menu, "b-only.txt") {
		t.Errorf("b.test with reject: %q", menu)
	}
	if menu, _ := mustSNI(t, r.addr, "", "/"); !strings.Contains(menu, "d-only.txt") {
		t.Errorf("no SNI with reject: %q", menu)
	}
}

// TestVhostByListener: a plain listener bound to b.test serves B, with
// its own port in B's menus; the other listener serves the default host.
func TestVhostByListener(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	_ = probe.Close()
	dRoot, _, bRoot := vhostTrees(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := map[string]any{
		"hostname": "main.test", "root": dRoot,
		"listen": []any{
			map[string]any{"addr": "127.0.0.1", "port": 0},
			map[string]any{"addr": "127.0.0.2", "port": 0, "vhost": "B.test"},
		},
		"vhosts": []any{map[string]any{"hostname": "b.test", "root": bRoot}},
	}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	addrs := r.Addrs()
	dPort, bPort := addrs[0].(*net.TCPAddr).Port, addrs[1].(*net.TCPAddr).Port
	checkMenuHost(t, "127.0.0.1", fetch(t, addrs[0].String(), "/"), "main.test", dPort, "d-only.txt")
	checkMenuHost(t, "127.0.0.2", fetch(t, addrs[1].String(), "/"), "b.test", bPort, "b-only.txt")
	if got := fetch(t, addrs[1].String(), "/d-only.txt"); !strings.HasPrefix(got, "3") || !strings.Contains(got, "\tb.test\t") {
		t.Errorf("the default host's file on the b.test listener: %q", got)
	}

	// A configuration whose listener names a vhost it lacks is refused
	// by --check's rules; one that unbinds the listener too is refused
	// while the running listener (listen needs a restart) is bound to
	// b.test: its clients would get another host.
	cfg["vhosts"] = []any{}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if !strings.Contains(r.log.String(), `listen[1].vhost: unknown vhost \"B.test\"`) {
		t.Errorf("a listener naming a removed vhost was not refused:\n%s", r.log)
	}
	cfg["listen"] = []any{
		map[string]any{"addr": "127.0.0.1", "port": 0},
		map[string]any{"addr": "127.0.0.2", "port": 0},
	}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if !strings.Contains(r.log.String(), "serves vhost b.test until restart; the new configuration has no host of that name") {
		t.Errorf("removing a listener's vhost was not refused:\n%s", r.log)
	}
	checkMenuHost(t, "127.0.0.2 after the refused reload", fetch(t, addrs[1].String(), "/"), "b.test", bPort, "b-only.txt")
}

// TestVhostGateway: each host's gateway is its own: SERVER_NAME and the
// root are the host's, and a host without a cgi section runs nothing,
// even the same program in its own tree.
func TestVhostGateway(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dRoot, aRoot, bRoot := vhostTrees(t)
	script := "#!/bin/sh\nprintf '%s %s %s\\n' \"$SERVER_NAME\" \"$SERVER_PORT\" \"$DOCUMENT_ROOT\"\n"
	for _, root := range []string{dRoot, aRoot, bRoot} {
		p := filepath.Join(root, "cgi-bin", "who")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	defCert, defKey := certPair(t, dir, "default", time.Time{}, 2, "main.test", "a.test", "b.test")
	cgiSection := map[string]any{"dirs": []any{map[string]any{"selector": "/cgi-bin/"}}}
	cfgPath := filepath.Join(dir, "gopherd.json")
	writeJSON(t, cfgPath, map[string]any{
		"hostname": "main.test", "root": dRoot, "cgi": cgiSection,
		"listen": map[string]any{"addr": "127.0.0.1", "port": 0},
		"tls":    map[string]any{"certificate": defCert, "key": defKey},
		"vhosts": []any{
			map[string]any{"hostname": "a.test", "root": aRoot, "cgi": cgiSection},
			map[string]any{"hostname": "b.test", "root": bRoot},
		},
	})
	r := mustStart(t, cfgPath)
	port := r.Addrs()[0].(*net.TCPAddr).Port
	abs := func(p string) string {
		a, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if got, _ := mustSNI(t, r.addr, "a.test", "/cgi-bin/who"); got != fmt.Sprintf("a.test %d %s\n", port, abs(aRoot)) {
		t.Errorf("a.test's program: %q", got)
	}
	if got := r.get("/cgi-bin/who"); got != fmt.Sprintf("main.test %d %s\n", port, abs(dRoot)) {
		t.Errorf("the default host's program: %q", got)
	}
	// b.test has no cgi section: its file is a file, never run.
	if got, _ := mustSNI(t, r.addr, "b.test", "/cgi-bin/who"); got != script {
		t.Errorf("b.test without cgi: %q, want the file as it is", got)
	}
}

// TestVhostReload: a reload adds and removes vhosts atomically; a
// transfer in flight from a removed host finishes from its own root; a
// broken new vhost keeps the running configuration.
func TestVhostReload(t *testing.T) {
	dRoot, aRoot, bRoot := vhostTrees(t)
	big := bytes.Repeat([]byte("A's big file\n"), 1<<19) // 6.5 MiB: more than the socket buffers hold
	writeFiles(t, aRoot, map[string]string{"big.bin": string(big)})
	dir := t.TempDir()
	defCert, defKey := certPair(t, dir, "default", time.Time{}, 2, "main.test", "a.test", "b.test")
	cfgPath := filepath.Join(dir, "gopherd.json")
	cfg := map[string]any{
		"hostname": "main.test", "root": dRoot,
		"listen": map[string]any{"addr": "127.0.0.1", "port": 0},
		"tls":    map[string]any{"certificate": defCert, "key": defKey},
		"vhosts": []any{map[string]any{"hostname": "a.test", "root": aRoot}},
	}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)

	c, err := tls.Dial("tcp", r.addr, &tls.Config{ServerName: "a.test", InsecureSkipVerify: true}) //nolint:gosec // not about the certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, "/big.bin\r\n"); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 4096)
	if _, err := io.ReadFull(c, first); err != nil {
		t.Fatal(err)
	}

	cfg["vhosts"] = []any{map[string]any{"hostname": "b.test", "root": bRoot}}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if !strings.Contains(r.log.String(), `"vhosts": ["b.test"]`) {
		t.Fatalf("reload not applied:\n%s", r.log)
	}
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("the transfer in flight: %v", err)
	}
	if got := append(first, rest...); !bytes.Equal(got, big) {
		t.Errorf("the transfer in flight got %d bytes, want %d", len(got), len(big))
	}
	if menu, _ := mustSNI(t, r.addr, "b.test", "/"); !strings.Contains(menu, "b-only.txt") {
		t.Errorf("added b.test: %q", menu)
	}
	if menu, _ := mustSNI(t, r.addr, "a.test", "/"); !strings.Contains(menu, "d-only.txt") || strings.Contains(menu, "a-only") {
		t.Errorf("removed a.test, an unknown name now: %q, want the default host", menu)
	}

	// A new vhost whose root does not exist: the running ones stay.
	cfg["vhosts"] = []any{map[string]any{"hostname": "b.test", "root": bRoot},
		map[string]any{"hostname": "c.test", "root": filepath.Join(dir, "missing")}}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if !strings.Contains(r.log.String(), "reload failed, keeping the running configuration") || !strings.Contains(r.log.String(), "vhosts[1].root") {
		t.Errorf("broken vhost not refused:\n%s", r.log)
	}
	if menu, _ := mustSNI(t, r.addr, "b.test", "/"); !strings.Contains(menu, "b-only.txt") {
		t.Errorf("b.test after the refused reload: %q", menu)
	}
}

// TestVhostCheck: --check refuses what vhosting cannot serve honestly,
// with file:line: key: and exit 2, and warns about an expired
// certificate.
func TestVhostCheck(t *testing.T) {
	dir := t.TempDir()
	aRoot, bRoot := t.TempDir(), t.TempDir()
	defCert, defKey := certPair(t, dir, "default", time.Time{}, 2, "main.test")
	aCert, aKey := certPair(t, dir, "a", time.Time{}, 2, "a.test")
	oldCert, oldKey := certPair(t, dir, "old", time.Now().AddDate(-1, 0, 0), 2, "a.test", "www.a.test")
	write := func(src string) string {
		p := filepath.Join(t.TempDir(), "gopherd.json")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tlsLine := `"tls": {"certificate": "` + defCert + `", "key": "` + defKey + `"},`
	for _, tt := range []struct {
		name, src string
		code      int
		stderr    string
	}{
		{"two hosts, one name", `{"hostname": "main.test", "root": "` + aRoot + `",
"vhosts": [{"hostname": "a.test", "root": "` + aRoot + `"},
  {"hostname": "b.test", "aliases": ["A.test"], "root": "` + bRoot + `"}]}`,
			2, `gopherd.json:3: vhosts[1].aliases: "A.test" is already a name of vhosts[0]; a name chooses one host`},
		{"missing root", `{"hostname": "main.test", "root": "` + aRoot + `",
"vhosts": [{"hostname": "a.test", "root": "` + filepath.Join(dir, "nope") + `"}]}`,
			2, `gopherd.json:2: vhosts[0].root: directory "` + filepath.Join(dir, "nope") + `" does not exist`},
		{"unknown listener vhost", `{"hostname": "main.test", "root": "` + aRoot + `",
"listen": {"port": 7070, "vhost": "b.test"},
"vhosts": [{"hostname": "a.test", "root": "` + aRoot + `"}]}`,
			2, `gopherd.json:2: listen.vhost: unknown vhost "b.test"`},
		{"certificate does not name an alias", `{"hostname": "main.test", "root": "` + aRoot + `",` + tlsLine + `
"vhosts": [{"hostname": "a.test", "aliases": ["www.a.test"], "root": "` + aRoot + `",
"tls": {"certificate": "` + aCert + `", "key": "` + aKey + `"}}]}`,
			2, `gopherd.json:3: vhosts[0].tls.certificate: certificate ` + aCert + ` does not name "www.a.test"`},
		{"expired certificate", `{"hostname": "main.test", "root": "` + aRoot + `",` + tlsLine + `
"vhosts": [{"hostname": "a.test", "aliases": ["www.a.test"], "root": "` + aRoot + `",
"tls": {"certificate": "` + oldCert + `", "key": "` + oldKey + `"}}]}`,
			0, `gopherd.json:3: vhosts[0].tls.certificate: certificate ` + oldCert + ` expired on`},
		{"default certificate does not name a vhost", `{"hostname": "main.test", "root": "` + aRoot + `",` + tlsLine + `
"vhosts": [{"hostname": "b.test", "root": "` + bRoot + `"}]}`,
			0, `gopherd.json:2: vhosts[0].hostname: the top-level certificate ` + defCert + ` does not name "b.test"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := write(tt.src)
			code, out, errOut := runProgram(t, nil, "--check", path)
			if code != tt.code || !strings.Contains(errOut, path+strings.TrimPrefix(tt.stderr, "gopherd.json")) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, tt.code, tt.stderr)
			}
			if tt.code == 0 && !strings.Contains(out, "configuration OK, serving "+aRoot+"; vhosts: ") {
				t.Errorf("stdout %q does not list the vhosts", out)
			}
		})
	}
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// curlOut runs curl with args and returns its output and exit code.
func curlOut(t *testing.T, curl string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(curl, append([]string{"-sS", "--max-time", "20"}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("curl: %v", err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// opensslGet sends request with openssl s_client, server name sni,
// verifying the certificate against caFile for the name verifyName, and
// returns what came back, stderr and whether openssl succeeded.
func opensslGet(t *testing.T, openssl, addr, sni, caFile, verifyName, request string) (string, string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"s_client", "-connect", addr, "-servername", sni, "-quiet", "-ign_eof"}
	if caFile != "" {
		args = append(args, "-CAfile", caFile, "-verify_return_error", "-verify_hostname", verifyName)
	}
	cmd := exec.CommandContext(ctx, openssl, args...)
	cmd.Stdin = strings.NewReader(request + "\r\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

// menuHosts returns the host:port of every item of a menu.
func menuHosts(menu string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(menu, ".\r\n"), "\r\n") {
		if f := strings.Split(l, "\t"); len(f) >= 4 {
			out = append(out, f[2]+":"+f[3])
		} else if l != "" {
			out = append(out, "malformed: "+l)
		}
	}
	return out
}

// checkServedBy checks that menu lists file and that every item names
// host on port.
func checkServedBy(t *testing.T, what, menu, file, host string, port int) {
	t.Helper()
	if !strings.Contains(menu, "0"+file+"\t/"+file+"\t") || !strings.HasSuffix(menu, ".\r\n") {
		t.Errorf("%s: menu lacks %s:\n%s", what, file, menu)
	}
	hosts := menuHosts(menu)
	if len(hosts) == 0 {
		t.Errorf("%s: empty menu", what)
	}
	for _, h := range hosts {
		if h != fmt.Sprintf("%s:%d", host, port) {
			t.Errorf("%s: an item names %s, want %s:%d", what, h, host, port)
		}
	}
}

// vhostRoots makes the default host's tree and those of a.test and
// b.test, each with a file only it has.
func vhostRoots(t *testing.T) (d, a, b string) {
	t.Helper()
	d, a, b = t.TempDir(), t.TempDir(), t.TempDir()
	writeTree(t, d, map[string]string{"default-only.txt": "D\n"})
	writeTree(t, a, map[string]string{"a-only.txt": "A\n"})
	writeTree(t, b, map[string]string{"b-only.txt": "B\n"})
	return d, a, b
}

// TestVhostsOneTLSPort: two vhosts and the default host on one TLS port,
// through curl and openssl: each SNI gets its host's tree, names and
// certificate; no SNI gets the default; unknown names get the default or,
// after a SIGHUP to "reject", the unrecognized_name alert.
func TestVhostsOneTLSPort(t *testing.T) {
	curl := needTool(t, "curl")
	openssl := needTool(t, "openssl")
	dRoot, aRoot, bRoot := vhostRoots(t)
	defCert, defKey := makeCert(t, t.TempDir(), "localhost", "127.0.0.1")
	aCert, aKey := makeCert(t, t.TempDir(), "a.test")
	bDir := t.TempDir()
	bCert, bKey := makeCert(t, bDir, "b.test")
	cfg := tlsConfig(t, dRoot, defCert, defKey)
	cfg["vhosts"] = []any{
		map[string]any{"hostname": "a.test", "root": aRoot, "tls": map[string]any{"certificate": aCert, "key": aKey}},
		map[string]any{"hostname": "b.test", "root": bRoot, "tls": map[string]any{"certificate": bCert, "key": bKey}},
	}
	cfgPath := writeConfig(t, cfg)
	d := start(t, net.JoinHostPort("127.0.0.1", fmt.Sprint(cfg["listen"].(map[string]any)["port"])), cfgPath)
	p := d.port
	resolve := func(host string) string { return fmt.Sprintf("%s:%d:127.0.0.1", host, p) }

	for _, h := range []struct{ name, ca, file, other string }{
		{"a.test", aCert, "a-only.txt", "b-only.txt"},
		{"b.test", bCert, "b-only.txt", "a-only.txt"},
	} {
		url := fmt.Sprintf("gophers://%s:%d/", h.name, p)
		menu, code := curlOut(t, curl, "--resolve", resolve(h.name), "--cacert", h.ca, url)
		if code != 0 {
			t.Fatalf("curl %s: exit %d", url, code)
		}
		checkServedBy(t, "curl "+url, menu, h.file, h.name, p)
		// A file only the other host has: not found, under this host's name.
		got, code := curlOut(t, curl, "--resolve", resolve(h.name), "--cacert", h.ca, url+"0/"+h.other)
		if code != 0 || !strings.HasPrefix(got, "3") || !strings.Contains(got, "\t"+h.name+"\t") {
			t.Errorf("curl %s0/%s: exit %d, %q; want a not-found item naming %s", url, h.other, code, got, h.name)
		}
		// The certificate shown for the name is the host's own: openssl
		// verifies it against that host's certificate alone.
		if out, errOut, ok := opensslGet(t, openssl, d.addr, h.name, h.ca, h.name, "/"+h.file); !ok || out != strings.ToUpper(h.name[:1])+"\n" {
			t.Errorf("openssl -servername %s: ok %v, %q\n%s", h.name, ok, out, errOut)
		}
	}
	if _, errOut, ok := opensslGet(t, openssl, d.addr, "a.test", bCert, "a.test", "/"); ok {
		t.Errorf("a.test's handshake verified against b.test's certificate:\n%s", errOut)
	}

	// No SNI: curl sends none to an address. The default host, with the
	// default certificate.
	menu, code := curlOut(t, curl, "--cacert", defCert, fmt.Sprintf("gophers://127.0.0.1:%d/", p))
	if code != 0 {
		t.Fatalf("curl without SNI: exit %d", code)
	}
	checkServedBy(t, "no SNI", menu, "default-only.txt", "localhost", p)
	// An unknown name, with unknown-sni "default": the default host.
	menu, code = curlOut(t, curl, "-k", "--resolve", resolve("c.test"), fmt.Sprintf("gophers://c.test:%d/", p))
	if code != 0 {
		t.Fatalf("curl with an unknown SNI: exit %d", code)
	}
	checkServedBy(t, "unknown SNI", menu, "default-only.txt", "localhost", p)
	waitLog(t, d, `"vhost": "b.test"`)
	for _, want := range []string{`"vhost": "a.test"`, `"vhost": "localhost"`} {
		if !strings.Contains(d.log.String(), want) {
			t.Errorf("access log lacks %s", want)
		}
	}

	// SIGHUP: unknown-sni "reject", and a renewed certificate for b.test.
	for _, f := range []string{bCert, bKey} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	makeCert(t, bDir, "b.test", "www.b.test")
	cfg["tls"] = map[string]any{"certificate": defCert, "key": defKey, "unknown-sni": "reject"}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	waitLog(t, d, "configuration reloaded")
	if _, code := curlOut(t, curl, "-k", "--resolve", resolve("c.test"), fmt.Sprintf("gophers://c.test:%d/", p)); code != 35 {
		t.Errorf("curl with an unknown SNI and reject: exit %d, want 35 (the handshake failed)", code)
	}
	if _, errOut, ok := opensslGet(t, openssl, d.addr, "c.test", "", "", "/"); ok || !strings.Contains(errOut, "unrecognized name") {
		t.Errorf("openssl with an unknown SNI and reject: ok %v, want the unrecognized_name alert:\n%s", ok, errOut)
	}
	if out, errOut, ok := opensslGet(t, openssl, d.addr, "b.test", bCert, "www.b.test", "/b-only.txt"); !ok || out != "B\n" {
		t.Errorf("b.test after the reload does not show the renewed certificate: ok %v, %q\n%s", ok, out, errOut)
	}
	if menu, code := curlOut(t, curl, "--cacert", defCert, fmt.Sprintf("gophers://127.0.0.1:%d/", p)); code != 0 || !strings.Contains(menu, "default-only.txt") {
		t.Errorf("no SNI with reject: exit %d, %q", code, menu)
	}
	waitLog(t, d, "TLS handshake refused: unknown server name")
}

// TestVhostPlainListener: a plain listener on a second loopback address
// bound to b.test serves B, the other listener the default host.
func TestVhostPlainListener(t *testing.T) {
	curl := needTool(t, "curl")
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	_ = probe.Close()
	dRoot, _, bRoot := vhostRoots(t)
	p1, p2 := freePort(t), freePort(t)
	cfg := map[string]any{
		"hostname": "localhost", "root": dRoot,
		"listen": []any{
			map[string]any{"addr": "127.0.0.1", "port": p1},
			map[string]any{"addr": "127.0.0.2", "port": p2, "vhost": "b.test"},
		},
		"vhosts": []any{map[string]any{"hostname": "b.test", "root": bRoot}},
	}
	start(t, fmt.Sprintf("127.0.0.1:%d", p1), writeConfig(t, cfg))
	menu, code := curlOut(t, curl, fmt.Sprintf("gopher://127.0.0.2:%d/", p2))
	if code != 0 {
		t.Fatalf("curl on the b.test listener: exit %d", code)
	}
	checkServedBy(t, "127.0.0.2", menu, "b-only.txt", "b.test", p2)
	menu, code = curlOut(t, curl, fmt.Sprintf("gopher://127.0.0.1:%d/", p1))
	if code != 0 {
		t.Fatalf("curl on the default listener: exit %d", code)
	}
	checkServedBy(t, "127.0.0.1", menu, "default-only.txt", "localhost", p1)
	if got, _ := curlOut(t, curl, fmt.Sprintf("gopher://127.0.0.2:%d/0/default-only.txt", p2)); !strings.HasPrefix(got, "3") {
		t.Errorf("the default host's file on the b.test listener: %q", got)
	}
}

// TestVhostCheckExitCodes: the binary's --check on vhost mistakes.
func TestVhostCheckExitCodes(t *testing.T) {
	dRoot, aRoot, _ := vhostRoots(t)
	defCert, defKey := makeCert(t, t.TempDir(), "localhost")
	aCert, aKey := makeCert(t, t.TempDir(), "a.test")
	cfg := tlsConfig(t, dRoot, defCert, defKey)
	cfg["vhosts"] = []any{map[string]any{"hostname": "a.test", "aliases": []string{"www.a.test"}, "root": aRoot,
		"tls": map[string]any{"certificate": aCert, "key": aKey}}}
	path := writeConfig(t, cfg)
	code, _, errOut := runGopherd(t, "--check", path)
	if code != 2 || !strings.Contains(errOut, path+":") || !strings.Contains(errOut, `vhosts[0].tls.certificate: certificate `+aCert+` does not name "www.a.test"`) {
		t.Errorf("certificate without an alias: exit %d, %q", code, errOut)
	}
	cfg["vhosts"] = []any{map[string]any{"hostname": "a.test", "root": aRoot, "tls": map[string]any{"certificate": aCert, "key": aKey}},
		map[string]any{"hostname": "A.TEST", "root": filepath.Join(aRoot, "missing")}}
	code, _, errOut = runGopherd(t, "--check", writeConfig(t, cfg))
	if code != 2 || !strings.Contains(errOut, `vhosts[1].hostname: "A.TEST" is already a name of vhosts[0]`) || !strings.Contains(errOut, "vhosts[1].root: directory") {
		t.Errorf("a name twice and a missing root: exit %d, %q", code, errOut)
	}
}

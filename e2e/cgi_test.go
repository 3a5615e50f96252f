package e2e

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopherd/internal/testutil"
)

// The gateway through the binary: hostile programs of our own
// (testdata/cgi) run by a real gopherd, with a canary variable in
// gopherd's environment that no program may see.

const (
	canaryVar   = "GOPHERD_CANARY"
	canaryValue = "secret-of-the-daemon"
	// sourceMarker is in every test program's source: a response holding
	// it served a program as text.
	sourceMarker = "SOURCE-MARKER"
)

// cgiTree copies testdata/cgi into a fresh root, making the programs
// executable whatever git kept, and returns the root.
func cgiTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join("testdata", "cgi")
	err := filepath.WalkDir(src, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(root, rel)
		if de.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			return err
		}
		return os.Chmod(dst, 0o755)
	})
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{"moles/file.txt": "a file\n", "docs/readme.txt": "static\n"})
	return root
}

// cgiConfig is baseConfig with a cgi section: /cgi-bin/ raw, /apps/ menu.
func cgiConfig(t *testing.T, root string, cgi map[string]any) map[string]any {
	cfg := baseConfig(t, root)
	section := map[string]any{
		"dirs": []any{
			map[string]any{"selector": "/cgi-bin/", "output": "raw"},
			map[string]any{"selector": "/apps/", "output": "menu"},
		},
		"env": map[string]any{"LANG": "C.UTF-8"},
	}
	maps.Copy(section, cgi)
	cfg["cgi"] = section
	return cfg
}

// startCanary starts gopherd with cfg, the canary in its environment and,
// as a careless parent would leave it, a descriptor it inherits open (3,
// not close-on-exec).
func startCanary(t *testing.T, cfg map[string]any) *daemon {
	t.Helper()
	l := cfg["listen"].(map[string]any)
	addr := net.JoinHostPort(l["addr"].(string), fmt.Sprint(l["port"]))
	path := writeConfig(t, cfg)
	leaked, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leaked.Close() })
	cmd := exec.Command(gopherdBin, path)
	cmd.Env = append(os.Environ(), canaryVar+"="+canaryValue)
	cmd.ExtraFiles = []*os.File{leaked}
	return startCmd(t, addr, cmd)
}

// envOf parses env -0 output.
func envOf(b []byte) map[string]string {
	m := map[string]string{}
	for kv := range strings.SplitSeq(strings.TrimSuffix(string(b), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// exchange sends request on a fresh connection and returns the response,
// the client's port and the read error (a reset is an answer too).
func (d *daemon) exchange(request string) (body []byte, localPort int, err error) {
	d.t.Helper()
	c := d.dial("")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		d.t.Fatal(err)
	}
	body, err = io.ReadAll(c)
	return body, c.LocalAddr().(*net.TCPAddr).Port, err
}

func noSource(t *testing.T, what string, body []byte) {
	t.Helper()
	if bytes.Contains(body, []byte(sourceMarker)) {
		t.Errorf("%s: a program's source reached the client: %q", what, body)
	}
}

func TestCGIEnvironmentExact(t *testing.T) {
	root := cgiTree(t)
	d := startCanary(t, cgiConfig(t, root, nil))
	body, port, err := d.exchange("/cgi-bin/env.pl/some/path?a=%41&b=c\tsearch terms")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(body, []byte(canaryValue)) || bytes.Contains(body, []byte(canaryVar)) {
		t.Fatalf("gopherd's own environment leaked: %q", body)
	}
	want := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
		"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "gopherd/e2e-test", "SERVER_PROTOCOL": "GOPHER",
		"SERVER_NAME": "localhost", "SERVER_HOST": "localhost", "SERVER_PORT": strconv.Itoa(d.port),
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/cgi-bin/env.pl",
		"SCRIPT_FILENAME": filepath.Join(root, "cgi-bin", "env.pl"),
		"PATH_INFO":       "/some/path", "PATH_TRANSLATED": root + "/some/path", "DOCUMENT_ROOT": root,
		"SELECTOR": "/cgi-bin/env.pl/some/path?a=%41&b=c", "REQUEST": "/cgi-bin/env.pl/some/path",
		"QUERY_STRING": "a=%41&b=c", "QUERY_STRING_URL": "a=%41&b=c",
		"SEARCHREQUEST": "search terms", "X_GOPHER_SEARCH": "search terms", "QUERY_STRING_SEARCH": "search terms",
		"REMOTE_ADDR": "127.0.0.1", "REMOTE_HOST": "127.0.0.1", "REMOTE_PORT": strconv.Itoa(port),
	}
	if got := envOf(body); !maps.Equal(got, want) {
		t.Errorf("environment:\n got %v\nwant %v", got, want)
	}

	// A TAB search alone is QUERY_STRING too (Gophernicus, Motsognir).
	body, _, _ = d.exchange("/cgi-bin/env.pl\tjust a search")
	if env := envOf(body); env["QUERY_STRING"] != "just a search" || env["QUERY_STRING_URL"] != "" || env["PATH_INFO"] != "" {
		t.Errorf("TAB search: %v", env)
	}
	// Only 0, 1 and 2 are open in the program (and the one reading /proc),
	// not the descriptor gopherd inherited.
	if got := string(d.get("/cgi-bin/fds.pl")); got != "0 1 2 3\n" {
		t.Errorf("descriptors open in the program: %q", got)
	}
}

func TestCGINoSpellingReachesTheSource(t *testing.T) {
	root := cgiTree(t)
	d := startConfig(t, cgiConfig(t, root, nil))
	for _, sel := range []string{
		"/cgi-bin/exit.sh", "cgi-bin/exit.sh", "//cgi-bin//exit.sh", "/cgi-bin/./exit.sh",
		"/cgi-bin/../cgi-bin/exit.sh", "/cgi-bin", "cgi-bin", "/cgi-bin/", "/cgi-bin//",
		"/apps/search.sh", "apps//search.sh", "/apps", "/moles", "/moles/gophermap",
	} {
		body := d.get(sel)
		noSource(t, sel, body)
		if bytes.Contains(body, []byte("exit.sh")) && !bytes.HasPrefix(body, []byte("3")) {
			t.Errorf("%q lists the gateway directory: %q", sel, body)
		}
	}
	if got := string(d.get("cgi-bin//exit.sh/x")); got != "partial output\n" {
		t.Errorf("the program runs under any spelling: %q", got)
	}
	if got := string(d.get("/docs/readme.txt")); got != "static\n" {
		t.Errorf("the tree still serves the rest: %q", got)
	}
}

func TestCGIMenuOutput(t *testing.T) {
	root := cgiTree(t)
	d := startConfig(t, cgiConfig(t, root, nil))
	port := strconv.Itoa(d.port)
	want := "iYou searched for: gopher holes\t\tlocalhost\t" + port + "\r\n" +
		"0Result one\t/apps/results/one.txt\tlocalhost\t" + port + "\r\n" +
		"1Up\t/\tlocalhost\t" + port + "\r\n" +
		"7Search again\t/apps/search.sh\tlocalhost\t" + port + "\r\n" +
		"1Elsewhere\t/x\tgopher.example.org\t70\r\n" +
		".\r\n"
	for _, req := range []string{"/apps/search.sh\tgopher holes", "/apps/search.sh?gopher holes"} {
		if got := string(d.get(req)); got != want {
			t.Errorf("%q:\n got %q\nwant %q", req, got, want)
		}
	}
	waitLog(t, d, "apps/search.sh:5: ")
}

func TestCGIExitCodes(t *testing.T) {
	root := cgiTree(t)
	d := startConfig(t, cgiConfig(t, root, nil))
	body, _, err := d.exchange("/cgi-bin/exit.sh?7")
	if err != nil || !bytes.HasPrefix(body, []byte("3Internal server error.")) || !bytes.HasSuffix(body, []byte(".\r\n")) {
		t.Errorf("exit 7 before output: %q, %v", body, err)
	}
	body, _, err = d.exchange("/cgi-bin/exit.sh/out?7")
	if !isReset(err) || string(body) != "partial output\n" {
		t.Errorf("exit 7 after output: %q, %v; want the output, then a reset", body, err)
	}
	body, _, err = d.exchange("/cgi-bin/exit.sh/out?0")
	if err != nil || string(body) != "partial output\n" {
		t.Errorf("exit 0: %q, %v", body, err)
	}
	body, _, err = d.exchange("/apps/fail.sh")
	port := strconv.Itoa(d.port)
	want := "ia first line\t\tlocalhost\t" + port + "\r\n3Internal server error.\tErr\tlocalhost\t" + port + "\r\n.\r\n"
	if err != nil || string(body) != want {
		t.Errorf("menu program exiting 4 after output: %q, %v\nwant %q", body, err, want)
	}
	waitLog(t, d, `"status": "exit status 4"`)
}

func TestCGIRefusals(t *testing.T) {
	root := cgiTree(t)
	if err := os.Chmod(filepath.Join(root, "cgi-bin", "exit.sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "cgi-bin", "env.pl"), 0o757); err != nil {
		t.Fatal(err)
	}
	d := startConfig(t, cgiConfig(t, root, nil))
	for sel, warning := range map[string]string{
		"/cgi-bin/exit.sh": "not executable",
		"/cgi-bin/env.pl":  "world-writable",
	} {
		body := d.get(sel)
		noSource(t, sel, body)
		if !bytes.HasPrefix(body, []byte("3Accessing '"+sel+"' is not allowed.")) {
			t.Errorf("%s: %q", sel, body)
		}
		waitLog(t, d, warning)
	}
}

func TestCGIExecutableGophermaps(t *testing.T) {
	root := cgiTree(t)
	port := func(d *daemon) string { return strconv.Itoa(d.port) }
	// No cgi section, and a cgi section without the setting: refused,
	// with a warning that names the setting.
	for name, cfg := range map[string]map[string]any{
		"no cgi section": baseConfig(t, root),
		"setting off":    cgiConfig(t, root, nil),
	} {
		t.Run(name, func(t *testing.T) {
			d := startConfig(t, cfg)
			body := d.get("/moles/")
			noSource(t, "/moles/", body)
			if !bytes.HasPrefix(body, []byte("3Accessing '/moles/' is not allowed.")) {
				t.Errorf("%q", body)
			}
			waitLog(t, d, "set cgi.executable-gophermaps to true")
		})
	}
	t.Run("setting on", func(t *testing.T) {
		d := startConfig(t, cgiConfig(t, root, map[string]any{"executable-gophermaps": true}))
		want := "iGenerated for /moles\t\tlocalhost\t" + port(d) + "\r\n0A file here\t/moles/file.txt\tlocalhost\t" + port(d) + "\r\n.\r\n"
		if got := string(d.get("/moles")); got != want {
			t.Errorf("got %q\nwant %q", got, want)
		}
		if got := string(d.get("/moles/file.txt")); got != "a file\n" {
			t.Errorf("the map's directory still serves files: %q", got)
		}
	})
}

func TestCGIKillsTheWholeGroupAtTimeout(t *testing.T) {
	slow(t)
	root := cgiTree(t)
	d := startConfig(t, cgiConfig(t, root, map[string]any{"timeout": "1s", "kill-grace": "500ms"}))
	body, _, err := d.exchange("/cgi-bin/forks.sh")
	pgid, perr := strconv.Atoi(strings.TrimSpace(string(body)))
	if perr != nil {
		t.Fatalf("response %q, %v", body, err)
	}
	if !isReset(err) {
		t.Errorf("a program cut at the timeout after output: %v, want a reset", err)
	}
	// The response ended after timeout + grace: every process of the
	// group (the sleepers ignore SIGTERM and hold stdout) is gone.
	if left := testutil.GroupMembers(pgid); len(left) > 0 {
		t.Errorf("processes of group %d alive after the response: %v", pgid, left)
	}
	waitLog(t, d, `"stopped": "timeout"`)
}

func TestCGIPrintsForever(t *testing.T) {
	needProc(t)
	root := cgiTree(t)
	const capBytes = 64 << 20
	d := startConfig(t, cgiConfig(t, root, map[string]any{"max-output-bytes": capBytes, "timeout": "60s"}))
	base := d.stat()
	c := d.dial("")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, "/cgi-bin/forever.sh\r\n"); err != nil {
		t.Fatal(err)
	}
	// Watch gopherd's memory every 4 MiB while the output streams.
	var n int64
	peak := base
	buf := make([]byte, 64<<10)
	for {
		m, err := c.Read(buf)
		n += int64(m)
		if n%(4<<20) < int64(m) {
			if s := d.stat(); s.RSSKiB > peak.RSSKiB {
				peak = s
			}
		}
		if err != nil {
			if !isReset(err) {
				t.Errorf("end of a capped output: %v, want a reset", err)
			}
			break
		}
	}
	// The output ends in a reset, and a reset makes the client's kernel
	// drop what it received but the client had not read yet: up to a
	// receive buffer (tcp_rmem's maximum is 6 MiB) may be missing.
	if n > capBytes || n < capBytes-(8<<20) {
		t.Errorf("client got %d bytes, cap %d", n, capBytes)
	}
	if !withinBaseline(base, peak) {
		t.Errorf("memory grew with the output: baseline %v, peak %v", base, peak)
	}
	t.Logf("%d bytes; baseline %v, peak %v", n, base, peak)
	waitLog(t, d, `"stopped": "output limit"`)
}

func TestCGIClientGoingAwayStopsTheProgram(t *testing.T) {
	root := cgiTree(t)
	d := startConfig(t, cgiConfig(t, root, map[string]any{"timeout": "60s", "kill-grace": "500ms"}))
	c := d.dial("")
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "/cgi-bin/forever.sh\r\n"); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 32)
	n, _ := c.Read(line)
	pgid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(line[:n]), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("first line %q", line[:n])
	}
	// Gone, with unread data: the next write fails.
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	waitLog(t, d, `"stopped": "client gone"`)
	deadline := time.Now().Add(10 * time.Second)
	for len(testutil.GroupMembers(pgid)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("group %d still alive long after the client left: %v", pgid, testutil.GroupMembers(pgid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCGIStderrFlood(t *testing.T) {
	root := cgiTree(t)
	d := startConfig(t, cgiConfig(t, root, nil))
	if got := string(d.get("/cgi-bin/stderr.sh")); got != "answered\n" {
		t.Errorf("response %q: stderr must not reach the client", got)
	}
	waitLog(t, d, "cgi: program wrote to stderr")
	for _, line := range strings.Split(d.log.String(), "\n") {
		if !strings.Contains(line, "program wrote to stderr") {
			continue
		}
		if strings.ContainsAny(line, "\x1b\x07") {
			t.Errorf("stderr logged unescaped: %q", line)
		}
		if len(line) > 4*4096+1024 || strings.Count(line, "E") > 4096+16 {
			t.Errorf("stderr logged past 4 KiB: %d bytes", len(line))
		}
		if !strings.Contains(line, `"stderr-bytes": 8388627`) || !strings.Contains(line, `x1b[31mred`) {
			t.Errorf("log line %.300q", line)
		}
	}
}

func TestCGIConcurrencyCaps(t *testing.T) {
	root := cgiTree(t)
	release := filepath.Join(t.TempDir(), "release")
	d := startConfig(t, cgiConfig(t, root, map[string]any{
		"max-concurrent": 2, "max-concurrent-per-ip": 1, "timeout": "30s",
		"env": map[string]any{"RELEASE_FILE": release},
	}))
	type result struct {
		body []byte
		err  error
	}
	hold := func(from string) chan result {
		c, err := dialFrom(d.addr, from, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(c, "/cgi-bin/wait.sh\r\n"); err != nil {
			t.Fatal(err)
		}
		first := make([]byte, len("running\n"))
		if _, err := io.ReadFull(c, first); err != nil || string(first) != "running\n" {
			t.Fatalf("from %s: %q, %v", from, first, err)
		}
		ch := make(chan result, 1)
		go func() {
			defer c.Close()
			rest, err := io.ReadAll(c)
			ch <- result{append(first, rest...), err}
		}()
		return ch
	}
	busy := func(from string) {
		t.Helper()
		body, err := fetch(d.addr, from, "/cgi-bin/wait.sh", 10*time.Second)
		if err != nil || !bytes.HasPrefix(body, []byte("3Server busy")) {
			t.Errorf("from %s: %q, %v; want a busy item", from, body, err)
		}
	}
	r1 := hold("127.0.0.1")
	busy("127.0.0.1") // the per-address cap
	r2 := hold("127.0.0.2")
	busy("127.0.0.3") // the cap in all
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, r := range []chan result{r1, r2} {
		if res := <-r; res.err != nil || string(res.body) != "running\nreleased\n" {
			t.Errorf("held run: %q, %v", res.body, res.err)
		}
	}
}

func TestCGIOverTLS(t *testing.T) {
	root := cgiTree(t)
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost", "127.0.0.1")
	cfg := cgiConfig(t, root, nil)
	cfg["tls"] = map[string]any{"certificate": certFile, "key": keyFile}
	d := startConfig(t, cfg)
	body, _ := tlsGet(t, d.addr, trusting(t, certFile), "/cgi-bin/env.pl")
	env := envOf(body)
	for k, v := range map[string]string{
		"SERVER_PROTOCOL": "GOPHERS", "TLS": "on", "HTTPS": "on", "GOPHERS": "on",
		"TLS_VERSION": "TLS 1.3", "TLS_SNI": "localhost",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.HasPrefix(env["TLS_CIPHER"], "TLS_") {
		t.Errorf("TLS_CIPHER = %q", env["TLS_CIPHER"])
	}
	// Plain on the same port: none of them.
	env = envOf(d.get("/cgi-bin/env.pl"))
	for _, k := range []string{"TLS", "HTTPS", "GOPHERS", "TLS_VERSION", "TLS_CIPHER", "TLS_SNI"} {
		if _, ok := env[k]; ok {
			t.Errorf("plain request has %s", k)
		}
	}
	if env["SERVER_PROTOCOL"] != "GOPHER" {
		t.Errorf("SERVER_PROTOCOL = %q", env["SERVER_PROTOCOL"])
	}
}

func TestCGIIPv6RemoteAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	root := cgiTree(t)
	for mode, want := range map[string]string{"full": "::1", "prefix": "::"} {
		t.Run(mode, func(t *testing.T) {
			cfg := cgiConfig(t, root, map[string]any{"remote-addr": mode})
			cfg["listen"] = map[string]any{"addr": "::1", "port": port}
			d := startConfig(t, cfg)
			body, local, err := d.exchange("/cgi-bin/env.pl")
			if err != nil {
				t.Fatal(err)
			}
			env := envOf(body)
			if env["REMOTE_ADDR"] != want || env["REMOTE_HOST"] != want {
				t.Errorf("REMOTE_ADDR %q REMOTE_HOST %q, want %q", env["REMOTE_ADDR"], env["REMOTE_HOST"], want)
			}
			wantPort := strconv.Itoa(local)
			if mode == "prefix" {
				wantPort = ""
			}
			if env["REMOTE_PORT"] != wantPort {
				t.Errorf("REMOTE_PORT %q, want %q", env["REMOTE_PORT"], wantPort)
			}
			d.kill()
		})
	}
}

func TestCGIReload(t *testing.T) {
	root := cgiTree(t)
	cfg := baseConfig(t, root)
	path := writeConfig(t, cfg)
	l := cfg["listen"].(map[string]any)
	d := start(t, net.JoinHostPort(l["addr"].(string), fmt.Sprint(l["port"])), path)
	if body := d.get("/cgi-bin/exit.sh/x"); string(body) == "partial output\n" {
		t.Fatalf("ran without a cgi section: %q", body)
	}
	rewrite := func(c map[string]any) {
		data := writeConfig(t, c)
		b, err := os.ReadFile(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d.signal(syscall.SIGHUP)
	}
	cgi := cgiConfig(t, root, nil)
	cgi["listen"] = cfg["listen"]
	rewrite(cgi)
	deadline := time.Now().Add(10 * time.Second)
	for string(d.get("/cgi-bin/exit.sh/x")) != "partial output\n" {
		if time.Now().After(deadline) {
			t.Fatalf("the cgi section was not applied on SIGHUP:\n%s", d.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A bad section keeps the running one, and says where.
	bad := cgiConfig(t, root, map[string]any{"timeout": "soon"})
	bad["listen"] = cfg["listen"]
	rewrite(bad)
	waitLog(t, d, `cgi.timeout: invalid duration \"soon\"`)
	if got := string(d.get("/cgi-bin/exit.sh/x")); got != "partial output\n" {
		t.Errorf("after a bad reload: %q", got)
	}
	noSource(t, "reload", d.get("/cgi-bin/exit.sh"))
}

func TestCGIConfigErrors(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct {
		cgi  map[string]any
		want string
	}{
		{map[string]any{"dirs": []any{map[string]any{"selector": "/cgi-bin"}}}, `cgi.dirs[0].selector: invalid selector "/cgi-bin": must start and end with "/"`},
		{map[string]any{"timeout": "10"}, `cgi.timeout: invalid duration "10"`},
		{map[string]any{"shell": true}, `cgi.shell: unknown key`},
		{map[string]any{"env": map[string]any{"QUERY_STRING": "x"}}, `cgi.env.QUERY_STRING: set by the gateway`},
	} {
		cfg := baseConfig(t, root)
		cfg["cgi"] = tt.cgi
		path := writeConfig(t, cfg)
		code, _, errOut := runGopherd(t, "--check", path)
		if code != 2 || !strings.Contains(errOut, path+":") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.cgi, code, errOut, tt.want)
		}
	}
}

// TestCGIExampleProgram runs the example the man page shows, etc/cgi/hello,
// as the man page sets it up.
func TestCGIExampleProgram(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "etc", "cgi", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"apps/hello": string(src)})
	if err := os.Chmod(filepath.Join(root, "apps", "hello"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t, root)
	cfg["cgi"] = map[string]any{"dirs": []any{map[string]any{"selector": "/apps/", "output": "menu"}}}
	d := startConfig(t, cfg)
	port := strconv.Itoa(d.port)
	info := func(s string) string { return "i" + s + "\t\tlocalhost\t" + port + "\r\n" }
	want := info("Hello from localhost, over GOPHER.") + info("You searched for: moles \\c and tabs") + info("") +
		"7Search again\t/apps/hello\tlocalhost\t" + port + "\r\n" +
		"1Back to the top\t/\tlocalhost\t" + port + "\r\n.\r\n"
	if got := string(d.get("/apps/hello\tmoles\t\\c and tabs")); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestCGIUnderSocketActivation: the listening sockets systemd passes in
// (descriptors 3 and up) and anything else gopherd inherited must not
// reach a program.
func TestCGIUnderSocketActivation(t *testing.T) {
	root := cgiTree(t)
	addrs := []string{fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	cfg := cgiConfig(t, root, nil)
	delete(cfg, "listen")
	d := startActivated(t, addrs, writeConfig(t, cfg))
	if got := string(d.get("/cgi-bin/fds.pl")); got != "0 1 2 3\n" {
		t.Errorf("descriptors open in the program: %q", got)
	}
}

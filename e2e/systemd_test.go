package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func needSocketActivate(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not installed (Debian package systemd; .ci/run installs it)")
	}
	return p
}

// startActivated runs gopherd under systemd-socket-activate with one
// listening socket per address.
func startActivated(t *testing.T, addrs []string, args ...string) *daemon {
	t.Helper()
	sa := needSocketActivate(t)
	var saArgs []string
	for _, a := range addrs {
		saArgs = append(saArgs, "-l", a)
	}
	saArgs = append(saArgs, gopherdBin)
	// systemd-socket-activate starts the service on the first connection,
	// as systemd does: make one in the background.
	go func() {
		for range 500 {
			c, err := net.DialTimeout("tcp", addrs[0], time.Second)
			if err == nil {
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = io.WriteString(c, "\r\n")
				_, _ = io.ReadAll(c)
				c.Close()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return startCmd(t, addrs[0], exec.Command(sa, append(saArgs, args...)...))
}

func TestSocketActivation(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d sockets", n), func(t *testing.T) {
			var addrs []string
			for range n {
				addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", freePort(t)))
			}
			// The config's listen is ignored: it names a port nobody may use.
			cfg := writeConfig(t, map[string]any{"root": root, "listen": map[string]any{"addr": "127.0.0.1", "port": 1}})
			d := startActivated(t, addrs, cfg)
			_, firstPort, _ := net.SplitHostPort(addrs[0])
			for _, a := range addrs {
				d.addr = a
				got := string(d.get("/"))
				want := "0a.txt\t/a.txt\tlocalhost\t" + firstPort + "\r\n.\r\n"
				if got != want {
					t.Errorf("via %s: got %q, want %q", a, got, want)
				}
			}
			// The line says what is ignored and what is not: a listen
			// entry with a socket's port still gives it its tls mode
			// (issue 16: it used to say listen was ignored outright).
			if !strings.Contains(d.log.String(), `socket activation: serving the inherited sockets instead of "listen"; a listen entry with a socket's port lends it its tls mode`) {
				t.Errorf("no socket activation log line saying what listen still does:\n%s", d.log)
			}
		})
	}
}

func TestSocketActivationAcceptYesRefused(t *testing.T) {
	sa := needSocketActivate(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var out syncBuffer
	cmd := exec.Command(sa, "--accept", "-l", addr, gopherdBin, "-r", t.TempDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var c net.Conn
	var err error
	for range 100 {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.ReadAll(c) // gopherd must exit, closing the connection
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "not a listening socket") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "not a listening socket") || !strings.Contains(out.String(), "Accept=no") {
		t.Fatalf("want a clear Accept=yes error, got:\n%s", out.String())
	}
}

// notifySocket listens on a unixgram socket like systemd's NOTIFY_SOCKET.
func notifySocket(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, path
}

func readNotify(t *testing.T, c *net.UnixConn, want string) string {
	t.Helper()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(15 * time.Second)
	var seen []string
	for {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %q: %v (seen %q)", want, err, seen)
		}
		msg := string(buf[:n])
		seen = append(seen, msg)
		if strings.HasPrefix(msg, "WATCHDOG=1") {
			continue
		}
		if !strings.Contains(msg, want) {
			t.Fatalf("want %q next, got %q", want, msg)
		}
		return msg
	}
}

func TestSdNotify(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	ns, path := notifySocket(t)
	cfg := baseConfig(t, root)
	l := cfg["listen"].(map[string]any)
	cmd := exec.Command(gopherdBin, writeConfig(t, cfg))
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+path, "WATCHDOG_USEC=200000")
	d := startCmd(t, fmt.Sprintf("127.0.0.1:%d", l["port"]), cmd)

	if msg := readNotify(t, ns, "READY=1"); !strings.Contains(msg, "STATUS=") {
		t.Errorf("READY without STATUS: %q", msg)
	}
	// The watchdog pings at half of WATCHDOG_USEC.
	_ = ns.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	if n, err := ns.Read(buf); err != nil || string(buf[:n]) != "WATCHDOG=1" {
		t.Errorf("want WATCHDOG=1, got %q, %v", buf[:n], err)
	}
	d.signal(syscall.SIGHUP)
	if msg := readNotify(t, ns, "RELOADING=1"); !strings.Contains(msg, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING without MONOTONIC_USEC: %q", msg)
	}
	readNotify(t, ns, "READY=1")
	d.signal(syscall.SIGTERM)
	readNotify(t, ns, "STOPPING=1")
	if code := d.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestReloadHostnameDuringTransfer(t *testing.T) {
	root := t.TempDir()
	big := bytes.Repeat([]byte("reload!!"), 2<<20) // 16 MiB
	writeTree(t, root, map[string]string{"a.txt": "a\n", "big.bin": string(big)})
	cfg := baseConfig(t, root)
	cfgPath := writeConfig(t, cfg)
	l := cfg["listen"].(map[string]any)
	d := start(t, fmt.Sprintf("127.0.0.1:%d", l["port"]), cfgPath)
	if got := string(d.get("/")); !strings.Contains(got, "\tlocalhost\t") {
		t.Fatalf("before reload: %q", got)
	}

	c := d.dial("")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "/big.bin\r\n")
	head := make([]byte, 1<<16)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}

	cfg["hostname"] = "gopher.example.org"
	data := writeConfig(t, cfg)
	raw, _ := os.ReadFile(data)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	waitLog(t, d, "configuration reloaded")
	if got := string(d.get("/")); !strings.Contains(got, "\tgopher.example.org\t") {
		t.Fatalf("after reload: %q", got)
	}
	rest, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(append(head, rest...), big) {
		t.Fatalf("transfer in flight broken by reload: %d bytes, %v", len(head)+len(rest), err)
	}

	// A broken config keeps the running one.
	os.WriteFile(cfgPath, []byte(`{"root": "/nonexistent", "hostname": 5}`), 0o644)
	d.signal(syscall.SIGHUP)
	waitLog(t, d, "reload failed")
	if got := string(d.get("/")); !strings.Contains(got, "\tgopher.example.org\t") {
		t.Fatalf("after broken reload: %q", got)
	}
}

func waitLog(t *testing.T, d *daemon, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, d.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs as root)")
	}
}

// worldReadableTree makes a tree (and its parents up to the temp dir) that
// user nobody can read.
func worldReadableTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	for _, p := range []string{base, filepath.Dir(base), root} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// staticBinary builds gopherd as make ships it (CGO_ENABLED=0, no race
// detector): only such a build can set no_new_privs and empty the
// capability bounding set on every thread (see cmd/gopherd/nonewprivs_linux.go),
// and the race detector needs cgo.
func staticBinary(t *testing.T) string {
	t.Helper()
	staticOnce.Do(func() {
		// Next to gopherdBin, whose directory TestMain removes.
		staticBin = filepath.Join(filepath.Dir(gopherdBin), "gopherd-static")
		cmd := exec.Command("go", "build", "-o", staticBin, "../cmd/gopherd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticErr = fmt.Errorf("building gopherd with CGO_ENABLED=0: %v\n%s", err, out)
		}
	})
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return staticBin
}

var (
	staticOnce sync.Once
	staticBin  string
	staticErr  error
)

// TestPrivilegeDrop starts gopherd as root with a user (by name and by
// number) and without one, and reads every thread's /proc status: the
// switched ids, no supplementary group of root's, no_new_privs set and an
// empty capability bounding set, so that nothing the daemon runs can gain
// privileges through a setuid binary or file capabilities.
func TestPrivilegeDrop(t *testing.T) {
	needRoot(t)
	bin := staticBinary(t)
	for _, user := range []string{"nobody", "65534:65534", ""} {
		name := user
		if name == "" {
			name = "root-without-user"
		}
		t.Run(name, func(t *testing.T) {
			root := worldReadableTree(t)
			// A gateway program reports what it inherited.
			writeTree(t, root, map[string]string{"cgi-bin/status": "#!/bin/sh\ngrep -E '^(Uid|NoNewPrivs|CapBnd):' /proc/self/status\n"})
			for _, p := range []string{filepath.Join(root, "cgi-bin"), filepath.Join(root, "cgi-bin", "status")} {
				if err := os.Chmod(p, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cfg := baseConfig(t, root)
			cfg["cgi"] = map[string]any{"dirs": []any{map[string]any{"selector": "/cgi-bin/"}}}
			id := "65534"
			if user != "" {
				cfg["user"] = user
			} else {
				id = "0"
			}
			l := cfg["listen"].(map[string]any)
			d := startCmd(t, fmt.Sprintf("127.0.0.1:%d", l["port"]), exec.Command(bin, writeConfig(t, cfg)))
			if got := string(d.get("/a.txt")); got != "a\n" {
				t.Fatalf("after drop: %q", got)
			}
			prog := string(d.get("/cgi-bin/status"))
			for _, want := range []string{"NoNewPrivs:\t1\n", "CapBnd:\t0000000000000000\n", "Uid:\t" + id + "\t"} {
				if !strings.Contains(prog, want) {
					t.Errorf("a gateway program's status lacks %q:\n%s", want, prog)
				}
			}
			tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", d.cmd.Process.Pid))
			if err != nil || len(tasks) == 0 {
				t.Fatalf("no tasks: %v", err)
			}
			for _, task := range tasks {
				status, err := os.ReadFile(task)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for _, line := range strings.Split(string(status), "\n") {
					f := strings.Fields(line)
					if len(f) == 0 {
						continue
					}
					seen[f[0]] = true
					switch f[0] {
					case "Uid:", "Gid:":
						for _, v := range f[1:] {
							if v != id {
								t.Errorf("%s: %s", task, line)
							}
						}
					case "Groups:":
						for _, v := range f[1:] {
							if user != "" && v != "65534" {
								t.Errorf("%s: %s (root's groups survived)", task, line)
							}
						}
					case "NoNewPrivs:":
						if len(f) != 2 || f[1] != "1" {
							t.Errorf("%s: %s, want no_new_privs set", task, line)
						}
					case "CapBnd:":
						if len(f) != 2 || strings.Trim(f[1], "0") != "" {
							t.Errorf("%s: %s, want an empty bounding set", task, line)
						}
					}
				}
				for _, k := range []string{"NoNewPrivs:", "CapBnd:"} {
					if !seen[k] {
						t.Errorf("%s has no %s line", task, k)
					}
				}
			}
		})
	}
}

func TestPrivilegeDropUnknownUser(t *testing.T) {
	cfg := baseConfig(t, t.TempDir())
	cfg["user"] = "no-such-user-gopherd"
	code, _, errOut := runGopherd(t, writeConfig(t, cfg))
	if code != 1 || !strings.Contains(errOut, "no-such-user-gopherd") {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
}

// TestUserWithoutRoot starts gopherd as an unprivileged account: a "user"
// naming that same account is fine, any other exits 1.
func TestUserWithoutRoot(t *testing.T) {
	needRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	asNobody := func(cfg map[string]any) *exec.Cmd {
		return exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", gopherdBin, writeConfig(t, cfg))
	}
	cfg := baseConfig(t, worldReadableTree(t))
	// The binary lives in a 0700 temp dir; nobody must be able to run it.
	if err := os.Chmod(filepath.Dir(gopherdBin), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg["user"] = "nobody"
	l := cfg["listen"].(map[string]any)
	d := startCmd(t, fmt.Sprintf("127.0.0.1:%d", l["port"]), asNobody(cfg))
	if got := string(d.get("/a.txt")); got != "a\n" {
		t.Fatalf("as nobody with user nobody: %q", got)
	}
	waitLog(t, d, "already running as the configured user")

	cfg = baseConfig(t, worldReadableTree(t))
	cfg["user"] = "daemon"
	var out bytes.Buffer
	cmd := asNobody(cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out.String(), "cannot switch to user daemon") {
		t.Fatalf("as nobody with user daemon: %v\n%s", err, out.String())
	}
}

// TestSocketActivationMetricsSocket passes a second socket named
// "metrics", as a gopherd-metrics.socket unit with
// FileDescriptorName=metrics would: gopherd serves its metrics there and
// Gopher on the other socket only.
func TestSocketActivationMetricsSocket(t *testing.T) {
	sa := needSocketActivate(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	gopherAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := writeConfig(t, map[string]any{"root": root, "listen": map[string]any{"addr": "127.0.0.1", "port": 1}})
	go func() {
		for range 500 {
			c, err := net.DialTimeout("tcp", gopherAddr, time.Second)
			if err == nil {
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = io.WriteString(c, "\r\n")
				_, _ = io.ReadAll(c)
				c.Close()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	d := startCmd(t, gopherAddr, exec.Command(sa, "-l", gopherAddr, "-l", metricsAddr, "--fdname=gopher:metrics", gopherdBin, cfg))
	if got := string(d.get("/a.txt")); got != "a\n" {
		t.Errorf("Gopher on the first socket: %q", got)
	}
	c, err := net.DialTimeout("tcp", metricsAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.WriteString(c, "GET /metrics HTTP/1.0\r\n\r\n")
	body, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(body), "HTTP/1.0 200 OK") || !strings.Contains(string(body), "\ngopherd_requests_total{served=\"file\"} 1\n") {
		t.Errorf("metrics on the socket named metrics:\n%s", body)
	}
}

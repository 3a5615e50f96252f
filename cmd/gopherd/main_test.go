package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopherd/internal/testutil"
)

// patience bounds every wait; nothing should come near it.
const patience = 10 * time.Second

// running is gopherd started in-process by MustRunMain.
type running struct {
	*Main
	t    *testing.T
	log  *testutil.SyncBuffer
	addr string // the first listener's address
}

// MustRunMain starts gopherd in-process, exactly as main does, with args;
// unless args hold a --listen, it listens on 127.0.0.1:0 and the bound
// address is read back, so no port is ever guessed. The daemon is closed
// when the test ends.
func MustRunMain(t *testing.T, args ...string) *running {
	t.Helper()
	hasListen := false
	for _, a := range args {
		if a == "-l" || strings.HasPrefix(a, "--listen") {
			hasListen = true
		}
	}
	if !hasListen {
		args = append([]string{"--listen", "127.0.0.1:0"}, args...)
	}
	return mustStart(t, args...)
}

// mustStart starts gopherd in-process with exactly args: for a
// configuration file's own listen entries.
func mustStart(t *testing.T, args ...string) *running {
	t.Helper()
	log := &testutil.SyncBuffer{}
	m := &Main{Stdout: io.Discard, Stderr: log, Version: "test"}
	if err := m.ParseFlags(args); err != nil {
		t.Fatalf("ParseFlags(%q): %v", args, err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, log)
	}
	t.Cleanup(func() { _ = m.Close() })
	addrs := m.Addrs()
	if len(addrs) == 0 {
		t.Fatal("no listener")
	}
	return &running{Main: m, t: t, log: log, addr: addrs[0].String()}
}

// get sends a request line and returns the whole response.
func (r *running) get(request string) string {
	r.t.Helper()
	return fetch(r.t, r.addr, request)
}

func fetch(t *testing.T, addr, request string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", request, err)
	}
	return string(b)
}

// writeFiles creates files under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeJSON writes v as the configuration file path.
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMainServes(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a.txt": "hello\n", "sub/b.txt": "b\n"})
	r := MustRunMain(t, "--root", root, "--hostname", "gopher.test")
	_, port, _ := net.SplitHostPort(r.addr)
	menu := r.get("/")
	for _, want := range []string{"0a.txt\t/a.txt\tgopher.test\t" + port + "\r\n", "1sub\t/sub\tgopher.test\t" + port + "\r\n"} {
		if !strings.Contains(menu, want) {
			t.Errorf("menu lacks %q:\n%s", want, menu)
		}
	}
	if got := r.get("/a.txt"); got != "hello\n" {
		t.Errorf("file: %q", got)
	}
	if got := r.get("/caps.txt"); !strings.Contains(got, "ServerVersion=test\n") {
		t.Errorf("caps.txt: %q", got)
	}
	if got := r.get("URL:https://example.org/"); !strings.Contains(got, `<a href="https://example.org/">`) {
		t.Errorf("URL: page: %q", got)
	}
	if !strings.Contains(r.log.String(), "gopherd started") {
		t.Errorf("no start line in the log:\n%s", r.log)
	}
}

func TestMainReload(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a.txt": "a\n"})
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := map[string]any{"hostname": "one.test", "root": root, "listen": map[string]any{"addr": "127.0.0.1", "port": testutil.FreePort(t)}}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	if !strings.Contains(r.get("/"), "\tone.test\t") {
		t.Fatal("hostname one.test not served")
	}

	cfg["hostname"] = "two.test"
	cfg["log"] = map[string]any{"level": "debug"}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if !strings.Contains(r.get("/"), "\ttwo.test\t") {
		t.Fatalf("reload did not apply the new hostname:\n%s", r.log)
	}

	// A broken configuration keeps the running one.
	if err := os.WriteFile(cfgPath, []byte(`{"root": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Reload()
	if !strings.Contains(r.get("/"), "\ttwo.test\t") || !strings.Contains(r.log.String(), "reload failed, keeping the running configuration") {
		t.Fatalf("broken config was not refused:\n%s", r.log)
	}

	// Keys that need a restart say so and change nothing else.
	cfg["user"] = "nobody"
	cfg["listen"] = map[string]any{"addr": "127.0.0.1", "port": testutil.FreePort(t)}
	cfg["log"] = map[string]any{"enable": true, "hide-time": true}
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	for _, want := range []string{"listen changed: ignored until restart", "user changed: ignored until restart", "log.hide-time changes: ignored until restart"} {
		if !strings.Contains(r.log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestMainShutdownLetsTransferFinish(t *testing.T) {
	root := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	writeFiles(t, root, map[string]string{"big.bin": string(big)})
	r := MustRunMain(t, "--root", root)
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, "/big.bin\r\n"); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1024)
	if _, err := io.ReadFull(c, first); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		r.Stopping(syscall.SIGTERM)
		done <- r.Shutdown(ctx)
	}()
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(first, rest...); !bytes.Equal(got, big) {
		t.Errorf("transfer cut by shutdown: %d of %d bytes", len(got), len(big))
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
		t.Error("still accepting after Shutdown")
	}
	if !strings.Contains(r.log.String(), "shutting down: finishing transfers in flight") || !strings.Contains(r.log.String(), "stopped") {
		t.Errorf("shutdown not logged:\n%s", r.log)
	}
}

// runProgram runs the whole program, main's run, with sigs as its
// signals, and returns its exit code and output.
func runProgram(t *testing.T, sigs <-chan os.Signal, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut testutil.SyncBuffer
	if sigs == nil {
		sigs = make(chan os.Signal)
	}
	code := run(args, streams{Stdout: &out, Stderr: &errOut}, sigs)
	return code, out.String(), errOut.String()
}

func TestRunExitCodes(t *testing.T) {
	root := t.TempDir()
	good := filepath.Join(t.TempDir(), "good.json")
	writeJSON(t, good, map[string]any{"root": root})
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"root\": 7\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args        []string
		code        int
		out, stderr string
	}{
		{[]string{"--help"}, 0, "Usage: gopherd", ""},
		{[]string{"--version"}, 0, "gopherd dev\n", ""},
		{[]string{"--no-such-flag"}, 2, "", "Usage: gopherd"},
		{[]string{"a.json", "b.json"}, 2, "", "at most one config file"},
		{[]string{"--listen", "nonsense"}, 2, "", "want ADDR:PORT"},
		{[]string{"--check", good}, 0, "configuration OK", ""},
		{[]string{"--check", bad}, 2, "", "bad.json:2: root: must be a string"},
		{[]string{"cert"}, 2, "", "--host is required"},
		{[]string{"cert", "--help"}, 0, "Usage: gopherd cert", ""},
	} {
		code, out, errOut := runProgram(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out, errOut, tc.code, tc.out, tc.stderr)
		}
	}
}

// TestRunFatalErrorWithLoggingOff: the reason to exit reaches stderr even
// with the log switched off (issue 16 item 6).
func TestRunFatalErrorWithLoggingOff(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	writeJSON(t, cfgPath, map[string]any{"root": t.TempDir(), "log": map[string]any{"enable": false},
		"listen": map[string]any{"addr": "127.0.0.1", "port": busy.Addr().(*net.TCPAddr).Port}})
	code, _, errOut := runProgram(t, nil, cfgPath)
	if code != 1 || !strings.Contains(errOut, "address already in use") {
		t.Errorf("exit %d, stderr %q: want 1 and the bind error", code, errOut)
	}
	if strings.Count(errOut, busy.Addr().String()) != 1 {
		t.Errorf("the address is repeated: %q", errOut)
	}
}

// TestRunSignals drives the daemon loop with signals: SIGHUP reloads,
// SIGTERM stops with exit 0, and a second signal cuts transfers at once.
func TestRunSignals(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"big.bin": strings.Repeat("x", 8<<20)})
	port := testutil.FreePort(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := map[string]any{"hostname": "one.test", "root": root, "listen": map[string]any{"addr": "127.0.0.1", "port": port}}
	writeJSON(t, cfgPath, cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	sigs := make(chan os.Signal, 4)
	// A SIGHUP queued before the daemon is up is applied, not fatal.
	sigs <- syscall.SIGHUP
	var errOut testutil.SyncBuffer
	exited := make(chan int, 1)
	go func() { exited <- run([]string{cfgPath}, streams{Stdout: io.Discard, Stderr: &errOut}, sigs) }()
	waitFor(t, "the daemon to start", func() bool { return strings.Count(errOut.String(), "configuration reloaded") == 1 })

	cfg["hostname"] = "two.test"
	writeJSON(t, cfgPath, cfg)
	sigs <- syscall.SIGHUP
	waitFor(t, "the second reload", func() bool { return strings.Count(errOut.String(), "configuration reloaded") == 2 })
	if !strings.Contains(fetch(t, addr, "/"), "\ttwo.test\t") {
		t.Error("SIGHUP did not reload")
	}

	// A client that reads nothing keeps a transfer in flight; the second
	// signal cuts it instead of waiting for the grace period.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "/big.bin\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the transfer to start", func() bool { return true })
	time.Sleep(100 * time.Millisecond)
	sigs <- syscall.SIGTERM
	waitFor(t, "shutdown to begin", func() bool { return strings.Contains(errOut.String(), "shutting down") })
	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(patience):
		t.Fatalf("second signal did not cut the transfer:\n%s", errOut.String())
	}
	if !strings.Contains(errOut.String(), "second signal: closing connections now") {
		t.Errorf("second signal not logged:\n%s", errOut.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestListenerFailureIsReported: a listener that stops serving for any
// reason but a shutdown reaches Failed, which main turns into exit 1.
func TestListenerFailureIsReported(t *testing.T) {
	r := MustRunMain(t, "--root", t.TempDir())
	_ = r.d.listeners[0].Close()
	select {
	case err := <-r.Failed():
		if !strings.Contains(err.Error(), "listener "+r.addr+" failed") {
			t.Errorf("failure: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("listener failure not reported")
	}
	var ee error = &exitError{code: 2, err: io.ErrUnexpectedEOF}
	if ee.Error() != io.ErrUnexpectedEOF.Error() || (&exitError{code: 3}).Error() != "exit 3" {
		t.Errorf("exitError texts: %q", ee.Error())
	}
}

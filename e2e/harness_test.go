// Package e2e holds end-to-end tests: they build the real gopherd binary,
// start it on loopback ports with real configs and real trees, and speak
// Gopher to it.
package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopherd/internal/testutil"
)

// gopherdBin is the binary built once by TestMain.
var gopherdBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// coverDirEnv names a directory for coverage counters ("make cover"): the
// binary is then built with -cover and every gopherd a test starts writes
// its counters there (GOCOVERDIR), so that end-to-end runs count in the
// coverage of cmd/gopherd and internal/ beside the unit tests.
const coverDirEnv = "GOPHERD_COVERDIR"

func runMain(m *testing.M) int {
	flag.Parse() // for testing.Short in slow
	if dir := os.Getenv(coverDirEnv); dir != "" {
		// Inherited by every process the tests start, wrappers included.
		if err := os.Setenv("GOCOVERDIR", dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// GOPHERD_E2E_BIN runs the suite against a binary built elsewhere,
	// such as the last release, for before-and-after figures.
	if bin := os.Getenv("GOPHERD_E2E_BIN"); bin != "" {
		gopherdBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "gopherd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gopherdBin = filepath.Join(dir, "gopherd")
	if out, err := buildGopherd(gopherdBin).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gopherd: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// buildGopherd returns the command that builds the binary under test into
// out, with the race detector when the tests run under it, and extra -X
// settings for the linker.
func buildGopherd(out string, xflags ...string) *exec.Cmd {
	ldflags := "-X main.version=e2e-test"
	for _, x := range xflags {
		ldflags += " -X " + x
	}
	args := []string{"build", "-o", out, "-ldflags", ldflags}
	if raceEnabled {
		args = append(args, "-race")
	}
	if os.Getenv(coverDirEnv) != "" {
		// The same mode as the unit tests' -covermode, or covdata
		// cannot merge the two.
		args = append(args, "-cover", "-covermode=atomic", "-coverpkg=gopherd/cmd/...,gopherd/internal/...")
	}
	return exec.Command("go", append(args, "../cmd/gopherd")...)
}

// daemon is a gopherd process started by a test.
type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	port int
	log  *syncBuffer
	done chan struct{}
	err  error
}

// writeConfig writes cfg as JSON into a temp file and returns its path.
func writeConfig(t *testing.T, cfg any) string {
	t.Helper()
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gopherd.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// baseConfig is a config serving root on a free loopback port, logging at
// debug so tests can read what happened.
func baseConfig(t *testing.T, root string) map[string]any {
	return map[string]any{
		"hostname": "localhost",
		"root":     root,
		"listen":   map[string]any{"addr": "127.0.0.1", "port": freePort(t)},
		"log":      map[string]any{"level": "debug"},
	}
}

// startConfig starts gopherd with a config map.
func startConfig(t *testing.T, cfg map[string]any, extra ...string) *daemon {
	t.Helper()
	return start(t, configAddr(cfg), append(extra, writeConfig(t, cfg))...)
}

// configAddr is the address of cfg's listener.
func configAddr(cfg map[string]any) string {
	l := cfg["listen"].(map[string]any)
	return net.JoinHostPort(l["addr"].(string), fmt.Sprint(l["port"]))
}

// start runs gopherd with args and waits until addr accepts connections.
func start(t *testing.T, addr string, args ...string) *daemon {
	t.Helper()
	return startDir(t, "", addr, args...)
}

func startDir(t *testing.T, dir, addr string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(gopherdBin, args...)
	cmd.Dir = dir
	return startCmd(t, addr, cmd)
}

// startCmd starts cmd (gopherd, possibly behind a wrapper) and waits for its
// startup log line.
func startCmd(t *testing.T, addr string, cmd *exec.Cmd) *daemon {
	t.Helper()
	return startCmdVia(t, addr, cmd, nil)
}

// startCmdVia is startCmd with gopherd's output written to via(log)
// instead of the daemon's log: a writer that counts or filters lines
// before keeping them there.
func startCmdVia(t *testing.T, addr string, cmd *exec.Cmd, via func(log *syncBuffer) io.Writer) *daemon {
	t.Helper()
	d := &daemon{t: t, addr: addr, log: &syncBuffer{}, done: make(chan struct{}), cmd: cmd}
	_, port, _ := net.SplitHostPort(addr)
	fmt.Sscan(port, &d.port)
	var out io.Writer = d.log
	if via != nil {
		out = via(d.log)
	}
	d.cmd.Stdout, d.cmd.Stderr = out, out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(d.kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-d.done:
			t.Fatalf("gopherd exited early: %v\n%s", d.err, d.log)
		default:
		}
		if strings.Contains(d.log.String(), "gopherd started") {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("gopherd did not start within 20s:\n%s", d.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startPeer starts cmd, another server for a differential test, with its
// output in log; kills it when the test ends; and waits up to wait for the
// line ready in its output, the peer's own word that it listens.
func startPeer(t *testing.T, name string, cmd *exec.Cmd, log *syncBuffer, ready string, wait time.Duration) {
	t.Helper()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) did not exit within 10s of SIGKILL", name, cmd.Process.Pid)
		}
	})
	deadline := time.Now().Add(wait)
	for !strings.Contains(log.String(), ready) {
		select {
		case <-done:
			t.Fatalf("%s exited early:\n%s", name, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start within %v:\n%s", name, wait, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemon) kill() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Kill()
	<-d.done
}

// signal sends sig to the daemon.
func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

// wait waits for the daemon to exit and returns its exit code.
func (d *daemon) wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.t.Fatalf("gopherd did not exit within %v:\n%s", timeout, d.log)
	}
	if d.cmd.ProcessState == nil {
		return -1
	}
	return d.cmd.ProcessState.ExitCode()
}

// dial connects to the daemon, from source address src when non-empty.
func (d *daemon) dial(src string) net.Conn {
	d.t.Helper()
	dialer := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := dialer.Dial("tcp", d.addr)
	if err != nil {
		d.t.Fatalf("dial %s: %v", d.addr, err)
	}
	return c
}

// get sends request (a raw line, CRLF added) and returns the whole response.
func (d *daemon) get(request string) []byte {
	d.t.Helper()
	return d.getFrom("", request)
}

func (d *daemon) getFrom(src, request string) []byte {
	d.t.Helper()
	c := d.dial(src)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		d.t.Fatalf("write %q: %v", request, err)
	}
	body, err := io.ReadAll(c)
	if err != nil {
		d.t.Fatalf("read response to %q: %v", request, err)
	}
	return body
}

// runGopherd runs the binary to completion and returns its exit code and
// output streams.
func runGopherd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(gopherdBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// writeTree creates files under dir: a key ending in "/" is a directory.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startIn starts gopherd with args in working directory dir.
func startIn(t *testing.T, dir, addr string, args ...string) *daemon {
	t.Helper()
	return startDir(t, dir, addr, args...)
}

// slow skips a test that takes a second or more under "go test -short"
// (make check-fast): the attacks that wait for timeouts, the floods, the
// soak, the programs run alongside. make test runs them all.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow end-to-end test: left out by -short (make check-fast); make test runs it")
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int { return testutil.FreePort(t) }

// checkGolden compares got with testdata/name; -update rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.CheckGolden(t, filepath.Join("testdata", name), got, *update)
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer = testutil.SyncBuffer

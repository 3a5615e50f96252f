//go:build linux

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Hostile clients, round two (issue 20): what a client, or a stalled log
// reader, can make the daemon do at its default limits.

func TestStalledLogReader(t *testing.T) {
	slow(t)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"about.txt": "about\n"})
	cfg := baseConfig(t, root)
	l := cfg["listen"].(map[string]any)
	addr := net.JoinHostPort(l["addr"].(string), fmt.Sprint(l["port"]))

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(gopherdBin, writeConfig(t, cfg))
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	for end := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatal("gopherd did not start listening")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Each request logs an access line of about 150 bytes: 10,000 of them
	// are far more than the pipe and the log's own buffer (1 MiB) hold.
	run := func(n int) latencies {
		var lat latencies
		for i := range n {
			start := time.Now()
			got, err := fetch(addr, "", "/about.txt", livenessBound)
			if err != nil || string(got) != "about\n" {
				t.Fatalf("request %d with the log reader stalled: %q, %v", i, got, err)
			}
			lat = append(lat, time.Since(start))
		}
		return lat
	}
	stalled := run(10000)

	// The reader comes back: it gets the lines that fitted, then the
	// report of those that did not.
	logs := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		logs <- string(b)
	}()
	reading := run(2000)
	t.Logf("request latency with the log reader stalled: %v; reading: %v", stalled, reading)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("gopherd did not stop")
	}
	log := <-logs
	report := ""
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "log lines dropped") {
			report = line
		}
	}
	if report == "" || !strings.Contains(report, `"dropped": `) {
		t.Errorf("no report of the dropped lines in the log (%d bytes)", len(log))
	}
	t.Logf("drop report: %s", report)
	if !strings.Contains(log, "stopped") {
		t.Error("the log lost its last lines: no \"stopped\"")
	}
}

// cutTransferSize is the file the curl tests fetch: 100 MB, as in the
// issue, sparse so that it costs no disk.
const cutTransferSize = 100_000_000

// curlCut fetches a 100 MB file with the real curl -o while cut does
// something to the transfer, and returns curl's exit code, the bytes curl
// wrote and the daemon's log.
func curlCut(t *testing.T, limits map[string]any, cut func(d *daemon, curl *exec.Cmd)) (int, int64, string) {
	t.Helper()
	curl := needTool(t, "curl")
	root := t.TempDir()
	f, err := os.Create(root + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(cutTransferSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg := baseConfig(t, root)
	if limits != nil {
		cfg["limits"] = limits
	}
	d := startConfig(t, cfg)
	out := t.TempDir() + "/out"
	// Slow enough that the transfer is under way when it is cut.
	cmd := exec.Command(curl, "-sS", "--max-time", "30", "--limit-rate", "4M", "-o", out, "gopher://"+d.addr+"/9/big.bin")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() { _ = cmd.Process.Kill(); <-done }()
	for end := time.Now().Add(10 * time.Second); ; {
		if fi, err := os.Stat(out); err == nil && fi.Size() >= 1<<20 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("curl got nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cut(d, cmd)
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("curl did not end")
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), fi.Size(), d.log.String()
}

// TestCurlSeesCutTransfers cuts a 100 MB transfer to curl -o in the ways
// a daemon cuts one: a second SIGTERM during the shutdown grace, and the
// idle timeout (curl is stopped with SIGSTOP for longer than it, then
// resumed). Each time curl must exit with an error, not 0 with part of the
// file, and the access log must say why the transfer was cut.
func TestCurlSeesCutTransfers(t *testing.T) {
	slow(t)
	for _, tt := range []struct {
		name   string
		limits map[string]any
		cut    func(d *daemon, curl *exec.Cmd)
		want   []string // the access log's cut field: one of these
	}{
		{"second SIGTERM", nil, func(d *daemon, _ *exec.Cmd) {
			d.signal(syscall.SIGTERM)
			time.Sleep(300 * time.Millisecond) // the shutdown grace has begun
			d.signal(syscall.SIGTERM)
			d.wait(10 * time.Second)
		}, []string{`"cut": "shutdown"`}},
		{"idle timeout", map[string]any{"idle-timeout": "1s"}, func(d *daemon, curl *exec.Cmd) {
			_ = curl.Process.Signal(syscall.SIGSTOP)
			waitLog(t, d, `"cut": "`)
			_ = curl.Process.Signal(syscall.SIGCONT)
			// A stopped client's kernel may still trickle a little of
			// its buffer free, so the read-rate floor can be first.
		}, []string{`"cut": "idle-timeout"`, `"cut": "slow-reader"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, got, log := curlCut(t, tt.limits, tt.cut)
			t.Logf("curl exit %d with %d of %d bytes", code, got, cutTransferSize)
			if code == 0 || got >= cutTransferSize {
				t.Errorf("curl exit %d with %d of %d bytes: the cut transfer looks complete", code, got, cutTransferSize)
			}
			found := false
			for _, w := range tt.want {
				found = found || strings.Contains(log, w)
			}
			if !found {
				t.Errorf("access log lacks %s:\n%s", strings.Join(tt.want, " or "), log)
			}
		})
	}
}

// TestNonReadingClientCut requests a 100 MB file, reads 1 MiB of it and
// stops reading, with the default (autotuned) socket buffers. The idle
// timeout must cut it that long after its kernel took the last byte (the
// test watches the client's own TCP_INFO), not when the buffers on both
// sides have filled write by write, and the cut must be a reset: what the
// client then holds it knows to be incomplete. GOPHERD_IDLE_TIMEOUT sets
// the timeout (default 2s; "30s" measures the daemon's default).
func TestNonReadingClientCut(t *testing.T) {
	slow(t)
	idle := 2 * time.Second
	if v := os.Getenv("GOPHERD_IDLE_TIMEOUT"); v != "" {
		var err error
		if idle, err = time.ParseDuration(v); err != nil {
			t.Fatalf("GOPHERD_IDLE_TIMEOUT: %v", err)
		}
	}
	root := t.TempDir()
	f, err := os.Create(root + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(cutTransferSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg := baseConfig(t, root)
	cfg["limits"] = map[string]any{"idle-timeout": idle.String()}
	d := startConfig(t, cfg)
	c, err := dialFrom(d.addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "/big.bin\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	look := func() (received uint64, state uint8) {
		_ = rc.Control(func(fd uintptr) {
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				received, state = info.Bytes_received, info.State
			}
		})
		return received, state
	}
	// The daemon ends the transfer when the client's socket leaves
	// ESTABLISHED (a reset or a FIN arrived) or, if the FIN is stuck
	// behind the data the client does not read, when the access log line
	// appears.
	last, _ := look()
	lastAt := time.Now()
	for {
		n, state := look()
		if state != unix.BPF_TCP_ESTABLISHED || strings.Contains(d.log.String(), `"selector": "/big.bin"`) {
			break
		}
		if n != last {
			last, lastAt = n, time.Now()
		}
		if time.Since(stopped) > 5*idle+10*time.Second {
			t.Fatalf("not cut %v after the client stopped reading", time.Since(stopped))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cutAt := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.Copy(io.Discard, c)
	held := 1<<20 + rest
	complete := err == nil // a clean end: the client believes it has the file
	believes := int64(0)
	if complete {
		believes = held
	}
	t.Logf("idle-timeout %v: cut %v after the client stopped reading, %v after its last byte; it holds %d bytes and believes %d are the whole file (end: %v)",
		idle, cutAt.Sub(stopped).Round(10*time.Millisecond), cutAt.Sub(lastAt).Round(10*time.Millisecond), held, believes, err)
	if complete {
		t.Errorf("the cut ended in a clean close: the client takes %d of %d bytes for the whole file", held, cutTransferSize)
	}
	if took := cutAt.Sub(lastAt); took < idle-idle/10 || took > idle+idle/2 {
		t.Errorf("cut %v after the client took its last byte, want the idle timeout %v (+50%%)", took, idle)
	}
}

// TestTLSBusyOverOpenSSL: a TLS client over a cap (here the per-address
// one, held by a silent connection) gets the busy item over TLS, as
// openssl s_client shows it, instead of plaintext its TLS stack reports as
// WRONG_VERSION_NUMBER.
func TestTLSBusyOverOpenSSL(t *testing.T) {
	openssl := needTool(t, "openssl")
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.txt": "a\n"})
	certFile, keyFile := makeCert(t, t.TempDir(), "localhost", "127.0.0.1")
	cfg := tlsConfig(t, root, certFile, keyFile)
	cfg["limits"] = map[string]any{"max-connections-per-ip": 1}
	d := startConfig(t, cfg)
	holder := d.dial("127.0.0.1")
	defer holder.Close()
	time.Sleep(100 * time.Millisecond) // the holder is counted

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", d.addr, "-servername", "localhost",
		"-CAfile", certFile, "-verify_return_error", "-quiet", "-ign_eof")
	cmd.Stdin = strings.NewReader("/a.txt\r\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if !errorItem(out.Bytes(), msgBusy) {
		t.Errorf("openssl s_client over the cap: %v\nstdout %q\nstderr %s", err, out.String(), errb.String())
	}
	if strings.Contains(errb.String(), "wrong version number") {
		t.Errorf("the busy answer was not TLS:\n%s", errb.String())
	}
}

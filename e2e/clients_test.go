package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Hostile clients, round two (issue 20): what a client, or a stalled log
// reader, can make the daemon do at its default limits.

// latencies summarises request durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (l latencies) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", len(l), l.quantile(0.5).Round(time.Microsecond),
		l.quantile(0.99).Round(time.Microsecond), l.quantile(1).Round(time.Microsecond))
}

// TestStalledLogReader gives gopherd a pipe for its log that nobody reads:
// once the pipe's 64 KiB are full, a synchronous log would block every
// connection after its answer. Serving must go on at its normal pace, the
// lines that do not fit are dropped, and once the reader comes back the log
// says how many.
func TestStalledLogReader(t *testing.T) {
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

// endOf waits, without reading, until the server has ended c (a FIN or a
// reset arrived: the socket left ESTABLISHED), at most limit, and returns
// how long that took.
func endOf(c *net.TCPConn, limit time.Duration) time.Duration {
	start := time.Now()
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	for time.Since(start) < limit {
		state := uint8(unix.BPF_TCP_ESTABLISHED)
		_ = rc.Control(func(fd uintptr) {
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				state = info.State
			}
		})
		if state != unix.BPF_TCP_ESTABLISHED {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverProc is one running server under test.
type serverProc struct {
	name    string
	addr    string // 127.0.0.1:port
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// freePort asks the kernel for an unused loopback port. Another process could
// take it before the server binds it; the start-up check then fails loudly.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pinned prefixes argv with taskset so the process runs on cpu only; cpu < 0
// means no pinning.
func pinned(taskset string, cpu int, argv []string) []string {
	if taskset == "" || cpu < 0 {
		return argv
	}
	// taskset execs the program, so the PID we get is the server's own and
	// /proc/PID/status describes it.
	return append([]string{taskset, "-c", strconv.Itoa(cpu)}, argv...)
}

// startServer runs argv with output going to logPath and waits until addr
// accepts connections.
func startServer(name, addr, logPath string, argv []string) (*serverProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: creating log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: starting %q: %w", name, argv, err)
	}
	p := &serverProc{name: name, addr: addr, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s: exited before listening on %s (%v); command %q; log:\n%s", name, addr, p.waitErr, argv, p.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s: not listening on %s after 10s; command %q; log:\n%s", name, addr, argv, p.logTail())
		}
	}
}

// stop sends SIGTERM, gives the server 5 s to drain, then kills it.
func (p *serverProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// alive reports whether the process is still running.
func (p *serverProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *serverProc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// rssKiB reads VmRSS of pid from /proc.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("reading RSS: %w", err)
	}
	return parseVmRSS(b)
}

// fdCount counts the open descriptors of pid.
func fdCount(pid int) (int, error) {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return 0, fmt.Errorf("counting descriptors: %w", err)
	}
	return len(ents), nil
}

func parseVmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS line %q: %w", line, err)
		}
		return n, nil
	}
	return 0, errors.New("no VmRSS line in /proc/PID/status")
}

// fetch makes one request and returns the whole response.
func fetch(addr, selector string, timeout time.Duration) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	if _, err := io.WriteString(c, selector+"\r\n"); err != nil {
		return nil, fmt.Errorf("send selector %q: %w", selector, err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return b, fmt.Errorf("read response to %q: %w", selector, err)
	}
	return b, nil
}

// knownPlaceholders lists what -gopherd-args may use.
const knownPlaceholders = "{config} {root} {listen} {addr} {port} {host}"

// expandArgs splits the template on white space and fills the placeholders
// in each word; splitting first keeps paths with spaces in one argument.
func expandArgs(tmpl string, vars map[string]string) ([]string, error) {
	words := strings.Fields(tmpl)
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	r := strings.NewReplacer(pairs...)
	blank := make([]string, len(pairs))
	for i := 0; i < len(pairs); i += 2 {
		blank[i] = pairs[i]
	}
	strip := strings.NewReplacer(blank...)
	out := make([]string, len(words))
	for i, w := range words {
		// Checked on the template, not the result: a temp path may hold braces.
		if rest := strip.Replace(w); strings.Contains(rest, "{") && strings.Contains(rest, "}") {
			return nil, fmt.Errorf("unknown placeholder in %q (known: %s)", w, knownPlaceholders)
		}
		out[i] = r.Replace(w)
	}
	return out, nil
}

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file holds the helpers the hostile, exhaustion and soak tests share:
// reading the daemon's resource use from /proc, a liveness probe that keeps
// asking for a file while an attack runs, and dialing from other loopback
// addresses without calling t.Fatal off the test goroutine.

// Resource bounds after an attack, once the daemon has had settleTime to
// close what the attack left behind.
const (
	// fdSlack is how many more descriptors than at the baseline are
	// tolerated: the runtime may keep an extra epoll or timer descriptor.
	fdSlack = 5
	// rssSlackKiB and rssSlackRatio: RSS may grow by the larger of the two.
	// Go returns freed memory to the OS lazily, so flat means bounded, not
	// equal.
	rssSlackKiB   = 20 << 10
	rssSlackRatio = 1.5
	// raceRSSSlackKiB replaces rssSlackKiB when the daemon is built with
	// the race detector, whose per-goroutine state (kept for reuse after
	// the goroutine ends) adds tens of MiB after a few thousand
	// connections, leak or not. Descriptors stay the strict measure.
	raceRSSSlackKiB = 64 << 10
	settleTime      = 10 * time.Second
	// livenessBound is how long a legitimate request may take during an
	// attack. It is a liveness bound (the server keeps answering), not a
	// speed target: CI runs the race detector on two cores.
	livenessBound = 2 * time.Second
)

// procStat is what the tests watch of the daemon process. The daemon has no
// debug endpoint, so goroutines are not counted directly: every connection
// goroutine holds its socket's descriptor (and a file's while sending one),
// so the descriptor count is the proxy for connection goroutines. Threads
// are logged but not asserted: the Go runtime keeps idle threads.
type procStat struct {
	FDs     int
	RSSKiB  int64
	Threads int
}

func (p procStat) String() string {
	return fmt.Sprintf("fds=%d rss=%.1fMiB threads=%d", p.FDs, float64(p.RSSKiB)/1024, p.Threads)
}

// readProcStat reads pid's open descriptors and memory from /proc.
func readProcStat(pid int) (procStat, error) {
	var p procStat
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return p, fmt.Errorf("counting descriptors: %w", err)
	}
	p.FDs = len(ents)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, fmt.Errorf("reading status: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			p.RSSKiB, _ = strconv.ParseInt(f[1], 10, 64)
		case "Threads:":
			p.Threads, _ = strconv.Atoi(f[1])
		}
	}
	if p.RSSKiB == 0 {
		return p, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return p, nil
}

// needProc skips tests that measure the daemon when /proc is missing.
func needProc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc: cannot measure descriptors and memory")
	}
}

// stat returns the daemon's current resource use.
func (d *daemon) stat() procStat {
	d.t.Helper()
	p, err := readProcStat(d.cmd.Process.Pid)
	if err != nil {
		d.t.Fatalf("daemon stats: %v", err)
	}
	return p
}

// withinBaseline reports whether now is back within the slack of base.
func withinBaseline(base, now procStat) bool {
	slack := int64(rssSlackKiB)
	if raceEnabled {
		slack = raceRSSSlackKiB
	}
	rssLimit := max(int64(float64(base.RSSKiB)*rssSlackRatio), base.RSSKiB+slack)
	return now.FDs <= base.FDs+fdSlack && now.RSSKiB <= rssLimit
}

// settle waits up to settleTime for the daemon to come back to base and
// fails the test if it does not. It returns the last measurement.
func (d *daemon) settle(base procStat) procStat {
	d.t.Helper()
	deadline := time.Now().Add(settleTime)
	for {
		now := d.stat()
		if withinBaseline(base, now) {
			return now
		}
		if time.Now().After(deadline) {
			d.t.Errorf("daemon did not return to its baseline within %v: baseline %v, now %v", settleTime, base, now)
			return now
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// needFDs makes sure this process may hold n descriptors, raising the soft
// RLIMIT_NOFILE to the hard limit when needed. The daemon gets its own
// limit from the Go runtime, which raises it to the hard limit at start.
func needFDs(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	// Rlimit's fields are int64 on FreeBSD, uint64 elsewhere.
	if uint64(lim.Cur) >= n {
		return
	}
	if uint64(lim.Max) < n {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors this test needs", lim.Max, n)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", lim.Max, err)
	}
}

// src returns the loopback address 127.a.b.c, a client of its own as far
// as the per-IP limit is concerned.
func src(a, b, c int) string {
	return fmt.Sprintf("127.%d.%d.%d", a, b, c)
}

// dialFrom connects to addr from source address from ("" for any). Unlike
// daemon.dial it returns errors, so goroutines other than the test's own
// can use it.
func dialFrom(addr, from string, timeout time.Duration) (*net.TCPConn, error) {
	dialer := net.Dialer{Timeout: timeout}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := dialer.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s from %s: %w", addr, from, err)
	}
	return c.(*net.TCPConn), nil
}

// fetch sends one request line from address from and reads the whole
// response within timeout.
func fetch(addr, from, request string, timeout time.Duration) ([]byte, error) {
	c, err := dialFrom(addr, from, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		return nil, fmt.Errorf("write %q: %w", request, err)
	}
	body, err := io.ReadAll(c)
	if err != nil {
		return body, fmt.Errorf("read response to %q: %w", request, err)
	}
	return body, nil
}

// errorItem reports whether resp is a single error item (and terminator)
// whose message contains msg.
func errorItem(resp []byte, msg string) bool {
	return bytes.HasPrefix(resp, []byte("3")) && bytes.HasSuffix(resp, []byte("\r\n.\r\n")) &&
		bytes.Count(resp, []byte("\r\n")) == 2 && bytes.Contains(resp, []byte(msg))
}

// gopherPlusError reports whether resp is the Gopher+ error reply carrying
// msg: what a request with a Gopher+ marker gets instead of an error item
// (gopher-plus "on", the default).
func gopherPlusError(resp []byte, msg string) bool {
	return bytes.HasPrefix(resp, []byte("--1\r\n")) && bytes.HasSuffix(resp, []byte("\r\n.\r\n")) && bytes.Contains(resp, []byte(msg))
}

// gopherPlusRequest reports whether request carries a Gopher+ marker: a
// last TAB-separated field starting with "+", "!" or "$".
func gopherPlusRequest(request string) bool {
	i := strings.LastIndexByte(request, '\t')
	return i >= 0 && i+1 < len(request) && strings.ContainsRune("+!$", rune(request[i+1]))
}

// Message fragments of the error items (internal/gopher/errors.go).
const (
	msgNotFound   = "does not exist or is not available"
	msgNotAllowed = "is not allowed"
	msgTooLarge   = "Request too large"
	msgTimedOut   = "Request timed out"
	msgBadRequest = "forbidden byte"
	msgBusy       = "Server busy"
)

// probe is a legitimate client that keeps requesting one selector while an
// attack runs and records every answer that is wrong or late.
type probe struct {
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	n        int
	busy     int
	maxLat   time.Duration
	lats     latencies // of the answers that were not refusals
	failures []string
}

// startProbe requests sel from address from every 20 ms until finish,
// expecting want within livenessBound each time. With allowBusy, a refusal
// also counts as a timely answer: a flood from many addresses may fill
// max-connections, and then the right answer is the busy item, or, while
// max-connections busy answers are already going out, an immediate close.
func startProbe(d *daemon, from, sel string, want []byte, allowBusy bool) *probe {
	p := &probe{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		// Bounded in count and in time, whatever the test does.
		end := time.Now().Add(2 * time.Minute)
		for i := 0; i < 10000 && time.Now().Before(end); i++ {
			start := time.Now()
			got, err := fetch(d.addr, from, sel, livenessBound+time.Second)
			lat := time.Since(start)
			p.mu.Lock()
			p.n++
			p.maxLat = max(p.maxLat, lat)
			switch {
			case allowBusy && (errorItem(got, msgBusy) || len(got) == 0 && (err == nil || isReset(err))):
				p.busy++
			case err == nil && bytes.Equal(got, want):
				p.lats = append(p.lats, lat)
			case err != nil:
				p.failures = append(p.failures, fmt.Sprintf("after %v: %v", lat.Round(time.Millisecond), err))
			case !bytes.Equal(got, want):
				p.failures = append(p.failures, fmt.Sprintf("after %v: got %q", lat.Round(time.Millisecond), trim(got)))
			}
			if err == nil && lat > livenessBound {
				p.failures = append(p.failures, fmt.Sprintf("answer took %v (bound %v)", lat.Round(time.Millisecond), livenessBound))
			}
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return p
}

// finish stops the probe and fails t if any answer was wrong or late.
func (p *probe) finish(t *testing.T) {
	t.Helper()
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("legitimate client: %d requests, %d refused as busy, slowest %v", p.n, p.busy, p.maxLat.Round(time.Millisecond))
	if p.n == 0 {
		t.Error("legitimate client made no request")
	}
	if len(p.failures) > 0 {
		t.Errorf("legitimate client failed %d of %d requests during the attack; first ones: %q",
			len(p.failures), p.n, p.failures[:min(5, len(p.failures))])
	}
}

// trim shortens a response for a failure message.
func trim(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "..."...)
	}
	return b
}

// logFilter receives the daemon's log. Access log lines (one per request,
// at info) are counted by their "served" field and dropped, so a soak of a
// million requests does not keep a million lines in memory; every other
// line goes to the daemon's ordinary log buffer.
type logFilter struct {
	out     *syncBuffer
	mu      sync.Mutex
	partial []byte
	served  map[string]int
	cuts    map[string]int // access log lines by their cut reason
}

func (f *logFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			break
		}
		line := f.partial[:i+1]
		if bytes.Contains(line, []byte(" info request {")) {
			f.served[field(line, "served")]++
			if cut := field(line, "cut"); cut != "?" {
				f.cuts[cut]++
			}
		} else {
			_, _ = f.out.Write(line)
		}
		f.partial = f.partial[i+1:]
	}
	// Keep the buffer from growing when lines are long; the tail of an
	// unfinished line stays.
	f.partial = append([]byte(nil), f.partial...)
	return len(p), nil
}

// field extracts the value of the string field name from a console-encoded
// access line, "?" when the line has none.
func field(line []byte, name string) string {
	key := `"` + name + `": "`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return "?"
	}
	rest := line[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return "?"
}

// counts returns a copy of the access log counts by "served" value.
// cutCount is how many access log lines said cut for reason.
func (f *logFilter) cutCount(reason string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts[reason]
}

func (f *logFilter) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.served))
	for k, v := range f.served {
		out[k] = v
	}
	return out
}

// startFiltered starts gopherd with cfg like startConfig, but passes its
// log through a logFilter (see there). The log level must be info or
// debug: the start line is an info line.
func startFiltered(t *testing.T, cfg map[string]any) (*daemon, *logFilter) {
	t.Helper()
	var f *logFilter
	d := startCmdVia(t, configAddr(cfg), exec.Command(gopherdBin, writeConfig(t, cfg)), func(log *syncBuffer) io.Writer {
		f = &logFilter{out: log, served: make(map[string]int), cuts: make(map[string]int)}
		return f
	})
	return d, f
}

// logProblems returns the daemon's log lines at error level or above and
// any panic, which no test here expects.
func logProblems(log string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inRace := false
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case strings.Contains(line, "DATA RACE"):
			// A race report is useless without its stacks: kept whole,
			// up to the detector's closing rule.
			inRace = true
			out = append(out, line)
		case inRace:
			out = append(out, line)
			inRace = !strings.HasPrefix(line, "==================")
		case len(f) >= 2 && (f[1] == "error" || f[1] == "dpanic" || f[1] == "panic" || f[1] == "fatal") ||
			strings.Contains(line, "goroutine ") || strings.HasPrefix(line, "panic:"):
			out = append(out, line)
		}
	}
	return out
}

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

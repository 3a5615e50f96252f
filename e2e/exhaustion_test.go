package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Resource exhaustion: each test starts a daemon with small limits, takes
// its baseline, runs one attack from its own loopback addresses while a
// legitimate client at 127.0.0.2 keeps asking for a file (and must get it
// within livenessBound each time), then checks that every attacking
// connection was ended by a limit and that the daemon's descriptors and
// memory come back to the baseline.

// Small limits so the attacks are over in seconds.
const (
	exRequestTimeout = time.Second
	exIdleTimeout    = time.Second
	exMaxConns       = 64
	exMaxPerIP       = 8
	// exHugeSize is larger than what a client's receive buffer and the
	// server's send buffer hold together, so a client that never reads
	// blocks the transfer.
	exHugeSize = 16 << 20
)

// legitFile is what the legitimate client fetches during every attack.
const legitFile = "Still here.\n"

// legitSrc is the legitimate client's address; attackers use 127.0.x.y
// with x >= 30.
const legitSrc = "127.0.0.2"

// exhaustionDaemon starts gopherd with the small limits (adjusted by
// mutate), warms it up and returns it with its idle baseline.
func exhaustionDaemon(t *testing.T, mutate func(limits map[string]any)) (*daemon, *logFilter, procStat) {
	t.Helper()
	needProc(t)
	needFDs(t, 4096)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"about.txt": legitFile, "sub/x.txt": "x\n"})
	if err := os.WriteFile(filepath.Join(root, "huge.bin"), bytes.Repeat([]byte("z"), exHugeSize), 0o644); err != nil {
		t.Fatal(err)
	}
	limits := map[string]any{
		"request-timeout":        exRequestTimeout.String(),
		"idle-timeout":           exIdleTimeout.String(),
		"max-connections":        exMaxConns,
		"max-connections-per-ip": exMaxPerIP,
	}
	if mutate != nil {
		mutate(limits)
	}
	cfg := baseConfig(t, root)
	cfg["log"] = map[string]any{"level": "info"}
	cfg["limits"] = limits
	d, f := startFiltered(t, cfg)

	// Warm up every path the attacks and the probe use, so the baseline
	// includes the runtime's one-off allocations.
	for i := range 50 {
		sel := []string{"/about.txt", "/", "/sub", "/nope", "/../x"}[i%5]
		if _, err := fetch(d.addr, legitSrc, sel, 10*time.Second); err != nil {
			t.Fatalf("warm-up %q: %v", sel, err)
		}
	}
	if body, err := fetch(d.addr, legitSrc, "/huge.bin", 30*time.Second); err != nil || len(body) != exHugeSize {
		t.Fatalf("warm-up /huge.bin: %d bytes, %v", len(body), err)
	}
	base := idleBaseline(d)
	t.Logf("baseline: %v", base)
	return d, f, base
}

// idleBaseline measures the daemon once its descriptor count has stopped
// moving (the warm-up's connections are closed), within 3 s.
func idleBaseline(d *daemon) procStat {
	d.t.Helper()
	prev := d.stat()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
		now := d.stat()
		if now.FDs == prev.FDs {
			return now
		}
		prev = now
	}
	return prev
}

// after ends an exhaustion test: the daemon must return to its baseline
// and must not have logged an error.
func after(t *testing.T, d *daemon, f *logFilter, base procStat) {
	t.Helper()
	end := d.settle(base)
	t.Logf("after the attack: %v (baseline %v); access log: %v", end, base, f.counts())
	if p := logProblems(d.log.String()); len(p) > 0 {
		t.Errorf("unexpected log lines:\n%s", strings.Join(p, "\n"))
	}
	if got, err := fetch(d.addr, legitSrc, "/about.txt", livenessBound); err != nil || string(got) != legitFile {
		t.Errorf("after the attack: %q, %v", got, err)
	}
}

// tally collects how attacking connections ended.
type tally struct {
	mu      sync.Mutex
	ends    map[string]int
	longest time.Duration
	odd     []string
}

func newTally() *tally { return &tally{ends: map[string]int{}} }

// add records one connection that lasted d and ended with resp and err.
func (ta *tally) add(resp []byte, err error, d time.Duration) {
	what := classify(resp, err)
	ta.mu.Lock()
	defer ta.mu.Unlock()
	ta.ends[what]++
	ta.longest = max(ta.longest, d)
	if strings.HasPrefix(what, "unexpected") && len(ta.odd) < 5 {
		ta.odd = append(ta.odd, what)
	}
}

func (ta *tally) String() string {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	keys := make([]string, 0, len(ta.ends))
	for k := range ta.ends {
		if !strings.HasPrefix(k, "unexpected") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, ta.ends[k])
	}
	fmt.Fprintf(&b, "unexpected=%d longest=%v", len(ta.odd), ta.longest.Round(time.Millisecond))
	return b.String()
}

func (ta *tally) count(what string) int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return ta.ends[what]
}

// check fails t when a connection ended in a way not in allowed, or lasted
// longer than bound: a limit that does not end a connection in time is no
// limit.
func (ta *tally) check(t *testing.T, bound time.Duration, allowed ...string) {
	t.Helper()
	t.Logf("attacking connections: %v", ta)
	ta.mu.Lock()
	defer ta.mu.Unlock()
	for what, n := range ta.ends {
		ok := false
		for _, a := range allowed {
			ok = ok || what == a
		}
		if !ok {
			t.Errorf("%d attacking connections ended %s (allowed: %v); examples %q", n, what, allowed, ta.odd)
		}
	}
	if ta.longest > bound {
		t.Errorf("an attacking connection lasted %v, bound %v", ta.longest, bound)
	}
}

// classify names how a connection ended.
func classify(resp []byte, err error) string {
	var ne net.Error
	switch {
	case errorItem(resp, msgBusy):
		return "busy"
	case errorItem(resp, msgTimedOut):
		return "timed-out"
	case errorItem(resp, msgTooLarge):
		return "too-large"
	case errors.As(err, &ne) && ne.Timeout():
		return "hung"
	case len(resp) > 0 && isReset(err):
		// A response cut short ends in a reset, after what arrived.
		return "cut"
	case len(resp) == 0 && (err == nil || isReset(err)):
		// Closed without a word: past max-connections busy answers the
		// server closes floods silently, and a reset may discard an
		// answer that was in flight.
		return "closed"
	case err != nil && !isReset(err):
		return "unexpected error " + err.Error()
	}
	return fmt.Sprintf("unexpected answer %q", trim(resp))
}

// TestSlowloris runs 200 clients from five addresses that each send a byte
// every 250 ms and never finish their request line, reconnecting when cut
// off, for 3 s. Dribbling faster than the request timeout must not extend
// it: every counted connection gets the timed-out item about 1 s after it
// was accepted, the others the busy item at once.
func TestSlowloris(t *testing.T) {
	slow(t)
	d, f, base := exhaustionDaemon(t, nil)
	p := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), false)
	ta := newTally()
	const clients, addrs = 200, 5
	attackEnd := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := src(30, 0, i%addrs+1)
			for n := 0; n < 20 && time.Now().Before(attackEnd); n++ {
				slowlorisConn(d.addr, from, ta)
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	p.finish(t)
	// Timed out 1 s after acceptance, plus scheduling slack.
	ta.check(t, exRequestTimeout+livenessBound, "timed-out", "busy", "closed")
	if ta.count("timed-out") < addrs*exMaxPerIP {
		t.Errorf("only %d connections were cut by the request timeout; want at least %d", ta.count("timed-out"), addrs*exMaxPerIP)
	}
	if ta.count("busy") == 0 {
		t.Error("no client was told the server is busy, though 40 clients per address is past the per-IP limit")
	}
	after(t, d, f, base)
}

// slowlorisConn is one slowloris connection: a byte every 250 ms until the
// server ends it (or 5 s pass: then it is recorded as hung).
func slowlorisConn(addr, from string, ta *tally) {
	start := time.Now()
	c, err := dialFrom(addr, from, 5*time.Second)
	if err != nil {
		ta.add(nil, err, time.Since(start))
		return
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(5 * time.Second))
	type result struct {
		resp []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := io.ReadAll(c)
		done <- result{resp, err}
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	writing := true
	for {
		if writing {
			if _, err := c.Write([]byte("a")); err != nil {
				writing = false // the server is done with us; wait for the answer
			}
		}
		select {
		case r := <-done:
			ta.add(r.resp, r.err, time.Since(start))
			return
		case <-tick.C:
		}
	}
}

// TestNeverReadingClients requests a 16 MiB file from 24 clients that never
// read a byte. Their receive buffers fill, the server's sends stop making
// progress, and the idle timeout must cut them off while they are still
// connected: the daemon's descriptors return to the baseline although no
// client has closed anything.
func TestNeverReadingClients(t *testing.T) {
	slow(t)
	d, f, base := exhaustionDaemon(t, nil)
	p := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), false)
	const clients = 3 * exMaxPerIP
	conns := make([]*net.TCPConn, 0, clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range clients {
		c, err := dialFrom(d.addr, src(31, 0, i%3+1), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		// A fixed small buffer: autotuning would otherwise let the
		// kernel absorb much of the file on the client's side.
		_ = c.SetReadBuffer(16 << 10)
		if _, err := io.WriteString(c, "/huge.bin\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	// Each transfer holds a socket and the file open on the server.
	peak := d.stat()
	for end := time.Now().Add(3 * time.Second); peak.FDs < base.FDs+2*clients && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
		peak = d.stat()
	}
	t.Logf("while the transfers are stuck: %v", peak)
	if peak.FDs < base.FDs+2*clients {
		t.Fatalf("the daemon never held the %d transfers open (fds %d, baseline %d): the test proves nothing", clients, peak.FDs, base.FDs)
	}
	// The idle timeout cuts a transfer once a write has made no progress
	// for that long; while the server's send buffer still grows, writes
	// progress a little, so the cut comes a few idle periods after the
	// stall. settleTime bounds it.
	cut := time.Now()
	for {
		now := d.stat()
		if now.FDs <= base.FDs+fdSlack {
			t.Logf("cut off %v after the transfers stalled: %v", time.Since(cut).Round(time.Millisecond), now)
			break
		}
		if time.Since(cut) > settleTime {
			t.Fatalf("stuck transfers still open after %v: %v (baseline %v)", settleTime, now, base)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.finish(t)
	// What reached a client before the cut is all it gets. (Once the
	// daemon has closed, the kernel may drop the orphaned connection
	// without a word to the client, so a read that times out is fine.)
	var rwg sync.WaitGroup
	for i, c := range conns {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			if n, _ := io.Copy(io.Discard, c); n >= exHugeSize {
				t.Errorf("client %d got the whole file although it never read while it was sent", i)
			}
		}()
	}
	rwg.Wait()
	after(t, d, f, base)
}

// TestFloodPerIP opens 20 silent connections from one address: 8 are
// served (and timed out), 12 are told the server is busy at once. The
// legitimate client at another address is never refused.
func TestFloodPerIP(t *testing.T) {
	slow(t)
	d, f, base := exhaustionDaemon(t, nil)
	p := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), false)
	ta := newTally()
	const n = 20
	from := src(32, 0, 1)
	conns := make([]*net.TCPConn, 0, n)
	for range n {
		c, err := dialFrom(d.addr, from, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			_ = c.SetDeadline(start.Add(5 * time.Second))
			resp, err := io.ReadAll(c)
			ta.add(resp, err, time.Since(start))
		}()
	}
	wg.Wait()
	p.finish(t)
	ta.check(t, exRequestTimeout+livenessBound, "timed-out", "busy")
	if got := ta.count("timed-out"); got != exMaxPerIP {
		t.Errorf("%d connections from one address were served, want the per-IP limit %d", got, exMaxPerIP)
	}
	if got := ta.count("busy"); got != n-exMaxPerIP {
		t.Errorf("%d connections were told busy, want %d", got, n-exMaxPerIP)
	}
	after(t, d, f, base)
}

// TestFloodGlobal fills max-connections from eight addresses (8
// connections each, under the per-IP limit), then floods 100 more silent
// connections from twenty other addresses. The slots are held by
// transfers that do not read (silent connections would not do: a newcomer
// evicts those, see TestIdleHoldersEvicted). Nothing waits: the flood gets
// busy answers or, as each of its connections gives its slot to the next,
// a silent close (the last of them, the request timeout); a full server lets an address with no connection in by
// cutting the oldest transfer of the heaviest address, which a silent
// flood can do only while none of its own connections holds a slot, so it
// costs the holders a transfer or two, not one per flood connection. The
// legitimate client is served throughout, or told busy within the bound,
// and the idle timeout cuts the remaining holders.
func TestFloodGlobal(t *testing.T) {
	slow(t)
	// A longer idle timeout keeps the 64 slots full while the flood runs,
	// however slowly the machine dials.
	const hold = 3 * time.Second
	d, f, base := exhaustionDaemon(t, func(l map[string]any) { l["idle-timeout"] = hold.String() })
	holders := newTally()
	var hwg sync.WaitGroup
	for i := range exMaxConns {
		c, err := dialFrom(d.addr, src(33, 0, i%8+1), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadBuffer(16 << 10)
		if _, err := io.WriteString(c, "/huge.bin\r\n"); err != nil {
			t.Fatal(err)
		}
		hwg.Add(1)
		go func() {
			defer hwg.Done()
			defer c.Close()
			// Read nothing until the server has ended the transfer.
			took := endOf(c, hold+5*time.Second)
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			resp, err := io.ReadAll(c)
			holders.add(resp, err, took)
		}()
	}
	// Each transfer holds a socket and the file open on the server.
	for end := time.Now().Add(2 * time.Second); d.stat().FDs < base.FDs+2*exMaxConns && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if now := d.stat(); now.FDs < base.FDs+2*exMaxConns {
		t.Fatalf("the daemon did not take the %d transfers (%v, baseline %v)", exMaxConns, now, base)
	}

	p := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), true)
	flood := newTally()
	var wg sync.WaitGroup
	const floodN = 100
	for i := range floodN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := dialFrom(d.addr, src(34, 0, i%20+1), 5*time.Second)
			if err != nil {
				flood.add(nil, err, time.Since(start))
				return
			}
			defer c.Close()
			_ = c.SetDeadline(start.Add(5 * time.Second))
			resp, err := io.ReadAll(c)
			flood.add(resp, err, time.Since(start))
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // let the probe meet the full server
	p.finish(t)
	// A flood connection still holding a slot when the flood ends is
	// answered when its request-timeout runs out.
	flood.check(t, livenessBound, "busy", "closed", "timed-out")
	// The first newcomer with no connection (the probe or the flood)
	// finds no silent connection to take the place of and cuts a
	// transfer; after that the flood's own silent connections give way.
	if got := f.cutCount("evicted"); got < 1 || got > 4 {
		t.Errorf("%d transfers cut for newcomers, want 1 to 4 (one, and a few if the flood's connections all ended at once)", got)
	}
	hwg.Wait()
	holders.check(t, hold+livenessBound, "cut")
	if got := holders.count("cut"); got != exMaxConns {
		t.Errorf("%d of the %d transfers holding the slots were cut", got, exMaxConns)
	}
	after(t, d, f, base)
}

// TestOversizedRequests sends request lines far past request-bytes, with a
// newline (64 KiB) and without one (1 MiB, the connection left open), from
// 24 clients for 2 s. Each gets the too-large item, or a reset when the
// server closed while the client was still sending; memory stays bounded.
func TestOversizedRequests(t *testing.T) {
	slow(t)
	d, f, base := exhaustionDaemon(t, nil)
	p := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), false)
	withNL := append(bytes.Repeat([]byte("/A"), 32<<10), "\r\n"...)
	withoutNL := bytes.Repeat([]byte("B"), 1<<20)
	ta := newTally()
	attackEnd := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for i := range 3 * exMaxPerIP {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := src(35, 0, i%3+1)
			for n := 0; n < 50 && time.Now().Before(attackEnd); n++ {
				blob := withNL
				if (i+n)%2 == 1 {
					blob = withoutNL
				}
				start := time.Now()
				c, err := dialFrom(d.addr, from, 5*time.Second)
				if err != nil {
					ta.add(nil, err, time.Since(start))
					continue
				}
				_ = c.SetDeadline(start.Add(5 * time.Second))
				go func() { _, _ = c.Write(blob) }()
				resp, err := io.ReadAll(c)
				ta.add(resp, err, time.Since(start))
				c.Close()
			}
		}()
	}
	wg.Wait()
	p.finish(t)
	// The request timeout never comes into it: the limit is hit first.
	ta.check(t, livenessBound, "too-large", "closed", "busy")
	if ta.count("too-large") == 0 {
		t.Error("no oversized request got the too-large item")
	}
	after(t, d, f, base)
}

// slotAttack is one way of holding the connection slots at the default
// limits (1024 connections, 32 per address, 64 per /24): from addrs
// addresses, all in one /24 or each in a /24 of its own (spread), each
// opening as many connections as the per-address cap allows and opening a
// new one whenever one ends (a second or two later when it was refused or
// displaced at once). Idle holders connect and send nothing; slow readers
// request a large file and read a byte every two seconds.
type slotAttack struct {
	addrs  int
	spread bool
	slow   bool
}

func (a slotAttack) String() string {
	kind, layout := "idle", "one-/24"
	if a.slow {
		kind = "slow"
	}
	if a.spread {
		layout = "spread"
	}
	return fmt.Sprintf("%d-%s-%s", a.addrs, layout, kind)
}

func (a slotAttack) src(i int) string {
	if a.spread {
		return src(50, i, 1)
	}
	return src(40, 0, i+1)
}

// TestSlotExhaustion runs slot attacks against the default limits while a
// legitimate client keeps fetching a file, and reports its latency (p50,
// p99) and how often it was refused. Silent holders are evicted by
// newcomers and so cost a legitimate client nothing; slow readers in one
// /24 are held to max-connections-per-prefix; slow readers spread over as
// many /24s as addresses (each holding 32 slots) fill the server, and the
// legitimate client, from an address with fewer connections, takes the
// slot of the heaviest address's oldest response. By default it runs the
// cases that each mechanism answers; GOPHERD_EXHAUSTION=all runs the whole
// matrix.
func TestSlotExhaustion(t *testing.T) {
	slow(t)
	needProc(t)
	needFDs(t, 8192)
	attacks := []slotAttack{{33, false, true}, {64, false, true}, {33, true, false}, {64, true, false}, {33, true, true}}
	if os.Getenv("GOPHERD_EXHAUSTION") == "all" {
		attacks = nil
		for _, n := range []int{33, 64} {
			for _, spread := range []bool{false, true} {
				for _, slow := range []bool{false, true} {
					attacks = append(attacks, slotAttack{n, spread, slow})
				}
			}
		}
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"about.txt": legitFile})
	f, err := os.Create(filepath.Join(root, "huge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, a := range attacks {
		t.Run(a.String(), func(t *testing.T) {
			cfg := baseConfig(t, root)
			cfg["log"] = map[string]any{"level": "info"}
			d, _ := startFiltered(t, cfg)
			base := d.stat()
			// The reference: the same client with no attack.
			rest := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), false)
			time.Sleep(2 * time.Second)
			rest.finish(t)
			runSlotAttack(t, d, a)
			during := d.stat()
			p := startProbe(d, legitSrc, "/about.txt", []byte(legitFile), true)
			time.Sleep(4 * time.Second)
			p.finish(t)
			p.mu.Lock()
			refused := float64(p.busy) / float64(max(p.n, 1))
			t.Logf("%v: daemon %v (at rest %v); legitimate client: %d requests, refused %.0f%%, latency %v; with no attack %v",
				a, during, base, p.n, 100*refused, p.lats, rest.lats)
			p.mu.Unlock()
			if p.busy > 0 {
				t.Errorf("the legitimate client was refused %d of %d times", p.busy, p.n)
			}
		})
	}
}

// runSlotAttack starts a and gives it time to take what it can; the
// attack ends with the test.
func runSlotAttack(t *testing.T, d *daemon, a slotAttack) {
	t.Helper()
	const perAddr = 32 // the default max-connections-per-ip
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); wg.Wait() })
	for i := range a.addrs {
		for range perAddr {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Bounded in count and time, whatever the test does.
				for n, end := 0, time.Now().Add(time.Minute); n < 100 && time.Now().Before(end); n++ {
					select {
					case <-stop:
						return
					default:
					}
					// A holder that was refused or displaced at once
					// tries again a second later (with jitter): the attack
					// holds slots, it is not a connection flood, whose
					// cost is CPU and accept queues on this machine
					// rather than slots (TestFloodGlobal covers floods).
					began := time.Now()
					holdSlot(d.addr, a.src(i), a.slow, stop)
					pause := 50 * time.Millisecond
					if time.Since(began) < 200*time.Millisecond {
						pause = time.Second + time.Duration(rand.Int64N(int64(time.Second)))
					}
					select {
					case <-stop:
						return
					case <-time.After(pause):
					}
				}
			}()
		}
	}
	time.Sleep(3 * time.Second)
}

// holdSlot is one attacking connection: it holds on until the server ends
// it or stop is closed.
func holdSlot(addr, from string, slow bool, stop <-chan struct{}) {
	dialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)},
		Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
			})
		}}
	nc, err := dialer.Dial("tcp", addr)
	if err != nil {
		return
	}
	c := nc.(*net.TCPConn)
	defer c.Close()
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		select {
		case <-stop:
			_ = c.SetDeadline(time.Now())
		case <-ended:
		}
	}()
	if slow {
		if _, err := io.WriteString(c, "/huge.bin\r\n"); err != nil {
			return
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil || !slow {
			return // idle holders: the first byte is a busy or timed-out item
		}
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Second):
		}
	}
}

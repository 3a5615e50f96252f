// Command loadgen is a closed-loop Gopher load generator for loopback
// benchmarks: each of -c workers repeatedly dials, sends one selector, reads
// the response to EOF, checks it and records the latency, until -d has passed
// or -n requests were made. With -idle it first opens idle connections that
// never send a request and holds them while measuring.
//
// It refuses any address that is not loopback: it is a benchmarking tool for
// the machine it runs on, not a way to load someone else's server.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopherd/bench/internal/rlimit"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed command-line flags.
type options struct {
	addr       string
	selector   string
	conc       int
	dur        time.Duration
	maxReq     int64
	timeout    time.Duration
	exp        expectation
	idle       int
	idleSpread int
	idleSettle time.Duration
	idleTime   time.Duration
	jsonOut    bool
	proxy      string // "", "v1" or "v2": a PROXY header opens each connection
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.addr, "addr", "", "server address, host:port; the host must be a loopback IP or localhost")
	fs.StringVar(&o.selector, "selector", "", "selector to request (sent followed by CRLF)")
	fs.IntVar(&o.conc, "c", 1, "number of concurrent workers")
	fs.DurationVar(&o.dur, "d", 3*time.Second, "measuring time; no request starts after it (required, > 0)")
	fs.Int64Var(&o.maxReq, "n", 0, "stop after this many requests (0: only -d bounds the run)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline for one whole request (dial to EOF)")
	fs.Int64Var(&o.exp.bytes, "expect-bytes", -1, "exact response size in bytes (-1: not checked)")
	fs.BoolVar(&o.exp.terminator, "expect-terminator", false, `response must end with ".\r\n" and must not start with an error item`)
	fs.IntVar(&o.idle, "idle", 0, "open this many idle connections (sending nothing) and hold them while measuring")
	fs.IntVar(&o.idleSpread, "idle-spread", 0, "spread idle connections over this many 127.0.0.0/8 source addresses (0: kernel's choice)")
	fs.DurationVar(&o.idleSettle, "idle-settle", time.Second, "pause after opening idle connections so the server can accept them all")
	fs.DurationVar(&o.idleTime, "idle-timeout", time.Minute, "deadline for opening all idle connections")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	fs.StringVar(&o.proxy, "proxy", "", `open each connection with a PROXY protocol header, "v1" or "v2", naming the connection's own addresses (as HAProxy's send-proxy does)`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	addr, err := loopbackAddr(o.addr)
	if err != nil {
		return nil, err
	}
	o.addr = addr
	switch {
	case o.conc < 1:
		return nil, fmt.Errorf("-c must be at least 1, got %d", o.conc)
	case o.dur <= 0:
		return nil, fmt.Errorf("-d must be positive, got %v", o.dur)
	case o.maxReq < 0:
		return nil, fmt.Errorf("-n must not be negative, got %d", o.maxReq)
	case o.timeout <= 0:
		return nil, fmt.Errorf("-timeout must be positive, got %v", o.timeout)
	case o.idle < 0:
		return nil, fmt.Errorf("-idle must not be negative, got %d", o.idle)
	case o.idleSpread < 0 || o.idleSpread > maxSpread:
		return nil, fmt.Errorf("-idle-spread must be between 0 and %d, got %d", maxSpread, o.idleSpread)
	case o.idleTime <= 0:
		return nil, fmt.Errorf("-idle-timeout must be positive, got %v", o.idleTime)
	case o.idleSettle < 0:
		return nil, fmt.Errorf("-idle-settle must not be negative, got %v", o.idleSettle)
	case strings.ContainsAny(o.selector, "\r\n"):
		return nil, fmt.Errorf("-selector must not contain CR or LF")
	case o.proxy != "" && o.proxy != "v1" && o.proxy != "v2":
		return nil, fmt.Errorf(`-proxy must be "v1" or "v2", got %q`, o.proxy)
	}
	return o, nil
}

// loopbackAddr validates addr and returns it with "localhost" replaced by
// 127.0.0.1, so that no name lookup can ever send traffic elsewhere.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("-addr is required")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("-addr %q: refusing non-loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)", addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}
	if err := rlimit.RaiseNoFile(uint64(o.idle + o.conc + 64)); err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}

	res := &Result{
		Addr:        o.addr,
		Selector:    o.selector,
		Concurrency: o.conc,
		DurationS:   o.dur.Seconds(),
		Errors:      map[string]uint64{},
	}

	var held *idleSet
	if o.idle > 0 {
		held = openIdle(o.addr, o.idle, o.idleSpread, o.idleTime)
		res.Idle = &IdleResult{Requested: o.idle, Opened: len(held.conns), Spread: o.idleSpread, Errors: held.errs}
		time.Sleep(o.idleSettle)
		// The driver samples the server's memory once it sees this line.
		fmt.Fprintf(stderr, "READY idle=%d\n", len(held.conns))
	}

	measure(o, res)

	if held != nil {
		res.Idle.Dropped = held.countDropped()
		held.close()
	}

	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "loadgen: writing result: %v\n", err)
			return 1
		}
	} else {
		res.writeText(stdout)
	}
	return 0
}

// Result is the machine-readable outcome of one run (the -json output).
type Result struct {
	Addr        string            `json:"addr"`
	Selector    string            `json:"selector"`
	Concurrency int               `json:"concurrency"`
	DurationS   float64           `json:"duration_s"` // configured
	ElapsedS    float64           `json:"elapsed_s"`  // start to last response
	Requests    uint64            `json:"requests"`   // successful
	ErrorCount  uint64            `json:"errors"`
	Errors      map[string]uint64 `json:"errors_by_kind"`
	Bytes       uint64            `json:"bytes"` // received in successful responses
	ReqPerS     float64           `json:"req_per_s"`
	MBPerS      float64           `json:"mb_per_s"` // 10^6 bytes per second
	Latency     Latency           `json:"latency_ms"`
	Idle        *IdleResult       `json:"idle,omitempty"`
}

// Latency summarises successful requests, in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// IdleResult describes the idle connections held during the run.
type IdleResult struct {
	Requested int               `json:"requested"`
	Opened    int               `json:"opened"`
	Spread    int               `json:"spread"`
	Errors    map[string]uint64 `json:"errors_by_kind,omitempty"`
	Dropped   int               `json:"dropped"` // closed or reset by the server before the end
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r *Result) writeText(w io.Writer) {
	fmt.Fprintf(w, "target      %s selector %q, %d workers, %.3fs\n", r.Addr, r.Selector, r.Concurrency, r.ElapsedS)
	fmt.Fprintf(w, "requests    %d ok, %d errors\n", r.Requests, r.ErrorCount)
	fmt.Fprintf(w, "throughput  %.1f req/s, %.2f MB/s\n", r.ReqPerS, r.MBPerS)
	l := r.Latency
	fmt.Fprintf(w, "latency ms  min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f\n", l.Min, l.P50, l.P90, l.P99, l.Max, l.Mean)
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "errors      %s\n", formatKinds(r.Errors))
	}
	if i := r.Idle; i != nil {
		fmt.Fprintf(w, "idle        %d/%d opened over %d source addresses, %d dropped", i.Opened, i.Requested, i.Spread, i.Dropped)
		if len(i.Errors) > 0 {
			fmt.Fprintf(w, ", open errors: %s", formatKinds(i.Errors))
		}
		fmt.Fprintln(w)
	}
}

func formatKinds(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// workerStats is what one worker accumulates; merged after the run so the
// hot loop never shares memory between workers.
type workerStats struct {
	hist   histogram
	ok     uint64
	bytes  uint64
	errors map[string]uint64
}

// measure runs the closed loop and fills res.
func measure(o *options, res *Result) {
	req := []byte(o.selector + "\r\n")
	stats := make([]*workerStats, o.conc)
	var issued atomic.Int64
	start := time.Now()
	deadline := start.Add(o.dur)
	var wg sync.WaitGroup
	for i := range stats {
		st := &workerStats{errors: map[string]uint64{}}
		stats[i] = st
		wg.Go(func() {
			c := &client{addr: o.addr, req: req, timeout: o.timeout, buf: make([]byte, 256<<10), chk: respCheck{exp: o.exp}, proxy: o.proxy}
			for time.Now().Before(deadline) {
				if o.maxReq > 0 && issued.Add(1) > o.maxReq {
					return
				}
				t0 := time.Now()
				n, kind := c.do(t0)
				if kind != "" {
					st.errors[kind]++
					continue
				}
				st.hist.record(time.Since(t0))
				st.ok++
				st.bytes += uint64(n)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var h histogram
	for _, st := range stats {
		h.merge(&st.hist)
		res.Requests += st.ok
		res.Bytes += st.bytes
		for k, v := range st.errors {
			res.Errors[k] += v
			res.ErrorCount += v
		}
	}
	res.ElapsedS = elapsed.Seconds()
	res.ReqPerS = float64(res.Requests) / elapsed.Seconds()
	res.MBPerS = float64(res.Bytes) / 1e6 / elapsed.Seconds()
	res.Latency = Latency{
		Min:  ms(time.Duration(h.min)),
		Mean: ms(h.mean()),
		P50:  ms(h.quantile(0.50)),
		P90:  ms(h.quantile(0.90)),
		P99:  ms(h.quantile(0.99)),
		Max:  ms(time.Duration(h.max)),
	}
}

// client makes one request at a time, reusing its buffer and checker.
type client struct {
	addr    string
	req     []byte
	timeout time.Duration
	buf     []byte
	chk     respCheck
	proxy   string // PROXY header version, "" for none
	out     []byte // the header and the request, when there is a header
}

// do performs one request started at t0 and returns the bytes received and
// the error kind ("" on success).
func (c *client) do(t0 time.Time) (int64, string) {
	dl := t0.Add(c.timeout)
	d := net.Dialer{Deadline: dl}
	conn, err := d.Dial("tcp", c.addr)
	if err != nil {
		return 0, classify(kindDial, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(dl); err != nil {
		return 0, classify(kindWrite, err)
	}
	out := c.req
	if c.proxy != "" {
		// One write for the header and the request, as a proxy that
		// forwards a client's first segment sends them.
		c.out = appendProxyHeader(c.out[:0], c.proxy, conn.LocalAddr(), conn.RemoteAddr())
		c.out = append(c.out, c.req...)
		out = c.out
	}
	if _, err := conn.Write(out); err != nil {
		return 0, classify(kindWrite, err)
	}
	c.chk.reset()
	for {
		n, err := conn.Read(c.buf)
		c.chk.observe(c.buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return c.chk.n, classify(kindRead, err)
		}
	}
	if k := c.chk.verdict(); k != "" {
		return c.chk.n, k
	}
	return c.chk.n, ""
}

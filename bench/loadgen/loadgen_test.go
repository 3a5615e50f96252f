package main

import (
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBucketRangeContainsValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, 1<<63 - 1, 1 << 63, ^uint64(0)}
	for range 10000 {
		vals = append(vals, r.Uint64()>>r.IntN(64))
	}
	for _, v := range vals {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		lo, w := bucketRange(i)
		if v < lo || v-lo >= w {
			t.Fatalf("value %d in bucket %d = [%d, %d+%d)", v, i, lo, lo, w)
		}
	}
}

func TestQuantileMatchesSortedSample(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h histogram
	var sample []time.Duration
	for range 50000 {
		// Log-normal-ish latencies from 20µs to ~1s.
		d := time.Duration(20e3 * (1 + r.ExpFloat64()*r.ExpFloat64()*200))
		h.record(d)
		sample = append(sample, d)
	}
	slices.Sort(sample)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
		rank := int(float64(len(sample))*q+0.999999) - 1
		want := sample[rank]
		got := h.quantile(q)
		if diff := float64(got-want) / float64(want); diff > 1.0/64 || diff < -1.0/64 {
			t.Errorf("quantile(%v) = %v, sorted sample says %v (%.2f%% off)", q, got, want, diff*100)
		}
	}
	if h.quantile(1) != sample[len(sample)-1] {
		t.Errorf("quantile(1) = %v, want the exact max %v", h.quantile(1), sample[len(sample)-1])
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	var empty histogram
	if empty.quantile(0.99) != 0 || empty.mean() != 0 {
		t.Fatal("empty histogram must report zero")
	}
	var a, b histogram
	for i := 1; i <= 100; i++ {
		a.record(time.Duration(i) * time.Microsecond)
		b.record(time.Duration(i+100) * time.Microsecond)
	}
	a.merge(&b)
	a.merge(&empty)
	if a.n != 200 || a.min != uint64(time.Microsecond) || a.max != uint64(200*time.Microsecond) {
		t.Fatalf("merged n=%d min=%d max=%d", a.n, a.min, a.max)
	}
	if got := a.quantile(0.5); got < 98*time.Microsecond || got > 102*time.Microsecond {
		t.Errorf("merged median = %v, want about 100µs", got)
	}
}

func TestRespCheck(t *testing.T) {
	menu := "iHello\t\tlocalhost\t70\r\n1Dir\t/d\tlocalhost\t70\r\n.\r\n"
	tests := []struct {
		name string
		exp  expectation
		resp string
		want string
	}{
		{"exact size", expectation{bytes: 5}, "hello", ""},
		{"short", expectation{bytes: 6}, "hello", kindShort},
		{"long", expectation{bytes: 4}, "hello", kindLong},
		{"empty but size expected", expectation{bytes: 1}, "", kindShort},
		{"unchecked", expectation{bytes: -1}, "anything", ""},
		{"menu", expectation{bytes: -1, terminator: true}, menu, ""},
		{"menu without terminator", expectation{bytes: -1, terminator: true}, strings.TrimSuffix(menu, ".\r\n"), kindBadTerminator},
		{"terminator with bare LF", expectation{bytes: -1, terminator: true}, "iX\t\th\t1\r\n.\n", kindBadTerminator},
		{"too short for a terminator", expectation{bytes: -1, terminator: true}, ".\r", kindBadTerminator},
		{"only terminator", expectation{bytes: -1, terminator: true}, ".\r\n", ""},
		{"error item", expectation{bytes: -1, terminator: true}, "3not found\tErr\th\t70\r\n.\r\n", kindErrorItem},
		{"size and terminator", expectation{bytes: int64(len(menu)), terminator: true}, menu, ""},
	}
	for _, tt := range tests {
		// Every chunking must give the same verdict, since a terminator can
		// be split across reads.
		for _, chunk := range []int{1, 2, 3, 4, 1000} {
			c := respCheck{exp: tt.exp}
			c.observe([]byte("stale data from a previous response"))
			c.reset()
			for s := tt.resp; s != ""; {
				n := min(chunk, len(s))
				c.observe([]byte(s[:n]))
				s = s[n:]
			}
			if got := c.verdict(); got != tt.want {
				t.Errorf("%s (chunk %d): verdict %q, want %q", tt.name, chunk, got, tt.want)
			}
		}
	}
}

func TestLoopbackAddr(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"127.0.0.1:70", "127.0.0.1:70", true},
		{"localhost:7070", "127.0.0.1:7070", true},
		{"127.9.8.7:1", "127.9.8.7:1", true},
		{"[::1]:70", "[::1]:70", true},
		{"10.0.0.1:70", "", false},
		{"example.org:70", "", false},
		{"[::]:70", "", false},
		{"0.0.0.0:70", "", false},
		{"127.0.0.1", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := loopbackAddr(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("loopbackAddr(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// serveOnce starts a loopback server that answers every connection with resp
// after reading the request line.
func serveOnce(t *testing.T, resp string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1024)
				n, _ := c.Read(buf)
				if !strings.HasSuffix(string(buf[:n]), "\r\n") {
					io.WriteString(c, "no CRLF")
					return
				}
				io.WriteString(c, resp)
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestClientAgainstLoopbackServer(t *testing.T) {
	addr := serveOnce(t, "hello world")
	tests := []struct {
		exp  expectation
		want string
	}{
		{expectation{bytes: 11}, ""},
		{expectation{bytes: 12}, kindShort},
		{expectation{bytes: -1, terminator: true}, kindBadTerminator},
	}
	for _, tt := range tests {
		c := &client{addr: addr, req: []byte("/x\r\n"), timeout: 5 * time.Second, buf: make([]byte, 4), chk: respCheck{exp: tt.exp}}
		n, kind := c.do(time.Now())
		if kind != tt.want || n != 11 {
			t.Errorf("%+v: got %d bytes, kind %q; want 11 bytes, kind %q", tt.exp, n, kind, tt.want)
		}
	}

	// A port nobody listens on: dial must be classified, not panic.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	c := &client{addr: closed, req: []byte("\r\n"), timeout: 5 * time.Second, buf: make([]byte, 4), chk: respCheck{exp: expectation{bytes: -1}}}
	if _, kind := c.do(time.Now()); kind != kindRefused {
		t.Errorf("dial to closed port: kind %q, want %q", kind, kindRefused)
	}
}

func TestMeasureBoundedByCount(t *testing.T) {
	addr := serveOnce(t, "abc")
	o := &options{addr: addr, conc: 4, dur: time.Minute, maxReq: 25, timeout: 5 * time.Second, exp: expectation{bytes: 3}}
	res := &Result{Errors: map[string]uint64{}}
	measure(o, res)
	if res.Requests != 25 || res.ErrorCount != 0 || res.Bytes != 75 {
		t.Fatalf("requests=%d errors=%v bytes=%d; want 25, none, 75", res.Requests, res.Errors, res.Bytes)
	}
	if res.Latency.P99 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Errorf("inconsistent latency summary %+v", res.Latency)
	}
}

func TestIdleConnectionsAndDrops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	set := openIdle(ln.Addr().String(), 20, 5, 5*time.Second)
	defer set.close()
	if len(set.conns) != 20 || len(set.errs) != 0 {
		t.Fatalf("opened %d idle connections, errors %v; want 20, none", len(set.conns), set.errs)
	}
	srv := make([]net.Conn, 0, 20)
	for range 20 {
		srv = append(srv, <-accepted)
	}
	sources := map[string]bool{}
	for _, c := range srv {
		sources[c.RemoteAddr().(*net.TCPAddr).IP.String()] = true
	}
	if len(sources) != 5 {
		t.Errorf("idle connections came from %d source addresses, want 5: %v", len(sources), sources)
	}
	if d := set.countDropped(); d != 0 {
		t.Fatalf("countDropped = %d with every connection held open, want 0", d)
	}
	for _, c := range srv[:7] {
		c.Close()
	}
	// The FINs cross loopback asynchronously; wait for them without a
	// timing assertion on how long that takes.
	deadline := time.Now().Add(5 * time.Second)
	for set.countDropped() != 7 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := set.countDropped(); d != 7 {
		t.Fatalf("countDropped = %d after the server closed 7, want 7", d)
	}
	for _, c := range srv[7:] {
		c.Close()
	}
}

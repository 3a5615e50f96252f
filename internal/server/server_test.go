package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopherd/internal/gopher"
)

// echo answers with the selector it was asked for, as a one-line menu.
var echo = gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	gopher.Served(w, "menu")
	fmt.Fprintf(w, "sel=%q search=%q\r\n.\r\n", r.Selector, r.Search)
})

func echoed(sel, search string) string {
	return fmt.Sprintf("sel=%q search=%q\r\n.\r\n", sel, search)
}

func TestRoundTrip(t *testing.T) {
	h := start(t, baseSettings(echo))
	tests := []struct {
		name      string
		req       string
		closeSend bool // half-close instead of ending the line
		want      string
	}{
		{"crlf", "/docs/a.txt\r\n", false, echoed("/docs/a.txt", "")},
		{"bare lf", "/docs/a.txt\n", false, echoed("/docs/a.txt", "")},
		{"empty selector", "\r\n", false, echoed("", "")},
		{"search", "/find\tgopher\r\n", false, echoed("/find", "gopher")},
		{"eof ends the line", "/no-newline", true, echoed("/no-newline", "")},
		{"nul byte", "/a\x00b\r\n", false, errorItem(gopher.BadRequest)},
		{"stray cr", "/a\rb\r\n", false, errorItem(gopher.BadRequest)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, h.addr)
			if _, err := c.Write([]byte(tt.req)); err != nil {
				t.Fatal(err)
			}
			if tt.closeSend {
				if err := c.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			if got := string(readAll(t, c)); got != tt.want {
				t.Errorf("response = %q, want %q", got, tt.want)
			}
		})
	}
	waitFor(t, "connections to end", h.srv.idle)
	lines := h.logs.entries(t, "request")
	if len(lines) != len(tests) {
		t.Fatalf("%d access log lines, want %d", len(lines), len(tests))
	}
	for _, l := range lines {
		for _, k := range []string{"client", "selector", "served", "bytes", "duration"} {
			if _, ok := l[k]; !ok {
				t.Errorf("access log line lacks %q: %v", k, l)
			}
		}
	}
}

func TestAccessLogFields(t *testing.T) {
	h := start(t, baseSettings(echo))
	resp := roundTrip(t, h.addr, "/x\x1b[31m\r\n")
	waitFor(t, "connection to end", h.srv.idle)
	lines := h.logs.entries(t, "request")
	if len(lines) != 1 {
		t.Fatalf("%d access log lines, want 1", len(lines))
	}
	l := lines[0]
	if l["client"] != "127.0.0.1" || l["served"] != "menu" || l["bytes"] != float64(len(resp)) {
		t.Errorf("access log line = %v", l)
	}
	if l["selector"] != `/x\x1b[31m` {
		t.Errorf("selector logged as %q, want the escape quoted", l["selector"])
	}
}

func TestRequestTooLarge(t *testing.T) {
	st := baseSettings(echo)
	st.Limits.RequestBytes = 16
	h := start(t, st)

	tests := []struct {
		name string
		req  string
		want string
	}{
		{"at the limit", strings.Repeat("a", 14) + "\r\n", echoed(strings.Repeat("a", 14), "")},
		{"one past the limit", strings.Repeat("a", 15) + "\r\n", errorItem(gopher.TooLarge)},
		{"long line", strings.Repeat("a", 400) + "\r\n", errorItem(gopher.TooLarge)},
		// The client keeps the connection open and never ends the line:
		// the size limit must answer without waiting for more.
		{"no newline", strings.Repeat("a", 400), errorItem(gopher.TooLarge)},
	}
	var wg sync.WaitGroup
	for _, tt := range tests {
		wg.Add(1)
		t.Run(tt.name, func(t *testing.T) {
			defer wg.Done()
			c := dial(t, h.addr)
			if _, err := c.Write([]byte(tt.req)); err != nil {
				t.Fatal(err)
			}
			// A well-behaved client is served while this one is open.
			if got := string(roundTrip(t, h.addr, "/ok\r\n")); got != echoed("/ok", "") {
				t.Errorf("concurrent request got %q", got)
			}
			if got := string(readAll(t, c)); got != tt.want {
				t.Errorf("response = %q, want %q", got, tt.want)
			}
		})
	}
	wg.Wait()
}

func TestRequestTimeout(t *testing.T) {
	st := baseSettings(echo)
	st.Limits.RequestTimeout = 200 * time.Millisecond
	h := start(t, st)

	silent := dial(t, h.addr)

	// A slowloris client: one byte at a time, never a newline. The deadline
	// covers the whole line, so dripping cannot extend it.
	drip := dial(t, h.addr)
	stop := make(chan struct{})
	dripped := make(chan struct{})
	go func() {
		defer close(dripped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := drip.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()

	if got := string(roundTrip(t, h.addr, "/ok\r\n")); got != echoed("/ok", "") {
		t.Errorf("concurrent request got %q", got)
	}
	if got := string(readAll(t, silent)); got != errorItem(gopher.TimedOut) {
		t.Errorf("silent client got %q", got)
	}
	got := string(readAll(t, drip))
	close(stop)
	<-dripped
	if got != errorItem(gopher.TimedOut) {
		t.Errorf("dripping client got %q", got)
	}
}

// bigWriter is a handler that sends size bytes and reports how that went.
func bigWriter(size int, viaFile string, result chan<- error) gopher.Handler {
	return gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
		gopher.Served(w, "file")
		var err error
		if viaFile != "" {
			var f *os.File
			f, err = os.Open(viaFile)
			if err == nil {
				_, err = io.Copy(w, f)
				f.Close()
			}
		} else {
			buf := make([]byte, 1<<20)
			for sent := 0; sent < size && err == nil; sent += len(buf) {
				_, err = w.Write(buf)
			}
		}
		result <- err
	})
}

func sparseFile(t *testing.T, size int64) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestIdleTimeoutCutsOffNonReader(t *testing.T) {
	const size = 64 << 20
	file := sparseFile(t, size)
	for _, path := range []string{"write", "readfrom"} {
		t.Run(path, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			result := make(chan error, 1)
			viaFile := ""
			if path == "readfrom" {
				viaFile = file
			}
			st := baseSettings(bigWriter(size, viaFile, result))
			st.Limits.IdleTimeout = 200 * time.Millisecond
			st.HideIPs = true
			h := start(t, st)

			c := dialFrom(t, h.addr, nil, 4096)
			if _, err := c.Write([]byte("/big\r\n")); err != nil {
				t.Fatal(err)
			}
			// Never read.
			var err error
			select {
			case err = <-result:
			case <-time.After(patience):
				t.Fatal("handler still writing to a client that reads nothing")
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("handler's write error = %v, want a deadline error", err)
			}
			if strings.Contains(err.Error(), "127.0.0.") {
				t.Errorf("error handed to the handler names an address: %v", err)
			}
			waitFor(t, "connection to end", h.srv.idle)
			lines := h.logs.entries(t, "request")
			if len(lines) != 1 || lines[0]["error"] != "timeout" || lines[0]["bytes"].(float64) >= size {
				t.Errorf("access log = %v, want one line with error timeout and a short count", lines)
			}
			_ = c.Close()
			h.shutdown(t)
			checkGoroutines(t, baseline)
		})
	}
}

// TestSlowReaderIsNotCutOff proves the progress rule: a client that reads
// slowly but steadily gets everything even though a single write (or
// sendfile chunk) takes far longer than IdleTimeout.
func TestSlowReaderIsNotCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1 MiB slowly, for seconds: left out by -short (make check-fast)")
	}
	const size = 1 << 20
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"write", "readfrom"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			result := make(chan error, 1)
			h := gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
				var err error
				if path == "write" {
					_, err = w.Write(data)
				} else {
					var f *os.File
					if f, err = os.Open(file); err == nil {
						_, err = io.Copy(w, f)
						f.Close()
					}
				}
				result <- err
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			// Small socket buffers on both ends, so the kernel cannot
			// swallow the response and the writes really block. Not much
			// smaller than the loopback MSS (64 KiB), or TCP's
			// silly-window avoidance stalls the transfer for whole RTOs.
			small := &hookListener{Listener: ln, hook: func(_ int, c net.Conn) net.Conn {
				_ = c.(*net.TCPConn).SetWriteBuffer(64 << 10)
				return c
			}}
			st := baseSettings(h)
			// Loopback TCP with small buffers stalls now and then for up
			// to ~200 ms, and a loaded machine (make test runs packages
			// side by side, under the race detector) can leave the reader
			// unscheduled for longer: the timeout leaves room for both.
			st.Limits.IdleTimeout = time.Second
			srv := startOn(t, small, st)

			// About 400 kB/s: the write, and each sendfile chunk, takes
			// longer than IdleTimeout (2.6 s for the MiB).
			c := dialFrom(t, srv.addr, nil, 64<<10)
			if _, err := c.Write([]byte("/slow\r\n")); err != nil {
				t.Fatal(err)
			}
			var got []byte
			buf := make([]byte, 16<<10)
			_ = c.SetReadDeadline(time.Now().Add(2 * patience))
			for {
				n, err := c.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d bytes: %v", len(got), err)
				}
				time.Sleep(40 * time.Millisecond)
			}
			if err := <-result; err != nil {
				t.Errorf("handler's write failed: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("got %d bytes, want the %d sent, byte-exact", len(got), len(data))
			}
			if srv.srv.slowWrites.Load() == 0 {
				t.Error("no write outlasted IdleTimeout: the test did not exercise the progress rule")
			}
		})
	}
}

// stallConn accepts at most step bytes per Write and then reports the
// deadline as passed, as a socket does for a slow client; with step 0 it is
// a client that accepts nothing.
type stallConn struct {
	net.Conn
	step int
	out  bytes.Buffer
}

func (c *stallConn) Write(p []byte) (int, error) {
	n := min(len(p), c.step)
	c.out.Write(p[:n])
	if n < len(p) {
		return n, &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	return n, nil
}

func (c *stallConn) SetWriteDeadline(time.Time) error { return nil }

func TestWriteProgressRule(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	tests := []struct {
		name    string
		step    int
		wantErr bool
	}{
		{"slow client gets everything", 7, false},
		{"client accepting nothing is cut off", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(nil, Settings{})
			cancelled := false
			c := &stallConn{step: tt.step}
			w := &response{rwc: c, conn: c, idle: time.Second, cancel: func() { cancelled = true }, srv: srv}
			n, err := w.Write(data)
			if (err != nil) != tt.wantErr || cancelled != tt.wantErr {
				t.Fatalf("Write = %d, %v (context cancelled %v), want error %v", n, err, cancelled, tt.wantErr)
			}
			if !bytes.Equal(c.out.Bytes(), data[:n]) || int64(n) != w.n {
				t.Errorf("wrote %d bytes, counted %d, delivered %d", n, w.n, c.out.Len())
			}
			if !tt.wantErr && n != len(data) {
				t.Errorf("wrote %d bytes, want %d", n, len(data))
			}
			if tt.wantErr {
				if _, err2 := w.Write([]byte("more")); err2 != err {
					t.Errorf("second Write after failure = %v, want the first error again", err2)
				}
				if err.Error() != "writing response: timeout" {
					t.Errorf("error text %q", err)
				}
			}
		})
	}
}

func TestFileStreaming(t *testing.T) {
	const size = 8<<20 + 12345
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const limit = 3<<20 + 7
	handler := gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		f, err := os.Open(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		gopher.Served(w, "file")
		var src io.Reader = f
		if r.Selector == "/head" {
			src = &io.LimitedReader{R: f, N: limit}
		}
		if _, err := io.Copy(w, src); err != nil {
			t.Error(err)
		}
	})

	t.Run("tcp uses sendfile", func(t *testing.T) {
		h := start(t, baseSettings(handler))
		if got := roundTrip(t, h.addr, "/all\r\n"); !bytes.Equal(got, data) {
			t.Errorf("got %d bytes, want %d byte-exact", len(got), len(data))
		}
		if got := roundTrip(t, h.addr, "/head\r\n"); !bytes.Equal(got, data[:limit]) {
			t.Errorf("limited: got %d bytes, want %d byte-exact", len(got), limit)
		}
		if n := h.srv.sendfileChunks.Load(); n < size/sendfileChunk {
			t.Errorf("%d sendfile chunks, want at least %d", n, size/sendfileChunk)
		}
	})

	t.Run("other conns copy", func(t *testing.T) {
		ln := newPipeListener()
		h := startOn(t, ln, baseSettings(handler))
		c := ln.dial(t)
		if _, err := c.Write([]byte("/all\r\n")); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, c); !bytes.Equal(got, data) {
			t.Errorf("got %d bytes, want %d byte-exact", len(got), len(data))
		}
		if n := h.srv.sendfileChunks.Load(); n != 0 {
			t.Errorf("%d sendfile chunks on a pipe", n)
		}
	})
}

// blocker is a handler that parks requests for "/block" until released.
type blocker struct {
	entered chan string
	release chan struct{}
	name    string
}

func newBlocker(name string) *blocker {
	return &blocker{entered: make(chan string, 16), release: make(chan struct{}), name: name}
}

func (b *blocker) ServeGopher(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	gopher.Served(w, "menu")
	if r.Selector == "/block" {
		b.entered <- r.Selector
		select {
		case <-b.release:
		case <-ctx.Done():
			return
		}
	}
	fmt.Fprintf(w, "%s:%s\r\n.\r\n", b.name, r.Selector)
}

func (b *blocker) wait(t *testing.T) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(patience):
		t.Fatal("handler not entered")
	}
}

// startBlocked sends /block and waits until the handler has it.
func startBlocked(t *testing.T, b *blocker, addr string, src net.IP) *net.TCPConn {
	t.Helper()
	c := dialFrom(t, addr, src, 0)
	if _, err := c.Write([]byte("/block\r\n")); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	return c
}

func TestMaxConnections(t *testing.T) {
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnections = 2
	h := start(t, st)

	c1 := startBlocked(t, b, h.addr, nil)
	c2 := startBlocked(t, b, h.addr, net.ParseIP("127.0.0.2"))
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != errorItem(gopher.Busy) {
		t.Errorf("third connection got %q, want busy", got)
	}
	close(b.release)
	for _, c := range []net.Conn{c1, c2} {
		if got := string(readAll(t, c)); got != "A:/block\r\n.\r\n" {
			t.Errorf("blocked client got %q", got)
		}
		_ = c.Close()
	}
	waitFor(t, "slots to be released", h.srv.idle)
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != "A:/x\r\n.\r\n" {
		t.Errorf("after release got %q", got)
	}
	if n := len(h.logs.entries(t, "connection refused: busy")); n != 1 {
		t.Errorf("%d busy log lines, want 1", n)
	}
}

func TestMaxConnectionsPerIP(t *testing.T) {
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnectionsPerIP = 1
	h := start(t, st)

	c1 := startBlocked(t, b, h.addr, nil)
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != errorItem(gopher.Busy) {
		t.Errorf("second connection from 127.0.0.1 got %q, want busy", got)
	}
	c := dialFrom(t, h.addr, net.ParseIP("127.0.0.2"), 0)
	if _, err := c.Write([]byte("/x\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, c)); got != "A:/x\r\n.\r\n" {
		t.Errorf("connection from 127.0.0.2 got %q, want it served", got)
	}
	if _, perIP := h.srv.counts(); perIP["127.0.0.1"] != 1 {
		t.Errorf("per-IP counts = %v", perIP)
	}
	close(b.release)
	readAll(t, c1)
}

// TestMappedAddressesCountTogether serves one connection that reports an
// IPv4-mapped IPv6 address and one that reports the plain IPv4 one: under
// a per-IP limit of 1 they are the same client.
func TestMappedAddressesCountTogether(t *testing.T) {
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnectionsPerIP = 1
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &hookListener{Listener: ln, hook: func(n int, c net.Conn) net.Conn {
		ip := net.ParseIP("192.0.2.7")
		if n == 0 {
			ip = net.ParseIP("::ffff:192.0.2.7")
		}
		return addrConn{Conn: c, remote: &net.TCPAddr{IP: ip, Port: 4000 + n}}
	}}
	h := startOn(t, fake, st)
	c1 := startBlocked(t, b, h.addr, nil)
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != errorItem(gopher.Busy) {
		t.Errorf("second connection got %q, want busy", got)
	}
	if _, perIP := h.srv.counts(); perIP["192.0.2.7"] != 1 || len(perIP) != 1 {
		t.Errorf("per-IP counts = %v", perIP)
	}
	close(b.release)
	readAll(t, c1)
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 70}, "192.0.2.1"},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1").To4(), Port: 70}, "192.0.2.1"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 70}, "192.0.2.1"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 70}, "2001:db8::1"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, "fe80::1%eth0"},
		{pipeAddr{}, "pipe"},
		{&net.UnixAddr{Name: "@sock", Net: "unix"}, "@sock"},
		{nil, "unknown"},
	}
	for _, tt := range tests {
		if got := clientIP(tt.addr); got != tt.want {
			t.Errorf("clientIP(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	h := start(t, baseSettings(gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		switch r.Selector {
		case "/boom":
			panic("boom")
		case "/late-boom":
			_, _ = w.Write([]byte("partial"))
			panic("late boom")
		}
		_, _ = w.Write([]byte("fine\r\n.\r\n"))
	})))

	want := string(gopher.ErrorResponse(gopher.Internal, "/boom", testHost, testPort))
	if got := string(roundTrip(t, h.addr, "/boom\r\n")); got != want {
		t.Errorf("panic before output: got %q, want %q", got, want)
	}

	// After output began, the connection is reset: whatever arrives, it
	// must not look like a complete response, and the read must end.
	c := dial(t, h.addr)
	if _, err := c.Write([]byte("/late-boom\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(c)
	if strings.HasSuffix(string(got), gopher.Terminator) {
		t.Errorf("truncated response looks complete: %q", got)
	}
	if err == nil {
		t.Errorf("read ended cleanly after a panic mid-response (got %q), want a reset", got)
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read error = %v, want a reset", err)
	}

	if got := string(roundTrip(t, h.addr, "/\r\n")); got != "fine\r\n.\r\n" {
		t.Errorf("after panics got %q", got)
	}
	waitFor(t, "connections to end", h.srv.idle)
	panics := h.logs.entries(t, "handler panic")
	if len(panics) != 2 {
		t.Fatalf("%d panic log lines, want 2", len(panics))
	}
	if s, _ := panics[0]["stack"].(string); !strings.Contains(s, "TestPanicRecovery") {
		t.Errorf("panic log lacks the handler's stack: %q", s)
	}
	for _, l := range h.logs.entries(t, "request") {
		if l["selector"] != "/" && l["served"] != "internal" {
			t.Errorf("access log after panic: %v", l)
		}
	}
}

func TestUpdate(t *testing.T) {
	a, b := newBlocker("A"), newBlocker("B")
	h := start(t, baseSettings(a))

	inFlight := startBlocked(t, a, h.addr, nil)

	st := baseSettings(b)
	st.Limits.RequestBytes = 8
	h.srv.Update(st)

	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != "B:/x\r\n.\r\n" {
		t.Errorf("new connection got %q, want the new handler", got)
	}
	if got := string(roundTrip(t, h.addr, "/longer-than-8\r\n")); got != errorItem(gopher.TooLarge) {
		t.Errorf("new connection got %q, want the new request limit", got)
	}
	close(a.release)
	if got := string(readAll(t, inFlight)); got != "A:/block\r\n.\r\n" {
		t.Errorf("in-flight connection got %q, want the old handler", got)
	}
}

func TestShutdownDrains(t *testing.T) {
	baseline := runtime.NumGoroutine()
	logger, _ := newLogger()
	b := newBlocker("A")
	srv := New(logger, baseSettings(b))

	var addrs []string
	served := make(chan error, 2)
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		go func() { served <- srv.Serve(ln, ListenerOptions{}) }()
	}

	slow := startBlocked(t, b, addrs[0], nil)
	idle := dial(t, addrs[1]) // connected, never sends a request
	waitFor(t, "both connections to be counted", func() bool {
		total, _ := srv.counts()
		return total == 2
	})

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()

	for _, addr := range addrs {
		waitFor(t, "listener "+addr+" to close", func() bool {
			c, err := net.DialTimeout("tcp", addr, patience)
			if err == nil {
				_ = c.Close()
				return false
			}
			return true
		})
	}
	for range 2 {
		select {
		case err := <-served:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(patience):
			t.Fatal("Serve did not return")
		}
	}

	// The idle connection is closed at once, not after RequestTimeout.
	_ = idle.SetReadDeadline(time.Now().Add(patience))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || isTimeout(err) {
		t.Errorf("idle connection: read %d bytes, %v; want it closed", n, err)
	}

	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(b.release)
	if got := string(readAll(t, slow)); got != "A:/block\r\n.\r\n" {
		t.Errorf("in-flight request got %q", got)
	}
	_ = slow.Close()
	_ = idle.Close()
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Shutdown did not return")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln, ListenerOptions{}); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	checkGoroutines(t, baseline)
}

func TestShutdownCutsOffAtDeadline(t *testing.T) {
	baseline := runtime.NumGoroutine()
	logger, _ := newLogger()
	ctxErr := make(chan error, 1)
	srv := New(logger, baseSettings(gopher.HandlerFunc(func(ctx context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
		_, _ = w.Write([]byte("started"))
		<-ctx.Done()
		ctxErr <- ctx.Err()
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln, ListenerOptions{}) }()

	c := dial(t, ln.Addr().String())
	if _, err := c.Write([]byte("/forever\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(patience))
	if _, err := io.ReadFull(c, make([]byte, len("started"))); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's error", err)
	}
	select {
	case err := <-ctxErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler's context ended with %v", err)
		}
	default:
		t.Error("handler still running after Shutdown returned")
	}
	if _, err := io.ReadAll(c); isTimeout(err) {
		t.Error("connection still open after Shutdown cut it")
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
	_ = c.Close()
	checkGoroutines(t, baseline)
}

// TestHideIPs drives every path that logs (served, errors, busy, panic, a
// client resetting mid-response, a timeout) and looks for addresses in the
// raw log output.
func TestHideIPs(t *testing.T) {
	for _, hide := range []bool{true, false} {
		t.Run(fmt.Sprintf("hide=%v", hide), func(t *testing.T) {
			b := newBlocker("A")
			h := gopher.HandlerFunc(func(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
				switch r.Selector {
				case "/panic":
					panic(fmt.Sprintf("handler gave up on %s", "127.0.0.1"))
				case "/big":
					buf := make([]byte, 1<<20)
					for i := 0; i < 64; i++ {
						if _, err := w.Write(buf); err != nil {
							return
						}
					}
				default:
					b.ServeGopher(ctx, w, r)
				}
			})
			st := baseSettings(h)
			st.HideIPs = hide
			st.Limits.MaxConnectionsPerIP = 1
			st.Limits.RequestTimeout = 200 * time.Millisecond
			st.Limits.RequestBytes = 32
			srv := start(t, st)

			// One at a time: the per-IP limit is 1, and a slot is only
			// freed once the server has seen the client's FIN.
			for _, req := range []string{"/\r\n", strings.Repeat("x", 100) + "\r\n", "/panic\r\n", ""} {
				roundTrip(t, srv.addr, req) // "" is silent and times out
				waitFor(t, "connection to end", srv.srv.idle)
			}

			// Reset mid-response: the server's write error names both ends.
			c := dialFrom(t, srv.addr, nil, 4096)
			if _, err := c.Write([]byte("/big\r\n")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			_ = c.SetLinger(0)
			_ = c.Close()

			waitFor(t, "connections to end", srv.srv.idle)
			blocked := startBlocked(t, b, srv.addr, nil)
			roundTrip(t, srv.addr, "/busy\r\n")
			close(b.release)
			readAll(t, blocked)
			_ = blocked.Close()
			srv.shutdown(t) // every connection has logged its last line

			logs := srv.logs.String()
			if got := strings.Contains(logs, "127.0.0."); got == hide {
				t.Errorf("log contains an address: %v, want %v\n%s", got, !hide, logs)
			}
			if got := strings.Contains(logs, redacted); got != hide {
				t.Errorf("log contains %q: %v, want %v", redacted, got, hide)
			}
			reset := false
			for _, l := range srv.logs.entries(t, "request") {
				if l["error"] == "reset" || l["error"] == "broken pipe" {
					reset = true
				}
			}
			if !reset {
				t.Errorf("no access log line classifies the reset\n%s", logs)
			}
		})
	}
}

func TestNilHandler(t *testing.T) {
	h := start(t, baseSettings(nil))
	want := string(gopher.ErrorResponse(gopher.Internal, "/", testHost, testPort))
	if got := string(roundTrip(t, h.addr, "/\r\n")); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLimitDefaults(t *testing.T) {
	got := Limits{RequestBytes: 10, MaxConnections: -1}.withDefaults()
	want := DefaultLimits()
	want.RequestBytes = 10
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
}

// TestAbortResets checks that a handler's gopher.Abort after partial output
// makes the client see a reset, not a clean end.
func TestAbortResets(t *testing.T) {
	h := start(t, baseSettings(gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		_, _ = w.Write([]byte("partial file"))
		if r.Selector == "/abort" {
			gopher.Abort(w)
		}
	})))
	if got := string(roundTrip(t, h.addr, "/fine\r\n")); got != "partial file" {
		t.Fatalf("without Abort: %q", got)
	}
	c := dial(t, h.addr)
	if _, err := c.Write([]byte("/abort\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after Abort: read %q, err %v; want a reset", got, err)
	}
}

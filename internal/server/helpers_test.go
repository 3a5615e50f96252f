package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/gopher"
)

const (
	testHost = "gopher.test"
	testPort = 7070
	// patience bounds every wait in the tests; nothing should come near it.
	patience = 5 * time.Second
)

// logBuf captures the log exactly as it would be written out.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) Sync() error { return nil }

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// entries returns the decoded log lines with message msg.
func (l *logBuf) entries(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func newLogger() (*zap.Logger, *logBuf) {
	buf := &logBuf{}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), buf, zapcore.DebugLevel)
	return zap.New(core), buf
}

func baseSettings(h gopher.Handler) Settings {
	return Settings{
		Handler:  h,
		Hostname: testHost,
		Port:     testPort,
		Limits: Limits{
			RequestBytes:        1024,
			RequestTimeout:      patience,
			IdleTimeout:         patience,
			MaxConnections:      64,
			MaxConnectionsPerIP: 64,
		},
	}
}

type harness struct {
	srv  *Server
	addr string
	logs *logBuf
	done chan error
	once sync.Once
}

// start serves st on a fresh loopback listener; the server is shut down
// when the test ends.
func start(t *testing.T, st Settings) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, ln, st)
}

func startOn(t *testing.T, ln net.Listener, st Settings) *harness {
	t.Helper()
	logger, logs := newLogger()
	h := &harness{srv: New(logger, st), addr: ln.Addr().String(), logs: logs, done: make(chan error, 1)}
	go func() { h.done <- h.srv.Serve(ln, ListenerOptions{}) }()
	t.Cleanup(func() { h.shutdown(t) })
	return h
}

// shutdown stops the server; only the first call does anything.
func (h *harness) shutdown(t *testing.T) {
	t.Helper()
	h.once.Do(func() { h.shutdownNow(t) })
}

func (h *harness) shutdownNow(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	select {
	case err := <-h.done:
		if !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	case <-time.After(patience):
		t.Error("Serve did not return after Shutdown")
	}
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	return dialFrom(t, addr, nil, 0)
}

// dialFrom connects from source address src (nil: any) with a receive
// buffer of rcvbuf bytes (0: the default).
func dialFrom(t *testing.T, addr string, src net.IP, rcvbuf int) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: patience}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
	}
	if rcvbuf > 0 {
		// Set before connect, or the window is already negotiated.
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// readAll reads until EOF within patience.
func readAll(t *testing.T, c net.Conn) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading response: %v (got %d bytes)", err, len(b))
	}
	return b
}

// roundTrip sends req on a new connection and returns the whole response.
func roundTrip(t *testing.T, addr, req string) []byte {
	t.Helper()
	c := dial(t, addr)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	b := readAll(t, c)
	_ = c.Close()
	return b
}

func errorItem(k gopher.ErrorKind) string {
	return string(gopher.ErrorResponse(k, "", testHost, testPort))
}

// waitFor polls cond until it holds or patience runs out.
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

// counts returns the counters the connection limits are enforced with.
func (s *Server) counts() (total int, perIP map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	perIP = make(map[string]int, len(s.perIP))
	for k, v := range s.perIP {
		perIP[k] = v
	}
	return s.total, perIP
}

func (s *Server) idle() bool {
	total, _ := s.counts()
	return total == 0
}

// checkGoroutines fails unless the goroutine count settles back to at most
// baseline.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, want at most %d\n%s", runtime.NumGoroutine(), baseline, buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pipeListener hands out net.Pipe connections: no *net.TCPConn, no
// CloseWrite, like a TLS connection would be for the fast paths.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(t *testing.T) net.Conn {
	t.Helper()
	server, client := net.Pipe()
	select {
	case l.conns <- server:
	case <-time.After(patience):
		t.Fatal("pipe listener: nobody accepted")
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// hookListener lets a test adjust each accepted connection.
type hookListener struct {
	net.Listener
	hook func(n int, c net.Conn) net.Conn
	mu   sync.Mutex
	n    int
}

func (l *hookListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	n := l.n
	l.n++
	l.mu.Unlock()
	return l.hook(n, c), nil
}

// addrConn reports a made-up remote address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// CloseWrite keeps the half-close of the wrapped connection reachable, as a
// TLS connection's would be.
func (c addrConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

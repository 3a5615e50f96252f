package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopherd/internal/gopher"
	"gopherd/internal/tlscert"
)

// testCert makes a self-signed certificate for testHost, ready for the
// server (through a Holder, as gopherd serves it) and a client config that
// trusts it.
func testCert(t *testing.T, host string) (*tlscert.Holder, *tls.Config) {
	t.Helper()
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Options{Hosts: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	h := &tlscert.Holder{}
	h.Store(&cert)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	return h, &tls.Config{RootCAs: roots, ServerName: host}
}

// startTLS serves st with the certificate of h on a loopback listener in
// the given mode.
func startTLS(t *testing.T, st Settings, h *tlscert.Holder, mode TLSMode) *harness {
	t.Helper()
	if h != nil {
		st.TLS = h.Config()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := newLogger()
	hs := &harness{srv: New(logger, st), addr: ln.Addr().String(), logs: logs, done: make(chan error, 1)}
	go func() { hs.done <- hs.srv.Serve(ln, ListenerOptions{TLS: mode}) }()
	t.Cleanup(func() { hs.shutdown(t) })
	return hs
}

// tlsRoundTrip sends req over TLS and returns the whole response and the
// connection's state.
func tlsRoundTrip(t *testing.T, addr string, cfg *tls.Config, req string) ([]byte, tls.ConnectionState) {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	_ = tc.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(tc, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tc)
	if err != nil {
		t.Fatalf("reading TLS response: %v (got %q)", err, b)
	}
	return b, tc.ConnectionState()
}

func TestTLSAndPlainOnOnePort(t *testing.T) {
	holder, client := testCert(t, testHost)
	st := baseSettings(echo)
	st.HideIPs = true
	h := startTLS(t, st, holder, TLSAuto)

	if got := string(roundTrip(t, h.addr, "/plain\r\n")); got != echoed("/plain", "") {
		t.Errorf("plain: %q", got)
	}
	got, cs := tlsRoundTrip(t, h.addr, client, "/secure\tterm\r\n")
	if string(got) != echoed("/secure", "term") {
		t.Errorf("TLS: %q", got)
	}
	if cs.Version < tls.VersionTLS12 || cs.PeerCertificates[0].Subject.CommonName != testHost {
		t.Errorf("TLS state: version %x, peer %v", cs.Version, cs.PeerCertificates[0].Subject)
	}
	// A plain request that arrives byte by byte is not confused by the
	// look at the first byte.
	c := dial(t, h.addr)
	for _, b := range []byte("/slow\r\n") {
		if _, err := c.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if got := string(readAll(t, c)); got != echoed("/slow", "") {
		t.Errorf("plain byte by byte: %q", got)
	}
	c.Close()

	waitFor(t, "connections to end", h.srv.idle)
	lines := h.logs.entries(t, "request")
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3", len(lines))
	}
	for _, l := range lines {
		wantTLS := l["selector"] == "/secure"
		if _, has := l["tls"]; has != wantTLS || wantTLS && l["tls"] != true {
			t.Errorf("access log line %v: tls field wrong", l)
		}
		if l["client"] != "[redacted]" {
			t.Errorf("client logged as %v with hide-ips", l["client"])
		}
	}
	if strings.Contains(h.logs.String(), "127.0.0.1") {
		t.Errorf("client address in the log:\n%s", h.logs)
	}
}

func TestTLSOnly(t *testing.T) {
	holder, client := testCert(t, testHost)
	st := baseSettings(echo)
	st.HTTPPage = true
	h := startTLS(t, st, holder, TLSOnly)

	got, _ := tlsRoundTrip(t, h.addr, client, "/secure\r\n")
	if string(got) != echoed("/secure", "") {
		t.Errorf("TLS: %q", got)
	}
	want := "3" + tlsRequiredMsg + "\tErr\t" + testHost + "\t7070\r\n.\r\n"
	if got := string(roundTrip(t, h.addr, "/plain\r\n")); got != want {
		t.Errorf("plain on a TLS-only listener: %q, want %q", got, want)
	}
	// A browser still gets HTML, never Gopher bytes.
	resp := roundTrip(t, h.addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !bytes.HasPrefix(resp, []byte("HTTP/1.0 400 ")) {
		t.Errorf("HTTP on a TLS-only listener: %q", resp)
	}
	waitFor(t, "connections to end", h.srv.idle)
	served := map[string]int{}
	for _, l := range h.logs.entries(t, "request") {
		served[fmt.Sprint(l["served"])]++
	}
	if served["menu"] != 1 || served[servedTLSRequired] != 1 || served[servedHTTP] != 1 {
		t.Errorf("served counts %v", served)
	}

	// Without a certificate (a reload took it away), a handshake is
	// refused and plain requests still hear why.
	h.srv.Update(baseSettings(echo))
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: client}
	if c, err := d.Dial("tcp", h.addr); err == nil {
		c.Close()
		t.Error("TLS handshake succeeded without a certificate")
	}
	if got := string(roundTrip(t, h.addr, "/plain\r\n")); got != want {
		t.Errorf("plain on a TLS-only listener without certificate: %q", got)
	}
}

func TestTLSOff(t *testing.T) {
	holder, client := testCert(t, testHost)
	h := startTLS(t, baseSettings(echo), holder, TLSOff)
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: client}
	if c, err := d.Dial("tcp", h.addr); err == nil {
		c.Close()
		t.Fatal("TLS handshake succeeded on a TLSOff listener")
	}
	if got := string(roundTrip(t, h.addr, "/plain\r\n")); got != echoed("/plain", "") {
		t.Errorf("plain: %q", got)
	}
	waitFor(t, "connections to end", h.srv.idle)
	if len(h.logs.entries(t, "TLS handshake failed")) != 0 {
		t.Error("a TLSOff listener tried a handshake")
	}
}

// TestTLSHandshakeDeadline: a client that starts a handshake and stalls is
// cut off at the request deadline, and so is one that completes the
// handshake and never sends a request.
func TestTLSHandshakeDeadline(t *testing.T) {
	holder, client := testCert(t, testHost)
	st := baseSettings(echo)
	st.Limits.RequestTimeout = 200 * time.Millisecond
	st.HideIPs = true
	h := startTLS(t, st, holder, TLSAuto)

	for _, start := range [][]byte{{0x16}, {0x16, 0x03}, {0x16, 0x03, 0x01, 0x00, 0x40, 0x01}} {
		c := dial(t, h.addr)
		if _, err := c.Write(start); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(patience))
		b, err := io.ReadAll(c)
		if err != nil && !isReset(err) {
			t.Errorf("%x: connection not closed by the server: %v", start, err)
		}
		if len(b) != 0 {
			t.Errorf("%x: got %q, want nothing", start, b)
		}
	}

	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: client}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	if got, err := io.ReadAll(c); err != nil || string(got) != errorItem(gopher.TimedOut) {
		t.Errorf("silent TLS client: %q, %v; want the timeout item over TLS", got, err)
	}
	c.Close()

	waitFor(t, "connections to end", h.srv.idle)
	fails := h.logs.entries(t, "TLS handshake failed")
	if len(fails) != 3 {
		t.Fatalf("%d handshake failures logged, want 3:\n%s", len(fails), h.logs)
	}
	for _, f := range fails {
		if f["error"] != "timeout" || f["client"] != "[redacted]" {
			t.Errorf("handshake failure logged as %v", f)
		}
	}
	if strings.Contains(h.logs.String(), "127.0.0.1") {
		t.Errorf("client address in the log:\n%s", h.logs)
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

func TestTLSHandshakeFailures(t *testing.T) {
	holder, client := testCert(t, testHost)
	st := baseSettings(echo)
	st.HideIPs = false
	h := startTLS(t, st, holder, TLSAuto)

	// Garbage after the handshake byte.
	c := dial(t, h.addr)
	if _, err := c.Write([]byte("\x16garbage that is no TLS record\r\n")); err != nil {
		t.Fatal(err)
	}
	readAll(t, c)

	// A client that does not trust the certificate gives up.
	untrusting := &tls.Config{ServerName: testHost, RootCAs: x509.NewCertPool()}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: untrusting}
	if c, err := d.Dial("tcp", h.addr); err == nil {
		c.Close()
		t.Fatal("handshake succeeded with an untrusted certificate")
	}
	// A client offering only old TLS versions is refused.
	old := client.Clone()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	d = &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: old}
	if c, err := d.Dial("tcp", h.addr); err == nil {
		c.Close()
		t.Fatal("handshake succeeded with TLS 1.1")
	}

	waitFor(t, "connections to end", h.srv.idle)
	deadline := time.Now().Add(patience)
	for len(h.logs.entries(t, "TLS handshake failed")) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("want three handshake failures logged:\n%s", h.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var reasons []string
	for _, f := range h.logs.entries(t, "TLS handshake failed") {
		if f["client"] != "127.0.0.1" || f["detail"] == "" {
			t.Errorf("handshake failure logged as %v", f)
		}
		reasons = append(reasons, fmt.Sprint(f["error"]))
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{"first record does not look like a TLS handshake", "remote error: tls: bad certificate", "unsupported versions"} {
		if !strings.Contains(all, want) {
			t.Errorf("no handshake failure logged with %q:\n%s", want, all)
		}
	}
	if got := string(roundTrip(t, h.addr, "/still\r\n")); got != echoed("/still", "") {
		t.Errorf("after failures: %q", got)
	}
}

// TestTLSLargeFile streams a file bigger than the socket buffers over TLS,
// where sendfile cannot apply, to a client that reads slowly at first.
func TestTLSLargeFile(t *testing.T) {
	holder, client := testCert(t, testHost)
	data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	files := gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		gopher.Served(w, "file")
		_, _ = io.Copy(w, f)
	})
	h := startTLS(t, baseSettings(files), holder, TLSAuto)

	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: client}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	io.WriteString(c, "/big\r\n")
	time.Sleep(50 * time.Millisecond) // let the server fill the buffers
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(data))
	}
	if h.srv.sendfileChunks.Load() != 0 {
		t.Error("sendfile used on a TLS connection")
	}
	c.Close()
	waitFor(t, "connection to end", h.srv.idle)
	l := h.logs.entries(t, "request")
	if len(l) != 1 || l[0]["bytes"] != float64(len(data)) || l[0]["tls"] != true {
		t.Errorf("access log %v", l)
	}
}

// TestShutdownDuringHandshake: a client stuck in its handshake has not
// sent a request, so Shutdown closes it at once rather than waiting.
func TestShutdownDuringHandshake(t *testing.T) {
	holder, _ := testCert(t, testHost)
	h := startTLS(t, baseSettings(echo), holder, TLSAuto)
	c := dial(t, h.addr)
	if _, err := c.Write([]byte{0x16, 0x03}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the connection to be counted", func() bool { return !h.srv.idle() })
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown waited for a handshake: %v", err)
	}
	h.once.Do(func() {})
	if len(h.logs.entries(t, "TLS handshake failed")) != 0 {
		t.Error("shutdown logged as a handshake failure")
	}
}

func TestHTTPPage(t *testing.T) {
	holder, client := testCert(t, testHost)
	st := baseSettings(echo)
	st.HTTPPage = true
	st.Limits.RequestBytes = 64
	h := startTLS(t, st, holder, TLSAuto)

	long := "/" + strings.Repeat("x", 200)
	tests := []struct {
		name   string
		method string
		req    string
		tls    bool
	}{
		{"GET", "GET", "GET /x HTTP/1.1\r\nHost: gopher.test\r\nUser-Agent: test\r\n\r\n", false},
		{"HEAD", "HEAD", "HEAD / HTTP/1.1\r\nHost: gopher.test\r\n\r\n", false},
		{"POST with body", "POST", "POST /form HTTP/1.1\r\nContent-Length: 3\r\n\r\na=b", false},
		{"HTTP/1.0 without header", "GET", "GET / HTTP/1.0\r\n\r\n", false},
		{"bare LF", "GET", "GET / HTTP/1.1\nHost: x\n\n", false},
		{"OPTIONS", "OPTIONS", "OPTIONS * HTTP/1.1\r\n\r\n", false},
		{"request line over the limit", "GET", "GET " + long + " HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"header over the limit", "GET", "GET / HTTP/1.1\r\nCookie: " + strings.Repeat("c", 2000) + "\r\n\r\n", false},
		{"over TLS", "GET", "GET / HTTP/1.1\r\nHost: gopher.test\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw []byte
			if tt.tls {
				raw, _ = tlsRoundTrip(t, h.addr, client, tt.req)
			} else {
				raw = roundTrip(t, h.addr, tt.req)
			}
			checkHTTPPage(t, raw, tt.method)
		})
	}

	// The header may come in pieces: nothing is answered before its end.
	c := dial(t, h.addr)
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !isTimeoutErr(err) {
		t.Fatalf("answered before the end of the header: %d, %v", n, err)
	}
	if _, err := c.Write([]byte("Accept: */*\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	checkHTTPPage(t, readAll(t, c), "GET")
	c.Close()

	// Gopher selectors that merely look a bit like HTTP stay selectors.
	for _, sel := range []string{"GET /x", "GET /x HTTP/1.1 extra", "get /x HTTP/1.1", "GET /x HTTP/1.1\tsearch", "GET  /x HTTP/1.1"} {
		got := string(roundTrip(t, h.addr, sel+"\r\n"))
		if strings.HasPrefix(got, "HTTP/") {
			t.Errorf("%q answered as HTTP", sel)
		}
	}

	waitFor(t, "connections to end", h.srv.idle)
	n := 0
	for _, l := range h.logs.entries(t, "request") {
		if l["served"] == servedHTTP {
			n++
		}
	}
	if n != len(tests)+1 {
		t.Errorf("%d requests logged as http, want %d", n, len(tests)+1)
	}
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// checkHTTPPage parses raw as the HTTP response to method and checks it is
// the page.
func checkHTTPPage(t *testing.T, raw []byte, method string) {
	t.Helper()
	req, _ := http.NewRequest(method, "/", nil)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), req)
	if err != nil {
		t.Fatalf("not an HTTP response: %v\n%q", err, raw)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Proto != "HTTP/1.0" || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status line %s %s", resp.Proto, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if !resp.Close || resp.Header.Get("Connection") != "close" {
		t.Error("no Connection: close")
	}
	full := httpPage("GET", testHost, testPort)
	wantLen := len(full) - bytes.Index(full, []byte("\r\n\r\n")) - 4
	if resp.ContentLength != int64(wantLen) {
		t.Errorf("Content-Length %d, want %d", resp.ContentLength, wantLen)
	}
	if method == "HEAD" {
		if !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
			t.Errorf("HEAD response has a body: %q", raw)
		}
		return
	}
	if len(body) != wantLen || !bytes.Contains(body, []byte(`<a href="gopher://gopher.test:7070/">`)) {
		t.Errorf("body %q", body)
	}
}

func TestHTTPPageOff(t *testing.T) {
	h := start(t, baseSettings(echo)) // HTTPPage false
	req := "GET / HTTP/1.1"
	if got := string(roundTrip(t, h.addr, req+"\r\nHost: x\r\n\r\n")); got != echoed(req, "") {
		t.Errorf("with the page off: %q", got)
	}
}

func TestHTTPRequestLine(t *testing.T) {
	tests := []struct {
		line   string
		method string
	}{
		{"GET / HTTP/1.1", "GET"},
		{"HEAD /a/b?c=d HTTP/1.0", "HEAD"},
		{"POST /x HTTP/2.0", "POST"},
		{"CONNECT example.org:443 HTTP/1.1", "CONNECT"},
		{"OPTIONS * HTTP/1.1", "OPTIONS"},
		{"PUT /x HTTP/1.1", "PUT"},
		{"DELETE /x HTTP/1.1", "DELETE"},
		{"PATCH /x HTTP/1.1", "PATCH"},
		{"TRACE /x HTTP/1.1", "TRACE"},
		{"GET /", ""},
		{"GET / HTTP/1", ""},
		{"GET / HTTP/1.1 ", ""},
		{"GET / HTTP/11.1", ""},
		{"GET / http/1.1", ""},
		{"GET  / HTTP/1.1", ""},
		{"GET /a\x0bb HTTP/1.1", ""},
		{"FETCH / HTTP/1.1", ""},
		{"get / HTTP/1.1", ""},
		{"", ""},
		{"/docs", ""},
	}
	for _, tt := range tests {
		m, ok := httpRequestLine(tt.line)
		if ok != (tt.method != "") || m != tt.method {
			t.Errorf("httpRequestLine(%q) = %q, %v", tt.line, m, ok)
		}
	}
	for in, want := range map[string]bool{"GET /xxx": true, "POST /": true, "GET x": false, "GET ": false, "GE": false} {
		if _, ok := httpPrefix([]byte(in)); ok != want {
			t.Errorf("httpPrefix(%q) = %v", in, ok)
		}
	}
}

func TestHTTPPageEscapes(t *testing.T) {
	page := string(httpPage("GET", `a"<b>&`, 70))
	if strings.Contains(page, `a"<b>`) || !strings.Contains(page, "gopher://a&#34;&lt;b&gt;&amp;:70/") {
		t.Errorf("host not escaped:\n%s", page)
	}
	if page := string(httpPage("GET", "2001:db8::1", 7070)); !strings.Contains(page, `href="gopher://[2001:db8::1]:7070/"`) {
		t.Errorf("IPv6 host not bracketed:\n%s", page)
	}
}

func TestDiscardHTTPHeader(t *testing.T) {
	tests := []struct {
		name     string
		seen     string
		more     string
		limit    int
		leftover string // what must still be unread afterwards
	}{
		{"all seen", "GET / HTTP/1.1\r\nA: b\r\n\r\n", "body", 100, "body"},
		{"rest to read", "GET / HTTP/1.1\r\n", "A: b\r\n\r\nbody", 100, "body"},
		{"bare LF", "GET / HTTP/1.1\n", "A: b\n\nbody", 100, "body"},
		{"no header", "GET / HTTP/1.0\r\n", "\r\nbody", 100, "body"},
		{"CR inside a line is not the end", "GET / HTTP/1.1\r\n", "A: \rb\r\n\r\nbody", 100, "body"},
		{"limit", "GET / HTTP/1.1\r\n", strings.Repeat("A: b\r\n", 10), 30, strings.Repeat("A: b\r\n", 10)[14:]},
		{"EOF", "GET / HTTP/1.1\r\n", "A: b\r\n", 100, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time, to prove the scan carries state across
			// reads and does not read past the header.
			r := &oneByteReader{s: tt.more}
			discardHTTPHeader([]byte(tt.seen), r, tt.limit)
			if r.s != tt.leftover {
				t.Errorf("left %q unread, want %q", r.s, tt.leftover)
			}
		})
	}
}

type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

// TestBusyOverTLS: a TLS client over a cap gets the busy item over TLS,
// within the busy deadline, instead of plaintext its TLS stack would
// report as a protocol error; a plain client on the same port still gets
// it in plaintext.
func TestBusyOverTLS(t *testing.T) {
	holder, client := testCert(t, testHost)
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnections = 1
	h := startTLS(t, st, holder, TLSAuto)
	held := startBlocked(t, b, h.addr, nil)

	start := time.Now()
	got, state := tlsRoundTrip(t, h.addr, client, "/x\r\n")
	if string(got) != errorItem(gopher.Busy) || !state.HandshakeComplete {
		t.Errorf("TLS client over the cap got %q (handshake complete %v), want the busy item over TLS", got, state.HandshakeComplete)
	}
	if d := time.Since(start); d > busyTimeout {
		t.Errorf("busy answer over TLS took %v, longer than the busy deadline %v", d, busyTimeout)
	}
	// With MaxConnections 1, one busy answer at a time: past that the
	// server closes without one.
	waitFor(t, "the busy answer to end", func() bool {
		h.srv.mu.Lock()
		defer h.srv.mu.Unlock()
		return h.srv.busy == 0
	})
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != errorItem(gopher.Busy) {
		t.Errorf("plain client over the cap got %q, want the busy item", got)
	}
	close(b.release)
	readAll(t, held)
}

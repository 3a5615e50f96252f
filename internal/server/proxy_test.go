package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"gopherd/internal/gopher"
)

// startWith serves st on a fresh loopback listener with options o.
func startWith(t *testing.T, st Settings, o ListenerOptions) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := newLogger()
	h := &harness{srv: New(logger, st), addr: ln.Addr().String(), logs: logs, done: make(chan error, 1)}
	go func() { h.done <- h.srv.Serve(ln, o) }()
	t.Cleanup(func() { h.shutdown(t) })
	return h
}

func trusting(prefixes ...string) ListenerOptions {
	p := &ProxyProtocol{}
	for _, s := range prefixes {
		p.Trusted = append(p.Trusted, netip.MustParsePrefix(s))
	}
	return ListenerOptions{Proxy: p}
}

// v2Header is a PROXY v2 header for a TCP client at src.
func v2Header(t *testing.T, src string) []byte {
	t.Helper()
	ap := netip.MustParseAddrPort(src)
	dst := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 70}
	if ap.Addr().Is6() {
		dst = &net.TCPAddr{IP: net.IPv6loopback, Port: 70}
	}
	h := proxyproto.HeaderProxyFromAddrs(2, net.TCPAddrFromAddrPort(ap), dst)
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v2Raw is a v2 header with command cmd (0x21 PROXY, 0x20 LOCAL), family
// fam and body.
func v2Raw(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, proxySigV2...)
	b = append(b, cmd, fam, byte(len(body)>>8), byte(len(body)))
	return append(b, body...)
}

// counter counts handler calls.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) wrap(h gopher.Handler) gopher.Handler {
	return gopher.HandlerFunc(func(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
		h.ServeGopher(ctx, w, r)
	})
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// sendRaw writes each part in its own write and reads the answer; it
// returns what was read and the read error (nil at a clean EOF).
func sendRaw(t *testing.T, addr string, parts ...[]byte) ([]byte, error) {
	t.Helper()
	c := dial(t, addr)
	for _, p := range parts {
		if _, err := c.Write(p); err != nil {
			return nil, err
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(c)
	return b, err
}

func TestProxyTrusted(t *testing.T) {
	st := baseSettings(factsHandler())
	h := startWith(t, st, trusting("127.0.0.1/32"))
	for _, tt := range []struct {
		name   string
		header []byte
		split  bool // header and request in separate writes
		want   string
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.7 127.0.0.1 4711 70\r\n"), false, "remote=192.0.2.7:4711\n"},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 ::1 4711 70\r\n"), true, "remote=[2001:db8::7]:4711\n"},
		{"v2 tcp4", v2Header(t, "198.51.100.9:5000"), false, "remote=198.51.100.9:5000\n"},
		{"v2 tcp6", v2Header(t, "[2001:db8:1::9]:5001"), true, "remote=[2001:db8:1::9]:5001\n"},
		{"v1 mapped", []byte("PROXY TCP6 ::ffff:192.0.2.8 ::1 4711 70\r\n"), false, "remote=192.0.2.8:4711\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parts := [][]byte{append(bytes.Clone(tt.header), "/x\r\n"...)}
			if tt.split {
				parts = [][]byte{tt.header, []byte("/x\r\n")}
			}
			got, err := sendRaw(t, h.addr, parts...)
			if err != nil || !strings.HasPrefix(string(got), tt.want) {
				t.Errorf("got %q, %v; want it to start with %q", got, err, tt.want)
			}
		})
	}
}

func TestProxyLocalKeepsSocketAddress(t *testing.T) {
	h := startWith(t, baseSettings(factsHandler()), trusting("127.0.0.0/8"))
	unknown107 := "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
	if len(unknown107) != maxProxyV1 {
		t.Fatalf("the longest v1 line is %d bytes, not %d", len(unknown107), maxProxyV1)
	}
	for name, hdr := range map[string][]byte{
		"v1 UNKNOWN":         []byte("PROXY UNKNOWN\r\n"),
		"v1 UNKNOWN longest": []byte(unknown107),
		"v2 LOCAL":           v2Raw(0x20, 0x00, nil),
		"v2 LOCAL with addr": v2Raw(0x20, 0x11, make([]byte, 12)),
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, h.addr)
			local := c.LocalAddr().String()
			if _, err := c.Write(append(hdr, "/x\r\n"...)); err != nil {
				t.Fatal(err)
			}
			if got := string(readAll(t, c)); !strings.HasPrefix(got, "remote="+local+"\n") {
				t.Errorf("got %q, want the socket's address %s", got, local)
			}
		})
	}
}

// TestProxyRefused covers every connection the stage must close without
// serving: an untrusted peer (with a forged header, or silent), a trusted
// one without a header, with a broken, truncated or oversized one, or with
// none in time. The handler never runs and the forged address appears
// nowhere.
func TestProxyRefused(t *testing.T) {
	var calls counter
	st := baseSettings(calls.wrap(factsHandler()))
	st.Limits.RequestTimeout = 500 * time.Millisecond
	trusted := startWith(t, st, trusting("127.0.0.1/32"))
	st.HideIPs = true
	untrusted := startWith(t, st, trusting("10.0.0.0/8", "::1/128"))
	forged := "PROXY TCP4 203.0.113.66 127.0.0.1 4711 70\r\n/x\r\n"

	longV1 := "PROXY TCP4 " + strings.Repeat("1", maxProxyV1) + "\r\n"
	for _, tt := range []struct {
		name   string
		h      *harness
		parts  []string
		reason string
	}{
		{"untrusted with header", untrusted, []string{forged}, "untrusted"},
		{"untrusted silent", untrusted, nil, "untrusted"},
		{"no header", trusted, []string{"/x\r\n"}, ProxyMissing},
		{"TLS without header", trusted, []string{"\x16\x03\x01\x00"}, ProxyMissing},
		{"not PROXY", trusted, []string{"PROXZ TCP4 1.2.3.4 1.2.3.4 1 2\r\n/x\r\n"}, ProxyMissing},
		{"silent", trusted, nil, ProxyTimeout},
		{"v1 too long", trusted, []string{longV1}, ProxyTooLong},
		{"v1 invalid", trusted, []string{"PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n/x\r\n"}, ProxyInvalid},
		{"v1 no CR", trusted, []string{"PROXY TCP4 192.0.2.1 127.0.0.1 1 2\n/x\r\n"}, ProxyInvalid},
		{"v2 too long", trusted, []string{string(v2Raw(0x21, 0x11, make([]byte, maxProxyV2Body+1)))}, ProxyTooLong},
		{"v2 bad command", trusted, []string{string(v2Raw(0x2f, 0x11, make([]byte, 12))) + "/x\r\n"}, ProxyInvalid},
		{"v2 truncated", trusted, []string{string(v2Raw(0x21, 0x11, make([]byte, 12))[:20])}, ProxyClosed},
		{"v1 truncated", trusted, []string{"PROXY TCP4 192.0.2.1"}, ProxyClosed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.count()
			c := dial(t, tt.h.addr)
			for _, p := range tt.parts {
				if _, err := c.Write([]byte(p)); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasSuffix(tt.name, "truncated") {
				_ = c.CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(patience))
			got, err := io.ReadAll(c)
			if len(got) != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("read %q, %v: want the connection closed without an answer", got, err)
			}
			if calls.count() != before {
				t.Errorf("the handler ran")
			}
			waitFor(t, "the refusal's log line", func() bool { return strings.Contains(tt.h.logs.String(), `"reason":"`+tt.reason+`"`) })
		})
	}
	for _, h := range []*harness{trusted, untrusted} {
		if s := h.logs.String(); strings.Contains(s, "203.0.113.66") {
			t.Errorf("the forged address reached the log:\n%s", s)
		}
	}
	if s := untrusted.logs.String(); strings.Contains(s, "127.0.0.1") {
		t.Errorf("hide-ips: the peer's address reached the log:\n%s", s)
	}
	lines := untrusted.logs.entries(t, "PROXY protocol: connection from an untrusted peer closed")
	if len(lines) == 0 || lines[0]["level"] != "info" || lines[0]["peer"] != redacted {
		t.Errorf("untrusted peer's info line: %v", lines)
	}
}

// TestProxyAcceptsLargestV2 sends a v2 header of exactly 16+1024 bytes
// (the addresses and a NOOP TLV).
func TestProxyAcceptsLargestV2(t *testing.T) {
	h := startWith(t, baseSettings(factsHandler()), trusting("127.0.0.1/32"))
	body := []byte{192, 0, 2, 5, 127, 0, 0, 1, 0x12, 0x34, 0, 70}
	tlv := maxProxyV2Body - len(body) - 3
	body = append(body, 0x04, byte(tlv>>8), byte(tlv))
	body = append(body, make([]byte, tlv)...)
	got, err := sendRaw(t, h.addr, append(v2Raw(0x21, 0x11, body), "/x\r\n"...))
	if err != nil || !strings.HasPrefix(string(got), "remote=192.0.2.5:4660\n") {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestProxyDrip drips headers a byte a second: each connection is cut at
// the request timeout, and no goroutine or descriptor outlives them.
func TestProxyDrip(t *testing.T) {
	st := baseSettings(factsHandler())
	st.Limits.RequestTimeout = 1500 * time.Millisecond
	h := startWith(t, st, trusting("127.0.0.1/32"))
	// One connection served first, so that lazily started runtime
	// goroutines are in the baseline.
	if got, _ := sendRaw(t, h.addr, []byte("PROXY TCP4 192.0.2.1 127.0.0.1 1 70\r\n/x\r\n")); len(got) == 0 {
		t.Fatal("warm-up request failed")
	}
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)

	const clients = 16
	header := []byte("PROXY TCP4 192.0.2.1 127.0.0.1 4711 70\r\n")
	var wg sync.WaitGroup
	cut := make(chan time.Duration, clients)
	for range clients {
		c := dial(t, h.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			began := time.Now()
			for _, b := range header {
				if _, err := c.Write([]byte{b}); err != nil {
					break
				}
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				var one [1]byte
				if _, err := c.Read(one[:]); err == nil || !isTimeout(err) {
					break // closed by the server
				}
			}
			cut <- time.Since(began)
		}()
	}
	wg.Wait()
	close(cut)
	for d := range cut {
		if d >= time.Duration(len(header))*time.Second {
			t.Errorf("a dripping client was never cut (%v)", d)
		}
	}
	waitFor(t, "the server to forget the dripping clients", h.srv.idle)
	checkGoroutines(t, goroutines)
	waitFor(t, "descriptors back to the baseline", func() bool { return openFDs(t) <= fds })
	if n := strings.Count(h.logs.String(), `"reason":"timeout"`); n != clients {
		t.Errorf("%d timeout refusals logged, want %d", n, clients)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// TestProxyTLS runs a TLS handshake after the header: TLS passes through
// the proxy, and the request carries both the header's address and the
// TLS state.
func TestProxyTLS(t *testing.T) {
	holder, client := testCert(t, testHost)
	st := baseSettings(factsHandler())
	st.TLS = holder.Config()
	h := startWith(t, st, ListenerOptions{TLS: TLSAuto, Proxy: trusting("127.0.0.1/32").Proxy})
	raw := dial(t, h.addr)
	if _, err := raw.Write([]byte("PROXY TCP4 192.0.2.44 127.0.0.1 4444 70\r\n")); err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, client)
	if _, err := io.WriteString(c, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	got := string(readAll(t, c))
	if !strings.HasPrefix(got, "remote=192.0.2.44:4444\n") || !strings.Contains(got, "tls=TLS 1.3") {
		t.Errorf("facts over TLS behind PROXY:\n%s", got)
	}
}

// TestProxyKeepsSendfileAndReset proves that a connection from a PROXY
// listener still sends files with sendfile, half-closes after a whole
// response and resets after an aborted one.
func TestProxyKeepsSendfileAndReset(t *testing.T) {
	const size = 9 << 20
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := startWith(t, baseSettings(gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		f, err := os.Open(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if r.Selector == "/abort" {
			_, _ = io.CopyN(w, f, 1000)
			gopher.Abort(w)
			return
		}
		_, _ = io.Copy(w, f)
	})), trusting("127.0.0.1/32"))
	hdr := "PROXY TCP4 192.0.2.1 127.0.0.1 1 70\r\n"
	got, err := sendRaw(t, h.addr, []byte(hdr+"/all\r\n"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("got %d bytes, %v; want %d byte-exact and a clean end", len(got), err, size)
	}
	if n := h.srv.sendfileChunks.Load(); n < size/sendfileChunk {
		t.Errorf("%d sendfile chunks, want at least %d", n, size/sendfileChunk)
	}
	if _, err := sendRaw(t, h.addr, []byte(hdr+"/abort\r\n")); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after Abort: %v, want a reset", err)
	}
}

// TestProxyAddressCountsForCaps: the per-address cap counts the address
// the header gives, not the proxy's.
func TestProxyAddressCountsForCaps(t *testing.T) {
	b := &blocker{entered: make(chan string, 4), release: make(chan struct{}), name: "b"}
	st := baseSettings(b)
	st.Limits.MaxConnectionsPerIP = 1
	h := startWith(t, st, trusting("127.0.0.1/32"))
	defer close(b.release)
	hold := dial(t, h.addr)
	if _, err := hold.Write([]byte("PROXY TCP4 192.0.2.1 127.0.0.1 1 70\r\n/block\r\n")); err != nil {
		t.Fatal(err)
	}
	<-b.entered
	got, _ := sendRaw(t, h.addr, []byte("PROXY TCP4 192.0.2.1 127.0.0.1 2 70\r\n/x\r\n"))
	if string(got) != errorItem(gopher.Busy) {
		t.Errorf("second connection of 192.0.2.1: %q, want busy", got)
	}
	got, _ = sendRaw(t, h.addr, []byte("PROXY TCP4 192.0.2.2 127.0.0.1 3 70\r\n/x\r\n"))
	if string(got) != "b:/x\r\n.\r\n" {
		t.Errorf("another client behind the same proxy: %q, want served", got)
	}
}

// events records what the server reports.
type events struct {
	mu sync.Mutex
	m  map[string]int
}

func newEvents() *events { return &events{m: map[string]int{}} }

func (e *events) add(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[k]++
}

func (e *events) get(k string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m[k]
}

func (e *events) ConnectionOpened()          { e.add("opened") }
func (e *events) ConnectionClosed()          { e.add("closed") }
func (e *events) ConnectionRefused(r string) { e.add("refused " + r) }
func (e *events) TLSHandshake(ok bool)       { e.add(fmt.Sprint("tls ", ok)) }
func (e *events) ProxyHeader(r string)       { e.add("proxy " + r) }
func (e *events) RateLimited(b string)       { e.add("limited " + b) }
func (e *events) Request(served string, n int64, _ time.Duration) {
	e.add("served " + served)
	e.add(fmt.Sprintf("bytes %d", n))
}

func TestProxyEvents(t *testing.T) {
	ev := newEvents()
	st := baseSettings(factsHandler())
	st.Events = ev
	h := startWith(t, st, trusting("127.0.0.1/32"))
	_, _ = sendRaw(t, h.addr, []byte("PROXY TCP4 192.0.2.1 127.0.0.1 1 70\r\n/x\r\n"))
	_, _ = sendRaw(t, h.addr, []byte("PROXY UNKNOWN\r\n/x\r\n"))
	_, _ = sendRaw(t, h.addr, []byte("/x\r\n"))
	u := startWith(t, st, trusting("10.0.0.0/8"))
	_, _ = sendRaw(t, u.addr, []byte("/x\r\n"))
	waitFor(t, "every connection closed", func() bool { return ev.get("closed") == 4 })
	for k, want := range map[string]int{"opened": 4, "proxy accepted": 1, "proxy local": 1, "proxy missing": 1,
		"refused proxy-untrusted": 1, "served none": 2} {
		if got := ev.get(k); got != want {
			t.Errorf("%s: %d, want %d (all: %v)", k, got, want, ev.m)
		}
	}
}

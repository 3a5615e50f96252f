package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"gopherd/internal/gopher"
	"gopherd/internal/tlscert"
)

// whoHandler answers with the tree it stands for and the host and port
// the request carries, so that a test sees which chain answered and under
// which name.
func whoHandler(tree string) gopher.Handler {
	return gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		gopher.Served(w, "who")
		fmt.Fprintf(w, "%s %s %d %s", tree, r.Host, r.Port, r.Selector)
	})
}

// keyPair makes a self-signed certificate for hosts and returns it for a
// server and a client pool that trusts it.
func keyPair(t testing.TB, hosts ...string) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Options{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return &cert, pool
}

// vhostFixture is a server with a default host (tree D, testHost) and two
// vhosts: a.test (alias www.a.test, its own certificate) and b.test
// (port 7071, the default certificate).
type vhostFixture struct {
	st         Settings
	defCert    *tlscert.Holder
	aCert      *tls.Certificate
	defPool    *x509.CertPool
	aPool      *x509.CertPool
	defaultSub string // the default certificate's subject
}

func newVhostFixture(t *testing.T) *vhostFixture {
	t.Helper()
	f := &vhostFixture{defCert: &tlscert.Holder{}}
	dc, dp := keyPair(t, testHost, "b.test")
	f.defCert.Store(dc)
	f.defPool = dp
	f.defaultSub = dc.Leaf.Subject.CommonName
	f.aCert, f.aPool = keyPair(t, "a.test", "www.a.test")
	f.st = baseSettings(whoHandler("D"))
	f.st.TLS = f.defCert.Config()
	f.st.Vhosts = []Host{
		{Hostname: "a.test", Aliases: []string{"www.a.test"}, Port: testPort, Handler: whoHandler("A"), Certificate: f.aCert},
		{Hostname: "b.test", Port: 7071, Handler: whoHandler("B")},
	}
	return f
}

// serve starts the server with settings st on a loopback listener with
// options o.
func serve(t *testing.T, st Settings, o ListenerOptions) *harness {
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

// sniGet sends req over TLS with server name sni (none when "") and
// returns the answer and the certificate shown, or the handshake's error.
func sniGet(t *testing.T, addr, sni, req string) (string, *x509.Certificate, error) {
	t.Helper()
	// Names are checked by hand below: each host has its own certificate.
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true} //nolint:gosec // the test checks the certificate itself
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: patience}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	_ = tc.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(tc, req+"\r\n"); err != nil {
		return "", nil, err
	}
	b, err := io.ReadAll(tc)
	if err != nil {
		return "", nil, err
	}
	return string(b), tc.ConnectionState().PeerCertificates[0], nil
}

func TestVhostBySNI(t *testing.T) {
	f := newVhostFixture(t)
	h := serve(t, f.st, ListenerOptions{})
	for _, tt := range []struct {
		sni, want string
		cert      *x509.CertPool
		certName  string
	}{
		{"a.test", "A a.test 7070 /x", f.aPool, "a.test"},
		{"A.Test", "A a.test 7070 /x", f.aPool, "a.test"},
		{"www.a.test", "A a.test 7070 /x", f.aPool, "www.a.test"},
		{"b.test", "B b.test 7071 /x", f.defPool, "b.test"},
		{testHost, "D " + testHost + " 7070 /x", f.defPool, testHost},
		{"", "D " + testHost + " 7070 /x", f.defPool, testHost},
		{"unknown.test", "D " + testHost + " 7070 /x", f.defPool, testHost},
	} {
		got, cert, err := sniGet(t, h.addr, tt.sni, "/x")
		if err != nil {
			t.Errorf("SNI %q: %v", tt.sni, err)
			continue
		}
		if got != tt.want {
			t.Errorf("SNI %q: answered %q, want %q", tt.sni, got, tt.want)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: tt.cert, DNSName: tt.certName}); err != nil {
			t.Errorf("SNI %q: certificate %v: %v", tt.sni, cert.DNSNames, err)
		}
	}
	// Plain clients send no name: the default host.
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != "D "+testHost+" 7070 /x" {
		t.Errorf("plain: %q", got)
	}
	waitFor(t, "connections to end", h.srv.idle)
	hosts := map[string]int{}
	for _, l := range h.logs.entries(t, "request") {
		hosts[fmt.Sprint(l["vhost"])]++
	}
	if want := map[string]int{"a.test": 3, "b.test": 1, testHost: 4}; fmt.Sprint(hosts) != fmt.Sprint(want) {
		t.Errorf("access log vhost fields %v, want %v", hosts, want)
	}
}

func TestVhostRejectUnknownSNI(t *testing.T) {
	f := newVhostFixture(t)
	f.st.RejectUnknownSNI = true
	h := serve(t, f.st, ListenerOptions{})
	// crypto/tls gives the client the alert as text only.
	if _, _, err := sniGet(t, h.addr, "unknown.test", "/x"); err == nil || !strings.Contains(err.Error(), "tls: unrecognized name") {
		t.Fatalf("unknown SNI with reject: %v, want the unrecognized_name alert", err)
	}
	// Known names, no name and plain clients are served as before.
	for sni, want := range map[string]string{"b.test": "B", "": "D"} {
		if got, _, err := sniGet(t, h.addr, sni, "/x"); err != nil || !strings.HasPrefix(got, want+" ") {
			t.Errorf("SNI %q with reject: %q, %v", sni, got, err)
		}
	}
	if got := string(roundTrip(t, h.addr, "/x\r\n")); !strings.HasPrefix(got, "D ") {
		t.Errorf("plain with reject: %q", got)
	}
	waitFor(t, "the refusal to be logged", func() bool { return len(h.logs.entries(t, "TLS handshake refused: unknown server name")) == 1 })
	if l := h.logs.entries(t, "TLS handshake refused: unknown server name")[0]; l["sni"] != "unknown.test" {
		t.Errorf("refusal logged as %v", l)
	}
}

func TestVhostByListener(t *testing.T) {
	f := newVhostFixture(t)
	h := serve(t, f.st, ListenerOptions{Vhost: "B.TEST"})
	// Plain clients and TLS clients without a name get the listener's
	// host, with its certificate (the default one, for b.test).
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != "B b.test 7071 /x" {
		t.Errorf("plain on the b.test listener: %q", got)
	}
	if got, _, err := sniGet(t, h.addr, "", "/x"); err != nil || got != "B b.test 7071 /x" {
		t.Errorf("TLS without SNI on the b.test listener: %q, %v", got, err)
	}
	// A name the client sends wins over the listener's.
	if got, cert, err := sniGet(t, h.addr, "a.test", "/x"); err != nil || got != "A a.test 7070 /x" || cert.DNSNames[0] != "a.test" {
		t.Errorf("SNI a.test on the b.test listener: %q, %v", got, err)
	}
	// An unknown name served as if it sent none: the listener's host.
	if got, _, err := sniGet(t, h.addr, "unknown.test", "/x"); err != nil || !strings.HasPrefix(got, "B ") {
		t.Errorf("unknown SNI on the b.test listener: %q, %v", got, err)
	}
	// The server's own error items carry the host's name and port.
	tooLong := strings.Repeat("x", 2000) + "\r\n"
	if got, want := string(roundTrip(t, h.addr, tooLong)), string(gopher.ErrorResponse(gopher.TooLarge, "", "b.test", 7071)); got != want {
		t.Errorf("too large on the b.test listener: %q, want %q", got, want)
	}
}

func TestVhostListenerNamesUnknownHost(t *testing.T) {
	f := newVhostFixture(t)
	h := serve(t, f.st, ListenerOptions{Vhost: "gone.test"})
	c := dial(t, h.addr)
	if _, err := c.Write([]byte("/x\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(patience))
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("a listener bound to a missing host answered %q; it must answer nothing, from no other host", b)
	}
	waitFor(t, "the error to be logged", func() bool {
		return strings.Contains(h.logs.String(), "the listener's virtual host is not configured")
	})
}

// TestVhostUpdate: a reload swaps the hosts atomically; a connection
// accepted before it is answered by the chain it started with.
func TestVhostUpdate(t *testing.T) {
	f := newVhostFixture(t)
	h := serve(t, f.st, ListenerOptions{})
	before, err := tls.Dial("tcp", h.addr, &tls.Config{ServerName: "b.test", RootCAs: f.defPool})
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if err := before.Handshake(); err != nil {
		t.Fatal(err)
	}

	st := f.st
	st.Vhosts = []Host{{Hostname: "c.test", Port: 7072, Handler: whoHandler("C")}}
	h.srv.Update(st)

	_ = before.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(before, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(before); string(b) != "B b.test 7071 /x" {
		t.Errorf("connection from before the reload: %q", b)
	}
	if got, _, err := sniGet(t, h.addr, "b.test", "/x"); err != nil || !strings.HasPrefix(got, "D ") {
		t.Errorf("b.test after it was removed: %q, %v (want the default host, as for any unknown name)", got, err)
	}
	if got, _, err := sniGet(t, h.addr, "c.test", "/x"); err != nil || got != "C c.test 7072 /x" {
		t.Errorf("c.test after it was added: %q, %v", got, err)
	}
}

// TestVhostResumedSession: a resumed session shows no certificate, so the
// host is chosen again from the handshake's server name: the same host
// while it exists, and a refusal once it is gone and unknown names are
// refused.
func TestVhostResumedSession(t *testing.T) {
	f := newVhostFixture(t)
	f.st.RejectUnknownSNI = true
	h := serve(t, f.st, ListenerOptions{})
	cache := tls.NewLRUClientSessionCache(4)
	get := func() (string, bool, error) {
		c, err := tls.Dial("tcp", h.addr, &tls.Config{ServerName: "b.test", RootCAs: f.defPool, ClientSessionCache: cache})
		if err != nil {
			return "", false, err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(patience))
		if _, err := io.WriteString(c, "/x\r\n"); err != nil {
			return "", false, err
		}
		b, err := io.ReadAll(c)
		return string(b), c.ConnectionState().DidResume, err
	}
	if got, _, err := get(); err != nil || !strings.HasPrefix(got, "B ") {
		t.Fatalf("first: %q, %v", got, err)
	}
	got, resumed, err := get()
	if err != nil || !strings.HasPrefix(got, "B ") {
		t.Fatalf("second: %q, %v", got, err)
	}
	if !resumed {
		t.Skip("the session was not resumed; nothing more to test")
	}
	st := f.st
	st.Vhosts = st.Vhosts[:1]
	h.srv.Update(st)
	if got, resumed, err := get(); err == nil && got != "" {
		t.Errorf("resumed session for a removed host with reject: answered %q (resumed %v)", got, resumed)
	}
	waitFor(t, "the refusal to be logged", func() bool { return len(h.logs.entries(t, "TLS handshake refused: unknown server name")) == 1 })
}

// BenchmarkVhostTLS: a TLS request (full handshake, no resumption) to a
// server with one host, against one with 100 vhosts each with its own
// certificate, chosen by SNI: the cost of the host choice next to that of
// a handshake.
func BenchmarkVhostTLS(b *testing.B) {
	cert, _ := keyPair(b, testHost)
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("vhosts-%d", n), func(b *testing.B) {
			holder := &tlscert.Holder{}
			holder.Store(cert)
			st := baseSettings(whoHandler("D"))
			st.TLS = holder.Config()
			sni := testHost
			for i := range n {
				name := fmt.Sprintf("h%d.test", i)
				c, _ := keyPair(b, name)
				st.Vhosts = append(st.Vhosts, Host{Hostname: name, Port: testPort, Handler: whoHandler(name), Certificate: c})
				sni = name
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := New(nil, st)
			go func() { _ = srv.Serve(ln, ListenerOptions{}) }()
			defer func() { _ = srv.Shutdown(context.Background()) }()
			conf := &tls.Config{ServerName: sni, InsecureSkipVerify: true, SessionTicketsDisabled: true} //nolint:gosec // benchmark
			b.ResetTimer()
			for b.Loop() {
				c, err := tls.Dial("tcp", ln.Addr().String(), conf)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.WriteString(c, "/x\r\n")
				if _, err := io.ReadAll(c); err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
		})
	}
}

// BenchmarkSNIHost: the host choice alone, by a server name among 100
// vhosts, to set against a handshake (BenchmarkVhostTLS).
func BenchmarkSNIHost(b *testing.B) {
	st := baseSettings(whoHandler("D"))
	for i := range 100 {
		st.Vhosts = append(st.Vhosts, Host{Hostname: fmt.Sprintf("h%d.test", i), Aliases: []string{fmt.Sprintf("www.h%d.test", i)}})
	}
	srv := New(nil, st)
	c := &conn{srv: srv, st: srv.settings.Load()}
	c.host = c.st.defaultHost
	for b.Loop() {
		if c.sniHost("WWW.H42.test") == nil {
			b.Fatal("no host")
		}
	}
}

// TestVhostBusyOverTLS: a busy answer over TLS names the host the client
// chose by SNI; with unknown names refused, one gets no answer at all.
func TestVhostBusyOverTLS(t *testing.T) {
	f := newVhostFixture(t)
	f.st.RejectUnknownSNI = true
	b := newBlocker("D")
	f.st.Handler = b
	f.st.Limits.MaxConnections = 1
	h := serve(t, f.st, ListenerOptions{})
	held := startBlocked(t, b, h.addr, nil)
	if got, _, err := sniGet(t, h.addr, "b.test", "/x"); err != nil || got != string(gopher.ErrorResponse(gopher.Busy, "", "b.test", 7071)) {
		t.Errorf("busy over TLS with SNI b.test: %q, %v; want the busy item naming b.test", got, err)
	}
	waitFor(t, "the busy answer to end", func() bool {
		h.srv.mu.Lock()
		defer h.srv.mu.Unlock()
		return h.srv.busy == 0
	})
	if got, _, err := sniGet(t, h.addr, "unknown.test", "/x"); err == nil {
		t.Errorf("busy over TLS with an unknown SNI and reject: answered %q", got)
	}
	close(b.release)
	readAll(t, held)
}

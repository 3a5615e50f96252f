package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"gopherd/internal/gopher"
)

// factsHandler answers with the connection facts the server put into the
// request, one per line.
func factsHandler() gopher.Handler {
	return gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		tlsVersion := "none"
		if r.TLS != nil {
			tlsVersion = tls.VersionName(r.TLS.Version) + " sni=" + r.TLS.ServerName
		}
		fmt.Fprintf(w, "remote=%s\nhost=%s\nport=%d\ntls=%s\n", r.RemoteAddr, r.Host, r.Port, tlsVersion)
	})
}

func TestRequestCarriesConnectionFacts(t *testing.T) {
	h := start(t, baseSettings(factsHandler()))
	c := dial(t, h.addr)
	local := c.LocalAddr().(*net.TCPAddr)
	if _, err := io.WriteString(c, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	got := string(readAll(t, c))
	want := fmt.Sprintf("remote=127.0.0.1:%d\nhost=%s\nport=%d\ntls=none\n", local.Port, testHost, testPort)
	if got != want {
		t.Errorf("facts:\n%s\nwant:\n%s", got, want)
	}
}

func TestRequestCarriesTLSState(t *testing.T) {
	holder, client := testCert(t, testHost)
	h := startTLS(t, baseSettings(factsHandler()), holder, TLSAuto)
	c, err := tls.Dial("tcp", h.addr, client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	got := string(readAll(t, c))
	if !strings.Contains(got, "tls=TLS 1.3 sni="+testHost+"\n") || !strings.Contains(got, "remote=127.0.0.1:") {
		t.Errorf("facts over TLS:\n%s", got)
	}
}

func TestRemoteAddrPortUnmapsIPv4(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 4711}, "192.0.2.1:4711"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 70}, "[2001:db8::1]:70"},
		{&net.UnixAddr{Name: "@x", Net: "unix"}, "invalid AddrPort"},
		{nil, "invalid AddrPort"},
	} {
		if got := remoteAddrPort(tt.addr).String(); got != tt.want {
			t.Errorf("remoteAddrPort(%v) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

// TestServeConn serves one connection without a listener, as inetd-style
// use does, and checks that it counts against the limits while it runs and
// not after.
func TestServeConn(t *testing.T) {
	logger, _ := newLogger()
	srv := New(logger, baseSettings(factsHandler()))
	server, client := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(server, ListenerOptions{TLS: TLSOff}) }()
	_ = client.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(client, "/\r\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(client)
	if !strings.Contains(string(got), "host="+testHost) {
		t.Errorf("ServeConn answered %q", got)
	}
	_ = client.Close()
	if err := <-done; err != nil {
		t.Errorf("ServeConn: %v", err)
	}
	if total, _ := srv.counts(); total != 0 {
		t.Errorf("%d connections still counted", total)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, _ := net.Pipe()
	if err := srv.ServeConn(a, ListenerOptions{}); err != ErrServerClosed {
		t.Errorf("ServeConn after Shutdown = %v", err)
	}
}

// TestSilentClientsDoNotStallAccepts holds connections that never send a
// byte on a TLS-capable listener (so each waits in its transport stage for
// a first byte) and checks that a normal client is still answered at once.
func TestSilentClientsDoNotStallAccepts(t *testing.T) {
	holder, _ := testCert(t, testHost)
	h := startTLS(t, baseSettings(factsHandler()), holder, TLSAuto)
	for range 32 {
		dial(t, h.addr)
	}
	start := time.Now()
	got := string(roundTrip(t, h.addr, "/\r\n"))
	if !strings.Contains(got, "host="+testHost) {
		t.Fatalf("answer %q", got)
	}
	// Not a timing assertion on speed: a stalled accept loop would leave
	// the request waiting for the request timeout (patience), so anything
	// well under it shows the loop was free.
	if d := time.Since(start); d > patience/2 {
		t.Errorf("answered after %v: accepts were stalled", d)
	}
}

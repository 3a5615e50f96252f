package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
)

// TLSMode says how a listener treats TLS when Settings.TLS is set.
type TLSMode int

// The TLS modes of a listener.
const (
	// TLSAuto serves plain Gopher and Gopher over TLS on the same port:
	// a connection whose first byte starts a TLS handshake record gets
	// TLS, any other is plain.
	TLSAuto TLSMode = iota
	// TLSOnly serves Gopher over TLS only. A plain request gets an error
	// item saying so (or, when it is HTTP and Settings.HTTPPage is on, the
	// HTML page).
	TLSOnly
	// TLSOff serves plain Gopher only and never looks for a handshake.
	TLSOff
)

const (
	// recordTypeHandshake is the first byte of every TLS ClientHello (the
	// record's content type, RFC 8446 section 5.1). No Gopher selector
	// starts with it: it is a control character.
	recordTypeHandshake = 0x16
	// tlsWriteChunk bounds one write on a TLS connection. After a write
	// deadline passes, a tls.Conn refuses every later write, so a slow
	// client must never sit on one write for long: each chunk gets a fresh
	// IdleTimeout, as plain writes do, and one chunk is one TLS record.
	tlsWriteChunk = 16 << 10
	// servedTLSRequired is what the access log says a plain request on a
	// TLS-only listener got.
	servedTLSRequired = "tls-required"
	tlsRequiredMsg    = "TLS required: this port serves Gopher over TLS only (gophers://)."
)

// open finds out, within the request deadline already set, whether the
// client opens with a TLS handshake, and completes the handshake if so. It
// sets c.r, where the request is read from, and c.w, where the response
// goes, and reports false when the connection is already finished.
//
// Only one byte is read before deciding, so a plain client that sends its
// request in pieces is not held up.
func (c *conn) open() bool {
	c.r, c.w = c.in, c.rwc
	if c.opts.TLS == TLSOff || c.opts.TLS == TLSAuto && c.st.TLS == nil {
		return true
	}
	var first [1]byte
	n, err := c.in.Read(first[:])
	for n == 0 && err == nil {
		n, err = c.in.Read(first[:])
	}
	if n == 0 {
		// EOF, the deadline or a reset: reading the request meets the
		// same condition and reports it as for any plain connection.
		return true
	}
	if first[0] != recordTypeHandshake {
		c.r = io.MultiReader(bytes.NewReader(first[:]), c.in)
		return true
	}
	if c.st.TLS == nil {
		// A TLS-only listener after a reload took the certificate away.
		c.srv.logger.Warn("TLS handshake refused: no certificate configured", zap.String("client", c.logIP()))
		_ = c.rwc.Close()
		return false
	}
	tc := c.tlsServer(first[0])
	err = tc.Handshake()
	c.st.Events.TLSHandshake(err == nil)
	if err != nil {
		if c.unknownSNI != "" {
			c.refuseSNI()
			return false
		}
		fields := []zap.Field{zap.String("client", c.logIP()), zap.String("error", c.scrub(handshakeReason(err)))}
		if !c.st.HideIPs {
			fields = append(fields, zap.String("detail", err.Error()))
		}
		if c.srv.wasCut(c) {
			c.srv.logger.Debug("TLS handshake cut by shutdown or eviction", fields...)
		} else {
			c.srv.logger.Info("TLS handshake failed", fields...)
		}
		_ = c.rwc.Close()
		return false
	}
	// A resumed session chose no certificate, so the host is chosen again
	// here, from the server name of this handshake.
	h := c.sniHost(tc.ConnectionState().ServerName)
	if h == nil {
		c.unknownSNI = tc.ConnectionState().ServerName
		c.refuseSNI()
		return false
	}
	c.host = h
	c.tc = tc
	c.r, c.w = tc, tc
	return true
}

// tlsServer starts the server side of TLS on the connection, whose first
// byte, already read, is first. The handshake chooses the host (see
// hostCertificate).
func (c *conn) tlsServer(first byte) *tls.Conn {
	return tls.Server(&peekedConn{Conn: c.in, first: first, c: c}, c.st.serveTLS)
}

// refuseSNI logs and closes a connection whose TLS server name is no
// host's, with unknown names refused. The name is the client's own words:
// quoted, and never an address (SNI carries DNS names only).
func (c *conn) refuseSNI() {
	c.srv.logger.Info("TLS handshake refused: unknown server name", zap.String("client", c.logIP()),
		zap.String("sni", gopher.Quote(c.unknownSNI, maxLogSelector)))
	_ = c.rwc.Close()
}

// openBusy returns where the busy answer goes. On a listener that may
// serve TLS it looks at the first byte first, within half the busy
// deadline: a client that opens a handshake gets it completed (within the
// deadline) and the answer over TLS, because in plaintext it would only
// report a protocol error (OpenSSL: WRONG_VERSION_NUMBER). Any other
// client, and one that sends nothing so soon, gets the plain answer. It
// reports false when the client is gone or the handshake failed.
func (c *conn) openBusy(deadline time.Time) (io.Writer, bool) {
	if c.opts.TLS == TLSOff || c.st.TLS == nil {
		return c.rwc, true
	}
	_ = c.rwc.SetReadDeadline(time.Now().Add(busyTimeout / 2))
	var first [1]byte
	n, err := io.ReadFull(c.in, first[:])
	_ = c.rwc.SetReadDeadline(deadline)
	switch {
	case n == 0 && isTimeout(err):
		return c.rwc, true
	case n == 0:
		return nil, false
	case first[0] != recordTypeHandshake:
		return c.rwc, true
	}
	// The answer names the host the client chose, as any other would. A
	// name refused is only a debug line here, as every failure of a busy
	// answer is, so that a flood does not flood the log.
	tc := c.tlsServer(first[0])
	var h *Host
	reason := ""
	err = tc.Handshake()
	c.st.Events.TLSHandshake(err == nil)
	switch {
	case err != nil && c.unknownSNI == "":
		reason = c.scrub(handshakeReason(err))
	case err != nil:
		reason = "unknown server name"
	default:
		if h = c.sniHost(tc.ConnectionState().ServerName); h == nil {
			reason = "unknown server name" // a resumed session
		}
	}
	if reason != "" {
		c.srv.logger.Debug("TLS handshake for a busy answer failed", zap.String("client", c.logIP()),
			zap.String("error", reason))
		return nil, false
	}
	c.host = h
	c.tc = tc
	return tc, true
}

// handshakeReason describes a failed handshake without the client's
// address. Errors of the TLS protocol itself ("tls: client offered only
// unsupported versions", or an alert from the client: "remote error: tls:
// bad certificate") name no address and say what went wrong; errors of the
// connection underneath name both ends, so they are classified.
func handshakeReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && (oe.Source != nil || oe.Addr != nil) || isTimeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return reason(err)
	}
	return gopher.Quote(err.Error(), 200)
}

// tlsRequired is the answer to a plain request on a TLS-only listener.
func (c *conn) tlsRequired(w *response) {
	w.Served(servedTLSRequired)
	item := gopher.Item{Type: gopher.TypeError, Display: tlsRequiredMsg, Selector: gopher.ErrorSelector,
		Host: c.host.Hostname, Port: c.host.Port}
	_, _ = w.Write(gopher.Menu{item}.Bytes())
}

// peekedConn gives the TLS stack the connection with the byte read to
// recognise the handshake put back in front, and the GetCertificate of the
// handshake the connection it chooses a host for.
type peekedConn struct {
	net.Conn
	first byte
	taken bool
	c     *conn // whose host the handshake chooses
}

func (p *peekedConn) Read(b []byte) (int, error) {
	if !p.taken && len(b) > 0 {
		p.taken = true
		b[0] = p.first
		return 1, nil
	}
	return p.Conn.Read(b)
}

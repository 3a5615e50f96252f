package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
)

const (
	// busyTimeout bounds the whole exchange with a rejected client.
	busyTimeout = time.Second
	// lingerTimeout and lingerBytes bound the wait for the client's FIN
	// after the response: closing with unread client bytes makes the kernel
	// send RST, and clients then lose the tail of the response.
	lingerTimeout = time.Second
	lingerBytes   = 64 << 10
	// maxLogSelector is how much of a selector an access log line repeats.
	maxLogSelector = 128
	// redacted replaces client addresses in logs when HideIPs is set.
	redacted = "[redacted]"
)

type connState int

const (
	stateNew    connState = iota // waiting for the request line
	stateActive                  // answering a request
	stateBusy                    // being told the server is busy
)

// conn is one accepted connection.
type conn struct {
	srv      *Server
	rwc      net.Conn  // the accepted connection; closing it ends everything
	mode     TLSMode   // the listener's
	ip       string    // normalised client address, the per-IP limit's key
	st       *Settings // the settings current when it was accepted
	accepted time.Time
	counted  bool // holds a slot under the connection limits

	// Set by open: where the request is read from and the response
	// written to, and the TLS connection when the client speaks TLS.
	r  io.Reader
	w  net.Conn
	tc *tls.Conn

	// Guarded by srv.mu.
	state connState
	cut   bool // closed by Shutdown
}

func (c *conn) logIP() string {
	if c.st.HideIPs {
		return redacted
	}
	return c.ip
}

// scrub removes the client's address from free-form text (panic values)
// when addresses must stay out of the log.
func (c *conn) scrub(s string) string {
	if c.st.HideIPs && c.ip != "" {
		return strings.ReplaceAll(s, c.ip, redacted)
	}
	return s
}

// rejectBusy tells the client the server is busy, briefly and within a
// short deadline, then closes.
func (c *conn) rejectBusy() {
	defer c.srv.release(c)
	defer func() { _ = c.rwc.Close() }()
	_ = c.rwc.SetDeadline(time.Now().Add(busyTimeout))
	if _, err := c.rwc.Write(gopher.ErrorResponse(gopher.Busy, "", c.st.Hostname, c.st.Port)); err == nil {
		c.drain()
	}
}

// serve runs the lifecycle of one counted connection: read the request
// within its size and time limits, answer it, log it, close gracefully.
func (c *conn) serve() {
	defer c.srv.release(c)
	ctx, cancel := context.WithCancel(c.srv.baseCtx)
	defer cancel()
	defer func() {
		// The handler's panics are caught in handle; one here is the
		// server's own bug, and still must not take the process down.
		if p := recover(); p != nil {
			c.srv.logger.Error("connection panic", zap.String("client", c.logIP()),
				zap.String("panic", c.scrub(fmt.Sprint(p))), zap.Stack("stack"))
			_ = c.rwc.Close()
		}
	}()

	lim := c.st.Limits
	// One deadline for everything before the request is in: the look at
	// the first byte, a TLS handshake (which writes as well as reads) and
	// the whole request line. A client dripping a byte at a time cannot
	// extend it.
	_ = c.rwc.SetDeadline(c.accepted.Add(lim.RequestTimeout))
	if !c.open() {
		return
	}
	var rec *recorder
	r := c.r
	if c.st.HTTPPage {
		// ReadRequest reads at most RequestBytes+1 bytes.
		rec = &recorder{r: c.r, max: lim.RequestBytes + 1}
		r = rec
	}
	req, err := gopher.ReadRequest(r, lim.RequestBytes)
	if !c.srv.activate(c) {
		c.srv.logger.Debug("idle connection closed by shutdown", zap.String("client", c.logIP()))
		return
	}

	w := &response{rwc: c.w, idle: lim.IdleTimeout, cancel: cancel, srv: c.srv}
	if c.tc != nil {
		w.maxWrite = tlsWriteChunk
	}
	method, isHTTP := "", false
	if c.st.HTTPPage {
		method, isHTTP = httpRequest(req, err, rec)
	}
	var kind gopher.ErrorKind
	sel := ""
	switch {
	case err == nil:
		sel = req.Selector
	case errors.Is(err, io.EOF):
		c.srv.logger.Debug("connection closed without a request", zap.String("client", c.logIP()))
		_ = c.rwc.Close()
		return
	case isHTTP:
		// Too long for the limit, but plainly HTTP: answered below.
	case errors.Is(err, gopher.ErrTooLarge):
		kind = gopher.TooLarge
	case errors.Is(err, gopher.ErrInvalid):
		kind = gopher.BadRequest
	case isTimeout(err):
		kind = gopher.TimedOut
	default:
		c.srv.logger.Debug("reading request failed", c.errFields(err, zap.String("client", c.logIP()))...)
		_ = c.rwc.Close()
		return
	}

	abort := false
	switch {
	case isHTTP:
		limit := max(httpHeaderFactor*lim.RequestBytes, minHTTPHeaderBytes)
		discardHTTPHeader(rec.buf, c.r, limit)
		w.Served(servedHTTP)
		_, _ = w.Write(httpPage(method, c.st.Hostname, c.st.Port))
	case kind != 0:
		_ = gopher.WriteError(w, kind, "", c.st.Hostname, c.st.Port)
	case c.mode == TLSOnly && c.tc == nil:
		c.tlsRequired(w)
	default:
		abort = c.handle(ctx, w, req)
	}
	c.logAccess(sel, w, time.Since(c.accepted))

	if abort {
		c.reset()
		return
	}
	if w.err != nil {
		_ = c.rwc.Close()
		return
	}
	_ = c.rwc.SetReadDeadline(time.Now().Add(lingerTimeout))
	c.drain()
	_ = c.rwc.Close()
}

// handle calls the handler, recovering a panic. It reports whether the
// connection must be cut instead of closed gracefully.
func (c *conn) handle(ctx context.Context, w *response, req *gopher.Request) (abort bool) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		c.srv.logger.Error("handler panic", zap.String("client", c.logIP()),
			zap.String("selector", gopher.Quote(req.Selector, maxLogSelector)),
			zap.String("panic", c.scrub(fmt.Sprint(p))), zap.Stack("stack"))
		if w.n == 0 && w.err == nil {
			_ = gopher.WriteError(w, gopher.Internal, req.Selector, c.st.Hostname, c.st.Port)
			return
		}
		w.Served(gopher.Internal.String())
		// Part of a response went out: see reset.
		w.Abort()
		abort = true
	}()
	if c.st.Handler == nil {
		c.srv.logger.Error("no handler configured")
		_ = gopher.WriteError(w, gopher.Internal, req.Selector, c.st.Hostname, c.st.Port)
		return false
	}
	c.st.Handler.ServeGopher(ctx, w, req)
	return w.aborted
}

// reset ends a connection whose response failed halfway. Gopher has no
// length to tell a truncated file from a whole one, so the connection is
// reset (RST) rather than closed: the client then reports an error instead
// of keeping half a file.
func (c *conn) reset() {
	if tc, ok := c.rwc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.rwc.Close()
}

func (c *conn) logAccess(sel string, w *response, d time.Duration) {
	served := w.served
	if served == "" {
		served = "none"
	}
	fields := []zap.Field{
		zap.String("client", c.logIP()),
		zap.String("selector", gopher.Quote(sel, maxLogSelector)),
		zap.String("served", served),
		zap.Int64("bytes", w.n),
		zap.Duration("duration", d),
	}
	if c.tc != nil {
		fields = append(fields, zap.Bool("tls", true))
	}
	if w.err != nil {
		fields = c.errFields(w.err, fields...)
	}
	c.srv.logger.Info("request", fields...)
}

// errFields adds err to fields as a classified reason and, only when
// addresses may be logged, as the raw error: net errors name both ends of
// the connection ("write tcp 127.0.0.1:70->192.0.2.1:4711: ...").
func (c *conn) errFields(err error, fields ...zap.Field) []zap.Field {
	fields = append(fields, zap.String("error", reason(err)))
	if !c.st.HideIPs {
		fields = append(fields, zap.String("detail", rawError(err)))
	}
	return fields
}

// drain half-closes the connection and reads what the client still sends,
// within the deadline the caller set and lingerBytes, so that the final
// Close does not reset the connection under the response's tail. On a TLS
// connection a close_notify alert goes first: it tells the client the
// response is complete, where a bare end of the stream would look like a
// truncation attack (OpenSSL 3 reports it as an error).
func (c *conn) drain() {
	if c.tc != nil {
		if err := c.tc.CloseWrite(); err != nil {
			return
		}
	}
	cw, ok := c.rwc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		// Without a half-close the client would wait for our close while
		// we waited for its FIN.
		return
	}
	_, _ = io.CopyN(io.Discard, c.rwc, lingerBytes)
}

// clientIP is the key for the per-IP limit and the address logged when
// addresses are not hidden. IPv4-mapped IPv6 addresses are unmapped, so a
// client counts once whether it came over IPv4 or a dual-stack socket.
func clientIP(a net.Addr) string {
	if a == nil {
		return "unknown"
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap().WithZone(ta.Zone).String()
		}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap().String()
	}
	return a.String()
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// reason classifies a connection error into words that carry no address.
func reason(err error) string {
	switch {
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrClosedPipe):
		return "closed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, io.ErrShortWrite):
		return "short write"
	}
	return "error"
}

// rawError is the underlying error text, past the classified wrapper the
// response writer hands to handlers.
func rawError(err error) string {
	var we *writeError
	if errors.As(err, &we) {
		return we.err.Error()
	}
	return err.Error()
}

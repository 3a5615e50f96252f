package server

import (
	"container/list"
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
	"gopherd/internal/rate"
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

// conn is one accepted connection. Its goroutine (run) takes it through
// four stages: transport (who the client is, the per-address cap, TLS),
// read (the request line, or an HTTP request), answer (the handler, or an
// answer of the server's own), finish (the access log, then a graceful
// close or a reset).
type conn struct {
	srv      *Server
	rwc      net.Conn        // the accepted connection; closing it ends everything
	opts     ListenerOptions // the listener's
	st       *Settings       // the settings current when it was accepted
	accepted time.Time

	// host is the virtual host that answers: the listener's (nil when the
	// settings lack it), then, over TLS, the one the server name chose.
	host *Host
	// unknownSNI is the server name of a handshake refused because no
	// host has it.
	unknownSNI string

	// Set by the transport stage.
	remote    netip.AddrPort // the client's address; zero when unknown
	ip        string         // its normalised form, the per-address cap's key
	prefix    netip.Prefix   // its network, the per-prefix cap's key (see gopher.ClientPrefix)
	hasPrefix bool           // false when the address is not an IP address
	in        net.Conn       // where reading starts: rwc, or rwc behind bytes read past a PROXY header
	r         io.Reader      // where the request is read from
	w         net.Conn       // where the response goes
	tc        *tls.Conn      // the TLS connection when the client speaks TLS
	bucket    *rate.Bucket   // where the response's bytes are charged; nil without rate budgets

	// Guarded by srv.mu.
	pending    bool   // holds a pending slot (see Server.admit)
	counted    bool   // holds a slot under the global, per-address and per-prefix caps
	busyReason string // set when the connection is only told the server is busy
	state      connState
	cut        bool          // closed by Shutdown or evicted before its request
	evicted    bool          // closed to give its slot to a newer connection
	idleElem   *list.Element // in Server.idleConns while counted and without a request
	resp       *response     // the response, once there is a request to answer
}

// incoming is what the read stage found: a request to hand to the handler,
// an error the server answers itself, or an HTTP request.
type incoming struct {
	req        *gopher.Request
	kind       gopher.ErrorKind // non-zero: answer with this error item
	httpMethod string           // non-empty: answer with the HTML page
	slowDown   time.Duration    // non-zero: over a rate budget, answer with the slow-down item
	rec        *recorder        // the bytes read, for the HTTP header's rest
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

// run is the connection's goroutine.
func (c *conn) run() {
	defer c.srv.release(c)
	defer func() {
		// The handler's panics are caught in handle; one here is the
		// server's own bug, and still must not take the process down.
		if p := recover(); p != nil {
			c.srv.logger.Error("connection panic", zap.String("client", c.logIP()),
				zap.String("panic", c.scrub(fmt.Sprint(p))), zap.Stack("stack"))
			_ = c.rwc.Close()
		}
	}()
	if c.state == stateBusy {
		c.rejectBusy()
		return
	}
	// One deadline for everything before the request is in: the look at
	// the first byte, a TLS handshake (which writes as well as reads) and
	// the whole request line. A client dripping a byte at a time cannot
	// extend it.
	_ = c.rwc.SetDeadline(c.accepted.Add(c.st.Limits.RequestTimeout))
	if !c.transport() {
		return
	}
	if c.state == stateBusy {
		c.rejectBusy()
		return
	}
	in, ok := c.read()
	if !ok {
		return
	}
	c.budget(&in)
	ctx, cancel := context.WithCancel(c.srv.baseCtx)
	defer cancel()
	w := c.newResponse(cancel)
	if !c.srv.activate(c, w) {
		w.finish()
		c.srv.logger.Debug("idle connection closed", zap.String("client", c.logIP()), zap.String("by", c.closedBy()))
		return
	}
	w.start()
	c.answer(ctx, w, in)
	c.finish(w, in)
}

// closedBy says why a connection without a request was closed.
func (c *conn) closedBy() string {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if c.evicted {
		return "eviction"
	}
	return "shutdown"
}

// transport establishes who the client is and how it talks: its address
// (from a PROXY header on a listener that takes them), its slot under the
// per-address cap, and TLS. It reports false when the
// connection is already finished.
func (c *conn) transport() bool {
	c.remote = remoteAddrPort(c.rwc.RemoteAddr())
	c.ip = clientIP(c.rwc.RemoteAddr())
	c.in = c.rwc
	if c.opts.Proxy != nil && !c.proxy() {
		return false
	}
	c.prefix, c.hasPrefix = gopher.ClientPrefix(c.remote.Addr())
	if c.host == nil {
		c.unknownHost()
		return false
	}
	if !c.srv.establish(c) {
		_ = c.rwc.Close()
		return false
	}
	if c.state == stateBusy {
		return true
	}
	return c.open()
}

// unknownHost closes a connection whose listener is bound to a host the
// settings lack (a reload that dropped it, which the daemon refuses):
// answering it from any other host would serve one host's files under
// another's name.
func (c *conn) unknownHost() {
	c.srv.logger.Error("connection closed: the listener's virtual host is not configured",
		zap.String("vhost", gopher.Quote(c.opts.Vhost, maxLogSelector)))
	_ = c.rwc.Close()
}

// rejectBusy tells the client the server is busy, briefly and within a
// short deadline, then closes. A client that opens a TLS handshake gets
// the answer over TLS (see openBusy).
func (c *conn) rejectBusy() {
	if c.host == nil {
		c.unknownHost()
		return
	}
	c.srv.logBusy(c)
	defer func() { _ = c.rwc.Close() }()
	deadline := time.Now().Add(busyTimeout)
	_ = c.rwc.SetDeadline(deadline)
	w, ok := c.openBusy(deadline)
	if !ok {
		return
	}
	if _, err := w.Write(gopher.ErrorResponse(gopher.Busy, "", c.host.Hostname, c.host.Port)); err == nil {
		c.drain()
	}
}

// read reads the request line within the size and time limits and tells
// what it is. It reports false when there is nothing to answer (the client
// sent nothing, or the connection failed), having closed the connection.
func (c *conn) read() (incoming, bool) {
	lim := c.st.Limits
	var in incoming
	r := c.r
	if c.st.HTTPPage {
		// ReadRequest reads at most RequestBytes+1 bytes.
		in.rec = &recorder{r: c.r, max: lim.RequestBytes + 1}
		r = in.rec
	}
	req, err := gopher.ReadRequest(r, lim.RequestBytes)
	if c.st.HTTPPage {
		if m, isHTTP := httpRequest(req, err, in.rec); isHTTP {
			// The access log shows the request line when it was whole.
			in.httpMethod, in.req = m, req
			return in, true
		}
	}
	switch {
	case err == nil:
		c.fill(req)
		in.req = req
	case errors.Is(err, io.EOF):
		c.srv.logger.Debug("connection closed without a request", zap.String("client", c.logIP()))
		_ = c.rwc.Close()
		return in, false
	case errors.Is(err, gopher.ErrTooLarge):
		in.kind = gopher.TooLarge
	case errors.Is(err, gopher.ErrInvalid):
		in.kind = gopher.BadRequest
	case isTimeout(err):
		in.kind = gopher.TimedOut
	default:
		c.srv.logger.Debug("reading request failed", c.errFields(err, zap.String("client", c.logIP()))...)
		_ = c.rwc.Close()
		return in, false
	}
	return in, true
}

// fill gives req the facts of the connection it came on.
func (c *conn) fill(req *gopher.Request) {
	req.RemoteAddr = c.remote
	if c.tc != nil {
		cs := c.tc.ConnectionState()
		req.TLS = &cs
	}
	req.Host, req.Port = c.host.Hostname, c.host.Port
}

// answer writes the response: the handler's, or one of the server's own.
func (c *conn) answer(ctx context.Context, w *response, in incoming) {
	switch {
	case in.slowDown > 0:
		c.slowDown(w, in.slowDown)
	case in.httpMethod != "":
		limit := max(httpHeaderFactor*c.st.Limits.RequestBytes, minHTTPHeaderBytes)
		discardHTTPHeader(in.rec.buf, c.r, limit)
		w.Served(servedHTTP)
		_, _ = w.Write(httpPage(in.httpMethod, c.host.Hostname, c.host.Port))
	case in.kind != 0:
		_, _ = w.Write(gopher.ErrorResponse(in.kind, "", c.host.Hostname, c.host.Port))
		w.Served(in.kind.String())
	case c.opts.TLS == TLSOnly && c.tc == nil:
		c.tlsRequired(w)
	default:
		c.handle(ctx, w, in.req)
	}
}

// finish logs the request and ends the connection: a graceful close after
// a complete response, a reset after one that was cut, whatever cut it
// (the idle timeout, the read-rate floor, the shutdown grace running out,
// a handler that aborted or panicked, a failed write): the one way a
// client can tell a cut response from a whole one.
func (c *conn) finish(w *response, in incoming) {
	cut := w.finish()
	sel := ""
	if in.req != nil {
		sel = in.req.Selector
	}
	d := time.Since(c.accepted)
	c.logAccess(sel, w, cut, d)
	served := w.served
	if served == "" {
		served = "none"
	}
	c.st.Events.Request(served, w.n, d)
	if cut != "" {
		c.reset()
		return
	}
	// The close_notify of TLS is a write: bounded by the linger time too.
	_ = c.rwc.SetDeadline(time.Now().Add(lingerTimeout))
	c.drain()
	_ = c.rwc.Close()
}

// handle calls the handler, recovering a panic.
func (c *conn) handle(ctx context.Context, w *response, req *gopher.Request) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		c.srv.logger.Error("handler panic", zap.String("client", c.logIP()),
			zap.String("selector", gopher.Quote(req.Selector, maxLogSelector)),
			zap.String("panic", c.scrub(fmt.Sprint(p))), zap.Stack("stack"))
		if w.n == 0 && w.err == nil {
			_ = gopher.WriteError(w, req, gopher.Internal)
			return
		}
		w.Served(gopher.Internal.String())
		// Part of a response went out: see reset.
		w.setCut(cutPanic)
	}()
	if c.host.Handler == nil {
		c.srv.logger.Error("no handler configured", zap.String("vhost", c.host.Hostname))
		_ = gopher.WriteError(w, req, gopher.Internal)
		return
	}
	c.host.Handler.ServeGopher(ctx, w, req)
}

// reset ends a connection whose response was cut. Gopher has no length to
// tell a truncated file from a whole one, so the connection is reset (RST,
// by closing with SO_LINGER 0) rather than closed: the client then reports
// an error instead of keeping half a file, and the kernel drops what it
// still held for the client instead of delivering it before a FIN.
func (c *conn) reset() {
	if l, ok := c.rwc.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = c.rwc.Close()
}

func (c *conn) logAccess(sel string, w *response, cut string, d time.Duration) {
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
	if len(c.st.Vhosts) > 0 {
		fields = append(fields, zap.String("vhost", c.host.Hostname))
	}
	if c.tc != nil {
		fields = append(fields, zap.Bool("tls", true))
	}
	if cut != "" {
		fields = append(fields, zap.String("cut", cut))
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

// remoteAddrPort is the client's address and port as handlers see it, with
// an IPv4-mapped address unmapped; zero when a is not an IP address.
func remoteAddrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return netip.AddrPortFrom(ip.Unmap().WithZone(ta.Zone), uint16(ta.Port))
		}
	}
	if a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	return netip.AddrPort{}
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
	case errors.Is(err, errCut):
		return "cut"
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

// servedRateLimited is what the access log says a request over a rate
// budget got.
const servedRateLimited = "rate-limited"

// budget counts the request just read against the client's rate budgets
// and, over one, marks it for the slow-down answer. The response's bytes
// are charged to the same budgets as they are written.
func (c *conn) budget(in *incoming) {
	l := c.st.Rate
	if l == nil || !c.remote.IsValid() {
		return
	}
	d := l.Request(c.remote.Addr(), time.Now())
	c.bucket = d.Bucket
	if d.Wait == 0 {
		return
	}
	in.slowDown = d.Wait
	c.st.Events.RateLimited(d.Budget)
	if d.Log {
		network := redacted
		if !c.st.HideIPs {
			network = d.Prefix.String()
		}
		c.srv.logger.Info("rate budget exceeded: slowing down", zap.String("network", network),
			zap.String("budget", d.Budget), zap.Int("refused", d.Limited), zap.Duration("per", rate.LogEvery))
	}
}

// slowDown is the answer to a request over a rate budget: an error item
// saying when to try again and the terminator; the connection then closes
// as after any answer. Nothing sleeps and no goroutine waits.
func (c *conn) slowDown(w *response, wait time.Duration) {
	w.Served(servedRateLimited)
	item := gopher.Item{Type: gopher.TypeError, Selector: gopher.ErrorSelector, Host: c.host.Hostname, Port: c.host.Port,
		Display: fmt.Sprintf("Slow down: too many requests; try again in %d s.", int64(wait/time.Second))}
	_, _ = w.Write(gopher.Menu{item}.Bytes())
}

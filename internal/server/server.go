// Package server runs Gopher listeners: it owns the accept loops and the
// lifecycle of every connection (deadlines, size and connection limits,
// graceful close, panic recovery, the access log with IP redaction) and hands
// each parsed request to a gopher.Handler. It also tells Gopher over TLS from
// plain Gopher on the same port by the first byte, chooses each connection's
// virtual host (by TLS server name, else by listener; see Host), and answers
// web browsers with an HTML page instead of Gopher bytes. It knows nothing
// about files, gophermaps or where certificates come from.
package server

import (
	"container/list"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
	"gopherd/internal/rate"
)

// ErrServerClosed is returned by Serve after Shutdown has been called.
var ErrServerClosed = errors.New("server closed")

// Limits bound what one client can cost the server. A zero or negative field
// takes its default (see DefaultLimits): a limit cannot be switched off by
// leaving it out, because every one of them is a safety rule.
type Limits struct {
	// RequestBytes is the longest request line accepted, line ending
	// included.
	RequestBytes int
	// RequestTimeout is how long a client has, from the moment its
	// connection is accepted, to complete a TLS handshake (if it opens
	// with one) and send the whole request line.
	RequestTimeout time.Duration
	// IdleTimeout is how long a client may take no response data at all
	// before the response is cut, counted from the last byte the client
	// took (acknowledged: bytes that only filled the kernel's buffers do
	// not count) while data waited for it. A slow client that keeps making
	// progress is not cut by it.
	IdleTimeout time.Duration
	// MinReadRate is the slowest a client may take a response, in bytes a
	// second averaged over IdleTimeout while data waits for it; a slower
	// one is cut, so that reading a byte now and then does not hold a
	// connection slot for ever.
	MinReadRate int
	// MaxConnections caps the connections served at once. When they are
	// all taken, a new client takes the slot of the oldest connection that
	// has not sent its request yet and whose address holds more
	// connections than the new client's, if there is one.
	MaxConnections int
	// MaxConnectionsPerIP caps the connections served at once for one client
	// address.
	MaxConnectionsPerIP int
	// MaxConnectionsPerPrefix caps them for one network: an IPv4 /24 or an
	// IPv6 /48 (see gopher.ClientPrefix).
	MaxConnectionsPerPrefix int
}

// DefaultLimits returns the limits used for fields left at zero.
func DefaultLimits() Limits {
	return Limits{
		RequestBytes:            1024,
		RequestTimeout:          10 * time.Second,
		IdleTimeout:             30 * time.Second,
		MinReadRate:             1024,
		MaxConnections:          1024,
		MaxConnectionsPerIP:     32,
		MaxConnectionsPerPrefix: 64,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.RequestBytes <= 0 {
		l.RequestBytes = d.RequestBytes
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = d.RequestTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = d.MaxConnections
	}
	if l.MaxConnectionsPerIP <= 0 {
		l.MaxConnectionsPerIP = d.MaxConnectionsPerIP
	}
	if l.MinReadRate <= 0 {
		l.MinReadRate = d.MinReadRate
	}
	if l.MaxConnectionsPerPrefix <= 0 {
		l.MaxConnectionsPerPrefix = d.MaxConnectionsPerPrefix
	}
	return l
}

// Settings is everything a connection needs that a configuration reload may
// change. A connection uses the Settings current when it was accepted until
// it ends.
type Settings struct {
	// Handler answers the default host's requests: those of every
	// connection that chooses no virtual host (see Host). A nil Handler
	// answers every request with an internal-error item.
	Handler gopher.Handler
	// Hostname and Port are the default host's: written into the error
	// items the server itself generates (too large, timeout, busy, bad
	// request) and given to the handler in the Request.
	Hostname string
	Port     int
	// Vhosts are the virtual hosts besides the default one. A reload
	// swaps them with the rest of the Settings.
	Vhosts []Host
	// RejectUnknownSNI fails the TLS handshake, with the unrecognized_name
	// alert, of a client whose server name (SNI) is no host's. Off, such
	// a client is served as if it had sent no name.
	RejectUnknownSNI bool
	// Limits bound each connection and the number of connections.
	Limits Limits
	// HideIPs keeps client addresses out of every log line.
	HideIPs bool
	// TLS, when set, serves the clients that open with a TLS handshake on
	// listeners whose mode is not TLSOff. Its GetCertificate (or else its
	// first Certificates entry) gives the default host's certificate, and
	// that of every vhost without one of its own: swap certificates
	// through it. The server hands handshakes a clone that chooses the
	// host (see Host), so its own GetConfigForClient is not used. The
	// Config itself must not change once in use.
	TLS *tls.Config
	// HTTPPage answers a request line that is an HTTP request ("GET /
	// HTTP/1.1") with an HTTP/1.0 response carrying a short HTML page that
	// says this is a Gopher server, after reading the request's header.
	// Off, such a line is an ordinary selector.
	HTTPPage bool
	// Rate, when set, holds the rate budgets every request and every
	// response byte is counted against (see package rate). Keep the same
	// Limiter across reloads that do not change the budgets.
	Rate *rate.Limiter
	// Events, when set, is told about connections and requests (metrics).
	Events Events

	// Filled in by Update.
	defaultHost *Host            // the default host, from Handler, Hostname and Port
	hosts       map[string]*Host // every host by each of its names (see hostIndex)
	serveTLS    *tls.Config      // TLS as handshakes use it (see Server.serveTLS)
}

// Server serves Gopher connections from any number of listeners. Create it
// with New; it is safe for concurrent use.
type Server struct {
	logger   *zap.Logger
	settings atomic.Pointer[Settings]

	// baseCtx is the parent of every connection's context; cancelBase ends
	// them all when Shutdown has to cut connections off.
	baseCtx    context.Context
	cancelBase context.CancelFunc

	// wg counts connection goroutines. Add is only called with mu held and
	// closed false, so it never races with Shutdown's Wait.
	wg sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	listeners map[*closeOnceListener]struct{}
	conns     map[*conn]struct{}
	pending   int                  // connections whose address is not established yet
	total     int                  // connections counted against the limits
	perIP     map[string]int       // the same, by normalised client address
	shared    int                  // addresses holding two connections or more (see evictHeaviestLocked)
	perPrefix map[netip.Prefix]int // the same, by network (gopher.ClientPrefix)
	idleConns *list.List           // counted connections without a request yet, oldest first
	evictions int                  // connections closed or cut for a newer one, in all
	busy      int                  // goroutines sending a busy answer
	busyCount int                  // rejections since the last info line about them
	busyLog   time.Time            // when that line was written
	proxyLog  proxyLog             // the PROXY protocol's refusals, for their log lines

	// sendfileChunks counts sendfile calls and slowWrites the writes that
	// hit IdleTimeout after making progress, so tests can prove that file
	// responses take the zero-copy path and that slow clients are kept.
	sendfileChunks atomic.Int64
	slowWrites     atomic.Int64

	// tcpInfo says whether the kernel reports what clients acknowledged
	// (tcpInfoUnknown until the first response asks: see canWatch).
	tcpInfo atomic.Int32

	// tlsMu guards the TLS config derived for handshakes from the last
	// Settings.TLS seen (see serveTLS).
	tlsMu    sync.Mutex
	tlsBase  *tls.Config
	tlsServe *tls.Config
}

// New returns a Server that logs to logger (nil discards the log) and serves
// with settings s until Update replaces them.
func New(logger *zap.Logger, s Settings) *Server {
	if logger == nil {
		logger = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{
		logger:     logger,
		baseCtx:    ctx,
		cancelBase: cancel,
		listeners:  make(map[*closeOnceListener]struct{}),
		conns:      make(map[*conn]struct{}),
		perIP:      make(map[string]int),
		perPrefix:  make(map[netip.Prefix]int),
		idleConns:  list.New(),
	}
	srv.Update(s)
	return srv
}

// Update replaces the settings atomically (a configuration reload):
// connections accepted from now on use st; connections already accepted
// finish with the settings they started with.
func (s *Server) Update(st Settings) {
	st.Limits = st.Limits.withDefaults()
	if st.Events == nil {
		st.Events = nopEvents{}
	}
	st.Vhosts = slices.Clone(st.Vhosts)
	st.defaultHost = &Host{Hostname: st.Hostname, Port: st.Port, Handler: st.Handler}
	st.hosts = hostIndex(st.defaultHost, st.Vhosts)
	st.serveTLS = s.serveTLS(st.TLS)
	s.settings.Store(&st)
}

// ListenerOptions describe what a listener does beyond accepting: how it
// treats TLS, which host it serves and the PROXY protocol. The zero value
// is a listener in TLSAuto mode serving the default host, without the PROXY
// protocol.
type ListenerOptions struct {
	// TLS says how the listener treats TLS when Settings.TLS is set.
	TLS TLSMode
	// Vhost names the host (a Hostname or an alias of one of
	// Settings.Vhosts, or the default Hostname) that the listener's
	// clients get unless their TLS server name chooses another; "" is the
	// default host. A connection on a listener that names a host the
	// current Settings lack is closed at once, with an error in the log:
	// it never falls back to another host.
	Vhost string
	// Proxy, when set, makes the listener require a PROXY protocol header
	// from trusted peers and refuse every other peer (see ProxyProtocol).
	// The header is read in the connection's goroutine, before the TLS
	// peek, within Limits.RequestTimeout.
	Proxy *ProxyProtocol
}

// Serve accepts connections on ln and serves each in its own goroutine. It
// blocks until ln fails or Shutdown is called, and may run for several
// listeners at once. After Shutdown it returns ErrServerClosed. Serve closes
// ln when it returns.
//
// The accept loop only accepts: it counts a connection against the global
// cap and starts its goroutine. Everything that reads from the socket or
// depends on the client's address (the PROXY header, the per-address cap,
// the TLS handshake) happens in the connection's goroutine, so that one
// silent client cannot delay any other's accept.
func (s *Server) Serve(ln net.Listener, o ListenerOptions) error {
	l := &closeOnceListener{Listener: ln}
	defer l.Close()
	if !s.trackListener(l, true) {
		return ErrServerClosed
	}
	defer s.trackListener(l, false)

	var delay time.Duration
	for {
		rwc, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			if !retryableAccept(err) {
				return fmt.Errorf("accepting connections: %w", err)
			}
			// Running out of descriptors or memory passes; spinning on it
			// would only make it worse, so back off as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.logger.Warn("accept failed, retrying", zap.Error(err), zap.Duration("retry_in", delay))
			select {
			case <-time.After(delay):
			case <-s.baseCtx.Done():
			}
			continue
		}
		delay = 0
		if c := s.admit(rwc, o); c != nil {
			go c.run()
		}
	}
}

// ServeConn serves the single connection rwc as if a listener with options
// o had accepted it, and returns when the connection is finished: for
// inetd-style use and for tests. It returns ErrServerClosed when the server
// is shut down.
func (s *Server) ServeConn(rwc net.Conn, o ListenerOptions) error {
	c := s.admit(rwc, o)
	if c == nil {
		if s.shuttingDown() {
			return ErrServerClosed
		}
		return nil
	}
	c.run()
	return nil
}

// retryableAccept tells errors that a later Accept may not repeat from
// those that mean the listener is gone.
func retryableAccept(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Shutdown stops every listener at once, closes connections that have not
// sent a request yet, and waits for the connections in flight to finish. If
// ctx ends first, it closes the remaining connections, cancels their
// handlers' contexts, waits for their goroutines and returns ctx.Err(). When
// Shutdown returns, no connection goroutine is left. A handler that ignores
// both its context and write errors would keep Shutdown waiting.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		_ = l.Close()
	}
	for c := range s.conns {
		if c.state == stateNew {
			c.cut = true
			_ = c.rwc.Close()
		}
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}

	s.mu.Lock()
	for c := range s.conns {
		// A response in flight is cut like any other (see response.cut):
		// the client sees a reset, not a clean end of a partial file.
		if c.resp != nil && c.resp.cut(cutShutdown) {
			continue
		}
		c.cut = true
		_ = c.rwc.Close()
	}
	s.mu.Unlock()
	s.cancelBase()
	<-done
	return fmt.Errorf("shutting down: %w", ctx.Err())
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) trackListener(l *closeOnceListener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.listeners, l)
		return true
	}
	if s.closed {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

// pendingFactor bounds pending connections relative to MaxConnections.
const pendingFactor = 4

// admit takes a new connection in and returns it, ready to run in its own
// goroutine: to be served, or (the server being full) to be told it is
// busy. It returns nil when the connection was closed at once: the server
// is shutting down, or even busy answers are piling up. It never reads from
// the connection and never looks at its address: a PROXY header, read later
// in the connection's goroutine, may change that.
//
// A connection whose address is not yet established holds a pending slot,
// not one under the caps: a flood of connections that the per-address cap
// refuses must not take the slots of other clients while it is being
// refused. Pending slots are bounded (pendingFactor × MaxConnections): a
// connection is pending only until its goroutine first runs, unless a PROXY
// header is awaited, so the bound is for floods, and it is generous because
// a busy scheduler can leave many goroutines unstarted for a moment. With every
// slot taken, a connection is still admitted while some slot holder has
// not sent its request: establish may evict it.
func (s *Server) admit(rwc net.Conn, o ListenerOptions) *conn {
	st := s.settings.Load()
	c := &conn{srv: s, rwc: rwc, in: rwc, opts: o, st: st, host: st.listenerHost(o), accepted: time.Now()}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = rwc.Close()
		return nil
	}
	switch {
	// Full, a newcomer may still take a slot from a connection without a
	// request, or from an address holding several (establish decides,
	// once it knows the newcomer's address).
	case (s.total < st.Limits.MaxConnections || s.idleConns.Len() > 0 || s.shared > 0) && s.pending < pendingFactor*st.Limits.MaxConnections:
		s.pending++
		c.pending = true
	case s.toBusyLocked(c):
		c.busyReason = "max-connections"
	default:
		s.mu.Unlock()
		st.Events.ConnectionRefused("overload")
		_ = rwc.Close()
		return nil
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	st.Events.ConnectionOpened()
	return c
}

// establish counts c, whose client address is now known, against the
// per-address, per-prefix and global caps. At the global cap a connection
// that has not sent its request yet gives c its slot (see evictIdleLocked):
// it cost nothing to serve so far. Over a cap, c is to be told the server
// is busy; establish reports false when even that is not worth it and c is
// to be closed without a word.
func (s *Server) establish(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	c.pending = false
	lim := c.st.Limits
	switch {
	case s.perIP[c.ip] >= lim.MaxConnectionsPerIP:
		c.busyReason = "max-connections-per-ip"
	case c.hasPrefix && s.perPrefix[c.prefix] >= lim.MaxConnectionsPerPrefix:
		c.busyReason = "max-connections-per-prefix"
	case s.total >= lim.MaxConnections && !s.evictIdleLocked(c) && !s.evictHeaviestLocked(c):
		c.busyReason = "max-connections"
	default:
		s.countLocked(c)
		return true
	}
	return s.toBusyLocked(c)
}

// countLocked gives c a slot under the caps. s.mu must be held.
func (s *Server) countLocked(c *conn) {
	s.total++
	if s.perIP[c.ip]++; s.perIP[c.ip] == 2 {
		s.shared++
	}
	if c.hasPrefix {
		s.perPrefix[c.prefix]++
	}
	c.counted = true
	c.idleElem = s.idleConns.PushBack(c)
}

// uncountLocked frees c's slot. s.mu must be held.
func (s *Server) uncountLocked(c *conn) {
	if !c.counted {
		return
	}
	c.counted = false
	s.total--
	if s.perIP[c.ip]--; s.perIP[c.ip] == 1 {
		s.shared--
	} else if s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	if c.hasPrefix {
		if s.perPrefix[c.prefix]--; s.perPrefix[c.prefix] <= 0 {
			delete(s.perPrefix, c.prefix)
		}
	}
	if c.idleElem != nil {
		s.idleConns.Remove(c.idleElem)
		c.idleElem = nil
	}
}

// evictScan bounds how far evictIdleLocked looks for a victim.
const evictScan = 64

// evictIdleLocked frees a slot for the newcomer c by closing a connection
// without a request: the oldest one whose address holds more connections
// than c's does. The second condition keeps a flood of silent connections
// from displacing a client with few connections that has not yet sent its
// request (under a flood, the oldest may be only milliseconds old): the
// flood's newcomers can only displace the flood. It reports whether it
// found one among the evictScan oldest. s.mu must be held.
func (s *Server) evictIdleLocked(c *conn) bool {
	mine := s.perIP[c.ip]
	for e, i := s.idleConns.Front(), 0; e != nil && i < evictScan; e, i = e.Next(), i+1 {
		v := e.Value.(*conn)
		if s.perIP[v.ip] <= mine {
			continue
		}
		s.uncountLocked(v)
		v.cut, v.evicted = true, true
		s.evictions++
		_ = v.rwc.Close()
		return true
	}
	return false
}

// evictHeaviestLocked frees a slot for the newcomer c, when no connection
// without a request can give one, by cutting a response in flight: the
// oldest of the address that holds the most connections, two or more, if
// c's address holds none. A full server so lets in every address that has
// no connection yet: clients that hold their slots by reading just fast
// enough (slow readers spread over many networks, which no per-prefix cap
// bounds) can keep the server full, but not keep out a client that has no
// connection. The rule takes one slot per address, never more: an address
// coming back after a cut, or opening a second connection, is told the
// server is busy, so the attackers cannot displace each other, and a flood
// of silent connections gets one slot per address, which the next
// newcomer takes back before any response is cut again (evictIdleLocked
// comes first). The victim's client sees a reset, and its access log line
// says cut "evicted". It reports whether it found a victim. s.mu must be
// held.
func (s *Server) evictHeaviestLocked(c *conn) bool {
	if s.shared == 0 || s.perIP[c.ip] > 0 {
		return false
	}
	heavy, most := "", 0
	for ip, n := range s.perIP {
		if n > most {
			heavy, most = ip, n
		}
	}
	if most < 2 {
		return false
	}
	var victim *conn
	for v := range s.conns {
		// counted first: a connection not yet counted may be writing its
		// address (transport sets it without the lock, before establish).
		if !v.counted || v.ip != heavy || v.resp == nil || v.state != stateActive {
			continue
		}
		if victim == nil || v.accepted.Before(victim.accepted) {
			victim = v
		}
	}
	if victim == nil || !victim.resp.cut(cutEvicted) {
		return false
	}
	s.uncountLocked(victim)
	victim.evicted = true
	s.evictions++
	return true
}

// toBusyLocked moves c to the busy answers, unless so many are being sent
// already that a flood is better met by closing: busy answers are cheap but
// not free. s.mu must be held.
func (s *Server) toBusyLocked(c *conn) bool {
	if s.busy >= c.st.Limits.MaxConnections {
		return false
	}
	s.busy++
	c.state = stateBusy
	return true
}

// logBusy logs a rejection: at info at most once a second with the count
// since the last such line, else at debug.
func (s *Server) logBusy(c *conn) {
	s.mu.Lock()
	logIt, rejected := s.noteBusy(time.Now())
	s.mu.Unlock()
	c.st.Events.ConnectionRefused(c.busyReason)
	fields := []zap.Field{zap.String("reason", c.busyReason)}
	if c.ip != "" {
		fields = append(fields, zap.String("client", c.logIP()))
	}
	if logIt {
		s.logger.Info("connection refused: busy", append(fields, zap.Int("rejected", rejected))...)
	} else {
		s.logger.Debug("connection refused: busy", fields...)
	}
}

// noteBusy counts a rejection and reports whether it is time for an info
// line, and how many rejections that line stands for: at most one line a
// second, so a flood does not flood the log too. s.mu must be held.
func (s *Server) noteBusy(now time.Time) (bool, int) {
	s.busyCount++
	if now.Sub(s.busyLog) < time.Second {
		return false, 0
	}
	n := s.busyCount
	s.busyLog = now
	s.busyCount = 0
	return true, n
}

// release forgets c: its slot under the limits and its entry for Shutdown.
func (s *Server) release(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.pending {
		s.pending--
	}
	s.uncountLocked(c)
	if c.state == stateBusy {
		s.busy--
	}
	delete(s.conns, c)
	c.st.Events.ConnectionClosed()
	s.wg.Done()
}

// activate marks c as having a request to answer with w, so Shutdown
// waits for it (or cuts w) instead of closing it, and no newcomer can
// evict it. It reports false when c was closed already, by Shutdown or by
// an eviction.
func (s *Server) activate(c *conn, w *response) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.cut {
		return false
	}
	c.state = stateActive
	c.resp = w
	if c.idleElem != nil {
		s.idleConns.Remove(c.idleElem)
		c.idleElem = nil
	}
	return true
}

// wasCut reports whether c was closed by Shutdown or an eviction.
func (s *Server) wasCut(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.cut || s.closed
}

// closeOnceListener lets Serve and Shutdown both close a listener without a
// spurious error from the second Close.
type closeOnceListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *closeOnceListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

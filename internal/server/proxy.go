package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pires/go-proxyproto"
	"go.uber.org/zap"
)

// ProxyProtocol is a listener's PROXY protocol setting (HAProxy's PROXY
// protocol, versions 1 and 2): the peers in Trusted, and only they, must
// open every connection with a header that names the client; the client's
// address is then the one the header gives, everywhere (the caps, the rate
// budgets, the log, gopher.Request.RemoteAddr).
type ProxyProtocol struct {
	// Trusted are the networks of the proxies. A connection from any other
	// peer is closed at once, without reading from it or answering.
	Trusted []netip.Prefix
}

// Header size caps. A v1 header is one line of at most 107 bytes, CRLF
// included (the specification's worst case); a v2 header is a 16-byte
// prefix and a block whose length it gives, which gopherd caps at 1024
// bytes: the addresses take 36 at most, and the TLVs a proxy adds
// (ALPN, authority, a unique id) fit with room to spare.
const (
	maxProxyV1     = 107
	proxyV2Prefix  = 16
	maxProxyV2Body = 1024
	maxProxyHeader = proxyV2Prefix + maxProxyV2Body
)

// proxySigV2 opens every v2 header.
var proxySigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")

// proxyError says why a header was refused, as a ProxyHeader result.
type proxyError struct{ result string }

func (e *proxyError) Error() string { return "PROXY header " + e.result }

func errProxy(result string) error { return &proxyError{result} }

// trusted reports whether a, the socket's peer, may send a header.
func (p *ProxyProtocol) trusted(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, t := range p.Trusted {
		if t.Contains(a) {
			return true
		}
	}
	return false
}

// proxy runs the PROXY protocol stage of the transport: it refuses an
// untrusted peer without reading, reads the header from a trusted one
// within the request deadline already set, and takes the client's address
// from it. It reports false when the connection was closed.
func (c *conn) proxy() bool {
	ev := c.st.Events
	if !c.opts.Proxy.trusted(c.remote.Addr()) {
		ev.ConnectionRefused("proxy-untrusted")
		c.srv.logProxy(c, "PROXY protocol: connection from an untrusted peer closed", "untrusted")
		_ = c.rwc.Close()
		return false
	}
	hdr, rest, err := readProxyHeader(c.rwc)
	if err != nil {
		var pe *proxyError
		result := ProxyInvalid
		if errors.As(err, &pe) {
			result = pe.result
		}
		ev.ProxyHeader(result)
		if !c.srv.wasCut(c) {
			c.srv.logProxy(c, "PROXY protocol: header refused, connection closed", result)
		}
		_ = c.rwc.Close()
		return false
	}
	if len(rest) > 0 {
		c.in = &prefixConn{Conn: c.rwc, pre: rest}
	}
	if hdr.Command.IsLocal() {
		ev.ProxyHeader(ProxyLocal)
		return true
	}
	src, ok := hdr.SourceAddr.(*net.TCPAddr)
	ap := remoteAddrPort(src)
	if !ok || !ap.IsValid() {
		// A client on a Unix socket or another family the header may
		// name has no address to count; the proxy's is kept, as for
		// LOCAL.
		ev.ProxyHeader(ProxyLocal)
		return true
	}
	ev.ProxyHeader(ProxyAccepted)
	c.remote = ap
	c.ip = ap.Addr().String()
	return true
}

// readProxyHeader reads one PROXY header from r and parses it. It frames
// the header itself, within the caps, however the bytes arrive (a header
// dripped a byte at a time is read until the deadline cuts it); the
// library parses the whole header. It returns the bytes read past the
// header (the start of the request, or of a TLS handshake).
func readProxyHeader(r io.Reader) (*proxyproto.Header, []byte, error) {
	buf := make([]byte, 0, maxProxyHeader)
	for {
		end, err := frameProxy(buf)
		if err != nil {
			return nil, nil, err
		}
		if end > 0 {
			hdr, err := parseProxy(buf[:end])
			if err != nil {
				return nil, nil, err
			}
			return hdr, buf[end:], nil
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n == 0 && err != nil {
			switch {
			case isTimeout(err):
				return nil, nil, errProxy(ProxyTimeout)
			case len(buf) == 0 && errors.Is(err, io.EOF):
				return nil, nil, errProxy(ProxyMissing)
			}
			return nil, nil, errProxy(ProxyClosed)
		}
	}
}

// frameProxy finds the end of the header at the start of b: its length
// when b holds all of it, 0 when more must be read, or an error when b
// cannot start a header within the caps.
func frameProxy(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	switch b[0] {
	case 'P':
		sig := []byte("PROXY ")
		if !bytes.HasPrefix(sig, b[:min(len(b), len(sig))]) {
			return 0, errProxy(ProxyMissing)
		}
		if i := bytes.IndexByte(b[:min(len(b), maxProxyV1)], '\n'); i >= 0 {
			return i + 1, nil
		}
		if len(b) >= maxProxyV1 {
			return 0, errProxy(ProxyTooLong)
		}
		return 0, nil
	case '\r':
		if !bytes.HasPrefix(proxySigV2, b[:min(len(b), len(proxySigV2))]) {
			return 0, errProxy(ProxyMissing)
		}
		if len(b) < proxyV2Prefix {
			return 0, nil
		}
		n := int(binary.BigEndian.Uint16(b[14:16]))
		if n > maxProxyV2Body {
			return 0, errProxy(ProxyTooLong)
		}
		if len(b) < proxyV2Prefix+n {
			return 0, nil
		}
		return proxyV2Prefix + n, nil
	}
	return 0, errProxy(ProxyMissing)
}

// parseProxy parses a whole header. The reader holds exactly the header,
// all of it buffered, so the library's rules for partial reads never
// apply; a header it does not consume to the last byte is refused.
func parseProxy(h []byte) (*proxyproto.Header, error) {
	br := bufio.NewReaderSize(bytes.NewReader(h), maxProxyHeader)
	hdr, err := proxyproto.Read(br)
	if err != nil {
		return nil, errProxy(ProxyInvalid)
	}
	if br.Buffered() != 0 {
		return nil, errProxy(ProxyInvalid)
	}
	return hdr, nil
}

// prefixConn is the connection with bytes already read put back in front.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// proxyLog limits the PROXY protocol's info lines to one a second: a
// misbehaving or hostile peer must not flood the log.
type proxyLog struct {
	mu    sync.Mutex
	last  time.Time
	count int
}

// logProxy logs a refused connection: at info at most once a second with
// the number refused since the last such line, else at debug.
func (s *Server) logProxy(c *conn, msg, result string) {
	s.proxyLog.mu.Lock()
	s.proxyLog.count++
	now := time.Now()
	logIt := now.Sub(s.proxyLog.last) >= time.Second
	n := s.proxyLog.count
	if logIt {
		s.proxyLog.last, s.proxyLog.count = now, 0
	}
	s.proxyLog.mu.Unlock()
	fields := []zap.Field{zap.String("peer", c.logIP()), zap.String("reason", result)}
	if logIt {
		s.logger.Info(msg, append(fields, zap.Int("refused", n))...)
	} else {
		s.logger.Debug(msg, fields...)
	}
}

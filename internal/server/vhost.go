package server

import (
	"crypto/tls"
	"errors"

	"gopherd/internal/gopher"
)

// Host is one virtual host: the names clients choose it by and the handler
// that answers for it. A connection is served by one host, chosen in its
// transport stage, until it ends: every answer on it, the server's own
// error items included, is that host's. There is no fallback from one
// host to another.
//
// Plain Gopher carries no host name, so a host is chosen by what the
// client did send: the TLS server name (SNI), when it names a host; else
// the host the listener is bound to (ListenerOptions.Vhost); else the
// default host (Settings.Handler, Hostname, Port).
type Host struct {
	// Hostname is the name written into the host's menus and the error
	// items the server generates for it (the Request.Host its handler
	// gets), and one of the names that choose it.
	Hostname string
	// Aliases are more names that choose the host.
	Aliases []string
	// Port is the Request.Port its handler gets.
	Port int
	// Handler answers the host's requests. A nil Handler answers every
	// request with an internal-error item.
	Handler gopher.Handler
	// Certificate is presented to TLS clients that choose the host; nil
	// presents the default host's (Settings.TLS's).
	Certificate *tls.Certificate
}

// hostIndex maps every name of every host, in canonical form, to its
// host: the default host's Hostname first, then each vhost's names. A
// name that two hosts claim belongs to the first (the configuration
// refuses such a pair; this only keeps the lookup well-defined).
func hostIndex(def *Host, vhosts []Host) map[string]*Host {
	idx := map[string]*Host{gopher.CanonicalHost(def.Hostname): def}
	for i := range vhosts {
		h := &vhosts[i]
		for _, name := range append([]string{h.Hostname}, h.Aliases...) {
			key := gopher.CanonicalHost(name)
			if _, taken := idx[key]; !taken && key != "" {
				idx[key] = h
			}
		}
	}
	return idx
}

// listenerHost is the host of connections that name none themselves: the
// one the listener is bound to, else the default host. It returns nil
// when the listener names a host these settings do not have.
func (st *Settings) listenerHost(o ListenerOptions) *Host {
	if o.Vhost == "" {
		return st.defaultHost
	}
	return st.hosts[gopher.CanonicalHost(o.Vhost)]
}

// sniHost is the host a TLS client chose by its server name: the host of
// that name; else (no name, or an unknown one when unknown names are
// served) the connection's host so far, the listener's. It returns nil for
// an unknown name when RejectUnknownSNI is set.
func (c *conn) sniHost(serverName string) *Host {
	if serverName == "" {
		return c.host
	}
	if h := c.st.hosts[gopher.CanonicalHost(serverName)]; h != nil {
		return h
	}
	if c.st.RejectUnknownSNI {
		return nil
	}
	return c.host
}

// serveTLS returns the configuration handshakes use for base: a clone of
// it whose GetCertificate chooses the connection's host by its server
// name and presents that host's certificate. It is made once per base
// config, so that session tickets stay valid across reloads that keep the
// same base.
func (s *Server) serveTLS(base *tls.Config) *tls.Config {
	if base == nil {
		return nil
	}
	s.tlsMu.Lock()
	defer s.tlsMu.Unlock()
	if s.tlsBase != base {
		conf := base.Clone()
		// Certificates must be empty for a nil certificate from
		// GetCertificate to fail the handshake with unrecognized_name
		// (crypto/tls sends that alert only when it has no certificate at
		// all); the default host's come from base itself.
		conf.Certificates = nil
		conf.GetConfigForClient = nil
		conf.GetCertificate = hostCertificate
		s.tlsBase, s.tlsServe = base, conf
	}
	return s.tlsServe
}

// errNotOurConn means a handshake ran on a connection the server did not
// wrap itself: a programming error, never a client's doing.
var errNotOurConn = errors.New("TLS handshake on a connection the server did not set up")

// hostCertificate is the GetCertificate of every handshake: it chooses the
// connection's host by the client's server name and presents its
// certificate. A nil certificate with a nil error, for a name refused by
// RejectUnknownSNI, fails the handshake with the unrecognized_name alert.
//
// A resumed session skips it (the certificate was shown when the session
// began), so open chooses the host again from the finished handshake.
func hostCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	pc, ok := hello.Conn.(*peekedConn)
	if !ok || pc.c == nil {
		return nil, errNotOurConn
	}
	c := pc.c
	h := c.sniHost(hello.ServerName)
	if h == nil {
		c.unknownSNI = hello.ServerName
		return nil, nil
	}
	if h.Certificate != nil {
		return h.Certificate, nil
	}
	return c.st.defaultCertificate(hello)
}

// defaultCertificate is the default host's certificate, from Settings.TLS
// as the caller configured it.
func (st *Settings) defaultCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if st.TLS.GetCertificate != nil {
		return st.TLS.GetCertificate(hello)
	}
	if len(st.TLS.Certificates) > 0 {
		return &st.TLS.Certificates[0], nil
	}
	return nil, errors.New("no certificate configured")
}

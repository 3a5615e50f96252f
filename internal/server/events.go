package server

import "time"

// Events is told what happens to connections and requests, for metrics.
// Its methods are called from the accept loops and the connection
// goroutines, concurrently, and must return quickly. Nothing passed to
// them carries a client address or a selector: the strings are the
// server's own words, from a fixed set.
type Events interface {
	// ConnectionOpened and ConnectionClosed bracket every connection
	// admitted (served or told it is busy).
	ConnectionOpened()
	ConnectionClosed()
	// ConnectionRefused counts a connection turned away: reason is the
	// cap that refused it ("max-connections", "max-connections-per-ip",
	// "max-connections-per-prefix"), "overload" when it was closed
	// without even a busy answer, or "proxy-untrusted".
	ConnectionRefused(reason string)
	// TLSHandshake counts a handshake; ok says whether it completed.
	TLSHandshake(ok bool)
	// ProxyHeader counts a PROXY protocol header read (or not) from a
	// trusted peer: ProxyAccepted, ProxyLocal, or why it was refused.
	ProxyHeader(result string)
	// RateLimited counts a request refused by a rate budget ("requests"
	// or "bytes").
	RateLimited(budget string)
	// Request counts a request answered: what it was served (the access
	// log's "served"), the bytes sent and how long the connection took
	// from accept to the end of the response.
	Request(served string, bytes int64, d time.Duration)
}

// The results of ProxyHeader.
const (
	ProxyAccepted = "accepted"  // a PROXY header with the client's address
	ProxyLocal    = "local"     // LOCAL (v2) or UNKNOWN (v1): the socket's address is kept
	ProxyMissing  = "missing"   // the peer sent something that is not a header
	ProxyInvalid  = "invalid"   // a header that does not parse
	ProxyTooLong  = "too-long"  // over 107 bytes (v1) or 16+1024 (v2)
	ProxyTimeout  = "timeout"   // no whole header within request-timeout
	ProxyClosed   = "truncated" // the peer closed before the header was whole
)

// nopEvents is the Events of a server without metrics.
type nopEvents struct{}

func (nopEvents) ConnectionOpened()                    {}
func (nopEvents) ConnectionClosed()                    {}
func (nopEvents) ConnectionRefused(string)             {}
func (nopEvents) TLSHandshake(bool)                    {}
func (nopEvents) ProxyHeader(string)                   {}
func (nopEvents) RateLimited(string)                   {}
func (nopEvents) Request(string, int64, time.Duration) {}

package gopher

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Request is one Gopher request: the parsed request line, and the facts of
// the connection it came on, which the server fills in. ParseRequest and
// ReadRequest leave those zero.
type Request struct {
	// Selector is everything before the first TAB, as bytes.
	Selector string
	// Search is the search string of a type-7 request ("" when absent).
	Search string
	// HasSearch tells an empty search string from none.
	HasSearch bool
	// GopherPlus is the Gopher+ marker field ("+", "!", "$", "+text/plain"…)
	// or "" for a plain RFC 1436 request. gopherd answers such requests as
	// plain ones.
	GopherPlus string

	// RemoteAddr is the client's address: the peer of the connection, or
	// the address a trusted proxy reported for it. IPv4-mapped IPv6
	// addresses are unmapped. The zero value means unknown.
	RemoteAddr netip.AddrPort
	// TLS is the state of the TLS connection the request came over, nil
	// for plain Gopher.
	TLS *tls.ConnectionState
	// Host and Port are what menus and error items written for this
	// request name as this server: the public host name and port, which
	// may differ from the socket's (NAT, a proxy, a virtual host).
	Host string
	Port int
}

// Errors returned by ParseRequest and ReadRequest.
var (
	// ErrTooLarge means the request line is longer than the limit.
	ErrTooLarge = errors.New("request too large")
	// ErrInvalid means the request holds a byte that no selector may
	// contain (NUL, or CR other than before the final LF).
	ErrInvalid = errors.New("invalid request")
)

// ParseRequest parses one request line. line may end in LF or CRLF; both are
// stripped.
func ParseRequest(line []byte) (*Request, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if bytes.IndexByte(line, 0) >= 0 || bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, '\n') >= 0 {
		return nil, ErrInvalid
	}
	fields := bytes.Split(line, []byte("\t"))
	r := &Request{Selector: string(fields[0])}
	rest := fields[1:]
	if n := len(rest); n > 0 && isGopherPlus(rest[n-1]) {
		r.GopherPlus = string(rest[n-1])
		rest = rest[:n-1]
	}
	if len(rest) > 0 {
		r.HasSearch = true
		// Tabs inside a search string are kept: the client meant them.
		r.Search = string(bytes.Join(rest, []byte("\t")))
	}
	return r, nil
}

func isGopherPlus(f []byte) bool {
	return len(f) > 0 && (f[0] == '+' || f[0] == '!' || f[0] == '$')
}

// ReadRequest reads one request line of at most limit bytes (line ending
// included) from r and parses it. It reads in small chunks and never buffers
// more than limit bytes, so a client that never sends a newline costs at most
// limit bytes of memory; the caller bounds the time with a deadline.
//
// A request ended by EOF instead of a newline is accepted. EOF before any byte
// returns io.EOF.
func ReadRequest(r io.Reader, limit int) (*Request, error) {
	buf := make([]byte, 0, min(limit, 512))
	var chunk [512]byte
	for {
		want := min(len(chunk), limit+1-len(buf))
		n, err := r.Read(chunk[:want])
		if i := bytes.IndexByte(chunk[:n], '\n'); i >= 0 {
			if len(buf)+i+1 > limit {
				return nil, ErrTooLarge
			}
			return ParseRequest(append(buf, chunk[:i+1]...))
		}
		buf = append(buf, chunk[:n]...)
		if len(buf) > limit {
			return nil, ErrTooLarge
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(buf) == 0 {
					return nil, io.EOF
				}
				return ParseRequest(buf)
			}
			return nil, fmt.Errorf("reading request: %w", err)
		}
	}
}

package server

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"strconv"
	"strings"

	"gopherd/internal/gopher"
)

// A web browser pointed at a Gopher port sends an HTTP request. Treated as
// a selector it would get an error item back, which browsers show as a
// download or a garbled page; with Settings.HTTPPage it gets a short,
// well-formed HTTP/1.0 response instead, with a page saying what it reached.
// The status is 400 Bad Request: the request was not served, which is what
// crawlers, monitors and `curl --fail` should conclude, and browsers still
// show the page.

const (
	// httpHeaderFactor times Limits.RequestBytes, but at least
	// minHTTPHeaderBytes, bounds how much of an HTTP request's header is
	// read and thrown away before the answer, so the client is not reset
	// while still sending.
	httpHeaderFactor   = 16
	minHTTPHeaderBytes = 8 << 10
	// servedHTTP is what the access log says such a request got.
	servedHTTP = "http"
)

// httpRequestLine reports whether line is an HTTP/1.x request line —
// METHOD SP target SP "HTTP/" DIGIT "." DIGIT, the target without
// whitespace — and returns its method.
func httpRequestLine(line string) (string, bool) {
	method, rest, ok := strings.Cut(line, " ")
	if !ok || !isHTTPMethod(method) {
		return "", false
	}
	target, version, ok := strings.Cut(rest, " ")
	if !ok || target == "" || strings.ContainsAny(target, " \t\n\v\f\r") {
		return "", false
	}
	if len(version) != len("HTTP/1.1") || !strings.HasPrefix(version, "HTTP/") ||
		!isDigit(version[5]) || version[6] != '.' || !isDigit(version[7]) {
		return "", false
	}
	return method, true
}

// httpPrefix reports whether b, the start of a request line too long to
// read whole, begins like an HTTP request ("GET /…"), and returns the
// method.
func httpPrefix(b []byte) (string, bool) {
	method, rest, ok := bytes.Cut(b, []byte(" "))
	if !ok || !isHTTPMethod(string(method)) || len(rest) == 0 || rest[0] != '/' {
		return "", false
	}
	return string(method), true
}

// isHTTPMethod knows the methods of RFC 9110 and PATCH (RFC 5789).
func isHTTPMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE":
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// httpPage is the complete HTTP/1.0 response for method: status line,
// headers and, except for HEAD, an HTML page linking to the Gopher server
// at host and port. host comes from the configuration, never from the
// request, and is escaped anyway.
func httpPage(method, host string, port int) []byte {
	url := "gopher://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
	u := html.EscapeString(url)
	body := `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>This is a Gopher server</title>
</head>
<body>
<h1>This is a Gopher server</h1>
<p>You reached a Gopher (RFC 1436) server with a web browser, which does
not speak Gopher.</p>
<p>Open <a href="` + u + `">` + u + `</a> with a Gopher client such as
Lynx (<code>lynx ` + u + `</code>) or curl (<code>curl ` + u + `</code>).</p>
</body>
</html>
`
	var b bytes.Buffer
	b.WriteString("HTTP/1.0 400 Bad Request\r\n")
	b.WriteString("Content-Type: text/html; charset=utf-8\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	b.WriteString("Connection: close\r\n")
	b.WriteString("Cache-Control: no-store\r\n")
	b.WriteString("X-Content-Type-Options: nosniff\r\n")
	b.WriteString("\r\n")
	if method != "HEAD" {
		b.WriteString(body)
	}
	return b.Bytes()
}

// discardHTTPHeader reads and drops the rest of an HTTP request's header,
// up to the empty line that ends it, so that the answer does not arrive
// while the client is still sending (closing with unread data resets the
// connection). seen holds what was already read, from the start of the
// request line; more is read from r until the end of the header, at most
// limit bytes in all, an error or the request deadline. What happens then
// does not matter: the answer is the same.
func discardHTTPHeader(seen []byte, r io.Reader, limit int) {
	// The state is where the scan stands: inside a line, at the start of
	// one, or after a CR at the start of one. An empty line (LF or CRLF
	// at the start of a line) ends the header.
	const (
		inLine = iota
		lineStart
		lineStartCR
	)
	state := inLine
	done := func(b []byte) bool {
		for _, c := range b {
			switch {
			case c == '\n' && state != inLine:
				return true
			case c == '\n':
				state = lineStart
			case c == '\r' && state == lineStart:
				state = lineStartCR
			default:
				state = inLine
			}
		}
		return false
	}
	if done(seen) {
		return
	}
	total := len(seen)
	var buf [512]byte
	for total < limit {
		n, err := r.Read(buf[:min(len(buf), limit-total)])
		total += n
		if done(buf[:n]) || err != nil {
			return
		}
	}
}

// recorder keeps the first max bytes read through it: when a request line
// turns out to be HTTP, the header that followed it in the same read must
// not be lost.
type recorder struct {
	r   io.Reader
	max int
	buf []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if room := r.max - len(r.buf); room > 0 {
		r.buf = append(r.buf, p[:min(n, room)]...)
	}
	return n, err
}

// httpRequest tells whether the outcome of reading a request, req and err,
// is an HTTP request, and returns its method: a request line that parses
// as one, or one too long for the limit that starts like one.
func httpRequest(req *gopher.Request, err error, rec *recorder) (string, bool) {
	switch {
	case err == nil:
		if req.HasSearch || req.GopherPlus != "" {
			return "", false // a TAB: never part of an HTTP request line
		}
		return httpRequestLine(req.Selector)
	case rec != nil && errors.Is(err, gopher.ErrTooLarge):
		return httpPrefix(rec.buf)
	}
	return "", false
}

package gopher

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrorKind tells error responses apart, for the client's message and for
// the access log.
type ErrorKind int

// Error kinds a server sends as type-3 items.
const (
	NotFound ErrorKind = iota + 1
	NotAllowed
	TooLarge
	TimedOut
	BadRequest
	Busy
	Internal
)

// String is the short name used in the access log.
func (k ErrorKind) String() string {
	switch k {
	case NotFound:
		return "not-found"
	case NotAllowed:
		return "not-allowed"
	case TooLarge:
		return "too-large"
	case TimedOut:
		return "timeout"
	case BadRequest:
		return "bad-request"
	case Busy:
		return "busy"
	case Internal:
		return "internal"
	}
	return "error(" + strconv.Itoa(int(k)) + ")"
}

// MaxEcho is how many bytes of a selector an error message or log line
// repeats at most: enough to recognise the request, too little to turn the
// server into an amplifier or a log-flooding tool.
const MaxEcho = 64

// Message is the human-readable text of an error item for selector sel. The
// not-found wording is spacecookie's, so clients and tests written for it
// keep working.
func (k ErrorKind) Message(sel string) string {
	q := Quote(sel, MaxEcho)
	switch k {
	case NotFound:
		return fmt.Sprintf("The requested resource '%s' does not exist or is not available.", q)
	case NotAllowed:
		return fmt.Sprintf("Accessing '%s' is not allowed.", q)
	case TooLarge:
		return "Request too large."
	case TimedOut:
		return "Request timed out."
	case BadRequest:
		return "Bad request: the selector contains a forbidden byte."
	case Busy:
		return "Server busy: too many connections, try again later."
	default:
		return "Internal server error."
	}
}

// ErrorSelector is the selector field of error items, as spacecookie sends it.
const ErrorSelector = "Err"

// ErrorItem is the type-3 item describing err for selector sel.
func ErrorItem(k ErrorKind, sel, host string, port int) Item {
	return Item{Type: TypeError, Display: k.Message(sel), Selector: ErrorSelector, Host: host, Port: port}
}

// ErrorResponse is a complete error response: one type-3 item and the
// terminator.
func ErrorResponse(k ErrorKind, sel, host string, port int) []byte {
	return Menu{ErrorItem(k, sel, host, port)}.Bytes()
}

// Quote returns at most max bytes of s (plus "…" when cut) with every byte
// that is not printable UTF-8 written as a \xNN escape and backslashes
// doubled, so the result is safe in a menu line and in a log line (no log
// injection, no terminal escapes). Printable means a graphic character
// (unicode.IsGraphic: letters, marks, numbers, punctuation, symbols,
// spaces): C0 and C1 controls, DEL, format characters (category Cf: the
// bidirectional overrides such as U+202E that make a line read differently
// from what it holds, zero-width characters, U+FEFF), line and paragraph
// separators, private-use and unassigned code points are all escaped, each
// byte of their UTF-8 encoding as \xNN.
func Quote(s string, max int) string {
	out := make([]byte, 0, min(len(s), max)+8)
	cut := false
	for i := 0; i < len(s); {
		if i >= max {
			cut = true
			break
		}
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if c == '\\' {
				out = append(out, '\\', '\\')
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && c >= 0x80 && unicode.IsGraphic(r) {
			out = append(out, s[i:i+size]...)
			i += size
			continue
		}
		out = append(out, '\\', 'x', hexDigit(c>>4), hexDigit(c&0xf))
		i++
	}
	if cut {
		out = append(out, "…"...)
	}
	return string(out)
}

func hexDigit(b byte) byte {
	return "0123456789abcdef"[b]
}

package main

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// Error kinds reported by the load generator. A response that arrives in full
// but does not match the expectation gets one of the content kinds; network
// failures get a kind named after the step that failed or the errno behind it.
const (
	kindShort         = "short"          // fewer bytes than -expect-bytes
	kindLong          = "long"           // more bytes than -expect-bytes
	kindBadTerminator = "bad-terminator" // menu not ending in ".\r\n"
	kindErrorItem     = "error-item"     // menu that starts with a type-3 error item
	kindTimeout       = "timeout"
	kindReset         = "reset"
	kindRefused       = "dial-refused"
	kindAddrNotAvail  = "dial-addrnotavail" // out of ephemeral ports
	kindFDLimit       = "fd-limit"
	kindDial          = "dial"
	kindWrite         = "write"
	kindRead          = "read"
)

// expectation says what a correct response looks like.
type expectation struct {
	bytes      int64 // exact size; negative means not checked
	terminator bool  // must end with ".\r\n" and must not be an error item
}

// respCheck follows a response as it streams in, keeping only what the
// verdict needs (size, first byte, last three bytes) so that a 100 MiB
// response costs no memory.
type respCheck struct {
	exp   expectation
	n     int64
	first byte
	tail  [3]byte
	tlen  int
}

func (c *respCheck) reset() {
	exp := c.exp
	*c = respCheck{exp: exp}
}

// observe accounts for the next chunk of the response.
func (c *respCheck) observe(p []byte) {
	if len(p) == 0 {
		return
	}
	if c.n == 0 {
		c.first = p[0]
	}
	c.n += int64(len(p))
	if len(p) >= 3 {
		copy(c.tail[:], p[len(p)-3:])
		c.tlen = 3
		return
	}
	for _, b := range p {
		if c.tlen < 3 {
			c.tail[c.tlen] = b
			c.tlen++
			continue
		}
		c.tail[0], c.tail[1], c.tail[2] = c.tail[1], c.tail[2], b
	}
}

// verdict returns "" for a good response or the error kind otherwise.
func (c *respCheck) verdict() string {
	if c.exp.bytes >= 0 {
		switch {
		case c.n < c.exp.bytes:
			return kindShort
		case c.n > c.exp.bytes:
			return kindLong
		}
	}
	if c.exp.terminator {
		if c.tlen < 3 || c.tail != [3]byte{'.', '\r', '\n'} {
			return kindBadTerminator
		}
		if c.first == '3' {
			return kindErrorItem
		}
	}
	return ""
}

// classify names a network error; step is the kind used when nothing more
// specific is known (dial, write or read).
func classify(step string, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		if step == kindDial {
			return "dial-timeout"
		}
		return kindTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return kindReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return kindAddrNotAvail
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return kindFDLimit
	}
	return step
}

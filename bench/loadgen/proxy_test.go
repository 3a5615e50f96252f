package main

import (
	"bufio"
	"bytes"
	"net"
	"testing"

	"github.com/pires/go-proxyproto"
)

// TestProxyHeaderParses checks the headers against the library gopherd
// parses them with.
func TestProxyHeaderParses(t *testing.T) {
	for _, tt := range []struct{ version, src, dst string }{
		{"v1", "127.0.0.1:4711", "127.0.0.1:70"},
		{"v2", "127.0.0.1:4711", "127.0.0.1:70"},
		{"v1", "[::1]:4711", "[::1]:70"},
		{"v2", "[::1]:4711", "[::1]:70"},
	} {
		src, _ := net.ResolveTCPAddr("tcp", tt.src)
		dst, _ := net.ResolveTCPAddr("tcp", tt.dst)
		b := appendProxyHeader(nil, tt.version, src, dst)
		h, err := proxyproto.Read(bufio.NewReader(bytes.NewReader(append(b, "/x\r\n"...))))
		if err != nil {
			t.Errorf("%s %s: %v (%q)", tt.version, tt.src, err, b)
			continue
		}
		if got := h.SourceAddr.String(); got != src.String() || int(h.Version) != int(tt.version[1]-'0') {
			t.Errorf("%s: source %s version %d, want %s", tt.version, got, h.Version, src)
		}
	}
}

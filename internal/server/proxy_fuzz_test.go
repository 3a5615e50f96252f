package server

import (
	"bytes"
	"io"
	"testing"
)

// FuzzProxyHeader feeds arbitrary bytes, split into reads at arbitrary
// points, to the PROXY header reader: it must never panic, never read a
// header past the caps, and give back exactly the bytes after the header.
func FuzzProxyHeader(f *testing.F) {
	for _, s := range []string{
		"PROXY TCP4 192.0.2.1 127.0.0.1 4711 70\r\n/x\r\n",
		"PROXY TCP6 2001:db8::1 ::1 1 2\r\n",
		"PROXY UNKNOWN\r\n\x16\x03\x01",
		"PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n",
		string(v2Raw(0x21, 0x11, []byte{192, 0, 2, 1, 127, 0, 0, 1, 0, 1, 0, 70})) + "/x\r\n",
		string(v2Raw(0x20, 0x00, nil)),
		string(v2Raw(0x21, 0x21, make([]byte, 36))),
		string(v2Raw(0x21, 0x31, make([]byte, 216))),
		string(v2Raw(0x21, 0x11, append(make([]byte, 12), 0x04, 0, 3, 1, 2, 3))),
		"/not a header\r\n",
	} {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		r := &chunked{b: in, n: int(step%64) + 1}
		hdr, rest, err := readProxyHeader(r)
		if err != nil {
			if _, ok := err.(*proxyError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		used := r.read - len(rest)
		if hdr == nil || used <= 0 || used > maxProxyHeader || !bytes.Equal(rest, in[used:r.read]) {
			t.Fatalf("header of %d bytes, rest %q of input %q", used, rest, in)
		}
	})
}

// chunked returns at most n bytes a read, then EOF.
type chunked struct {
	b    []byte
	n    int
	read int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	c.read += k
	return k, nil
}

// BenchmarkProxyHeader is what a PROXY listener adds to a connection
// before its request: framing and parsing the header.
func BenchmarkProxyHeader(b *testing.B) {
	for name, in := range map[string][]byte{
		"v1": []byte("PROXY TCP4 192.0.2.1 127.0.0.1 4711 70\r\n/x\r\n"),
		"v2": append(v2Raw(0x21, 0x11, []byte{192, 0, 2, 1, 127, 0, 0, 1, 0x12, 0x67, 0, 70}), "/x\r\n"...),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := readProxyHeader(bytes.NewReader(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

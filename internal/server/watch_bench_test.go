package server

import (
	"io"
	"net"
	"testing"
)

// BenchmarkSmallResponse writes a 4 KiB response through the response
// writer to a loopback TCP peer that reads it, with the progress watchdog
// (TCP_INFO and SIOCOUTQ at the start, a timer per response) and with
// per-write deadlines instead: the watchdog's cost per response, as a
// ratio of the two.
func BenchmarkSmallResponse(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	srvSide, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer srvSide.Close()
	// The watchdog wants a connection that has received something (a
	// request, in the server).
	if _, err := client.Write([]byte("/\r\n")); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(srvSide, make([]byte, 3)); err != nil {
		b.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, client) }()
	body := make([]byte, 4<<10)
	srv := New(nil, Settings{})
	for _, watched := range []bool{true, false} {
		name := map[bool]string{true: "watched", false: "per-write-deadline"}[watched]
		b.Run(name, func(b *testing.B) {
			st := srv.settings.Load()
			rwc := srvSide
			if !watched {
				rwc = noSyscallConn{srvSide}
			}
			c := &conn{srv: srv, rwc: rwc, w: srvSide, st: st}
			for b.Loop() {
				w := c.newResponse(func() {})
				if watched != (w.rc != nil) {
					b.Fatalf("watchdog on: %v", w.rc != nil)
				}
				w.start()
				if _, err := w.Write(body); err != nil {
					b.Fatal(err)
				}
				w.finish()
			}
		})
	}
}

// noSyscallConn hides the socket, so the response falls back to per-write
// deadlines.
type noSyscallConn struct{ net.Conn }

package main

import (
	"net"
	"slices"
	"testing"

	"gopherd/internal/config"
	"gopherd/internal/server"
)

func TestListenerModes(t *testing.T) {
	var lns []net.Listener
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		lns = append(lns, ln)
	}
	port := func(i int) int { return lns[i].Addr().(*net.TCPAddr).Port }

	// Configured listeners: by position.
	ls := []config.Listen{
		{Addr: "127.0.0.1", Port: port(0), TLS: config.TLSOnly},
		{Addr: "127.0.0.1", Port: port(1), TLS: config.TLSOff},
		{Addr: "127.0.0.1", Port: port(2)},
	}
	got := modes(listenerOptions(ls, lns, false))
	if want := []server.TLSMode{server.TLSOnly, server.TLSOff, server.TLSAuto}; !slices.Equal(got, want) {
		t.Errorf("configured: %v, want %v", got, want)
	}

	// Inherited sockets: by port, whatever the order; no match is auto.
	ls = []config.Listen{
		{Addr: "::", Port: port(2), TLS: config.TLSOff, Vhost: "B.Test."},
		{Addr: "::", Port: port(0), TLS: config.TLSOnly},
	}
	opts := listenerOptions(ls, lns, true)
	got = modes(opts)
	if want := []server.TLSMode{server.TLSOnly, server.TLSAuto, server.TLSOff}; !slices.Equal(got, want) {
		t.Errorf("activated: %v, want %v", got, want)
	}
	// The vhost comes with the mode, in canonical form.
	if opts[0].Vhost != "" || opts[1].Vhost != "" || opts[2].Vhost != "b.test" {
		t.Errorf("activated vhosts: %q %q %q, want \"\", \"\", \"b.test\"", opts[0].Vhost, opts[1].Vhost, opts[2].Vhost)
	}
}

func modes(opts []server.ListenerOptions) []server.TLSMode {
	out := make([]server.TLSMode, len(opts))
	for i, o := range opts {
		out[i] = o.TLS
	}
	return out
}

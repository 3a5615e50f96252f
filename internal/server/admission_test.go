package server

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"gopherd/internal/gopher"
)

// closedByServer reports whether the server has closed c (a read ends at
// once rather than timing out).
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

// TestIdleEvictedOldestFirst fills every slot with connections that never
// send a request: each new client from another address takes the slot of
// the oldest of them that is left. A connection with a request to answer
// is never evicted, and neither is one whose address holds no more
// connections than the newcomer's: once nothing is left to evict, a
// newcomer is told the server is busy.
func TestIdleEvictedOldestFirst(t *testing.T) {
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnections = 3
	h := start(t, st)

	var silent []net.Conn
	for i := range 3 {
		silent = append(silent, dial(t, h.addr))
		waitFor(t, "the silent connection to be counted", func() bool {
			total, _ := h.srv.counts()
			return total == i+1
		})
	}
	var active []net.Conn
	for i := range 2 {
		// The newcomer holds its slot: it is being answered.
		active = append(active, startBlocked(t, b, h.addr, net.ParseIP(fmt.Sprintf("127.0.0.%d", 2+i))))
		for j, c := range silent {
			if want := j <= i; closedByServer(c) != want {
				t.Errorf("after newcomer %d: silent connection %d closed = %v, want %v", i, j, !want, want)
			}
		}
	}
	// The last silent connection's address (127.0.0.1) holds one
	// connection: a newcomer from that address does not displace it, one
	// from a fresh address does.
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != errorItem(gopher.Busy) {
		t.Errorf("a newcomer from the silent connection's own address got %q, want busy", got)
	}
	active = append(active, startBlocked(t, b, h.addr, net.ParseIP("127.0.0.9")))
	if !closedByServer(silent[2]) {
		t.Error("the last silent connection was not evicted for a fresh address")
	}
	// Every slot answering a request: nothing to evict.
	if got := string(roundTrip(t, h.addr, "/x\r\n")); got != errorItem(gopher.Busy) {
		t.Errorf("with every slot answering a request got %q, want busy", got)
	}
	close(b.release)
	for _, c := range active {
		if got := string(readAll(t, c)); got != "A:/block\r\n.\r\n" {
			t.Errorf("an active connection got %q", got)
		}
	}
	h.srv.mu.Lock()
	evictions := h.srv.evictions
	h.srv.mu.Unlock()
	if evictions != 3 {
		t.Errorf("%d evictions, want 3", evictions)
	}
}

// TestMaxConnectionsPerPrefix: addresses of one /24 share a cap beside
// their own, and another /24 is not affected.
func TestMaxConnectionsPerPrefix(t *testing.T) {
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnectionsPerIP = 2
	st.Limits.MaxConnectionsPerPrefix = 3
	h := start(t, st)

	var held []net.Conn
	for _, src := range []string{"127.0.7.1", "127.0.7.1", "127.0.7.2"} {
		held = append(held, startBlocked(t, b, h.addr, net.ParseIP(src)))
	}
	c := dialFrom(t, h.addr, net.ParseIP("127.0.7.3"), 0)
	if _, err := io.WriteString(c, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, c)); got != errorItem(gopher.Busy) {
		t.Errorf("a third address of 127.0.7.0/24 got %q, want busy", got)
	}
	c = dialFrom(t, h.addr, net.ParseIP("127.0.8.1"), 0)
	if _, err := io.WriteString(c, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, c)); got != "A:/x\r\n.\r\n" {
		t.Errorf("127.0.8.1 got %q, want it served", got)
	}
	close(b.release)
	for _, c := range held {
		readAll(t, c)
	}
	var reasons []any
	for _, l := range h.logs.entries(t, "connection refused: busy") {
		reasons = append(reasons, l["reason"])
	}
	if len(reasons) != 1 || reasons[0] != "max-connections-per-prefix" {
		t.Errorf("busy reasons %v, want one max-connections-per-prefix", reasons)
	}
}

// TestJudge runs the watchdog's rules on made-up looks at a socket.
func TestJudge(t *testing.T) {
	const idle = time.Second
	type look struct {
		at      time.Duration // since the response began
		acked   uint64
		unacked int
	}
	for _, tt := range []struct {
		name  string
		looks []look
		want  string // the cut at the last look; earlier ones must not cut
	}{
		{"nothing waiting is never idle", []look{{500 * time.Millisecond, 0, 0}, {3 * time.Second, 0, 0}}, ""},
		{"no progress while data waits", []look{{100 * time.Millisecond, 10, 5}, {900 * time.Millisecond, 10, 5}, {1100 * time.Millisecond, 10, 5}}, cutIdle},
		{"progress renews", []look{{900 * time.Millisecond, 2000, 5}, {1800 * time.Millisecond, 4000, 5}, {2700 * time.Millisecond, 6000, 5}}, ""},
		{"a byte now and then is too slow", []look{{500 * time.Millisecond, 1, 5}, {1 * time.Second, 2, 5}, {1500 * time.Millisecond, 3, 5}}, cutSlow},
		{"slow but above the floor", []look{{500 * time.Millisecond, 600, 5}, {1 * time.Second, 1200, 5}, {1500 * time.Millisecond, 1800, 5}, {2 * time.Second, 2400, 5}}, ""},
		{"the rate counts only while data waits", []look{{500 * time.Millisecond, 1, 5}, {1 * time.Second, 2, 0}, {1500 * time.Millisecond, 3, 5}, {1900 * time.Millisecond, 4, 5}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Now()
			w := &response{idle: idle, minRate: 1000, progress: t0}
			for i, l := range tt.looks {
				got := w.judge(t0.Add(l.at), l.acked, l.unacked)
				if i < len(tt.looks)-1 && got != "" {
					t.Fatalf("look %d cut %q", i, got)
				}
				if i == len(tt.looks)-1 && got != tt.want {
					t.Errorf("last look: %q, want %q", got, tt.want)
				}
			}
			if len(w.window) > watchSamples+1 {
				t.Errorf("window holds %d looks", len(w.window))
			}
		})
	}
}

// TestFullServerCutsTheHeaviestAddress: with every slot answering a
// request, a newcomer from an address with no connection takes the slot
// of the oldest response of the address holding the most, which ends in a
// reset and an access log line cut "evicted". An address that already
// holds a connection displaces nothing: the heaviest address coming back,
// and the other one, are told the server is busy.
func TestFullServerCutsTheHeaviestAddress(t *testing.T) {
	b := newBlocker("A")
	st := baseSettings(b)
	st.Limits.MaxConnections = 4
	h := start(t, st)

	heavy := net.ParseIP("127.0.0.2")
	var held []net.Conn
	for range 3 {
		held = append(held, startBlocked(t, b, h.addr, heavy))
	}
	other := startBlocked(t, b, h.addr, net.ParseIP("127.0.0.3"))

	c := dialFrom(t, h.addr, net.ParseIP("127.0.0.4"), 0)
	if _, err := io.WriteString(c, "/x\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, c)); got != "A:/x\r\n.\r\n" {
		t.Errorf("the newcomer got %q, want it served", got)
	}
	_ = held[0].SetReadDeadline(time.Now().Add(patience))
	if b, err := io.ReadAll(held[0]); !isReset(err) {
		t.Errorf("the heaviest address's oldest response ended with %v after %q, want a reset", err, b)
	}
	for i, c := range append(held[1:], other) {
		if closedByServer(c) {
			t.Errorf("response %d was cut too", i+1)
		}
	}
	// A newcomer from an address holding a connection is refused: from
	// 127.0.0.2 (2 now) or from 127.0.0.3 (1).
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		c := dialFrom(t, h.addr, net.ParseIP(src), 0)
		if _, err := io.WriteString(c, "/x\r\n"); err != nil {
			t.Fatal(err)
		}
		if got := string(readAll(t, c)); got != errorItem(gopher.Busy) {
			t.Errorf("a newcomer from %s got %q, want busy", src, got)
		}
	}
	close(b.release)
	for _, c := range append(held[1:], other) {
		readAll(t, c)
	}
	var cuts []any
	for _, l := range h.logs.entries(t, "request") {
		if l["cut"] != nil {
			cuts = append(cuts, l["cut"])
		}
	}
	if len(cuts) != 1 || cuts[0] != cutEvicted {
		t.Errorf("cuts in the access log %v, want one %q", cuts, cutEvicted)
	}
}

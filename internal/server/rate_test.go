package server

import (
	"context"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopherd/internal/gopher"
	"gopherd/internal/rate"
)

// slowDownRE is the whole slow-down answer.
var slowDownRE = regexp.MustCompile(`^3Slow down: too many requests; try again in (\d+) s\.\tErr\t` + testHost + `\t7070\r\n\.\r\n$`)

// fromAddr sends a request through a PROXY listener as client src.
func fromAddr(t *testing.T, h *harness, src, sel string) string {
	t.Helper()
	ap := netip.MustParseAddrPort(src)
	fam := "TCP4"
	if ap.Addr().Is6() {
		fam = "TCP6"
	}
	dst := "127.0.0.1"
	if fam == "TCP6" {
		dst = "::1"
	}
	hdr := "PROXY " + fam + " " + ap.Addr().String() + " " + dst + " " + strconv.Itoa(int(ap.Port())) + " 70\r\n"
	got, _ := sendRaw(t, h.addr, []byte(hdr+sel+"\r\n"))
	return string(got)
}

func rateServer(t *testing.T, c rate.Config, h gopher.Handler) (*harness, *events) {
	t.Helper()
	st := baseSettings(h)
	st.Rate = rate.New(c)
	ev := newEvents()
	st.Events = ev
	return startWith(t, st, trusting("127.0.0.1/32")), ev
}

var okHandler = gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
	gopher.Served(w, "file")
	_, _ = w.Write([]byte("ok"))
})

func TestRateRequests(t *testing.T) {
	h, ev := rateServer(t, rate.Config{Requests: 3, Per: time.Minute}, okHandler)
	for i := range 3 {
		if got := fromAddr(t, h, "192.0.2.1:1000", "/x"); got != "ok" {
			t.Fatalf("request %d: %q", i+1, got)
		}
	}
	got := fromAddr(t, h, "192.0.2.1:1001", "/x")
	m := slowDownRE.FindStringSubmatch(got)
	if m == nil || m[1] != "20" {
		t.Errorf("4th request: %q, want the slow-down item with 20 s", got)
	}
	if got := fromAddr(t, h, "192.0.2.2:1000", "/x"); got != "ok" {
		t.Errorf("another client while the first is limited: %q", got)
	}
	fromAddr(t, h, "192.0.2.1:1002", "/x")
	if ev.get("limited requests") != 2 {
		t.Errorf("rate-limited events: %v", ev.m)
	}
	waitFor(t, "the access log", func() bool { return len(h.logs.entries(t, "request")) == 6 })
	served := 0
	for _, e := range h.logs.entries(t, "request") {
		if e["served"] == servedRateLimited {
			served++
		}
	}
	if served != 2 {
		t.Errorf("%d requests logged as %s, want 2", served, servedRateLimited)
	}
	lines := h.logs.entries(t, "rate budget exceeded: slowing down")
	if len(lines) != 1 || lines[0]["network"] != "192.0.2.1/32" || lines[0]["budget"] != "requests" || lines[0]["level"] != "info" {
		t.Errorf("want one info line for the limited network, got %v", lines)
	}
}

func TestRateIPv6Prefix(t *testing.T) {
	h, _ := rateServer(t, rate.Config{Requests: 1, Per: time.Hour, IPv6Bits: 64}, okHandler)
	fromAddr(t, h, "[2001:db8:1:2::1]:1", "/x")
	if got := fromAddr(t, h, "[2001:db8:1:2:aaaa::2]:1", "/x"); !slowDownRE.MatchString(got) {
		t.Errorf("same /64: %q, want slowed down", got)
	}
	if got := fromAddr(t, h, "[2001:db8:1:3::1]:1", "/x"); got != "ok" {
		t.Errorf("the next /64: %q, want served", got)
	}
}

func TestRateExempt(t *testing.T) {
	h, _ := rateServer(t, rate.Config{Requests: 1, Per: time.Hour, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, okHandler)
	for range 3 {
		if got := fromAddr(t, h, "192.0.2.9:1", "/x"); got != "ok" {
			t.Fatalf("exempt client: %q", got)
		}
	}
	fromAddr(t, h, "198.51.100.1:1", "/x")
	if got := fromAddr(t, h, "198.51.100.1:1", "/x"); !slowDownRE.MatchString(got) {
		t.Errorf("a client outside the exempt network: %q", got)
	}
}

func TestRateBytes(t *testing.T) {
	big := strings.Repeat("x", 5000)
	h, ev := rateServer(t, rate.Config{Bytes: 4000, BytesPer: time.Hour}, gopher.HandlerFunc(
		func(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request) { _, _ = w.Write([]byte(big)) }))
	if got := fromAddr(t, h, "192.0.2.1:1", "/x"); got != big {
		t.Fatalf("first response cut: %d bytes", len(got))
	}
	got := fromAddr(t, h, "192.0.2.1:2", "/x")
	if m := slowDownRE.FindStringSubmatch(got); m == nil || m[1] != "900" && m[1] != "901" {
		t.Errorf("over the byte budget: %q, want a 900 s wait", got)
	}
	if got := fromAddr(t, h, "192.0.2.3:1", "/x"); got != big {
		t.Errorf("another client: %d bytes", len(got))
	}
	if ev.get("limited bytes") != 1 {
		t.Errorf("events: %v", ev.m)
	}
}

// TestRateNoProxy: without a PROXY header the socket's address is the key.
func TestRateNoProxy(t *testing.T) {
	st := baseSettings(okHandler)
	st.Rate = rate.New(rate.Config{Requests: 1, Per: time.Hour})
	h := start(t, st)
	send := func(src string) string {
		c := dialFrom(t, h.addr, net.ParseIP(src), 0)
		if _, err := c.Write([]byte("/x\r\n")); err != nil {
			t.Fatal(err)
		}
		return string(readAll(t, c))
	}
	send("127.0.0.2")
	if got := send("127.0.0.2"); !slowDownRE.MatchString(got) {
		t.Errorf("second request from 127.0.0.2: %q", got)
	}
	if got := send("127.0.0.3"); got != "ok" {
		t.Errorf("127.0.0.3: %q", got)
	}
}

package rate

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestRequestBudget(t *testing.T) {
	l := New(Config{Requests: 3, Per: time.Minute})
	a, b := addr("192.0.2.1"), addr("192.0.2.2")
	for i := range 3 {
		if d := l.Request(a, t0); d.Wait != 0 {
			t.Fatalf("request %d refused: %+v", i+1, d)
		}
	}
	d := l.Request(a, t0)
	if d.Wait != 20*time.Second || d.Budget != "requests" || !d.Log || d.Limited != 1 {
		t.Errorf("4th request: %+v, want a 20 s wait for requests, logged", d)
	}
	if d := l.Request(b, t0); d.Wait != 0 {
		t.Errorf("another address refused: %+v", d)
	}
	if d := l.Request(a, t0.Add(time.Second)); d.Wait != 19*time.Second || d.Log {
		t.Errorf("5th request: %+v, want 19 s, not logged again", d)
	}
	if d := l.Request(a, t0.Add(20*time.Second)); d.Wait != 0 {
		t.Errorf("after 20 s: %+v, want served", d)
	}
	if d := l.Request(a, t0.Add(61*time.Second)); d.Wait != 0 {
		t.Errorf("after 61 s: %+v, want served", d)
	}
	for d = l.Request(a, t0.Add(61*time.Second)); d.Wait == 0; d = l.Request(a, t0.Add(61*time.Second)) {
	}
	if d.Wait == 0 || !d.Log || d.Limited != 2 {
		t.Errorf("a minute after the first line: %+v, want a new line for 2 refusals", d)
	}
}

func TestBurst(t *testing.T) {
	l := New(Config{Requests: 60, Per: time.Minute, Burst: 2})
	a := addr("192.0.2.1")
	l.Request(a, t0)
	l.Request(a, t0)
	if d := l.Request(a, t0); d.Wait != time.Second {
		t.Errorf("over the burst: %+v, want 1 s", d)
	}
}

func TestByteBudget(t *testing.T) {
	l := New(Config{Bytes: 1000, BytesPer: 100 * time.Second})
	a := addr("2001:db8::1")
	d := l.Request(a, t0)
	if d.Wait != 0 || d.Bucket == nil {
		t.Fatalf("first request: %+v", d)
	}
	d.Bucket.Sent(600)
	if d := l.Request(a, t0); d.Wait != 0 {
		t.Fatalf("400 bytes left: %+v", d)
	}
	d.Bucket.Sent(500) // in debt by 100
	d = l.Request(a, t0)
	if d.Wait != 11*time.Second || d.Budget != "bytes" {
		t.Errorf("in debt: %+v, want 11 s for bytes", d)
	}
	if d := l.Request(a, t0.Add(11*time.Second)); d.Wait != 0 {
		t.Errorf("paid back: %+v", d)
	}
}

func TestPrefixKeying(t *testing.T) {
	l := New(Config{Requests: 1, Per: time.Hour}) // IPv4 /32, IPv6 /64
	l.Request(addr("2001:db8:1:2::1"), t0)
	if d := l.Request(addr("2001:db8:1:2:ffff::9"), t0); d.Wait == 0 || d.Prefix.String() != "2001:db8:1:2::/64" {
		t.Errorf("same /64: %+v, want limited", d)
	}
	if d := l.Request(addr("2001:db8:1:3::1"), t0); d.Wait != 0 {
		t.Errorf("next /64: %+v, want served", d)
	}
	l.Request(addr("::ffff:192.0.2.1"), t0)
	if d := l.Request(addr("192.0.2.1"), t0); d.Wait == 0 {
		t.Errorf("IPv4-mapped and plain IPv4 counted apart: %+v", d)
	}
	if d := l.Request(addr("192.0.2.2"), t0); d.Wait != 0 {
		t.Errorf("IPv4 /32: neighbour limited: %+v", d)
	}

	l = New(Config{Requests: 1, Per: time.Hour, IPv4Bits: 24})
	l.Request(addr("192.0.2.1"), t0)
	if d := l.Request(addr("192.0.2.200"), t0); d.Wait == 0 {
		t.Errorf("IPv4 /24: neighbour served: %+v", d)
	}
}

func TestExempt(t *testing.T) {
	l := New(Config{Requests: 1, Per: time.Hour, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	for range 5 {
		if d := l.Request(addr("127.0.0.9"), t0); d.Wait != 0 || d.Bucket != nil {
			t.Fatalf("exempt address: %+v", d)
		}
	}
	if l.Len() != 0 {
		t.Errorf("exempt address tracked")
	}
	if d := l.Request(netip.Addr{}, t0); d.Wait != 0 || d.Bucket != nil {
		t.Errorf("unknown address: %+v", d)
	}
}

// TestLRUBound feeds a million distinct addresses through a limiter that
// tracks a thousand: the table stays at the bound, the order stays whole,
// and the recently seen keep their (spent) budgets.
func TestLRUBound(t *testing.T) {
	const tracked, distinct = 1000, 1_000_000
	l := New(Config{Requests: 1, Per: time.Hour, MaxTracked: tracked})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var ip [4]byte
	for i := range distinct {
		binary.BigEndian.PutUint32(ip[:], uint32(0x0a000000+i))
		l.Request(netip.AddrFrom4(ip), t0)
		if n := len(l.entries); n > tracked {
			t.Fatalf("after %d addresses %d tracked, bound %d", i+1, n, tracked)
		}
	}
	n := 0
	for b := l.root.next; b != &l.root; b = b.next {
		if l.entries[b.key] != b {
			t.Fatalf("order holds %v, which the table does not", b.key)
		}
		n++
	}
	if n != tracked || l.Len() != tracked {
		t.Errorf("order holds %d, table %d, want %d", n, l.Len(), tracked)
	}
	binary.BigEndian.PutUint32(ip[:], uint32(0x0a000000+distinct-1))
	if d := l.Request(netip.AddrFrom4(ip), t0); d.Wait == 0 {
		t.Errorf("the last address seen lost its budget")
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes for %d tracked networks", grown, tracked)
	}
}

func BenchmarkRequest(b *testing.B) {
	l := New(Config{Requests: 1 << 30, Per: time.Second, Bytes: 1 << 40, BytesPer: time.Second})
	a := addr("192.0.2.1")
	now := t0
	for b.Loop() {
		d := l.Request(a, now)
		d.Bucket.Sent(4096)
	}
}

package gopher

import (
	"net/netip"
	"testing"
)

func TestClientPrefix(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want string // "" = no prefix
	}{
		{"192.0.2.77", "192.0.2.0/24"},
		{"192.0.2.255", "192.0.2.0/24"},
		{"127.40.0.1", "127.40.0.0/24"},
		{"::ffff:192.0.2.77", "192.0.2.0/24"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
		{"2001:db8:1234:ffff:ffff::1", "2001:db8:1234::/48"},
		{"fe80::1%eth0", "fe80::/48"},
		{"::1", "::/48"},
	} {
		got, ok := ClientPrefix(netip.MustParseAddr(tt.addr))
		if !ok || got.String() != tt.want {
			t.Errorf("ClientPrefix(%s) = %v, %v; want %s", tt.addr, got, ok, tt.want)
		}
	}
	if p, ok := ClientPrefix(netip.Addr{}); ok {
		t.Errorf("ClientPrefix(invalid) = %v, want none", p)
	}
}

func TestClientPrefixLen(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		v4, v6 int
		want   string
	}{
		{"192.0.2.77", 32, 64, "192.0.2.77/32"},
		{"::ffff:192.0.2.77", 32, 64, "192.0.2.77/32"},
		{"192.0.2.77", 16, 64, "192.0.0.0/16"},
		{"2001:db8:1:2:3:4:5:6", 32, 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6%eth0", 32, 56, "2001:db8:1::/56"},
	} {
		got, ok := ClientPrefixLen(netip.MustParseAddr(tt.addr), tt.v4, tt.v6)
		if !ok || got.String() != tt.want {
			t.Errorf("ClientPrefixLen(%s, %d, %d) = %v, %v; want %s", tt.addr, tt.v4, tt.v6, got, ok, tt.want)
		}
	}
}

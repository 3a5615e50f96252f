package gopher

import "net/netip"

// Prefix lengths a client address is counted in beside the address itself:
// an IPv4 /24 and an IPv6 /48 are what one customer, one hosting account
// or one small network typically gets, so that one party with many
// addresses counts as one.
const (
	PrefixBitsV4 = 24
	PrefixBitsV6 = 48
)

// ClientPrefix is the network a client address belongs to, wherever a
// range of addresses is treated as one client: the server's
// max-connections-per-prefix (and per-prefix budgets to come), and what
// the gateway tells programs when it may not give the full address. It is
// the one place that maps an address to its IPv4 /24 or IPv6 /48, with an
// IPv4-mapped address counted as IPv4 and any zone dropped; ok is false
// when a is not a valid address.
func ClientPrefix(a netip.Addr) (p netip.Prefix, ok bool) {
	return ClientPrefixLen(a, PrefixBitsV4, PrefixBitsV6)
}

// ClientPrefixLen is ClientPrefix with prefix lengths of the caller's
// choosing (the rate budgets' ipv4-prefix and ipv6-prefix): the network of
// v4 bits an IPv4 address (IPv4-mapped ones included) belongs to, or of v6
// bits an IPv6 address does, with any zone dropped.
func ClientPrefixLen(a netip.Addr, v4, v6 int) (p netip.Prefix, ok bool) {
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := v6
	if a.Is4() {
		bits = v4
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

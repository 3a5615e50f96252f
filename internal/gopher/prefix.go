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
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := PrefixBitsV6
	if a.Is4() {
		bits = PrefixBitsV4
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

package server

import "net/netip"

// Prefix lengths a client address is counted in beside the address itself:
// an IPv4 /24 and an IPv6 /48 are what one customer, one hosting account
// or one small network typically gets, so that one party with many
// addresses counts as one.
const (
	prefixBitsV4 = 24
	prefixBitsV6 = 48
)

// clientPrefix is the network a client address belongs to for the limits
// that look beyond single addresses (max-connections-per-prefix, and
// request budgets to come): its IPv4 /24 or IPv6 /48, with an IPv4-mapped
// address counted as IPv4 and any zone dropped. It is the one place that
// maps an address to its prefix; ok is false when a is not an IP address
// (then only the per-address limit applies).
func clientPrefix(a netip.Addr) (p netip.Prefix, ok bool) {
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := prefixBitsV6
	if a.Is4() {
		bits = prefixBitsV4
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

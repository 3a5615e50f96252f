package gopher

import (
	"net/netip"
	"strings"
)

// ValidHost reports whether s can stand in a menu item's host field and be
// connected to by a client: an IP address (IPv6 with an optional zone) or a
// DNS-style name of dot-separated labels of ASCII letters, digits, '-' and
// '_' (at most 63 bytes each, 253 in all, an optional final dot).
// International names are written in punycode.
func ValidHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if len(s) > 253 {
		return false
	}
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// CanonicalHost returns the form of a host name in which two names for the
// same host are the same string: DNS names in lower case (they are
// case-insensitive, RFC 4343) without the final dot, IP addresses in their
// standard notation. Virtual hosts are looked up by it.
func CanonicalHost(s string) string {
	// Only what may be an address is parsed as one (IPv4 starts with a
	// digit, IPv6 has a colon): a failed parse allocates its error, and
	// this runs for every TLS handshake.
	if strings.ContainsRune(s, ':') || s != "" && s[0] >= '0' && s[0] <= '9' {
		if a, err := netip.ParseAddr(s); err == nil {
			return a.String()
		}
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

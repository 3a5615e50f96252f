package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gopherd/internal/gopher"
)

// The checks below are shared by Parse (on values as read) and Validate (on
// a Config that may have been built or changed by hand), so both agree on
// what is valid. Each returns "" or a message for Problem.Msg.

const (
	minPort = 1
	maxPort = 65535
	// maxCount caps connection counts so they fit any int and any
	// semaphore implementation.
	maxCount = math.MaxInt32
)

// checkHostname checks the name written into menus: clients must be able to
// connect to it, and a menu field must not contain TAB, CR or LF.
func checkHostname(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if !gopher.ValidHost(s) {
		return fmt.Sprintf("invalid host name %s: want a DNS name or an IP address", quote(s))
	}
	return ""
}

// checkAddr checks a listen address.
func checkAddr(s string) string {
	if s == "" {
		return `must not be empty (leave addr out to listen on every address)`
	}
	if strings.HasPrefix(s, "[") {
		return fmt.Sprintf("invalid address %s: write IPv6 addresses without brackets", quote(s))
	}
	if !gopher.ValidHost(s) {
		return fmt.Sprintf("invalid address %s: want an IP address or a host name", quote(s))
	}
	return ""
}

// canonicalAddr returns a form of a listen address in which equal addresses
// are equal strings, to find listeners that would collide.
func canonicalAddr(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

func checkPort(n int) string {
	if n < minPort || n > maxPort {
		return fmt.Sprintf("must be between %d and %d, got %d", minPort, maxPort, n)
	}
	return ""
}

// checkListenPort allows port 0 besides the usual range: --listen ADDR:0
// asks the kernel for any free port (the log names the one bound), which
// is what tests and throw-away servers want.
func checkListenPort(n int) string {
	if n == 0 {
		return ""
	}
	return checkPort(n)
}

// tlsOnlyWithoutCert is the problem of a TLS-only listener when no
// certificate is configured.
const tlsOnlyWithoutCert = `"only" needs a certificate: set tls.certificate and tls.key`

// checkTLSMode checks a listener's tls mode as written.
func checkTLSMode(s string) string {
	if _, ok := parseTLSMode(s); !ok {
		return fmt.Sprintf(`unknown mode %s (want "auto", "only" or "off")`, quote(s))
	}
	return ""
}

// checkPath checks the syntax of a file name.
func checkPath(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL byte"
	}
	return ""
}

func checkRoot(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL byte"
	}
	return ""
}

// checkUser checks the syntax of the account to switch to: a name, a uid,
// or uid:gid. Whether the account exists is for the caller to find out when
// it switches.
func checkUser(s string) string {
	if s == "" {
		return "must not be empty (leave user out or set it to null)"
	}
	bad := fmt.Sprintf("invalid user %s: want a user name, a uid or uid:gid", quote(s))
	if uid, gid, ok := strings.Cut(s, ":"); ok {
		if !validID(uid) || !validID(gid) {
			return bad
		}
		return ""
	}
	if isDigits(s) {
		if !validID(s) {
			return bad
		}
		return ""
	}
	if !validUserName(s) {
		return bad
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validID accepts a decimal uid or gid. 4294967295 is (uid_t)-1, which
// setuid(2) treats as "no change", so it is refused.
func validID(s string) bool {
	if !isDigits(s) {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && n < math.MaxUint32
}

// validUserName follows the portable rules systemd and shadow use: a
// letter or '_' first, then letters, digits, '_', '.', '-', an optional
// trailing '$' (Samba machine accounts), at most 32 bytes.
func validUserName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	s = strings.TrimSuffix(s, "$")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// normalizeLevel maps a level as written (any case, as spacecookie
// lower-cases it too; "warning" for "warn") to its canonical spelling.
func normalizeLevel(s string) (string, bool) {
	switch l := strings.ToLower(s); l {
	case "debug", "info", "warn", "error":
		return l, true
	case "warning":
		return "warn", true
	}
	return "", false
}

func checkLevel(s string) string {
	if l, ok := normalizeLevel(s); !ok || l != s {
		return fmt.Sprintf("unknown level %s (want debug, info, warn or error)", quote(s))
	}
	return ""
}

func checkCount(n, hi int) string {
	if n < 1 || n > hi {
		return fmt.Sprintf("must be between 1 and %d, got %d", hi, n)
	}
	return ""
}

func checkTimeout(d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("must be positive, got %q", d.String())
	}
	return ""
}

// duplicateListeners returns pairs (i, j), i < j, of listeners on the same
// address and port: the second bind would fail.
func duplicateListeners(ls []Listen) [][2]int {
	var dups [][2]int
	first := make(map[string]int, len(ls))
	for j, l := range ls {
		k := canonicalAddr(l.Addr) + "\x00" + strconv.Itoa(l.Port)
		if i, ok := first[k]; ok {
			dups = append(dups, [2]int{i, j})
			continue
		}
		first[k] = j
	}
	return dups
}

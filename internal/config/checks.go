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

// The value rules. Validate applies them (keys.go says to which key), to a
// Config read from a file or built by hand alike. Each returns "" or a
// message for Problem.Msg.

const (
	minPort = 1
	maxPort = 65535
	// maxCount caps connection counts so they fit any int and any
	// semaphore implementation.
	maxCount = math.MaxInt32
	// maxReadRate caps limits.min-read-rate (bytes a second): a floor
	// above it would cut every client.
	maxReadRate = 1 << 30
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

// inRange checks that a number is in [lo, hi].
func inRange[T int | int64](n, lo, hi T) string {
	if n < lo || n > hi {
		return fmt.Sprintf("must be between %d and %d, got %d", lo, hi, n)
	}
	return ""
}

// checkPath checks the syntax of a file name, of a file or a directory.
func checkPath(s string) string {
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

func checkTimeout(d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("must be positive, got %q", d.String())
	}
	return ""
}

// sizeUnits are the units parseSize accepts, binary and decimal.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
}

// parseSize reads a byte size: a whole number, then optionally a space and
// a unit (B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB), as in "512MiB". A
// size too large for an int64 is an error wrapping strconv.ErrRange.
func parseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	mult, ok := sizeUnits[strings.TrimPrefix(s[i:], " ")]
	if i == 0 || !ok {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: %w", s, strconv.ErrRange)
	}
	return n * mult, nil
}

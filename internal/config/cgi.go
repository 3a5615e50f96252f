package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopherd/internal/gopher"
)

// CGI is the cgi section: the gateway that runs programs. A Config without
// one (CGI nil) never executes anything. A field left at zero means the
// gateway's default (internal/cgi's Default constants).
type CGI struct {
	Dirs                 []CGIDir
	ExecutableGophermaps bool
	Timeout              time.Duration
	KillGrace            time.Duration
	MaxOutputBytes       int64
	MaxConcurrent        int
	MaxConcurrentPerIP   int
	RemoteAddr           RemoteAddr
	// Env holds variables added to every program's environment.
	Env map[string]string
}

// CGIDir is one gateway directory.
type CGIDir struct {
	Selector string // starts and ends with "/"
	Output   CGIOutput
}

// CGIOutput says how a directory's programs answer.
type CGIOutput int

// The output modes, spelled "raw" and "menu" in the file.
const (
	// CGIRaw passes the program's bytes through (the default).
	CGIRaw CGIOutput = iota
	// CGIMenu reads the program's lines as gophermap lines.
	CGIMenu
)

var cgiOutputNames = [...]string{CGIRaw: "raw", CGIMenu: "menu"}

// String returns the mode as the file spells it.
func (o CGIOutput) String() string {
	if o >= 0 && int(o) < len(cgiOutputNames) {
		return cgiOutputNames[o]
	}
	return fmt.Sprintf("CGIOutput(%d)", int(o))
}

// UnmarshalText reads a mode as the file spells it.
func (o *CGIOutput) UnmarshalText(b []byte) error {
	i := slices.Index(cgiOutputNames[:], string(b))
	if i < 0 {
		return fmt.Errorf(`unknown output %s (want "raw" or "menu")`, quote(string(b)))
	}
	*o = CGIOutput(i)
	return nil
}

func (o CGIOutput) validate() string {
	if o < 0 || int(o) >= len(cgiOutputNames) {
		return fmt.Sprintf("unknown output %d", int(o))
	}
	return ""
}

// RemoteAddr says what programs learn of the client's address.
type RemoteAddr int

// The modes of remote-addr, spelled "full", "prefix" and "none".
const (
	// RemoteFull gives the address and port (the default).
	RemoteFull RemoteAddr = iota
	// RemotePrefix gives the network only: IPv4 /24, IPv6 /48.
	RemotePrefix
	// RemoteNone gives nothing.
	RemoteNone
)

var remoteAddrNames = [...]string{RemoteFull: "full", RemotePrefix: "prefix", RemoteNone: "none"}

// String returns the mode as the file spells it.
func (m RemoteAddr) String() string {
	if m >= 0 && int(m) < len(remoteAddrNames) {
		return remoteAddrNames[m]
	}
	return fmt.Sprintf("RemoteAddr(%d)", int(m))
}

// UnmarshalText reads a mode as the file spells it.
func (m *RemoteAddr) UnmarshalText(b []byte) error {
	i := slices.Index(remoteAddrNames[:], string(b))
	if i < 0 {
		return fmt.Errorf(`unknown mode %s (want "full", "prefix" or "none")`, quote(string(b)))
	}
	*m = RemoteAddr(i)
	return nil
}

func (m RemoteAddr) validate() string {
	if m < 0 || int(m) >= len(remoteAddrNames) {
		return fmt.Sprintf("unknown mode %d", int(m))
	}
	return ""
}

// maxCGIOutput caps max-output-bytes: far beyond any program's answer,
// and a size every counter holds.
const maxCGIOutput = 1 << 40

// cgiRequestVariables are the variables the gateway sets for each
// request; env may not set them (it may set PATH, which has a default).
// internal/cgi holds the list it writes; its tests keep the two equal.
var cgiRequestVariables = [...]string{
	"GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SERVER_PROTOCOL", "SERVER_NAME", "SERVER_HOST", "SERVER_PORT",
	"REQUEST_METHOD", "SCRIPT_NAME", "SCRIPT_FILENAME", "PATH_INFO", "PATH_TRANSLATED", "DOCUMENT_ROOT",
	"SELECTOR", "REQUEST", "QUERY_STRING", "QUERY_STRING_URL", "SEARCHREQUEST", "X_GOPHER_SEARCH",
	"QUERY_STRING_SEARCH", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT",
	"TLS", "HTTPS", "GOPHERS", "TLS_VERSION", "TLS_CIPHER", "TLS_SNI",
}

// CGIRequestVariables returns the names of the variables the gateway sets
// for each request, which cgi.env may not set.
func CGIRequestVariables() []string { return slices.Clone(cgiRequestVariables[:]) }

// cgiKeys declares a cgi section, the top-level one or a vhost's, read
// into *dst (left nil when the file has none).
func cgiKeys(s *section, dst **CGI) {
	cgi := *dst
	if cgi == nil {
		// Reading: filled in, and kept if the file has the section.
		cgi = &CGI{}
	}
	s.OptionalObject("cgi", *dst != nil, func(s *section) {
		seen := map[string]string{} // selector → the first dir with it
		objectList(s, "dirs", &cgi.Dirs, CGIDir{}, func(s *section, d *CGIDir) {
			s.Require("selector", `the directory's selector, such as "/cgi-bin/"`)
			s.String("selector", &d.Selector, checkCGISelector)
			s.Text("output", &d.Output)
			s.Rule("selector", func() string {
				if checkCGISelector(d.Selector) != "" {
					return ""
				}
				if first, dup := seen[d.Selector]; dup {
					return "same selector as " + first
				}
				seen[d.Selector] = s.Path()
				return ""
			})
		})
		s.Bool("executable-gophermaps", &cgi.ExecutableGophermaps)
		o := s.Optional()
		o.Duration("timeout", &cgi.Timeout, checkTimeout)
		o.Duration("kill-grace", &cgi.KillGrace, checkTimeout)
		o.Bytes("max-output-bytes", &cgi.MaxOutputBytes, 1, maxCGIOutput)
		o.Int("max-concurrent", &cgi.MaxConcurrent, 1, maxCount)
		o.Int("max-concurrent-per-ip", &cgi.MaxConcurrentPerIP, 1, maxCount)
		s.Text("remote-addr", &cgi.RemoteAddr)
		s.StringMap("env", &cgi.Env, checkCGIEnv)
	})
	if *dst == nil && s.Set("cgi") {
		*dst = cgi
	}
}

// checkCGISelector checks a gateway directory's selector: a directory
// below the root, written the one way the router compares it, by the
// tree's rules.
func checkCGISelector(sel string) string {
	switch {
	case sel == "":
		return "must not be empty"
	case sel[0] != '/' || sel[len(sel)-1] != '/':
		return fmt.Sprintf(`invalid selector %s: must start and end with "/"`, quote(sel))
	case sel == "/":
		return `must name a directory below the root, not "/" itself`
	case gopher.CanonicalSelector(sel) != sel:
		return fmt.Sprintf(`invalid selector %s: write it without empty components (%s)`, quote(sel), quote(gopher.CanonicalSelector(sel)))
	case strings.ContainsAny(sel, "?\t\r\n\x00\\"):
		return fmt.Sprintf(`invalid selector %s: must not contain "?", a backslash, TAB, CR, LF or NUL`, quote(sel))
	}
	for comp := range strings.SplitSeq(strings.Trim(sel, "/"), "/") {
		if comp[0] == '.' {
			return fmt.Sprintf(`invalid selector %s: a component starting with "." is never served`, quote(sel))
		}
	}
	return ""
}

// checkCGIEnv checks one variable of cgi.env.
func checkCGIEnv(k, v string) string {
	switch {
	case k == "" || strings.ContainsAny(k, "=\x00"):
		return `invalid variable name: must not be empty or contain "=" or NUL`
	case strings.IndexByte(v, 0) >= 0:
		return "value must not contain a NUL byte"
	case slices.Contains(cgiRequestVariables[:], k):
		return "set by the gateway for each request; it cannot be overridden"
	}
	return ""
}

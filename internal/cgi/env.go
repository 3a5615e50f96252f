package cgi

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopherd/internal/gopher"
)

// DefaultPath is the PATH programs get unless Options.Env sets one.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// requestVariables are the variables the gateway sets for each request
// (the TLS ones over TLS only, the REMOTE ones as AddrMode says), in the
// order env writes them. Options.Env may set PATH, which has a default,
// but none of these (internal/config holds the same list, for its
// messages; a test keeps the two equal).
var requestVariables = [...]string{
	"GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SERVER_PROTOCOL", "SERVER_NAME", "SERVER_HOST", "SERVER_PORT",
	"REQUEST_METHOD", "SCRIPT_NAME", "SCRIPT_FILENAME", "PATH_INFO", "PATH_TRANSLATED", "DOCUMENT_ROOT",
	"SELECTOR", "REQUEST", "QUERY_STRING", "QUERY_STRING_URL", "SEARCHREQUEST", "X_GOPHER_SEARCH",
	"QUERY_STRING_SEARCH", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT",
	"TLS", "HTTPS", "GOPHERS", "TLS_VERSION", "TLS_CIPHER", "TLS_SNI",
}

// env builds the environment of the program sc for request r, from
// scratch: nothing of gopherd's own environment is in it. Values are
// passed as they came (selectors are bytes): nothing is percent-decoded.
func (g *Gateway) env(r *gopher.Request, sc script) []string {
	e := make([]string, 0, len(requestVariables)+len(g.o.Env)+1)
	set := func(k, v string) { e = append(e, k+"="+v) }
	path := DefaultPath
	if p, ok := g.o.Env["PATH"]; ok {
		path = p
	}
	set("PATH", path)
	proto := "GOPHER"
	if r.TLS != nil {
		proto = "GOPHERS"
	}
	file := filepath.Join(g.rootAbs, filepath.FromSlash(sc.rel))
	translated := ""
	if sc.pathInfo != "" {
		translated = g.rootAbs + sc.pathInfo
	}
	// The ? part, else the TAB search: what Gophernicus, Motsognir and
	// port70 scripts read.
	query := r.Search
	if sc.hasQuery {
		query = sc.query
	}
	set("GATEWAY_INTERFACE", "CGI/1.1")
	set("SERVER_SOFTWARE", "gopherd/"+g.o.Version)
	set("SERVER_PROTOCOL", proto)
	set("SERVER_NAME", r.Host)
	set("SERVER_HOST", r.Host)
	set("SERVER_PORT", strconv.Itoa(r.Port))
	set("REQUEST_METHOD", "GET")
	set("SCRIPT_NAME", sc.name)
	set("SCRIPT_FILENAME", file)
	set("PATH_INFO", sc.pathInfo)
	set("PATH_TRANSLATED", translated)
	set("DOCUMENT_ROOT", g.rootAbs)
	set("SELECTOR", r.Selector)
	set("REQUEST", sc.name+sc.pathInfo)
	set("QUERY_STRING", query)
	set("QUERY_STRING_URL", sc.query)
	set("SEARCHREQUEST", r.Search)
	set("X_GOPHER_SEARCH", r.Search)
	set("QUERY_STRING_SEARCH", r.Search)
	if addr, port, ok := remote(r.RemoteAddr, g.o.RemoteAddr); ok {
		set("REMOTE_ADDR", addr)
		set("REMOTE_HOST", addr) // never DNS
		if port != "" {
			set("REMOTE_PORT", port)
		}
	}
	if cs := r.TLS; cs != nil {
		set("TLS", "on")
		set("HTTPS", "on")
		set("GOPHERS", "on")
		set("TLS_VERSION", tls.VersionName(cs.Version))
		set("TLS_CIPHER", tls.CipherSuiteName(cs.CipherSuite))
		if cs.ServerName != "" {
			set("TLS_SNI", cs.ServerName)
		}
	}
	keys := make([]string, 0, len(g.o.Env))
	for k := range g.o.Env {
		if k != "PATH" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k, g.o.Env[k])
	}
	return e
}

// remote is what a program is told of the client's address under mode:
// the address (without the port: that is REMOTE_PORT) and the port, or
// ok false for nothing at all.
func remote(ap netip.AddrPort, mode AddrMode) (addr, port string, ok bool) {
	a := ap.Addr()
	if !a.IsValid() || mode == AddrNone {
		return "", "", false
	}
	if mode == AddrPrefix {
		p, ok := gopher.ClientPrefix(a)
		if !ok {
			return "", "", false
		}
		return p.Addr().String(), "", true
	}
	return a.String(), strconv.Itoa(int(ap.Port())), true
}

// checkEnv reports what is wrong with Options.Env, or nil.
func checkEnv(env map[string]string) error {
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("cgi: environment variable %q: a name must be non-empty without \"=\" or NUL, a value without NUL", k)
		}
		if slices.Contains(requestVariables[:], k) {
			return fmt.Errorf("cgi: environment variable %s is set by the gateway for each request", k)
		}
	}
	return nil
}

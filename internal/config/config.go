// Package config turns a JSON configuration file into a validated,
// read-only Config.
//
// The file format is a superset of spacecookie's spacecookie.json(5), so an
// existing spacecookie configuration loads unchanged. The file holds a
// single JSON object with these keys (a key whose value is null counts as
// absent, as in spacecookie):
//
//	hostname     string. The server name written into menus, so that clients'
//	             follow-up requests reach this server: a DNS name (ASCII;
//	             write international names in punycode) or an IP address.
//	             Default "localhost".
//	             (spacecookie requires it; gopherd does not.)
//	root         string, required. The directory served. A relative path is
//	             taken relative to the working directory.
//	listen       object {addr, port, tls}, or a non-empty list of such
//	             objects.
//	             Where to listen. Default: one listener on [::]:70. Two
//	             listeners on the same address and port are an error.
//	  addr       string. IP address or host name to bind. Default "::",
//	             which on Linux also accepts IPv4 (dual-stack).
//	  port       number, 0–65535 (0: any free port). Default 70, or the deprecated top-level
//	             port when that is given. Under socket activation the
//	             inherited sockets replace the listeners; a listen entry
//	             with the same port as a socket lends it its tls mode.
//	  tls        string: "auto", "only" or "off". gopherd only. How the
//	             listener treats TLS when the top-level tls is set:
//	             "auto" (default) serves plain Gopher and Gopher over TLS
//	             on the same port, telling them apart by the first byte;
//	             "only" serves TLS only (a plain request gets an error
//	             item); "off" serves plain Gopher only. "only" without the
//	             top-level tls is an error. Under socket activation an
//	             inherited socket takes the mode of the listen object with
//	             the same port, else "auto".
//	  vhost      string. gopherd only. The host this listener's clients
//	             get unless their TLS server name chooses another: a
//	             hostname or alias of one of vhosts (or the top-level
//	             hostname), in any case. Default: the default host. A name
//	             no host has is an error. Needs a restart, like the rest
//	             of listen.
//	  proxy-protocol  object {trusted} or null. gopherd only. The listener
//	             takes a PROXY protocol header (v1 or v2, as HAProxy's
//	             send-proxy and send-proxy-v2 and nginx's proxy_protocol
//	             send it) from the peers in trusted, and requires one from
//	             them; a connection from any other peer is closed unread.
//	             The header's client address is the client's address
//	             everywhere. Under socket activation an inherited socket
//	             takes it from the listen object with the same port.
//	    trusted  list of CIDR prefixes, required, not empty: the proxies'
//	             networks, such as ["127.0.0.1/32"].
//	port         number, 1–65535. Deprecated (spacecookie's old spelling):
//	             the port for every listen object that has no port of its
//	             own. When every listen object has its own port, listen.port
//	             wins, as in spacecookie, and a warning says port is ignored.
//	public-port  number, 1–65535. The port written into menus when it
//	             differs from the bound one (behind NAT or a port
//	             redirect). Default: the first listener's port.
//	user         string or null. The account to switch to after binding:
//	             a user name, a numeric uid, or "uid:gid". Default null (no
//	             switch). Only the syntax is checked here.
//	log          object. Logging to standard error.
//	  enable     boolean. Default true.
//	  hide-ips   boolean. Never write client addresses. Default true.
//	  hide-time  boolean. Leave timestamps out (journald adds its own).
//	             Default false.
//	  level      string: "debug", "info", "warn" or "error", case does not
//	             matter, "warning" means "warn". Default "info".
//	             (spacecookie has no "debug".)
//	tls          object or null. gopherd only. Serve Gopher over TLS
//	             ("gophers://") with this certificate, on every listener
//	             whose tls mode is not "off". Default null (no TLS).
//	             Relative file names are taken relative to the working
//	             directory. The files are read at start, before privileges
//	             are dropped, and again on SIGHUP, as the user gopherd
//	             runs as; a pair that fails to load then keeps the running
//	             configuration and certificate.
//	  certificate string, required. PEM file with the certificate, then
//	             any intermediate certificates.
//	  key        string, required. PEM file with the certificate's private
//	             key. A warning is logged when every user may read it.
//	  unknown-sni string: "default" or "reject". What a TLS client gets
//	             whose server name (SNI) is no host's: "default" (the
//	             default) serves it as if it had sent no name (the
//	             listener's vhost, else the default host); "reject" fails
//	             the handshake with the unrecognized_name alert.
//	http-page    boolean. gopherd only. Answer a request line that is an
//	             HTTP request ("GET /x HTTP/1.1" and the other methods)
//	             with a short HTML page saying this is a Gopher server,
//	             instead of treating it as a selector. Default true.
//	limits       object. gopherd only, not in spacecookie. A limit left
//	             out takes the server's default, given below.
//	  request-bytes          number, 1–1048576. Longest request line
//	                         accepted, in bytes. Default 1024.
//	  request-timeout        duration string such as "10s" or "1m30s",
//	                         positive. Time a client has to complete a
//	                         TLS handshake, if it starts one, and send its
//	                         request line. Default "10s".
//	  idle-timeout           duration string, positive. A client that
//	                         takes no response data for this long, counted
//	                         from the last byte it took, is cut off.
//	                         Default "30s".
//	  min-read-rate          number of bytes, or a size such as "1KiB",
//	                         1 byte to 1 GiB. A client taking a response
//	                         slower than this many bytes a second,
//	                         averaged over idle-timeout, is cut off.
//	                         Default "1KiB".
//	  max-connections        number, positive. Connections served at
//	                         once. Default 1024.
//	  max-connections-per-ip number, positive. Connections served at once
//	                         for one client address. Default 32.
//	  max-connections-per-prefix
//	                         number, positive. Connections served at once
//	                         for one network: an IPv4 /24 or an IPv6 /48.
//	                         Default 64.
//	  rate                   object or null. Rate budgets per client
//	                         network; default null (none). At least one
//	                         of requests and bytes.
//	    requests   string "COUNT/PERIOD" such as "120/1m" ("10/s" means
//	               "10/1s"); the period 1s–168h. Requests a network may
//	               make per period; over it a request gets the error item
//	               "Slow down: too many requests; try again in N s.".
//	    burst      number, positive. Requests at once. Default: COUNT.
//	    bytes      string "SIZE/PERIOD" such as "512MiB/1h". Bytes a
//	               network may be sent per period.
//	    ipv4-prefix  number, 1–32. Default 32.
//	    ipv6-prefix  number, 1–128. Default 64. The prefix lengths a
//	               client address is counted in.
//	    exempt     list of CIDR prefixes without budgets.
//	    max-tracked  number, 1–10000000. Networks whose budgets are kept;
//	               the least recently seen is forgotten first. Default
//	               100000.
//	cgi          object or null. gopherd only. The gateway that runs
//	             programs (CGI). Default null: nothing is ever executed. A
//	             key left out takes the gateway's default, given below.
//	  dirs       list of objects {selector, output}. The gateway's
//	             directories. Each directory, everything below it, and its
//	             name without the final "/" are answered by programs in it,
//	             never by the file tree.
//	    selector string, required. Starts and ends with "/", names a
//	             directory below the root ("/" itself is not allowed),
//	             without empty or "."-components, "?", backslash, TAB, CR,
//	             LF or NUL. Two dirs may not share one.
//	    output   string: "raw" (default; the program's bytes go to the
//	             client as they are) or "menu" (each output line is a
//	             gophermap line; gopherd ends the menu).
//	  executable-gophermaps  boolean. Run a gophermap whose first line
//	             starts with "#!" (and that is executable) like a "menu"
//	             program. Default false: such a map is refused.
//	  timeout    duration string, positive. Longest run. Default "10s".
//	  kill-grace duration string, positive. Time between SIGTERM and
//	             SIGKILL to the program's process group. Default "2s".
//	  max-output-bytes  number or size string such as "8MiB", 1 B–1 TiB.
//	             Output past it stops the program. Default 8 MiB.
//	  max-concurrent         number, positive. Programs running at once.
//	                         Default 8.
//	  max-concurrent-per-ip  number, positive. Programs running at once
//	                         for one client address. Default 2.
//	  remote-addr  string: "full" (default), "prefix" (IPv4 /24, IPv6
//	             /48, no port) or "none": what programs learn of the
//	             client's address.
//	  env        object of strings. Variables added to every program's
//	             environment (which is otherwise built from scratch). It
//	             may set PATH, not the variables set for each request
//	             (CGIRequestVariables).
//	search       object or null. gopherd only. The built-in full-text
//	             search (item type 7) of the text under root. Default
//	             null: no search. A limit left out takes the search
//	             engine's default, given below.
//	  selector   string. Where the search is answered. Starts with "/",
//	             is not "/" itself, has no empty components, TAB, CR, LF
//	             or NUL, and is neither caps.txt, a URL: selector nor in
//	             a cgi directory. Default "/search".
//	  include    non-empty list of strings. path.Match patterns of the
//	             files indexed: one without "/" matches a name, one with
//	             "/" a selector; a trailing "/" matches directories only,
//	             and a pattern matching a directory covers everything
//	             below it. Default ["*.txt", "*.md", "gophermap",
//	             ".gophermap"].
//	  exclude    list of strings. Patterns, written like include's, of
//	             what is never indexed. The cgi directories are never
//	             indexed whatever the patterns. Default none.
//	  reindex    duration string, positive. How often the tree is
//	             scanned for changes (SIGHUP scans too). Default "10m".
//	  max-file-bytes   number or size string, 1 B–1 TiB. How much of each
//	             file is indexed. Default 1 MiB.
//	  max-index-bytes  number or size string, 1 B–1 TiB. The index's
//	             memory; indexing stops there, with a warning. Default
//	             64 MiB.
//	  max-query-bytes  number, 1–1048576. Longer queries get "Query too
//	             long.". Default 256.
//	  max-terms  number, positive. Queries with more words get "Query
//	             too long.". Default 8.
//	  max-results  number, positive. Results listed at most. Default 50.
//	  query-timeout  duration string, positive. Longest a query may take.
//	             Default "200ms".
//	vhosts       list of objects. gopherd only. More hosts, each with its
//	             own tree, served besides the default host (the top-level
//	             hostname, root, public-port, tls and cgi). A connection's
//	             host is the one its TLS server name names, else its
//	             listener's vhost, else the default host; see Hosts.
//	  hostname   string, required. Written into the host's menus; it and
//	             the aliases choose the host. No two hosts (the default
//	             host included) may share a name, compared without case
//	             and final dot.
//	  aliases    list of strings. More names that choose the host.
//	  root       string, required. The directory the host serves.
//	  public-port number, 1–65535. The port in the host's menus. Default:
//	             the top-level public-port, else the port of the first
//	             listener bound to the host, else the first listener's.
//	  tls        object {certificate, key}. The host's own certificate,
//	             which must name every name of the host (checked when it
//	             is loaded). Needs the top-level tls. Default: the
//	             top-level certificate.
//	  cgi        object, the keys of the top-level cgi. The host's own
//	             gateway, over its own root. Default null: nothing runs
//	             for the host; the top-level cgi is the default host's
//	             only.
//	  search     object, the keys of the top-level search. The host's own
//	             search, an index of its own root (its selector may not
//	             fall into the host's cgi directories). Default null: no
//	             search for the host; the top-level search is the default
//	             host's only.
//	robots-txt   object. gopherd only. The robots.txt generated at
//	             robots.txt and /robots.txt when the root has none: one
//	             "User-agent: *" group with a Disallow line for each entry
//	             and each cgi directory.
//	  disallow   list of strings, each starting with "/", without spaces
//	             or control characters.
//	  crawl-delay  number, 1–86400: the Crawl-delay line, in seconds.
//	             Default none.
//	caps         object. gopherd only. Optional keys of the generated
//	             caps.txt, each one line of at most 512 bytes:
//	  admin        ServerAdmin
//	  description  ServerDescription
//	  geolocation  ServerGeolocationString
//	metrics      object or null. gopherd only. Serve metrics in the
//	             Prometheus text format at GET /metrics over HTTP on a
//	             listener of their own. Default null (none).
//	  listen     string host:port, required, such as "127.0.0.1:9170";
//	             not the port of a Gopher listener.
//	  public     boolean. Allow a listen address that is not loopback.
//	             Default false.
//
// Unknown keys, duplicate keys, values of the wrong type and values out of
// range are errors. Every error names the file, the line and the key path
// (for example "gopherd.json:7: limits.request-timeout: invalid duration
// \"10x\"").
//
// Checking happens in two steps, each rule in one of them. Parse checks
// the shape of the file: JSON syntax, the type of each value, unknown and
// duplicate keys, and values that cannot be stored at all (a duration or a
// TLS mode that does not parse). Validate checks the values: ranges, host
// names, addresses, users, keys that depend on each other, and the file
// system. Each reports every problem it finds at once, in file order, so
// that a file whose shape is right gets all its problems from Validate in
// one run. Every key is declared once, in keys.go, which also says how to
// add one.
package config

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"
)

// Defaults for a configuration file (spacecookie's). The limits have no
// defaults here: a limit the file leaves out is 0, for the server's own
// default (server.DefaultLimits).
const (
	DefaultHostname = "localhost"
	DefaultAddr     = "::"
	DefaultPort     = 70
	DefaultLevel    = "info"

	// MaxRequestBytes caps limits.request-bytes: a Gopher request line is
	// a selector and perhaps a search string, and the server may allocate
	// this much per connection.
	MaxRequestBytes = 1 << 20
)

// Zero-config mode (no configuration file): serve the working directory
// to this machine only, on an unprivileged port.
const (
	ZeroConfigRoot = "."
	ZeroConfigAddr = "127.0.0.1"
	ZeroConfigPort = 7070
)

// Listen is one address to accept connections on.
type Listen struct {
	Addr string // IP address or host name; "::" means every address
	Port int
	TLS  TLSMode
	// Vhost names the host the listener's clients get unless their TLS
	// server name chooses another: a vhost's hostname or alias (or the
	// top-level hostname); "" = the default host.
	Vhost string
	// Proxy, when set, makes the listener take PROXY protocol headers
	// from trusted peers (and require them).
	Proxy *ProxyProtocol
}

// TLSMode says how a listener treats TLS when a certificate is configured.
type TLSMode int

// The TLS modes of a listener, spelled "auto", "only" and "off" in the file.
const (
	// TLSAuto serves plain Gopher and Gopher over TLS on the same port.
	TLSAuto TLSMode = iota
	// TLSOnly serves Gopher over TLS only.
	TLSOnly
	// TLSOff serves plain Gopher only.
	TLSOff
)

// String returns the mode as the configuration file spells it.
func (m TLSMode) String() string {
	switch m {
	case TLSAuto:
		return "auto"
	case TLSOnly:
		return "only"
	case TLSOff:
		return "off"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// parseTLSMode reads a mode as the file spells it.
func parseTLSMode(s string) (TLSMode, bool) {
	for _, m := range []TLSMode{TLSAuto, TLSOnly, TLSOff} {
		if s == m.String() {
			return m, true
		}
	}
	return 0, false
}

// UnmarshalText reads a mode as the file spells it.
func (m *TLSMode) UnmarshalText(b []byte) error {
	v, ok := parseTLSMode(string(b))
	if !ok {
		return fmt.Errorf(`unknown mode %s (want "auto", "only" or "off")`, quote(string(b)))
	}
	*m = v
	return nil
}

// validate catches a mode set by hand to no mode at all.
func (m TLSMode) validate() string {
	if m < TLSAuto || m > TLSOff {
		return fmt.Sprintf("unknown mode %d", int(m))
	}
	return ""
}

// TLS is the tls section: the certificate served to TLS clients. The zero
// TLS means no TLS.
type TLS struct {
	Certificate string // PEM certificate chain file
	Key         string // PEM private key file
	// UnknownSNI says what a client gets whose server name is no host's
	// (top-level tls only).
	UnknownSNI UnknownSNI
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.Certificate != "" || t.Key != "" }

// String returns the address in host:port form, with IPv6 addresses in
// brackets, ready for net.Listen.
func (l Listen) String() string {
	return net.JoinHostPort(l.Addr, strconv.Itoa(l.Port))
}

// Log is the log section.
type Log struct {
	Enable   bool
	HideIPs  bool
	HideTime bool
	Level    string // "debug", "info", "warn" or "error"
}

// Limits bounds what one client, and all of them together, may use. A
// field left at 0 means the server's default (server.DefaultLimits).
type Limits struct {
	RequestBytes            int
	RequestTimeout          time.Duration
	IdleTimeout             time.Duration
	MaxConnections          int
	MaxConnectionsPerIP     int
	MaxConnectionsPerPrefix int
	MinReadRate             int64 // bytes a second
	// Rate holds the rate budgets; nil means none.
	Rate *RateLimits
}

// Config is a complete configuration: Parse and Load return one whose
// shape is right, and Validate says whether its values are. Values returned
// by Default, Parse and Load are shared between goroutines (a reload swaps
// whole Configs), so treat them as read-only; use Clone to derive a changed
// copy.
type Config struct {
	Source     string // file name it was read from, "" for Default
	Hostname   string
	Root       string
	Listen     []Listen // never empty in a valid Config
	PublicPort int      // 0 = not set
	User       string   // "" = not set; "name", "uid" or "uid:gid"
	Log        Log
	Limits     Limits
	TLS        TLS     // zero = no TLS
	HTTPPage   bool    // answer HTTP requests with an HTML page
	CGI        *CGI    // nil = no cgi section: nothing is ever executed
	Search     *Search // nil = no search section: no search
	// Vhosts are the hosts served besides the default one (the top-level
	// hostname and root); see Hosts.
	Vhosts  []Vhost
	Robots  RobotsTxt
	Caps    Caps
	Metrics *Metrics // nil = no metrics listener

	// Warnings are problems that did not stop the file from loading, such
	// as the deprecated top-level port; the caller should log them.
	Warnings []Problem

	// legacyPort is the deprecated top-level port as the file set it, 0
	// when it did not; Parse has applied it to Listen already.
	legacyPort int

	// where remembers the lines keys were found on so that Validate can
	// point at them; nil for Default and hand-built Configs.
	where *positions
}

// Default returns the zero-config configuration: the working directory
// served to 127.0.0.1:7070 as "localhost", logging on with client addresses
// hidden, the server's default limits, no TLS, and the HTML page for HTTP
// requests.
func Default() *Config {
	c := fileDefaults("")
	c.Root = ZeroConfigRoot
	c.Listen = []Listen{{Addr: ZeroConfigAddr, Port: ZeroConfigPort}}
	return c
}

// fileDefaults returns spacecookie's defaults for a configuration file,
// without a listener (Parse adds it) and without a root (it is required).
func fileDefaults(name string) *Config {
	return &Config{
		Source:   name,
		Hostname: DefaultHostname,
		Log:      Log{Enable: true, HideIPs: true, Level: DefaultLevel},
		HTTPPage: true,
	}
}

// Clone returns a deep copy of c that may be changed freely.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	d := *c
	d.Listen = slices.Clone(c.Listen)
	for i, l := range d.Listen {
		if l.Proxy != nil {
			p := *l.Proxy
			p.Trusted = slices.Clone(p.Trusted)
			d.Listen[i].Proxy = &p
		}
	}
	if c.Limits.Rate != nil {
		r := *c.Limits.Rate
		r.Exempt = slices.Clone(r.Exempt)
		d.Limits.Rate = &r
	}
	d.Robots.Disallow = slices.Clone(c.Robots.Disallow)
	if c.Metrics != nil {
		m := *c.Metrics
		d.Metrics = &m
	}
	d.Warnings = slices.Clone(c.Warnings)
	d.CGI = c.CGI.clone()
	d.Vhosts = slices.Clone(c.Vhosts)
	for i, v := range d.Vhosts {
		d.Vhosts[i].Aliases = slices.Clone(v.Aliases)
		d.Vhosts[i].CGI = v.CGI.clone()
		d.Vhosts[i].Search = v.Search.clone()
	}
	d.Search = c.Search.clone()
	// where is never modified after Parse, so the copy may share it.
	return &d
}

// clone returns a deep copy of a cgi section, nil for nil.
func (c *CGI) clone() *CGI {
	if c == nil {
		return nil
	}
	d := *c
	d.Dirs = slices.Clone(c.Dirs)
	d.Env = maps.Clone(c.Env)
	return &d
}

// MenuPort returns the port to write into menus: PublicPort if set, else
// the first listener's port, else 0 (only for an invalid Config).
func (c *Config) MenuPort() int {
	if c.PublicPort != 0 {
		return c.PublicPort
	}
	if len(c.Listen) > 0 {
		return c.Listen[0].Port
	}
	return 0
}

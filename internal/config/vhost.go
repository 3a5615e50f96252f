package config

import (
	"fmt"
	"slices"
	"strings"

	"gopherd/internal/gopher"
)

// Vhost is one host gopherd serves: an entry of vhosts, or (from Hosts)
// the default host the top-level keys describe.
type Vhost struct {
	// Hostname is written into the host's menus; it and the Aliases
	// choose the host by TLS server name (SNI) and by a listener's vhost.
	Hostname string
	Aliases  []string
	// Root is the directory the host serves.
	Root string
	// PublicPort is the port written into the host's menus; 0 = not set
	// (see Hosts for what it is then).
	PublicPort int
	// TLS is the host's own certificate; zero = the top-level one.
	TLS TLS
	// CGI is the host's gateway; nil = nothing is ever executed for it.
	// A vhost does not inherit the top-level cgi section.
	CGI *CGI
	// Search is the host's search, over its own root; nil = none. A vhost
	// does not inherit the top-level search section either.
	Search *Search
}

// Names returns the names that choose the host: its hostname, then its
// aliases, as written.
func (v Vhost) Names() []string {
	return append([]string{v.Hostname}, v.Aliases...)
}

// UnknownSNI says what becomes of a TLS client whose server name is no
// host's.
type UnknownSNI int

// The policies for unknown server names, spelled "default" and "reject".
const (
	// SNIDefault serves such a client as if it sent no name: the
	// listener's vhost, else the default host (the default).
	SNIDefault UnknownSNI = iota
	// SNIReject fails the handshake with the unrecognized_name alert.
	SNIReject
)

var unknownSNINames = [...]string{SNIDefault: "default", SNIReject: "reject"}

// String returns the policy as the file spells it.
func (u UnknownSNI) String() string {
	if u >= 0 && int(u) < len(unknownSNINames) {
		return unknownSNINames[u]
	}
	return fmt.Sprintf("UnknownSNI(%d)", int(u))
}

// UnmarshalText reads a policy as the file spells it.
func (u *UnknownSNI) UnmarshalText(b []byte) error {
	i := slices.Index(unknownSNINames[:], string(b))
	if i < 0 {
		return fmt.Errorf(`unknown policy %s (want "default" or "reject")`, quote(string(b)))
	}
	*u = UnknownSNI(i)
	return nil
}

func (u UnknownSNI) validate() string {
	if u < 0 || int(u) >= len(unknownSNINames) {
		return fmt.Sprintf("unknown policy %d", int(u))
	}
	return ""
}

// Hosts returns the hosts c serves, the default host first: the one the
// top-level hostname, root, public-port, tls and cgi describe, which
// serves every connection that chooses no vhost. The vhosts follow in file
// order, each with the top-level public-port when it has none of its own.
func (c *Config) Hosts() []Vhost {
	hosts := make([]Vhost, 0, 1+len(c.Vhosts))
	hosts = append(hosts, Vhost{Hostname: c.Hostname, Root: c.Root, PublicPort: c.PublicPort, TLS: c.TLS, CGI: c.CGI, Search: c.Search})
	for _, v := range c.Vhosts {
		if v.PublicPort == 0 {
			v.PublicPort = c.PublicPort
		}
		hosts = append(hosts, v)
	}
	return hosts
}

// HostIndex returns the index in Hosts of the host that name chooses
// (compared in gopher.CanonicalHost form: case and a final dot do not
// matter), or -1 when no host has that name.
func (c *Config) HostIndex(name string) int {
	want := gopher.CanonicalHost(name)
	for i, h := range c.Hosts() {
		for _, n := range h.Names() {
			if gopher.CanonicalHost(n) == want {
				return i
			}
		}
	}
	return -1
}

// ProblemAt returns a problem with the value of key (a key path such as
// "vhosts[1].tls.certificate") found by a check made outside this package,
// such as whether a certificate covers a host's names: it names the file
// and the line the key came from.
func (c *Config) ProblemAt(key, msg string) Problem {
	return Problem{File: c.Source, Line: c.where.lineOf(key), Key: key, Msg: oneLine(msg)}
}

// vhostKeys declares vhosts: a list of hosts, each with its own root.
func (c *Config) vhostKeys(s *section) {
	claimed := map[string]string{} // a name in canonical form → who claimed it first
	claim := func(name, who string) string {
		if checkHostname(name) != "" {
			return "" // the name's own rule says what is wrong with it
		}
		key := gopher.CanonicalHost(name)
		if key == gopher.CanonicalHost(c.Hostname) {
			return fmt.Sprintf("%s is the top-level hostname (the default host's); a name chooses one host", quote(name))
		}
		if first, dup := claimed[key]; dup {
			return fmt.Sprintf("%s is already a name of %s; a name chooses one host", quote(name), first)
		}
		claimed[key] = who
		return ""
	}
	objectList(s, "vhosts", &c.Vhosts, Vhost{}, func(s *section, v *Vhost) {
		s.Require("hostname", "the name written into the host's menus")
		s.String("hostname", &v.Hostname, checkHostname)
		s.Rule("hostname", func() string { return claim(v.Hostname, s.Path()) })
		s.Strings("aliases", &v.Aliases, checkHostname)
		s.Rule("aliases", func() string {
			var msgs []string
			for _, a := range v.Aliases {
				if msg := claim(a, s.Path()); msg != "" {
					msgs = append(msgs, msg)
				}
			}
			return strings.Join(msgs, "; ")
		})
		s.Require("root", "the directory this host serves")
		s.Dir("root", &v.Root)
		s.Optional().Int("public-port", &v.PublicPort, minPort, maxPort)
		s.OptionalObject("tls", v.TLS.Enabled(), func(s *section) { certificateKeys(s, &v.TLS) })
		s.Rule("tls", func() string {
			if v.TLS.Enabled() && !c.TLS.Enabled() {
				return "needs the top-level tls as well: its certificate is the one clients get that send no server name"
			}
			return ""
		})
		cgiKeys(s, &v.CGI)
		searchKeys(s, &v.Search, &v.CGI)
	})
}

package config

import (
	"fmt"
	"strconv"
)

// How to add a config key
//
//  1. Add the field to Config (or to the struct of its section), with a
//     comment that says what its zero value means. A new section is a
//     struct type of its own, a field of Config, and Clone copies any
//     slice or map in it.
//  2. Declare it in keys below, in its section: one call of the kind that
//     fits (section.go lists them: String, Int, Bytes, Duration, Text,
//     Strings, StringMap, Prefixes, Object, objectList, ...), with its
//     value rule (a range, or a check function from checks.go). That one
//     call reads it, rejects what has the wrong shape, records its line,
//     and checks its value in Validate, all with file:line: key: messages.
//     Use s.Optional() when zero means "not set" and the consumer fills in
//     the default; a section the Config may lack is an OptionalObject.
//  3. A default other than zero goes into fileDefaults (config.go), which
//     Default builds on.
//  4. A rule that involves other keys (one key requires another, two
//     entries must differ) is an s.Rule next to the key it is reported on.
//  5. Document the key in the package comment (config.go), in
//     man/gopherd.json.5 and, where it helps, etc/gopherd.json; test it in
//     parse_test.go: a good value, a value of the wrong shape (Parse), and
//     a wrong value (Validate).

// keys declares every key of the configuration file. Parse runs it to
// read a file into c, Validate to check c (see section.go).
func (c *Config) keys(s *section) {
	s.String("hostname", &c.Hostname, checkHostname)

	// root is required, as in spacecookie: serving some default directory
	// by accident is worse than refusing to start. A missing root is
	// Validate's to report, so that --root on the command line can supply
	// it.
	s.Optional().Dir("root", &c.Root)
	s.Rule("root", func() string {
		if c.Root == "" && !s.Set("root") {
			return "required key is missing (the directory to serve; --root also sets it)"
		}
		return ""
	})

	s.Optional().Int("port", &c.legacyPort, minPort, maxPort) // see applyLegacyPort
	c.listenKeys(s)
	s.Optional().Int("public-port", &c.PublicPort, minPort, maxPort)
	s.Optional().String("user", &c.User, checkUser)

	s.Object("log", func(s *section) {
		s.Bool("enable", &c.Log.Enable)
		s.Bool("hide-ips", &c.Log.HideIPs)
		s.Bool("hide-time", &c.Log.HideTime)
		s.Text("level", (*logLevel)(&c.Log.Level))
	})

	// A limit the file leaves out stays 0, which the server replaces with
	// its default (server.DefaultLimits, the one place they are written).
	s.Object("limits", func(s *section) {
		s = s.Optional()
		s.Int("request-bytes", &c.Limits.RequestBytes, 1, MaxRequestBytes)
		s.Duration("request-timeout", &c.Limits.RequestTimeout, checkTimeout)
		s.Duration("idle-timeout", &c.Limits.IdleTimeout, checkTimeout)
		s.Int("max-connections", &c.Limits.MaxConnections, 1, maxCount)
		s.Int("max-connections-per-ip", &c.Limits.MaxConnectionsPerIP, 1, maxCount)
		s.Int("max-connections-per-prefix", &c.Limits.MaxConnectionsPerPrefix, 1, maxCount)
		s.Bytes("min-read-rate", &c.Limits.MinReadRate, 1, maxReadRate)
		c.rateKeys(s)
	})

	s.OptionalObject("tls", c.TLS.Enabled(), func(s *section) {
		certificateKeys(s, &c.TLS)
		s.Text("unknown-sni", &c.TLS.UnknownSNI)
	})

	s.Bool("http-page", &c.HTTPPage)

	cgiKeys(s, &c.CGI)
	searchKeys(s, &c.Search, &c.CGI)
	c.vhostKeys(s)
	c.robotsKeys(s)
	c.capsKeys(s)
	c.metricsKeys(s)
}

// certificateKeys declares the certificate and key of a tls section, the
// top-level one or a vhost's.
func certificateKeys(s *section, t *TLS) {
	s.Require("certificate", "the PEM file with the certificate chain")
	s.File("certificate", &t.Certificate)
	s.Require("key", "the PEM file with the private key")
	s.File("key", &t.Key)
}

// listenKeys declares listen: an object or a list of them.
func (c *Config) listenKeys(s *section) {
	seen := map[string]string{} // address and port → the first listener on them
	objectOrList(s, "listen", &c.Listen, Listen{Addr: DefaultAddr, Port: DefaultPort}, func(s *section, l *Listen) {
		s.String("addr", &l.Addr, checkAddr)
		// Port 0 asks the kernel for any free port (the log names the one
		// bound), which is what tests and throw-away servers want.
		s.Int("port", &l.Port, 0, maxPort)
		s.Text("tls", &l.TLS)
		proxyKeys(s, l)
		s.Rule("tls", func() string {
			if l.TLS == TLSOnly && !c.TLS.Enabled() {
				return `"only" needs a certificate: set tls.certificate and tls.key`
			}
			return ""
		})
		s.Optional().String("vhost", &l.Vhost, checkHostname)
		s.Rule("vhost", func() string {
			if l.Vhost == "" || checkHostname(l.Vhost) != "" || c.HostIndex(l.Vhost) >= 0 {
				return ""
			}
			return fmt.Sprintf("unknown vhost %s: name one of the vhosts' hostnames or aliases", quote(l.Vhost))
		})
		s.Rule("", func() string { // the second bind would fail
			if checkAddr(l.Addr) != "" || inRange(l.Port, minPort, maxPort) != "" {
				// A listener with a mistake would only collide by accident;
				// listeners on port 0 each get a port of their own.
				return ""
			}
			id := canonicalAddr(l.Addr) + "\x00" + strconv.Itoa(l.Port)
			if first, dup := seen[id]; dup {
				return "same address as " + first
			}
			seen[id] = fmt.Sprintf("%s (%s)", s.Path(), l)
			return ""
		})
	})
	s.Rule("listen", func() string {
		if len(c.Listen) == 0 {
			return "must not be an empty list"
		}
		return ""
	})
}

// applyLegacyPort gives the deprecated top-level port to the listeners
// without a port of their own, adds the default listener when the file
// names none, and returns the warnings about port. An out-of-range port is
// Validate's to report; the listeners keep the default port meanwhile.
func (c *Config) applyLegacyPort(where *positions) []Problem {
	port := DefaultPort
	if c.legacyPort != 0 && inRange(c.legacyPort, minPort, maxPort) == "" {
		port = c.legacyPort
	}
	if !where.set("listen") {
		c.Listen = []Listen{{Addr: DefaultAddr, Port: port}}
		where.single["listen"] = true
	}
	allHavePort := len(c.Listen) > 0
	for i := range c.Listen {
		if !where.set(where.elemPath("listen", i, len(c.Listen)) + ".port") {
			c.Listen[i].Port = port
			allHavePort = false
		}
	}
	line, set := where.lines["port"]
	if !set {
		return nil
	}
	msg := "deprecated, use listen.port instead"
	if allHavePort {
		// spacecookie prefers listen.port too; say so rather than fail,
		// so that its configurations keep loading.
		msg = "deprecated and ignored, because listen.port is set"
	}
	return []Problem{{File: c.Source, Line: line, Key: "port", Msg: msg}}
}

// logLevel is Log.Level as the file spells it: any case, as spacecookie
// lower-cases it too, and "warning" for "warn". An unknown level is kept
// as written, for Validate to report.
type logLevel string

func (l *logLevel) UnmarshalText(b []byte) error {
	*l = logLevel(b)
	if n, ok := normalizeLevel(string(b)); ok {
		*l = logLevel(n)
	}
	return nil
}

func (l logLevel) validate() string { return checkLevel(string(l)) }

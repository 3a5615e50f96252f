package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseErr parses src and returns the *Error, failing the test if there is
// none.
func parseErr(t *testing.T, src string) *Error {
	t.Helper()
	c, err := Parse("g.json", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; got %+v", c)
	}
	if c != nil {
		t.Errorf("Parse returned a Config together with an error")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	return e
}

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("g.json", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // Error() lines, exactly
	}{
		// Syntax: file:line:col.
		{"syntax missing colon", "{\n  \"root\": \"/srv\",\n  \"hostname\" \"x\"\n}",
			[]string{`g.json:3:14: invalid character '"' after object key`}},
		{"syntax trailing comma", "{\n  \"root\": \"/srv\",\n}",
			[]string{`g.json:3:1: invalid character '}' looking for beginning of object key string`}},
		{"syntax bad literal", "{\"root\": \"/srv\",\n \"log\": {\"enable\": ture}}",
			[]string{`g.json:2:21: invalid character 'u' in literal true (expecting 'r')`}},
		{"syntax truncated", "{\n  \"root\": \"/srv\",\n  \"log\": \n\n",
			[]string{`g.json:3:9: unexpected end of input`}},
		{"syntax trailing data", "{\"root\": \"/srv\"}\n}",
			[]string{`g.json:2:1: invalid character '}' after top-level value`}},
		{"syntax two objects", "{}\n{}",
			[]string{`g.json:2:1: invalid character '{' after top-level value`}},
		{"empty file", "  \n",
			[]string{`g.json:2:1: empty file, expected a JSON object`}},
		{"too deep", `{"root":"/srv","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
			[]string{`g.json:1:52: nesting deeper than 32 levels`}},

		// Shape.
		{"not an object", "\n[1, 2]",
			[]string{`g.json:2: the configuration must be a JSON object, got list`}},

		// Unknown keys.
		{"unknown top key with typo", "{\"root\": \"/srv\",\n\"hostnme\": \"h\"}",
			[]string{`g.json:2: hostnme: unknown key (did you mean "hostname"?)`}},
		{"unknown top key nested name", "{\"root\": \"/srv\",\n\"level\": \"info\"}",
			[]string{`g.json:2: level: unknown key (did you mean "log.level"?)`}},
		{"unknown key underscore", "{\"root\": \"/srv\", \"log\": {\n\"hide_ips\": true}}",
			[]string{`g.json:2: log.hide_ips: unknown key (did you mean "hide-ips"?)`}},
		{"unknown key no suggestion", "{\"root\": \"/srv\",\n\n\"frobnicate\": 1}",
			[]string{`g.json:3: frobnicate: unknown key`}},
		{"unknown listen key", "{\"root\": \"/srv\", \"listen\": [{}, {\n\"adr\": \"::1\"}]}",
			[]string{`g.json:2: listen[1].adr: unknown key (did you mean "addr"?)`}},
		{"odd key is quoted", "{\"root\": \"/srv\", \"a\\nb\": 1}",
			[]string{`g.json:1: "a\nb": unknown key`}},

		// Duplicate keys.
		{"duplicate top key", "{\"root\": \"/srv\",\n\"hostname\": \"a\",\n\"hostname\": \"b\"}",
			[]string{`g.json:3: hostname: duplicate key (first set on line 2)`}},
		{"duplicate nested key", "{\"root\": \"/srv\", \"limits\": {\n\"max-connections\": 1,\n\"max-connections\": 2}}",
			[]string{`g.json:3: limits.max-connections: duplicate key (first set on line 2)`}},

		// Types.
		{"hostname number", "{\"root\": \"/srv\",\n\"hostname\": 7}",
			[]string{`g.json:2: hostname: must be a string, got number`}},
		{"listen string", "{\"root\": \"/srv\",\n\"listen\": \"[::]:70\"}",
			[]string{`g.json:2: listen: must be an object or a list of objects, got string`}},
		{"listen element not object", "{\"root\": \"/srv\", \"listen\": [\n{\"port\": 70},\n7070]}",
			[]string{`g.json:3: listen[1]: must be an object, got number`}},
		{"bool as string", "{\"root\": \"/srv\", \"log\": {\n\"enable\": \"yes\"}}",
			[]string{`g.json:2: log.enable: must be true or false, got string`}},
		{"log not object", "{\"root\": \"/srv\",\n\"log\": true}",
			[]string{`g.json:2: log: must be an object, got boolean`}},
		{"limits not object", "{\"root\": \"/srv\",\n\"limits\": []}",
			[]string{`g.json:2: limits: must be an object, got list`}},
		{"port as string", "{\"root\": \"/srv\", \"listen\": {\n\"port\": \"70\"}}",
			[]string{`g.json:2: listen.port: must be a number, got string`}},
		{"user number", "{\"root\": \"/srv\",\n\"user\": 1000}",
			[]string{`g.json:2: user: must be a string, got number`}},

		// Ports.
		{"listen port fraction", "{\"root\": \"/srv\", \"listen\": {\n\"port\": 70.5}}",
			[]string{`g.json:2: listen.port: must be a whole number, got 70.5`}},
		{"listen port huge", "{\"root\": \"/srv\", \"listen\": {\n\"port\": 99999999999999999999999}}",
			[]string{`g.json:2: listen.port: must be between 0 and 65535, got 99999999999999999999999`}},
		{"port with exponent", "{\"root\": \"/srv\", \"listen\": {\n\"port\": 7e1}}",
			[]string{`g.json:2: listen.port: must be a whole number, got 7e1`}},

		// Log level.
		{"level not string", "{\"root\": \"/srv\", \"log\": {\n\"level\": 3}}",
			[]string{`g.json:2: log.level: must be a string, got number`}},

		// Durations.
		{"bad duration", "{\"root\": \"/srv\", \"limits\": {\n\"request-timeout\": \"10x\"}}",
			[]string{`g.json:2: limits.request-timeout: invalid duration "10x"`}},
		{"duration without unit", "{\"root\": \"/srv\", \"limits\": {\n\"idle-timeout\": \"30\"}}",
			[]string{`g.json:2: limits.idle-timeout: invalid duration "30"`}},
		{"duration as number", "{\"root\": \"/srv\", \"limits\": {\n\"request-timeout\": 10}}",
			[]string{`g.json:2: limits.request-timeout: must be a duration string such as "10s", got number`}},

		// TLS and the HTTP page.
		{"tls not object", "{\"root\": \"/srv\",\n\"tls\": \"/etc/cert.pem\"}",
			[]string{`g.json:2: tls: must be an object, got string`}},
		{"tls without key", "{\"root\": \"/srv\",\n\"tls\": {\"certificate\": \"/c.pem\"}}",
			[]string{`g.json:2: tls.key: required key is missing (the PEM file with the private key)`}},
		{"tls empty object", "{\"root\": \"/srv\",\n\"tls\": {}}",
			[]string{
				`g.json:2: tls.certificate: required key is missing (the PEM file with the certificate chain)`,
				`g.json:2: tls.key: required key is missing (the PEM file with the private key)`,
			}},
		{"tls file as number", "{\"root\": \"/srv\", \"tls\": {\"certificate\": \"/c\",\n\"key\": 1}}",
			[]string{`g.json:2: tls.key: must be a string, got number`}},
		{"tls unknown key", "{\"root\": \"/srv\", \"tls\": {\"certificate\": \"/c\", \"key\": \"/k\",\n\"cert\": \"/c\"}}",
			[]string{`g.json:2: tls.cert: unknown key`}},
		{"top-level certificate", "{\"root\": \"/srv\",\n\"certificate\": \"/c\"}",
			[]string{`g.json:2: certificate: unknown key (did you mean "tls.certificate"?)`}},
		{"listen tls unknown mode", "{\"root\": \"/srv\", \"listen\": {\n\"tls\": \"on\"}}",
			[]string{`g.json:2: listen.tls: unknown mode "on" (want "auto", "only" or "off")`}},
		{"listen tls bool", "{\"root\": \"/srv\", \"listen\": {\n\"tls\": true}}",
			[]string{`g.json:2: listen.tls: must be a string, got boolean`}},
		{"http-page string", "{\"root\": \"/srv\",\n\"http-page\": \"no\"}",
			[]string{`g.json:2: http-page: must be true or false, got string`}},

		// Every shape problem at once, in file order.
		{"many problems", `{
  "hostname": "h",
  "listen": {"addr": "::", "port": "70", "extra": 1},
  "log": {"level": 3, "enable": 1},
  "limits": {
    "request-timeout": "10x",
    "max-connections": 1.5
  },
  "hostname": "again"
}`, []string{
			`g.json:3: listen.port: must be a number, got string`,
			`g.json:3: listen.extra: unknown key`,
			`g.json:4: log.enable: must be true or false, got number`,
			`g.json:4: log.level: must be a string, got number`,
			`g.json:6: limits.request-timeout: invalid duration "10x"`,
			`g.json:7: limits.max-connections: must be a whole number, got 1.5`,
			`g.json:9: hostname: duplicate key (first set on line 2)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseErr(t, tt.src)
			got := strings.Split(e.Error(), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n  got  %q\n  want %q", got, tt.want)
			}
			if len(e.Problems) != len(tt.want) {
				t.Errorf("%d problems, want %d", len(e.Problems), len(tt.want))
			}
		})
	}
}

// valueLines returns the problems Validate finds in a Config parsed from
// src, the file system aside, as Error() lines.
func valueLines(t *testing.T, src string) []string {
	t.Helper()
	ps := mustParse(t, src).check(false)
	if len(ps) == 0 {
		return nil
	}
	return strings.Split((&Error{Problems: ps}).Error(), "\n")
}

// TestValueErrors holds files whose shape is right, so that Parse accepts
// them, and whose values are wrong, so that Validate does not.
func TestValueErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // Error() lines, exactly
	}{
		// Root.
		{"root empty", `{"root": ""}`,
			[]string{`g.json:1: root: must not be empty`}},

		// Ports.
		{"listen port negative", "{\"root\": \"/srv\", \"listen\": {\n\"port\": -1}}",
			[]string{`g.json:2: listen.port: must be between 0 and 65535, got -1`}},
		{"listen port too big", "{\"root\": \"/srv\", \"listen\": [{\"port\": 70},\n{\"port\": 65536}]}",
			[]string{`g.json:2: listen[1].port: must be between 0 and 65535, got 65536`}},
		{"public-port range", "{\"root\": \"/srv\",\n\"public-port\": 65536}",
			[]string{`g.json:2: public-port: must be between 1 and 65535, got 65536`}},
		{"deprecated port range", "{\"root\": \"/srv\",\n\"port\": -1}",
			[]string{`g.json:2: port: must be between 1 and 65535, got -1`}},

		// Log level.
		{"unknown level", "{\"root\": \"/srv\", \"log\": {\n\"level\": \"verbose\"}}",
			[]string{`g.json:2: log.level: unknown level "verbose" (want debug, info, warn or error)`}},

		// Durations.
		{"negative duration", "{\"root\": \"/srv\", \"limits\": {\n\"idle-timeout\": \"-5s\"}}",
			[]string{`g.json:2: limits.idle-timeout: must be positive, got "-5s"`}},
		{"zero duration", "{\"root\": \"/srv\", \"limits\": {\n\"request-timeout\": \"0s\"}}",
			[]string{`g.json:2: limits.request-timeout: must be positive, got "0s"`}},

		// Limits.
		{"request-bytes zero", "{\"root\": \"/srv\", \"limits\": {\n\"request-bytes\": 0}}",
			[]string{`g.json:2: limits.request-bytes: must be between 1 and 1048576, got 0`}},
		{"request-bytes too big", "{\"root\": \"/srv\", \"limits\": {\n\"request-bytes\": 2000000}}",
			[]string{`g.json:2: limits.request-bytes: must be between 1 and 1048576, got 2000000`}},
		{"max-connections negative", "{\"root\": \"/srv\", \"limits\": {\n\"max-connections\": -1}}",
			[]string{`g.json:2: limits.max-connections: must be between 1 and 2147483647, got -1`}},
		{"max-connections-per-ip zero", "{\"root\": \"/srv\", \"limits\": {\n\"max-connections-per-ip\": 0}}",
			[]string{`g.json:2: limits.max-connections-per-ip: must be between 1 and 2147483647, got 0`}},
		{"max-connections-per-prefix zero", "{\"root\": \"/srv\", \"limits\": {\n\"max-connections-per-prefix\": 0}}",
			[]string{`g.json:2: limits.max-connections-per-prefix: must be between 1 and 2147483647, got 0`}},
		{"min-read-rate zero", "{\"root\": \"/srv\", \"limits\": {\n\"min-read-rate\": \"0KiB\"}}",
			[]string{`g.json:2: limits.min-read-rate: must be between 1 and 1073741824, got 0`}},

		// Hostname, addresses, user.
		{"empty hostname", "{\"root\": \"/srv\",\n\"hostname\": \"\"}",
			[]string{`g.json:2: hostname: must not be empty`}},
		{"hostname with tab", "{\"root\": \"/srv\",\n\"hostname\": \"a\\tb\"}",
			[]string{`g.json:2: hostname: invalid host name "a\tb": want a DNS name or an IP address`}},
		{"hostname with port", "{\"root\": \"/srv\",\n\"hostname\": \"example.org:70\"}",
			[]string{`g.json:2: hostname: invalid host name "example.org:70": want a DNS name or an IP address`}},
		{"empty listen list", "{\"root\": \"/srv\",\n\"listen\": []}",
			[]string{`g.json:2: listen: must not be an empty list`}},
		{"bracketed addr", "{\"root\": \"/srv\", \"listen\": {\n\"addr\": \"[::1]\"}}",
			[]string{`g.json:2: listen.addr: invalid address "[::1]": write IPv6 addresses without brackets`}},
		{"empty addr", "{\"root\": \"/srv\", \"listen\": {\n\"addr\": \"\"}}",
			[]string{`g.json:2: listen.addr: must not be empty (leave addr out to listen on every address)`}},
		{"addr with space", "{\"root\": \"/srv\", \"listen\": {\n\"addr\": \"local host\"}}",
			[]string{`g.json:2: listen.addr: invalid address "local host": want an IP address or a host name`}},
		{"duplicate listeners", "{\"root\": \"/srv\", \"listen\": [\n{\"addr\": \"::\", \"port\": 70},\n{\"addr\": \"0:0::0\"}]}",
			[]string{`g.json:3: listen[1]: same address as listen[0] ([::]:70)`}},
		{"empty user", "{\"root\": \"/srv\",\n\"user\": \"\"}",
			[]string{`g.json:2: user: must not be empty (leave user out or set it to null)`}},
		{"user with space", "{\"root\": \"/srv\",\n\"user\": \"go pher\"}",
			[]string{`g.json:2: user: invalid user "go pher": want a user name, a uid or uid:gid`}},
		{"user name:group", "{\"root\": \"/srv\",\n\"user\": \"gopher:gopher\"}",
			[]string{`g.json:2: user: invalid user "gopher:gopher": want a user name, a uid or uid:gid`}},
		{"user uid -1", "{\"root\": \"/srv\",\n\"user\": \"4294967295\"}",
			[]string{`g.json:2: user: invalid user "4294967295": want a user name, a uid or uid:gid`}},

		// TLS.
		{"tls empty file names", "{\"root\": \"/srv\", \"tls\": {\n\"certificate\": \"\",\n\"key\": \"a\\u0000b\"}}",
			[]string{`g.json:2: tls.certificate: must not be empty`, `g.json:3: tls.key: must not contain a NUL byte`}},
		{"listen tls only without certificate", "{\"root\": \"/srv\", \"listen\": [{\"port\": 70},\n{\"port\": 7443, \"tls\": \"only\"}]}",
			[]string{`g.json:2: listen[1].tls: "only" needs a certificate: set tls.certificate and tls.key`}},

		// Every problem at once, in file order, the missing key last.
		{"many problems", `{
  "hostname": "",
  "listen": {"addr": "::", "port": -1},
  "log": {"level": "loud", "enable": true},
  "limits": {
    "request-timeout": "-1s",
    "max-connections": 0
  },
  "user": ""
}`, []string{
			`g.json:2: hostname: must not be empty`,
			`g.json:3: listen.port: must be between 0 and 65535, got -1`,
			`g.json:4: log.level: unknown level "loud" (want debug, info, warn or error)`,
			`g.json:6: limits.request-timeout: must be positive, got "-1s"`,
			`g.json:7: limits.max-connections: must be between 1 and 2147483647, got 0`,
			`g.json:9: user: must not be empty (leave user out or set it to null)`,
			`g.json: root: required key is missing (the directory to serve; --root also sets it)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := valueLines(t, tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n  got  %q\n  want %q", got, tt.want)
			}
		})
	}
}

func TestParseProblemFields(t *testing.T) {
	e := parseErr(t, "{\"root\": \"/srv\",\n\"limits\": {\"idle-timeout\": \"1y\"}}")
	want := Problem{File: "g.json", Line: 2, Key: "limits.idle-timeout", Msg: `invalid duration "1y"`}
	if len(e.Problems) != 1 || e.Problems[0] != want {
		t.Errorf("problems = %+v, want [%+v]", e.Problems, want)
	}
	e = parseErr(t, "{\n  oops }")
	want = Problem{File: "g.json", Line: 2, Col: 3, Msg: "invalid character 'o' looking for beginning of object key string"}
	if len(e.Problems) != 1 || e.Problems[0] != want {
		t.Errorf("problems = %+v, want [%+v]", e.Problems, want)
	}
}

// withoutPositions drops what Parse remembers for Validate's messages, to
// compare Configs by value.
func withoutPositions(c *Config) *Config {
	d := c.Clone()
	d.where = nil
	d.legacyPort = 0
	d.Warnings = nil
	return d
}

func TestParseDefaults(t *testing.T) {
	c := mustParse(t, `{"root": "/srv/gopher"}`)
	want := &Config{
		Source:   "g.json",
		Hostname: "localhost",
		Root:     "/srv/gopher",
		Listen:   []Listen{{Addr: "::", Port: 70}},
		Log:      Log{Enable: true, HideIPs: true, HideTime: false, Level: "info"},
		Limits:   Limits{}, // the server's defaults
		HTTPPage: true,
	}
	if got := withoutPositions(c); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse defaults:\n got  %+v\n want %+v", got, want)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings = %v, want none", c.Warnings)
	}
	if c.MenuPort() != 70 {
		t.Errorf("MenuPort = %d, want 70", c.MenuPort())
	}
}

func TestParseAllKeys(t *testing.T) {
	c := mustParse(t, `{
  "hostname": "gopher.example.org",
  "root": "/srv/gopher",
  "listen": [{"addr": "127.0.0.1", "port": 7070, "tls": "only"}, {"addr": "::1", "port": 7071, "tls": "off"}, {"port": 7072, "tls": "auto"}],
  "public-port": 70,
  "user": "1000:1000",
  "log": {"enable": false, "hide-ips": false, "hide-time": true, "level": "WARNING"},
  "limits": {
    "request-bytes": 512,
    "request-timeout": "2s",
    "idle-timeout": "1m30s",
    "max-connections": 10,
    "max-connections-per-ip": 2,
    "max-connections-per-prefix": 4,
    "min-read-rate": "2KiB"
  },
  "tls": {"certificate": "/etc/gopherd/cert.pem", "key": "/etc/gopherd/key.pem"},
  "http-page": false
}`)
	want := &Config{
		Source:   "g.json",
		Hostname: "gopher.example.org",
		Root:     "/srv/gopher",
		Listen: []Listen{{Addr: "127.0.0.1", Port: 7070, TLS: TLSOnly}, {Addr: "::1", Port: 7071, TLS: TLSOff},
			{Addr: "::", Port: 7072, TLS: TLSAuto}},
		PublicPort: 70,
		User:       "1000:1000",
		Log:        Log{Enable: false, HideIPs: false, HideTime: true, Level: "warn"},
		Limits: Limits{
			RequestBytes:            512,
			RequestTimeout:          2 * time.Second,
			IdleTimeout:             90 * time.Second,
			MaxConnections:          10,
			MaxConnectionsPerIP:     2,
			MaxConnectionsPerPrefix: 4,
			MinReadRate:             2048,
		},
		TLS:      TLS{Certificate: "/etc/gopherd/cert.pem", Key: "/etc/gopherd/key.pem"},
		HTTPPage: false,
	}
	if got := withoutPositions(c); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got  %+v\n want %+v", got, want)
	}
	if c.MenuPort() != 70 {
		t.Errorf("MenuPort = %d, want public-port 70", c.MenuPort())
	}
}

func TestParseListen(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		want     []Listen
		warnings []string
	}{
		{"absent", `{"root": "/r"}`, []Listen{{Addr: "::", Port: 70, TLS: TLSAuto}}, nil},
		{"null", `{"root": "/r", "listen": null}`, []Listen{{Addr: "::", Port: 70, TLS: TLSAuto}}, nil},
		{"object", `{"root": "/r", "listen": {"addr": "127.0.0.1", "port": 7000}}`,
			[]Listen{{Addr: "127.0.0.1", Port: 7000, TLS: TLSAuto}}, nil},
		{"object addr only", `{"root": "/r", "listen": {"addr": "::1"}}`, []Listen{{Addr: "::1", Port: 70, TLS: TLSAuto}}, nil},
		{"object port only", `{"root": "/r", "listen": {"port": 7070}}`, []Listen{{Addr: "::", Port: 7070, TLS: TLSAuto}}, nil},
		{"empty object", `{"root": "/r", "listen": {}}`, []Listen{{Addr: "::", Port: 70, TLS: TLSAuto}}, nil},
		{"list", `{"root": "/r", "listen": [{"addr": "0.0.0.0", "port": 70}, {"addr": "::1", "port": 70}, {"port": 7070}]}`,
			[]Listen{{Addr: "0.0.0.0", Port: 70, TLS: TLSAuto}, {Addr: "::1", Port: 70, TLS: TLSAuto}, {Addr: "::", Port: 7070, TLS: TLSAuto}}, nil},
		{"host name addr", `{"root": "/r", "listen": {"addr": "localhost"}}`, []Listen{{Addr: "localhost", Port: 70, TLS: TLSAuto}}, nil},
		{"zoned addr", `{"root": "/r", "listen": {"addr": "fe80::1%eth0"}}`, []Listen{{Addr: "fe80::1%eth0", Port: 70, TLS: TLSAuto}}, nil},
		{"any free port", `{"root": "/r", "listen": [{"addr": "127.0.0.1", "port": 0}, {"addr": "127.0.0.1", "port": 0}]}`,
			[]Listen{{Addr: "127.0.0.1", Port: 0, TLS: TLSAuto}, {Addr: "127.0.0.1", Port: 0, TLS: TLSAuto}}, nil},
		{"deprecated port alone", "{\"root\": \"/r\",\n\"port\": 7070}", []Listen{{Addr: "::", Port: 7070, TLS: TLSAuto}},
			[]string{"g.json:2: port: deprecated, use listen.port instead"}},
		{"deprecated port fills listen without port", "{\"root\": \"/r\", \"listen\": {\"addr\": \"::1\"},\n\"port\": 7070}",
			[]Listen{{Addr: "::1", Port: 7070, TLS: TLSAuto}}, []string{"g.json:2: port: deprecated, use listen.port instead"}},
		{"listen port wins over deprecated port", "{\"root\": \"/r\",\n\"port\": 7070, \"listen\": {\"port\": 70}}",
			[]Listen{{Addr: "::", Port: 70, TLS: TLSAuto}}, []string{"g.json:2: port: deprecated and ignored, because listen.port is set"}},
		{"deprecated port for some list entries", "{\"root\": \"/r\",\n\"port\": 7070, \"listen\": [{\"port\": 70}, {\"addr\": \"::1\"}]}",
			[]Listen{{Addr: "::", Port: 70, TLS: TLSAuto}, {Addr: "::1", Port: 7070, TLS: TLSAuto}}, []string{"g.json:2: port: deprecated, use listen.port instead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.src)
			if !reflect.DeepEqual(c.Listen, tt.want) {
				t.Errorf("Listen = %v, want %v", c.Listen, tt.want)
			}
			var warnings []string
			for _, w := range c.Warnings {
				warnings = append(warnings, w.String())
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(*Config) bool
	}{
		{"null means default", `{"root": "/r", "hostname": null, "user": null, "log": null, "limits": null, "public-port": null}`,
			func(c *Config) bool {
				return c.Hostname == "localhost" && c.User == "" && c.Log.Enable && c.Limits == Limits{}
			}},
		{"level case-insensitive", `{"root": "/r", "log": {"level": "Error"}}`,
			func(c *Config) bool { return c.Log.Level == "error" }},
		{"level debug", `{"root": "/r", "log": {"level": "debug"}}`,
			func(c *Config) bool { return c.Log.Level == "debug" }},
		{"user name", `{"root": "/r", "user": "gopher"}`, func(c *Config) bool { return c.User == "gopher" }},
		{"user uid", `{"root": "/r", "user": "65534"}`, func(c *Config) bool { return c.User == "65534" }},
		{"byte order mark", "\xEF\xBB\xBF{\"root\": \"/r\"}", func(c *Config) bool { return c.Root == "/r" }},
		{"onion hostname", `{"root": "/r", "hostname": "abcdefghijklmnop.onion"}`,
			func(c *Config) bool { return c.Hostname == "abcdefghijklmnop.onion" }},
		{"IPv6 hostname", `{"root": "/r", "hostname": "2001:db8::1"}`,
			func(c *Config) bool { return c.Hostname == "2001:db8::1" }},
		{"public-port", `{"root": "/r", "public-port": 7070}`,
			func(c *Config) bool { return c.PublicPort == 7070 && c.MenuPort() == 7070 }},
		{"tls null means none", `{"root": "/r", "tls": null, "http-page": null}`,
			func(c *Config) bool { return !c.TLS.Enabled() && c.HTTPPage }},
		{"tls relative paths", `{"root": "/r", "tls": {"certificate": "c.pem", "key": "k.pem"}, "listen": {"tls": "only"}}`,
			func(c *Config) bool {
				return c.TLS == TLS{Certificate: "c.pem", Key: "k.pem"} && c.Listen[0].TLS == TLSOnly
			}},
		{"tls modes without certificate", `{"root": "/r", "listen": [{"port": 70, "tls": "off"}, {"port": 71, "tls": "auto"}]}`,
			func(c *Config) bool { return c.Listen[0].TLS == TLSOff && c.Listen[1].TLS == TLSAuto }},
		{"http-page off", `{"root": "/r", "http-page": false}`, func(c *Config) bool { return !c.HTTPPage }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.src)
			if !tt.check(c) {
				t.Errorf("unexpected Config %+v", c)
			}
		})
	}
}

// Configurations in spacecookie's documented shape: "user": null and a log
// object with only "enable" must load unchanged.
func TestParseSpacecookieShapes(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want Config
	}{
		{"full", `{
  "hostname" : "localhost",
  "listen" : { "addr" : "::", "port" : 70 },
  "user" : null,
  "root" : "/srv/gopher",
  "log" : { "enable" : true, "hide-ips" : true, "hide-time" : false, "level" : "info" }
}`, Config{Hostname: "localhost", Root: "/srv/gopher", Listen: []Listen{{Addr: "::", Port: 70, TLS: TLSAuto}},
			Log: Log{Enable: true, HideIPs: true, Level: "info"}}},
		{"log enable only", `{
  "hostname" : "localhost",
  "listen" : { "addr" : "::", "port" : 7000 },
  "user" : null,
  "root" : "./some/dir",
  "log" : { "enable" : false }
}`, Config{Hostname: "localhost", Root: "./some/dir", Listen: []Listen{{Addr: "::", Port: 7000, TLS: TLSAuto}},
			Log: Log{Enable: false, HideIPs: true, Level: "info"}}},
		{"minimal with user", `{"hostname": "example.org", "root": "/srv/gopher", "user": "gopher"}`,
			Config{Hostname: "example.org", Root: "/srv/gopher", Listen: []Listen{{Addr: "::", Port: 70, TLS: TLSAuto}}, User: "gopher",
				Log: Log{Enable: true, HideIPs: true, Level: "info"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.src)
			tt.want.Source = "g.json"
			tt.want.HTTPPage = true
			if got := withoutPositions(c); !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, &tt.want)
			}
		})
	}
}

// spacecookieDir is spacecookie's own conformance material, kept next to
// the project rather than copied into it.
const spacecookieDir = "../../../shared/conformance/spacecookie"

func TestLoadSpacecookieSamples(t *testing.T) {
	if _, err := os.Stat(spacecookieDir); err != nil {
		t.Skipf("spacecookie conformance files not available: %v", err)
	}
	tests := []struct {
		file string
		want Config
	}{
		{"etc/spacecookie.json", Config{Hostname: "localhost", Root: "/srv/gopher", Listen: []Listen{{Addr: "::", Port: 70, TLS: TLSAuto}},
			Log: Log{Enable: true, HideIPs: true, Level: "info"}}},
		{"test/integration/spacecookie.json", Config{Hostname: "localhost", Root: "./test/integration/root",
			Listen: []Listen{{Addr: "::", Port: 7000, TLS: TLSAuto}}, Log: Log{Enable: false, HideIPs: true, Level: "info"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(spacecookieDir, tt.file)
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.want.Source = path
			tt.want.HTTPPage = true
			if got := withoutPositions(c); !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, &tt.want)
			}
		})
	}

	// The integration config's root is relative to spacecookie's source
	// tree, so it validates from there.
	t.Run("integration validates", func(t *testing.T) {
		c, err := Load(filepath.Join(spacecookieDir, "test/integration/spacecookie.json"))
		if err != nil {
			t.Fatal(err)
		}
		t.Chdir(spacecookieDir)
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "gopherd.json")
	if err := os.WriteFile(good, []byte(`{"root": "`+filepath.ToSlash(dir)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Source != good || c.Root != dir {
		t.Errorf("Source, Root = %q, %q; want %q, %q", c.Source, c.Root, good, dir)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n\"root\": 1}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if err == nil || err.Error() != bad+":2: root: must be a string, got number" {
		t.Errorf("Load(bad) = %v", err)
	}

	_, err = Load(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}

	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"root": "`+strings.Repeat("a", maxFileSize)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v, want a size error", err)
	}
}

func TestMessagesStayOnOneLine(t *testing.T) {
	// User text with newlines and escapes must not break the
	// one-problem-per-line format, from Parse or from Validate.
	e := parseErr(t, `{"root": "/r", "x\ny\u001b[31m": 1, "log": {"level": 3}}`)
	checkOneLine(t, e.Problems, 2)
	c := mustParse(t, `{"root": "/r", "hostname": "a\nb\u001b[31m", "log": {"level": "`+strings.Repeat("\\n", 200)+`"}}`)
	checkOneLine(t, c.check(false), 2)
}

func checkOneLine(t *testing.T, ps []Problem, want int) {
	t.Helper()
	text := (&Error{Problems: ps}).Error()
	lines := strings.Split(text, "\n")
	if len(lines) != len(ps) || len(lines) != want {
		t.Errorf("%d lines for %d problems, want %d:\n%s", len(lines), len(ps), want, text)
	}
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\x1b") || len(l) > 200 {
			t.Errorf("unsafe or overlong message line %q", l)
		}
	}
}

func TestSuggest(t *testing.T) {
	top := []string{"hostname", "root", "listen", "port", "public-port", "user", "log", "limits", "tls", "http-page"}
	nested := map[string][]string{
		"log":    {"enable", "hide-ips", "hide-time", "level"},
		"limits": {"request-bytes", "request-timeout", "idle-timeout", "min-read-rate", "max-connections", "max-connections-per-ip", "max-connections-per-prefix"},
		"listen": {"addr", "port", "tls"},
	}
	tests := []struct{ key, want string }{
		{"hostnam", "hostname"},
		{"Hostname", "hostname"},
		{"public_port", "public-port"},
		{"rot", "root"},
		{"addr", "listen.addr"},
		{"idle-timeout", "limits.idle-timeout"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.key, top, nested); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

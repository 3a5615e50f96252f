package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse and Validate never panic, that a failure is
// an *Error with one line per problem and a key or a line for each, and
// that a Config whose values Validate accepts serves a valid menu port.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"root": "/srv"}`,
		`{"hostname": "localhost", "listen": {"addr": "::", "port": 70}, "user": null, "root": "/srv/gopher", "log": {"enable": true, "hide-ips": true, "hide-time": false, "level": "info"}}`,
		`{"root": "r", "listen": [{"port": 1}, {"addr": "::1", "port": 65535}], "port": 7070, "public-port": 70}`,
		`{"root": "r", "limits": {"request-bytes": 1, "request-timeout": "1ns", "idle-timeout": "1h", "max-connections": 1, "max-connections-per-ip": 1, "max-connections-per-prefix": 1, "min-read-rate": "1KiB"}}`,
		`{"root": "r", "user": "1000:1000", "log": {"level": "WARNING"}}`,
		`{"root": "r", "listen": [{"port": 70}, {"port": 70}]}`,
		`{"root": 1, "listen": [], "log": [], "limits": {"x": {}}}`,
		`{"root": "r", "port": 0, "listen": {"tls": "only"}, "tls": {"certificate": "", "key": null}}`,
		`{"root": "r", "listen": {"proxy-protocol": {"trusted": ["127.0.0.1/32", "::1/128"]}}, "limits": {"rate": {"requests": "120/1m", "burst": 60, "bytes": "512MiB/1h", "ipv4-prefix": 24, "ipv6-prefix": 64, "exempt": ["10.0.0.0/8"], "max-tracked": 10}}}`,
		`{"root": "r", "robots-txt": {"disallow": ["/a/"], "crawl-delay": 10}, "caps": {"admin": "x", "description": "y", "geolocation": "z"}, "metrics": {"listen": "127.0.0.1:9170", "public": false}}`,
		`{"root": "r", "cgi": {"dirs": [{"selector": "/cgi-bin/", "output": "raw"}, {"selector": "/apps/", "output": "menu"}], "executable-gophermaps": false, "timeout": "10s", "kill-grace": "2s", "max-output-bytes": 8388608, "max-concurrent": 8, "max-concurrent-per-ip": 2, "remote-addr": "full", "env": {"LANG": "C.UTF-8"}}}`,
		`{"root": "r", "cgi": {"dirs": [{"selector": "/a/"}, {"selector": "/a/"}, {}], "max-output-bytes": "1 MiB", "env": {"": "", "PATH": null}}}`,
		`{"root": "r", "search": {"selector": "/search", "include": ["*.txt", "*.md", "gophermap", ".gophermap"], "exclude": ["/cgi-bin/"], "reindex": "10m", "max-file-bytes": 1048576, "max-index-bytes": "64MiB", "max-query-bytes": 256, "max-terms": 8, "max-results": 50, "query-timeout": "200ms"}}`,
		`{"root": "r", "cgi": {"dirs": [{"selector": "/s/"}]}, "search": {"selector": "/s", "include": [], "exclude": ["[", "/"], "reindex": "0s"}}`,
		`{"root": "r", "tls": {"certificate": "c", "key": "k", "unknown-sni": "reject"}, "listen": [{"port": 70, "vhost": "www.a.test"}], "vhosts": [{"hostname": "a.test", "aliases": ["www.a.test"], "root": "a", "public-port": 7070, "tls": {"certificate": "c", "key": "k"}, "cgi": {"dirs": [{"selector": "/cgi-bin/"}]}}, {"hostname": "A.TEST.", "root": "b"}]}`,
		`{"root": "r", "vhosts": [{}, {"hostname": 1, "aliases": "x"}, null], "listen": {"vhost": "nowhere"}}`,
		"\xEF\xBB\xBF{\"root\": \"\\u0000\"}",
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"a":`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.json", data)
		if err != nil {
			if c != nil {
				t.Fatal("Config returned together with an error")
			}
			checkFuzzError(t, err)
			return
		}
		if err := c.Validate(); err != nil {
			checkFuzzError(t, err)
		}
		// The file system aside, a Config whose values are right must
		// serve. A missing root is allowed: --root may supply it.
		for _, p := range c.check(false) {
			if p.Key != "root" {
				return
			}
		}
		// 0 is a listener on any free port: the daemon writes the port
		// it was given into menus.
		if c.MenuPort() < 0 || c.MenuPort() > 65535 {
			t.Fatalf("MenuPort = %d", c.MenuPort())
		}
	})
}

func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) == 0 {
		t.Fatalf("error %T %v is not a non-empty *Error", err, err)
	}
	if n := strings.Count(e.Error(), "\n") + 1; n != len(e.Problems) {
		t.Fatalf("%d lines for %d problems: %q", n, len(e.Problems), e.Error())
	}
	for _, p := range e.Problems {
		if p.Key == "" && p.Line == 0 {
			t.Fatalf("problem with neither key nor line: %+v", p)
		}
	}
}

package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that a failure is an *Error
// with one line per problem, and that a success yields a Config that meets
// its own invariants.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"root": "/srv"}`,
		`{"hostname": "localhost", "listen": {"addr": "::", "port": 70}, "user": null, "root": "/srv/gopher", "log": {"enable": true, "hide-ips": true, "hide-time": false, "level": "info"}}`,
		`{"root": "r", "listen": [{"port": 1}, {"addr": "::1", "port": 65535}], "port": 7070, "public-port": 70}`,
		`{"root": "r", "limits": {"request-bytes": 1, "request-timeout": "1ns", "idle-timeout": "1h", "max-connections": 1, "max-connections-per-ip": 1}}`,
		`{"root": "r", "user": "1000:1000", "log": {"level": "WARNING"}}`,
		`{"root": "r", "listen": [{"port": 70}, {"port": 70}]}`,
		`{"root": 1, "listen": [], "log": [], "limits": {"x": {}}}`,
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
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("error %T %v is not a non-empty *Error", err, err)
			}
			if n := strings.Count(e.Error(), "\n") + 1; n != len(e.Problems) {
				t.Fatalf("%d lines for %d problems: %q", n, len(e.Problems), e.Error())
			}
			return
		}
		// A missing root is Validate's to report, since --root may supply
		// it; everything else must already hold.
		if c.Root == "" {
			c.Root = "/srv"
		}
		if ps := c.invariants(); len(ps) > 0 {
			t.Fatalf("parsed Config breaks invariants: %v\n%+v", (&Error{Problems: ps}).Error(), c)
		}
		if c.MenuPort() < 1 || c.MenuPort() > 65535 {
			t.Fatalf("MenuPort = %d", c.MenuPort())
		}
	})
}

package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCGI(t *testing.T) {
	c := mustParse(t, `{"root": "/srv",
"cgi": {
  "dirs": [ {"selector": "/cgi-bin/", "output": "raw"}, {"selector": "/apps/", "output": "menu"}, {"selector": "/x/"} ],
  "executable-gophermaps": true,
  "timeout": "10s", "kill-grace": "2s",
  "max-output-bytes": 8388608,
  "max-concurrent": 8, "max-concurrent-per-ip": 2,
  "remote-addr": "prefix",
  "env": {"LANG": "C.UTF-8", "PATH": "/opt/bin"}
}}`)
	want := &CGI{
		Dirs:                 []CGIDir{{"/cgi-bin/", CGIRaw}, {"/apps/", CGIMenu}, {"/x/", CGIRaw}},
		ExecutableGophermaps: true,
		Timeout:              10 * time.Second, KillGrace: 2 * time.Second,
		MaxOutputBytes: 8 << 20, MaxConcurrent: 8, MaxConcurrentPerIP: 2,
		RemoteAddr: RemotePrefix,
		Env:        map[string]string{"LANG": "C.UTF-8", "PATH": "/opt/bin"},
	}
	if !reflect.DeepEqual(c.CGI, want) {
		t.Errorf("CGI = %+v, want %+v", c.CGI, want)
	}
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
	d := c.Clone()
	d.CGI.Dirs[0].Selector, d.CGI.Env["LANG"] = "/changed/", "x"
	if c.CGI.Dirs[0].Selector != "/cgi-bin/" || c.CGI.Env["LANG"] != "C.UTF-8" {
		t.Error("Clone shares the cgi section")
	}

	for _, src := range []string{`{"root": "/srv"}`, `{"root": "/srv", "cgi": null}`} {
		if c := mustParse(t, src); c.CGI != nil {
			t.Errorf("%s: CGI = %+v, want none", src, c.CGI)
		}
	}
	c = mustParse(t, `{"root": "/srv", "cgi": {"max-output-bytes": "1MiB"}}`)
	if c.CGI == nil || c.CGI.MaxOutputBytes != 1<<20 || c.CGI.Timeout != 0 || c.CGI.RemoteAddr != RemoteFull {
		t.Errorf("sizes with units, zero defaults: %+v", c.CGI)
	}
}

func TestCGIShapeErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"unknown key", "{\"root\": \"/r\", \"cgi\": {\n\"timeuot\": \"1s\"}}", `g.json:2: cgi.timeuot: unknown key (did you mean "timeout"?)`},
		{"unknown dir key", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/a/\", \"mode\": \"raw\"}]}}", `g.json:2: cgi.dirs[0].mode: unknown key`},
		{"bad duration", "{\"root\": \"/r\", \"cgi\": {\n\"kill-grace\": \"2 s\"}}", `g.json:2: cgi.kill-grace: invalid duration "2 s"`},
		{"duration number", "{\"root\": \"/r\", \"cgi\": {\n\"timeout\": 10}}", `g.json:2: cgi.timeout: must be a duration string such as "10s", got number`},
		{"bad output", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/a/\", \"output\": \"html\"}]}}", `g.json:2: cgi.dirs[0].output: unknown output "html" (want "raw" or "menu")`},
		{"bad remote-addr", "{\"root\": \"/r\", \"cgi\": {\n\"remote-addr\": \"hidden\"}}", `g.json:2: cgi.remote-addr: unknown mode "hidden" (want "full", "prefix" or "none")`},
		{"dirs not list", "{\"root\": \"/r\", \"cgi\": {\n\"dirs\": \"/cgi-bin/\"}}", `g.json:2: cgi.dirs: must be a list of objects, got string`},
		{"selector missing", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"output\": \"raw\"}]}}", `g.json:2: cgi.dirs[0].selector: required key is missing (the directory's selector, such as "/cgi-bin/")`},
		{"env value number", "{\"root\": \"/r\", \"cgi\": {\"env\": {\n\"N\": 1}}}", `g.json:2: cgi.env.N: must be a string, got number`},
		{"cgi not object", "{\"root\": \"/r\",\n\"cgi\": true}", `g.json:2: cgi: must be an object, got boolean`},
		{"bool as string", "{\"root\": \"/r\", \"cgi\": {\n\"executable-gophermaps\": \"yes\"}}", `g.json:2: cgi.executable-gophermaps: must be true or false, got string`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCGIValueErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"no trailing slash", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/cgi-bin\"}]}}", `g.json:2: cgi.dirs[0].selector: invalid selector "/cgi-bin": must start and end with "/"`},
		{"no leading slash", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"cgi-bin/\"}]}}", `g.json:2: cgi.dirs[0].selector: invalid selector "cgi-bin/": must start and end with "/"`},
		{"root itself", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/\"}]}}", `g.json:2: cgi.dirs[0].selector: must name a directory below the root, not "/" itself`},
		{"empty component", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/a//b/\"}]}}", `g.json:2: cgi.dirs[0].selector: invalid selector "/a//b/": write it without empty components ("/a/b/")`},
		{"dot component", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/a/../b/\"}]}}", `g.json:2: cgi.dirs[0].selector: invalid selector "/a/../b/": a component starting with "." is never served`},
		{"question mark", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/a?/\"}]}}", `g.json:2: cgi.dirs[0].selector: invalid selector "/a?/": must not contain "?", a backslash, TAB, CR, LF or NUL`},
		{"duplicate", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [{\"selector\": \"/a/\"},\n{\"selector\": \"/a/\", \"output\": \"menu\"}]}}", `g.json:2: cgi.dirs[1].selector: same selector as cgi.dirs[0]`},
		{"negative timeout", "{\"root\": \"/r\", \"cgi\": {\n\"timeout\": \"-1s\"}}", `g.json:2: cgi.timeout: must be positive, got "-1s"`},
		{"zero grace", "{\"root\": \"/r\", \"cgi\": {\n\"kill-grace\": \"0s\"}}", `g.json:2: cgi.kill-grace: must be positive, got "0s"`},
		{"zero output", "{\"root\": \"/r\", \"cgi\": {\n\"max-output-bytes\": 0}}", `g.json:2: cgi.max-output-bytes: must be between 1 and 1099511627776, got 0`},
		{"zero concurrent", "{\"root\": \"/r\", \"cgi\": {\n\"max-concurrent\": 0}}", `g.json:2: cgi.max-concurrent: must be between 1 and 2147483647, got 0`},
		{"negative per ip", "{\"root\": \"/r\", \"cgi\": {\n\"max-concurrent-per-ip\": -2}}", `g.json:2: cgi.max-concurrent-per-ip: must be between 1 and 2147483647, got -2`},
		{"env reserved", "{\"root\": \"/r\", \"cgi\": {\"env\": {\n\"REMOTE_ADDR\": \"x\"}}}", `g.json:2: cgi.env.REMOTE_ADDR: set by the gateway for each request; it cannot be overridden`},
		{"env bad name", "{\"root\": \"/r\", \"cgi\": {\"env\": {\n\"A=B\": \"x\"}}}", `g.json:2: cgi.env."A=B": invalid variable name: must not be empty or contain "=" or NUL`},
		{"env NUL value", "{\"root\": \"/r\", \"cgi\": {\"env\": {\n\"A\": \"x\\u0000y\"}}}", `g.json:2: cgi.env.A: value must not contain a NUL byte`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(valueLines(t, tt.src), "\n")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCGIHandBuilt(t *testing.T) {
	c := Default()
	c.CGI = &CGI{Dirs: []CGIDir{{Selector: "bad", Output: 7}}, RemoteAddr: 9}
	got := c.check(false)
	var msgs []string
	for _, p := range got {
		msgs = append(msgs, p.Key+": "+p.Msg)
	}
	want := []string{
		`cgi.dirs[0].selector: invalid selector "bad": must start and end with "/"`,
		`cgi.dirs[0].output: unknown output 7`,
		`cgi.remote-addr: unknown mode 9`,
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("problems:\n got %q\nwant %q", msgs, want)
	}
}

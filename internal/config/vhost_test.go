package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseVhosts(t *testing.T) {
	c := mustParse(t, `{"hostname": "main.test", "root": "/srv/main", "public-port": 7000,
"tls": {"certificate": "/c.pem", "key": "/k.pem", "unknown-sni": "reject"},
"listen": [{"addr": "127.0.0.1", "port": 70}, {"addr": "127.0.0.2", "port": 70, "vhost": "B.test"}],
"vhosts": [
  {"hostname": "a.test", "aliases": ["www.a.test"], "root": "/srv/a",
   "tls": {"certificate": "/a.pem", "key": "/a.key"},
   "cgi": {"dirs": [{"selector": "/cgi-bin/"}]}},
  {"hostname": "b.test", "root": "/srv/b", "public-port": 7071}
]}`)
	if ps := c.check(false); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	want := []Vhost{
		{Hostname: "a.test", Aliases: []string{"www.a.test"}, Root: "/srv/a", TLS: TLS{Certificate: "/a.pem", Key: "/a.key"},
			CGI: &CGI{Dirs: []CGIDir{{Selector: "/cgi-bin/"}}}},
		{Hostname: "b.test", Root: "/srv/b", PublicPort: 7071},
	}
	if !reflect.DeepEqual(c.Vhosts, want) {
		t.Errorf("Vhosts = %+v\nwant %+v", c.Vhosts, want)
	}
	if c.TLS.UnknownSNI != SNIReject || c.Listen[1].Vhost != "B.test" || c.Listen[0].Vhost != "" {
		t.Errorf("unknown-sni %v, listen vhosts %q %q", c.TLS.UnknownSNI, c.Listen[0].Vhost, c.Listen[1].Vhost)
	}

	// Hosts: the default host first, the top-level public-port for a
	// vhost without its own; the top-level cgi stays the default host's.
	hosts := c.Hosts()
	if len(hosts) != 3 || hosts[0].Hostname != "main.test" || hosts[0].Root != "/srv/main" ||
		hosts[1].PublicPort != 7000 || hosts[2].PublicPort != 7071 || hosts[2].CGI != nil {
		t.Errorf("Hosts() = %+v", hosts)
	}
	for name, want := range map[string]int{"main.test": 0, "A.TEST.": 1, "www.a.test": 1, "b.test": 2, "c.test": -1} {
		if got := c.HostIndex(name); got != want {
			t.Errorf("HostIndex(%q) = %d, want %d", name, got, want)
		}
	}

	d := c.Clone()
	d.Vhosts[0].Aliases[0], d.Vhosts[0].CGI.Dirs[0].Selector = "x", "/y/"
	if c.Vhosts[0].Aliases[0] != "www.a.test" || c.Vhosts[0].CGI.Dirs[0].Selector != "/cgi-bin/" {
		t.Error("Clone shares the vhosts")
	}
	if c := mustParse(t, `{"root": "/r", "tls": {"certificate": "/c", "key": "/k"}}`); c.Vhosts != nil || c.TLS.UnknownSNI != SNIDefault {
		t.Errorf("no vhosts: %+v, unknown-sni %v", c.Vhosts, c.TLS.UnknownSNI)
	}
}

func TestVhostShapeErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"not a list", "{\"root\": \"/r\",\n\"vhosts\": {\"hostname\": \"a\"}}", `g.json:2: vhosts: must be a list of objects, got object`},
		{"unknown key", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\",\n\"alias\": [\"b\"]}]}", `g.json:2: vhosts[0].alias: unknown key (did you mean "aliases"?)`},
		{"hostname missing", "{\"root\": \"/r\", \"vhosts\": [\n{\"root\": \"/a\"}]}", `g.json:2: vhosts[0].hostname: required key is missing (the name written into the host's menus)`},
		{"root missing", "{\"root\": \"/r\", \"vhosts\": [\n{\"hostname\": \"a\"}]}", `g.json:2: vhosts[0].root: required key is missing (the directory this host serves)`},
		{"aliases not strings", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"aliases\": [\n1]}]}", `g.json:2: vhosts[0].aliases[0]: must be a string, got number`},
		{"tls key missing", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\",\n\"tls\": {\"certificate\": \"/c\"}}]}", `g.json:2: vhosts[0].tls.key: required key is missing (the PEM file with the private key)`},
		{"unknown-sni in a vhost", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"tls\": {\"certificate\": \"/c\", \"key\": \"/k\",\n\"unknown-sni\": \"reject\"}}]}", `g.json:2: vhosts[0].tls.unknown-sni: unknown key`},
		{"bad unknown-sni", "{\"root\": \"/r\", \"tls\": {\"certificate\": \"/c\", \"key\": \"/k\",\n\"unknown-sni\": \"drop\"}}", `g.json:2: tls.unknown-sni: unknown policy "drop" (want "default" or "reject")`},
		{"listen vhost number", "{\"root\": \"/r\", \"listen\": {\n\"vhost\": 1}}", `g.json:2: listen.vhost: must be a string, got number`},
		{"vhost cgi unknown key", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"cgi\": {\n\"dir\": []}}]}", `g.json:2: vhosts[0].cgi.dir: unknown key (did you mean "dirs"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestVhostValueErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"hostname twice", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a.test\", \"root\": \"/a\"},\n{\"hostname\": \"A.Test.\", \"root\": \"/b\"}]}",
			`g.json:2: vhosts[1].hostname: "A.Test." is already a name of vhosts[0]; a name chooses one host`},
		{"alias is another's hostname", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a.test\", \"root\": \"/a\"},\n{\"hostname\": \"b.test\", \"root\": \"/b\",\n\"aliases\": [\"b2.test\", \"A.TEST\"]}]}",
			`g.json:3: vhosts[1].aliases: "A.TEST" is already a name of vhosts[0]; a name chooses one host`},
		{"hostname is an earlier alias", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a.test\", \"root\": \"/a\", \"aliases\": [\"www.test\"]},\n{\"hostname\": \"www.test\", \"root\": \"/b\"}]}",
			`g.json:2: vhosts[1].hostname: "www.test" is already a name of vhosts[0]; a name chooses one host`},
		{"the default host's name", "{\"hostname\": \"main.test\", \"root\": \"/r\", \"vhosts\": [\n{\"hostname\": \"MAIN.test\", \"root\": \"/a\"}]}",
			`g.json:2: vhosts[0].hostname: "MAIN.test" is the top-level hostname (the default host's); a name chooses one host`},
		{"the default hostname left out", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a.test\", \"root\": \"/a\",\n\"aliases\": [\"localhost\"]}]}",
			`g.json:2: vhosts[0].aliases: "localhost" is the top-level hostname (the default host's); a name chooses one host`},
		{"bad hostname", "{\"root\": \"/r\", \"vhosts\": [{\n\"hostname\": \"a b\", \"root\": \"/a\"}]}",
			`g.json:2: vhosts[0].hostname: invalid host name "a b": want a DNS name or an IP address`},
		{"bad alias", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"aliases\": [\n\"x\\ty\"]}]}",
			`g.json:2: vhosts[0].aliases[0]: invalid host name "x\ty": want a DNS name or an IP address`},
		{"public-port 0", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\",\n\"public-port\": 0}]}",
			`g.json:2: vhosts[0].public-port: must be between 1 and 65535, got 0`},
		{"unknown listener vhost", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a.test\", \"root\": \"/a\"}], \"listen\": {\n\"vhost\": \"b.test\"}}",
			`g.json:2: listen.vhost: unknown vhost "b.test": name one of the vhosts' hostnames or aliases`},
		{"empty listener vhost", "{\"root\": \"/r\", \"listen\": {\n\"vhost\": \"\"}}",
			`g.json:2: listen.vhost: must not be empty`},
		{"vhost tls without the top-level one", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\",\n\"tls\": {\"certificate\": \"/c\", \"key\": \"/k\"}}]}",
			`g.json:2: vhosts[0].tls: needs the top-level tls as well: its certificate is the one clients get that send no server name`},
		{"vhost cgi", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"cgi\": {\"dirs\": [\n{\"selector\": \"/\"}]}}]}",
			`g.json:2: vhosts[0].cgi.dirs[0].selector: must name a directory below the root, not "/" itself`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(valueLines(t, tt.src), "\n")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A listener may name a vhost by an alias, or the default host by the
// top-level hostname; a vhost root that does not exist is Validate's.
func TestValidateVhosts(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	c := mustParse(t, `{"hostname": "main.test", "root": "`+dir+`",
"listen": [{"addr": "127.0.0.1", "port": 70, "vhost": "WWW.A.TEST"}, {"addr": "127.0.0.2", "port": 70, "vhost": "main.test"}],
"vhosts": [{"hostname": "a.test", "aliases": ["www.a.test"], "root": "`+dir+`"}]}`)
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	c = mustParse(t, `{"root": "`+dir+`", "vhosts": [{"hostname": "a.test",
"root": "`+missing+`"}]}`)
	if got, want := validateLines(t, c), []string{`g.json:2: vhosts[0].root: directory "` + missing + `" does not exist`}; !reflect.DeepEqual(got, want) {
		t.Errorf("missing vhost root:\n got %q\nwant %q", got, want)
	}
	if p := c.ProblemAt("vhosts[0].root", "x"); p.String() != "g.json:2: vhosts[0].root: x" {
		t.Errorf("ProblemAt: %q", p.String())
	}
}

// The shipped two-host example has the right shape and values (its files
// are the operator's to create).
func TestVhostsExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "etc", "vhosts.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
	if len(c.Vhosts) != 1 || c.HostIndex("www.b.example") != 1 || c.Listen[2].Vhost != "b.example" || c.TLS.UnknownSNI != SNIReject {
		t.Errorf("example: %+v", c)
	}
}

package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSearch(t *testing.T) {
	// The block, exactly.
	c := mustParse(t, `{"root": "/srv",
"search": {
  "selector": "/search",
  "include": ["*.txt", "*.md", "gophermap", ".gophermap"], "exclude": ["/cgi-bin/"],
  "reindex": "10m", "max-file-bytes": 1048576, "max-index-bytes": 67108864,
  "max-query-bytes": 256, "max-terms": 8, "max-results": 50, "query-timeout": "200ms"
}}`)
	want := &Search{
		Selector: "/search",
		Include:  []string{"*.txt", "*.md", "gophermap", ".gophermap"},
		Exclude:  []string{"/cgi-bin/"},
		Reindex:  10 * time.Minute, MaxFileBytes: 1 << 20, MaxIndexBytes: 64 << 20,
		MaxQueryBytes: 256, MaxTerms: 8, MaxResults: 50, QueryTimeout: 200 * time.Millisecond,
	}
	if !reflect.DeepEqual(c.Search, want) {
		t.Errorf("Search = %+v, want %+v", c.Search, want)
	}
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
	d := c.Clone()
	d.Search.Include[0], d.Search.Exclude[0] = "*.changed", "/changed/"
	if c.Search.Include[0] != "*.txt" || c.Search.Exclude[0] != "/cgi-bin/" {
		t.Error("Clone shares the search section")
	}

	for _, src := range []string{`{"root": "/srv"}`, `{"root": "/srv", "search": null}`} {
		if c := mustParse(t, src); c.Search != nil {
			t.Errorf("%s: Search = %+v, want none", src, c.Search)
		}
	}
	// An empty section: search on, with the defaults (the engine's for
	// what stays zero).
	c = mustParse(t, `{"root": "/srv", "search": {}}`)
	if want := (&Search{Selector: "/search", Reindex: 10 * time.Minute}); !reflect.DeepEqual(c.Search, want) {
		t.Errorf("defaults: %+v, want %+v", c.Search, want)
	}
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("defaults: problems: %v", ps)
	}
	c = mustParse(t, `{"root": "/srv", "search": {"max-index-bytes": "16MiB", "max-file-bytes": "64KiB", "exclude": []}}`)
	if c.Search.MaxIndexBytes != 16<<20 || c.Search.MaxFileBytes != 64<<10 {
		t.Errorf("sizes with units: %+v", c.Search)
	}
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("empty exclude: problems: %v", ps)
	}
}

func TestSearchShapeErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"unknown key", "{\"root\": \"/r\", \"search\": {\n\"max-result\": 5}}", `g.json:2: search.max-result: unknown key (did you mean "max-results"?)`},
		{"not object", "{\"root\": \"/r\",\n\"search\": \"/search\"}", `g.json:2: search: must be an object, got string`},
		{"selector number", "{\"root\": \"/r\", \"search\": {\n\"selector\": 7}}", `g.json:2: search.selector: must be a string, got number`},
		{"include string", "{\"root\": \"/r\", \"search\": {\n\"include\": \"*.txt\"}}", `g.json:2: search.include: must be a list of strings, got string`},
		{"exclude element", "{\"root\": \"/r\", \"search\": {\"exclude\": [\n1]}}", `g.json:2: search.exclude[0]: must be a string, got number`},
		{"bad reindex", "{\"root\": \"/r\", \"search\": {\n\"reindex\": \"10 minutes\"}}", `g.json:2: search.reindex: invalid duration "10 minutes"`},
		{"timeout number", "{\"root\": \"/r\", \"search\": {\n\"query-timeout\": 200}}", `g.json:2: search.query-timeout: must be a duration string such as "10s", got number`},
		{"bad size", "{\"root\": \"/r\", \"search\": {\n\"max-index-bytes\": \"64 megs\"}}", `g.json:2: search.max-index-bytes: invalid size "64 megs" (want a number of bytes, or one with a unit such as "512KiB" or "8MiB")`},
		{"terms fraction", "{\"root\": \"/r\", \"search\": {\n\"max-terms\": 2.5}}", `g.json:2: search.max-terms: must be a whole number, got 2.5`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSearchValueErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"no leading slash", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"search\"}}", `g.json:2: search.selector: invalid selector "search": must start with "/"`},
		{"empty selector", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"\"}}", `g.json:2: search.selector: must not be empty`},
		{"root selector", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/\"}}", `g.json:2: search.selector: must not be "/": that is the root's menu`},
		{"tab", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/se\\tarch\"}}", `g.json:2: search.selector: invalid selector "/se\tarch": must not contain TAB, CR, LF or NUL`},
		{"cr", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/search\\r\"}}", `g.json:2: search.selector: invalid selector "/search\r": must not contain TAB, CR, LF or NUL`},
		{"lf", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/a\\nb\"}}", `g.json:2: search.selector: invalid selector "/a\nb": must not contain TAB, CR, LF or NUL`},
		{"empty component", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/a//search\"}}", `g.json:2: search.selector: invalid selector "/a//search": write it without empty components ("/a/search")`},
		{"caps.txt", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/caps.txt\"}}", `g.json:2: search.selector: "/caps.txt" is caps.txt, which gopherd generates: choose another selector`},
		{"URL:", "{\"root\": \"/r\", \"search\": {\n\"selector\": \"/URL:search\"}}", `g.json:2: search.selector: "/URL:search" is a URL: link's selector: choose another selector`},
		{"in cgi dir", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [{\"selector\": \"/apps/\"}, {\"selector\": \"/cgi-bin/\"}]},\n\"search\": {\n\"selector\": \"/cgi-bin/search\"}}", `g.json:3: search.selector: "/cgi-bin/search" is in the gateway directory "/cgi-bin/", where programs answer: choose another selector`},
		{"cgi dir name", "{\"root\": \"/r\", \"cgi\": {\"dirs\": [{\"selector\": \"/search/\"}]},\n\"search\": {}}", `g.json:2: search.selector: "/search" is in the gateway directory "/search/", where programs answer: choose another selector`},
		{"bad pattern", "{\"root\": \"/r\", \"search\": {\"include\": [\"*.txt\",\n\"[a-\"]}}", `g.json:2: search.include[1]: invalid pattern "[a-": syntax error in pattern (see path.Match: *, ?, [a-z], \ quotes)`},
		{"empty pattern", "{\"root\": \"/r\", \"search\": {\"exclude\": [\n\"/\"]}}", `g.json:2: search.exclude[0]: must not be empty (or "/" alone)`},
		{"pattern with tab", "{\"root\": \"/r\", \"search\": {\"exclude\": [\n\"a\\tb\"]}}", `g.json:2: search.exclude[0]: invalid pattern "a\tb": must not contain TAB, CR, LF or NUL`},
		{"empty include", "{\"root\": \"/r\", \"search\": {\n\"include\": []}}", `g.json:2: search.include: must not be an empty list: nothing would be indexed (leave include out for the default patterns)`},
		{"zero reindex", "{\"root\": \"/r\", \"search\": {\n\"reindex\": \"0s\"}}", `g.json:2: search.reindex: must be positive, got "0s"`},
		{"negative timeout", "{\"root\": \"/r\", \"search\": {\n\"query-timeout\": \"-1ms\"}}", `g.json:2: search.query-timeout: must be positive, got "-1ms"`},
		{"zero file bytes", "{\"root\": \"/r\", \"search\": {\n\"max-file-bytes\": 0}}", `g.json:2: search.max-file-bytes: must be between 1 and 1099511627776, got 0`},
		{"zero index bytes", "{\"root\": \"/r\", \"search\": {\n\"max-index-bytes\": \"0MiB\"}}", `g.json:2: search.max-index-bytes: must be between 1 and 1099511627776, got 0`},
		{"query bytes", "{\"root\": \"/r\", \"search\": {\n\"max-query-bytes\": 2000000}}", `g.json:2: search.max-query-bytes: must be between 1 and 1048576, got 2000000`},
		{"zero terms", "{\"root\": \"/r\", \"search\": {\n\"max-terms\": 0}}", `g.json:2: search.max-terms: must be between 1 and 2147483647, got 0`},
		{"negative results", "{\"root\": \"/r\", \"search\": {\n\"max-results\": -5}}", `g.json:2: search.max-results: must be between 1 and 2147483647, got -5`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(valueLines(t, tt.src), "\n")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSearchHandBuilt(t *testing.T) {
	c := Default()
	c.Search = &Search{Include: []string{"[x"}}
	var msgs []string
	for _, p := range c.check(false) {
		msgs = append(msgs, p.Key+": "+p.Msg)
	}
	want := []string{
		`search.selector: must not be empty`,
		`search.include[0]: invalid pattern "[x": syntax error in pattern (see path.Match: *, ?, [a-z], \ quotes)`,
		`search.reindex: must be positive, got "0s"`,
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("problems:\n got %q\nwant %q", msgs, want)
	}
}

// TestVhostSearch: a vhost's search section is its own (never the
// top-level one), checked against its own gateway directories.
func TestVhostSearch(t *testing.T) {
	c := mustParse(t, `{"root": "/srv", "search": {"selector": "/find"},
"cgi": {"dirs": [{"selector": "/cgi-bin/"}]},
"vhosts": [
  {"hostname": "a.test", "root": "/a", "search": {"exclude": ["/private/"]}},
  {"hostname": "b.test", "root": "/b"}
]}`)
	hosts := c.Hosts()
	if hosts[0].Search == nil || hosts[0].Search.Selector != "/find" {
		t.Errorf("default host's search: %+v", hosts[0].Search)
	}
	if s := hosts[1].Search; s == nil || s.Selector != "/search" || !reflect.DeepEqual(s.Exclude, []string{"/private/"}) {
		t.Errorf("a.test's search: %+v", s)
	}
	if hosts[2].Search != nil {
		t.Errorf("b.test inherits a search: %+v", hosts[2].Search)
	}
	d := c.Clone()
	d.Vhosts[0].Search.Exclude[0] = "/changed/"
	if c.Vhosts[0].Search.Exclude[0] != "/private/" {
		t.Error("Clone shares a vhost's search section")
	}
	// The top-level cgi is not a.test's: its /cgi-bin/ is free there; its
	// own gateway's directory is not.
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
	got := strings.Join(valueLines(t, `{"root": "/srv", "vhosts": [{"hostname": "a.test", "root": "/a",
"cgi": {"dirs": [{"selector": "/apps/"}]},
"search": {"selector": "/apps/find"}}]}`), "\n")
	if want := `g.json:3: vhosts[0].search.selector: "/apps/find" is in the gateway directory "/apps/", where programs answer: choose another selector`; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

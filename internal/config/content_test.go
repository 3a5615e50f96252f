package config

import (
	"reflect"
	"testing"
)

func TestParseContent(t *testing.T) {
	c := mustParse(t, `{"root": "/r",
"gophermap": {"dialect": "gophernicus", "dialects": {"/~alice/": "bucktooth", "/old": "gophernicus"}},
"text-mode": "rfc1436", "text-mode-paths": {"/bin/": "raw"},
"gopher-plus": "off",
"vhosts": [
  {"hostname": "a.test", "root": "/a"},
  {"hostname": "b.test", "root": "/b", "gophermap": {}, "text-mode": "raw", "text-mode-paths": {}},
  {"hostname": "c.test", "root": "/c", "gophermap": {"dialects": {"/x/": "gophernicus"}}}
]}`)
	if ps := c.check(false); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if c.Gophermap.Dialect != DialectGophernicus || !reflect.DeepEqual(c.Gophermap.Dialects, map[string]string{"/~alice/": "bucktooth", "/old": "gophernicus"}) {
		t.Errorf("gophermap = %+v", c.Gophermap)
	}
	if c.TextMode != TextRFC1436 || c.TextModePaths["/bin/"] != "raw" || c.GopherPlus != GopherPlusOff {
		t.Errorf("text-mode %v %v, gopher-plus %v", c.TextMode, c.TextModePaths, c.GopherPlus)
	}
	// A vhost without the keys has the top-level ones; one with them has
	// its own, an empty object or map included.
	hosts := c.Hosts()
	a, b, cc := hosts[1], hosts[2], hosts[3]
	if a.Gophermap.Dialect != DialectGophernicus || *a.TextMode != TextRFC1436 || a.TextModePaths["/bin/"] != "raw" {
		t.Errorf("a.test: %+v %v %v", a.Gophermap, *a.TextMode, a.TextModePaths)
	}
	if b.Gophermap.Dialect != DialectBucktooth || b.Gophermap.Dialects != nil || *b.TextMode != TextRaw || len(b.TextModePaths) != 0 || b.TextModePaths == nil {
		t.Errorf("b.test: %+v %v %v", b.Gophermap, *b.TextMode, b.TextModePaths)
	}
	if cc.Gophermap.Dialect != DialectBucktooth || cc.Gophermap.Dialects["/x/"] != "gophernicus" || *cc.TextMode != TextRFC1436 {
		t.Errorf("c.test: %+v %v", cc.Gophermap, *cc.TextMode)
	}
	if hosts[0].Gophermap.Dialect != DialectGophernicus || *hosts[0].TextMode != TextRFC1436 {
		t.Errorf("default host: %+v", hosts[0])
	}
	d := c.Clone()
	d.Gophermap.Dialects["/~alice/"] = "gophernicus"
	d.TextModePaths["/bin/"] = "rfc1436"
	*d.Vhosts[1].TextMode = TextRFC1436
	if c.Gophermap.Dialects["/~alice/"] != "bucktooth" || c.TextModePaths["/bin/"] != "raw" || *c.Vhosts[1].TextMode != TextRaw {
		t.Error("Clone shares the content keys")
	}
	// The defaults are today's behaviour.
	def := mustParse(t, `{"root": "/r"}`)
	if def.Gophermap.Dialect != DialectBucktooth || def.Gophermap.Dialects != nil || def.TextMode != TextRaw || def.TextModePaths != nil || def.GopherPlus != GopherPlusOn {
		t.Errorf("defaults: %+v %v %v %v", def.Gophermap, def.TextMode, def.TextModePaths, def.GopherPlus)
	}
}

func TestContentShapeErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"gophermap not an object", "{\"root\": \"/r\",\n\"gophermap\": \"gophernicus\"}", `g.json:2: gophermap: must be an object, got string`},
		{"unknown dialect", "{\"root\": \"/r\", \"gophermap\": {\n\"dialect\": \"geomyidae\"}}", `g.json:2: gophermap.dialect: unknown dialect "geomyidae" (want "bucktooth" or "gophernicus")`},
		{"dialect not a string", "{\"root\": \"/r\", \"gophermap\": {\n\"dialect\": 1}}", `g.json:2: gophermap.dialect: must be a string, got number`},
		{"dialects a list", "{\"root\": \"/r\", \"gophermap\": {\n\"dialects\": [\"/a/\"]}}", `g.json:2: gophermap.dialects: must be an object, got list`},
		{"unknown gophermap key", "{\"root\": \"/r\", \"gophermap\": {\n\"dialekt\": \"bucktooth\"}}", `g.json:2: gophermap.dialekt: unknown key (did you mean "dialect"?)`},
		{"text-mode unknown", "{\"root\": \"/r\",\n\"text-mode\": \"crlf\"}", `g.json:2: text-mode: unknown text mode "crlf" (want "raw" or "rfc1436")`},
		{"text-mode-paths value", "{\"root\": \"/r\", \"text-mode-paths\": {\n\"/a/\": 1}}", `g.json:2: text-mode-paths."/a/": must be a string, got number`},
		{"gopher-plus bool", "{\"root\": \"/r\",\n\"gopher-plus\": false}", `g.json:2: gopher-plus: must be a string, got boolean`},
		{"gopher-plus unknown", "{\"root\": \"/r\",\n\"gopher-plus\": \"full\"}", `g.json:2: gopher-plus: unknown mode "full" (want "on" or "off")`},
		{"vhost dialect", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"gophermap\": {\n\"dialect\": \"gph\"}}]}", `g.json:2: vhosts[0].gophermap.dialect: unknown dialect "gph" (want "bucktooth" or "gophernicus")`},
		{"vhost gopher-plus", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\",\n\"gopher-plus\": \"off\"}]}", `g.json:2: vhosts[0].gopher-plus: unknown key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestContentValueErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"dialects prefix", "{\"root\": \"/r\", \"gophermap\": {\"dialects\": {\n\"~alice/\": \"gophernicus\"}}}", `g.json:2: gophermap.dialects."~alice/": invalid prefix "~alice/": a selector starting with "/"`},
		{"dialects name", "{\"root\": \"/r\", \"gophermap\": {\"dialects\": {\n\"/~alice/\": \"Gophernicus\"}}}", `g.json:2: gophermap.dialects."/~alice/": unknown dialect "Gophernicus" (want "bucktooth" or "gophernicus")`},
		{"text-mode-paths mode", "{\"root\": \"/r\", \"text-mode-paths\": {\n\"/rfc/\": \"RFC1436\"}}", `g.json:2: text-mode-paths."/rfc/": unknown text mode "RFC1436" (want "raw" or "rfc1436")`},
		{"text-mode-paths prefix", "{\"root\": \"/r\", \"text-mode-paths\": {\n\"/a\\tb\": \"raw\"}}", `g.json:2: text-mode-paths."/a\tb": invalid prefix "/a\tb": must not contain TAB, CR, LF or NUL`},
		{"vhost text-mode-paths", "{\"root\": \"/r\", \"vhosts\": [{\"hostname\": \"a\", \"root\": \"/a\", \"text-mode-paths\": {\n\"rfc\": \"raw\"}}]}", `g.json:2: vhosts[0].text-mode-paths.rfc: invalid prefix "rfc": a selector starting with "/"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.src)
			ps := c.check(false)
			if len(ps) != 1 || ps[0].String() != tt.want {
				t.Errorf("got  %v\nwant %q", ps, tt.want)
			}
		})
	}
}

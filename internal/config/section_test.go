package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gateway is a section of the kind the coming features add (issues 11, 13
// and 14: a list of objects, a string map, sizes, prefixes), declared the
// way keys.go declares the real ones. It proves the kinds no real section
// uses yet.
type gateway struct {
	MaxOutput int64
	Aliases   []string
	Env       map[string]string
	Trusted   []netip.Prefix
	Timeout   time.Duration
	Dirs      []gatewayDir
	Mode      TLSMode
}

type gatewayDir struct {
	Selector string
	Output   string
}

func (g *gateway) keys(s *section) {
	s.Object("gateway", func(s *section) {
		s.Optional().Bytes("max-output-bytes", &g.MaxOutput, 1, 1<<30)
		s.Strings("aliases", &g.Aliases, checkHostname)
		s.StringMap("env", &g.Env, func(k, v string) string {
			if strings.ContainsAny(k, "=") {
				return "a variable name must not contain '='"
			}
			return ""
		})
		s.Prefixes("trusted", &g.Trusted)
		s.Optional().Duration("timeout", &g.Timeout, checkTimeout)
		s.Text("mode", &g.Mode)
		objectList(s, "dirs", &g.Dirs, gatewayDir{Output: "raw"}, func(s *section, d *gatewayDir) {
			s.Require("selector", "the selector prefix the programs are under")
			s.String("selector", &d.Selector, func(v string) string {
				if !strings.HasPrefix(v, "/") || !strings.HasSuffix(v, "/") {
					return fmt.Sprintf("must start and end with /, got %s", quote(v))
				}
				return ""
			})
			s.String("output", &d.Output, nil)
		})
	})
}

// gatewayProblems reads src as the gateway section and, when its shape is
// right, checks its values, as Parse and Validate do.
func gatewayProblems(t *testing.T, src string) (*gateway, []string) {
	t.Helper()
	g := &gateway{}
	where, ps := read("g.json", []byte(src), g.keys)
	if len(ps) == 0 {
		w := &walk{file: "g.json", where: where}
		g.keys(w.top(nil))
		sortProblems(w.problems)
		ps = w.problems
	}
	if len(ps) == 0 {
		return g, nil
	}
	return g, strings.Split((&Error{Problems: ps}).Error(), "\n")
}

func TestSectionKinds(t *testing.T) {
	g, ps := gatewayProblems(t, `{"gateway": {
  "max-output-bytes": "8MiB",
  "aliases": ["a.example", "b.example"],
  "env": {"LANG": "C.UTF-8", "TZ": "UTC"},
  "trusted": ["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"],
  "timeout": "10s",
  "mode": "off",
  "dirs": [{"selector": "/cgi-bin/"}, {"selector": "/apps/", "output": "menu"}]
}}`)
	if ps != nil {
		t.Fatalf("problems: %q", ps)
	}
	want := &gateway{
		MaxOutput: 8 << 20,
		Aliases:   []string{"a.example", "b.example"},
		Env:       map[string]string{"LANG": "C.UTF-8", "TZ": "UTC"},
		Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("2001:db8::/32")},
		Timeout: 10 * time.Second,
		Mode:    TLSOff,
		Dirs:    []gatewayDir{{"/cgi-bin/", "raw"}, {"/apps/", "menu"}},
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("got  %+v\nwant %+v", g, want)
	}
	if g, ps := gatewayProblems(t, `{"gateway": {"max-output-bytes": 4096}}`); ps != nil || g.MaxOutput != 4096 {
		t.Errorf("plain byte count: %d, %q", g.MaxOutput, ps)
	}
	if g, ps := gatewayProblems(t, `{"gateway": null}`); ps != nil || !reflect.DeepEqual(g, &gateway{}) {
		t.Errorf("absent section: %+v, %q", g, ps)
	}
}

func TestSectionProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// Shape: Parse.
		{"wrong kinds", `{"gateway": {
  "max-output-bytes": true,
  "aliases": "a.example",
  "env": ["LANG=C"],
  "trusted": "10.0.0.0/8",
  "dirs": {"selector": "/x/"}
}}`, []string{
			`g.json:2: gateway.max-output-bytes: must be a number of bytes or a size such as "8MiB", got boolean`,
			`g.json:3: gateway.aliases: must be a list of strings, got string`,
			`g.json:4: gateway.env: must be an object, got list`,
			`g.json:5: gateway.trusted: must be a list of prefixes, got string`,
			`g.json:6: gateway.dirs: must be a list of objects, got object`,
		}},
		{"bad elements", `{"gateway": {
  "aliases": ["a", 1],
  "env": {"LANG": 1, "TZ": "UTC", "TZ": "CET"},
  "trusted": ["10.0.0.0/8",
    "10.0.0.0", 7],
  "dirs": [{"selector": "/x/", "outptu": "menu"}, [], {}]
}}`, []string{
			`g.json:2: gateway.aliases[1]: must be a string, got number`,
			`g.json:3: gateway.env.TZ: duplicate key (first set on line 3)`,
			`g.json:3: gateway.env.LANG: must be a string, got number`,
			`g.json:5: gateway.trusted[1]: invalid prefix "10.0.0.0": want an address and a length such as "10.0.0.0/8"`,
			`g.json:5: gateway.trusted[2]: must be a string, got number`,
			`g.json:6: gateway.dirs[0].outptu: unknown key (did you mean "output"?)`,
			`g.json:6: gateway.dirs[1]: must be an object, got list`,
			`g.json:6: gateway.dirs[2].selector: required key is missing (the selector prefix the programs are under)`,
		}},
		{"sizes that cannot be stored", `{"gateway": {
  "max-output-bytes": "12XB"}}`, []string{
			`g.json:2: gateway.max-output-bytes: invalid size "12XB" (want a number of bytes, or one with a unit such as "512KiB" or "8MiB")`,
		}},
		{"size overflow", `{"gateway": {
  "max-output-bytes": "9999999999TiB"}}`, []string{
			`g.json:2: gateway.max-output-bytes: must be between 1 and 1073741824, got 9999999999TiB`,
		}},
		{"size fraction", `{"gateway": {
  "max-output-bytes": 1.5}}`, []string{
			`g.json:2: gateway.max-output-bytes: must be a whole number, got 1.5`,
		}},
		{"text that cannot be stored", `{"gateway": {
  "mode": "sometimes"}}`, []string{
			`g.json:2: gateway.mode: unknown mode "sometimes" (want "auto", "only" or "off")`,
		}},
		{"nested suggestion", `{
  "selector": "/x/",
  "gateway": {"dirs": []}}`, []string{
			`g.json:2: selector: unknown key (did you mean "gateway.dirs.selector"?)`,
		}},
		{"unknown key of an absent section", `{
  "gateway": null,
  "env": {}}`, []string{
			`g.json:3: env: unknown key (did you mean "gateway.env"?)`,
		}},

		// Values: Validate.
		{"bad values", `{"gateway": {
  "max-output-bytes": "2GiB",
  "aliases": ["a.example",
    "a b"],
  "env": {"A=B": "1",
    "C": "2"},
  "trusted": ["10.0.0.0/8",
    "10.0.0.1/8"],
  "timeout": "-1s",
  "dirs": [{"selector": "/ok/"},
    {"selector": "cgi"}]
}}`, []string{
			`g.json:2: gateway.max-output-bytes: must be between 1 and 1073741824, got 2147483648`,
			`g.json:4: gateway.aliases[1]: invalid host name "a b": want a DNS name or an IP address`,
			`g.json:5: gateway.env."A=B": a variable name must not contain '='`,
			`g.json:8: gateway.trusted[1]: 10.0.0.1/8 has bits set past the prefix length (write 10.0.0.0/8)`,
			`g.json:9: gateway.timeout: must be positive, got "-1s"`,
			`g.json:11: gateway.dirs[1].selector: must start and end with /, got "cgi"`,
		}},
		{"optional size set to zero", `{"gateway": {
  "max-output-bytes": 0}}`, []string{
			`g.json:2: gateway.max-output-bytes: must be between 1 and 1073741824, got 0`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := gatewayProblems(t, tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

// TestSectionHandBuilt checks the value rules on a section built without a
// file: no lines, list elements by index, the zero of an optional key
// accepted.
func TestSectionHandBuilt(t *testing.T) {
	g := &gateway{
		Aliases: []string{"ok", ""},
		Env:     map[string]string{"B=": "x", "A": "y"},
		Trusted: []netip.Prefix{netip.MustParsePrefix("::1/0")},
		Timeout: time.Second,
		Dirs:    []gatewayDir{{Selector: "/"}, {Selector: ""}},
		Mode:    9,
	}
	w := &walk{}
	g.keys(w.top(nil))
	got := strings.Split((&Error{Problems: w.problems}).Error(), "\n")
	want := []string{
		`gateway.aliases[1]: must not be empty`,
		`gateway.env."B=": a variable name must not contain '='`,
		`gateway.trusted[0]: ::1/0 has bits set past the prefix length (write ::/0)`,
		`gateway.mode: unknown mode 9`,
		`gateway.dirs[1].selector: must start and end with /, got ""`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got  %q\n want %q", got, want)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"512", 512, false},
		{"512B", 512, false},
		{"1KiB", 1024, false},
		{"8MiB", 8 << 20, false},
		{"8 MiB", 8 << 20, false},
		{"512MiB", 512 << 20, false},
		{"2GiB", 2 << 30, false},
		{"1TiB", 1 << 40, false},
		{"3kB", 3000, false},
		{"3KB", 3000, false},
		{"5MB", 5e6, false},
		{"1GB", 1e9, false},
		{"2TB", 2e12, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"-1MiB", 0, true},
		{"1.5MiB", 0, true},
		{"1mib", 0, true},
		{"1  MiB", 0, true},
		{"8388607TiB", 8388607 << 40, false},
		{"8388608TiB", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if _, err := parseSize("8388608TiB"); err == nil || !strings.Contains(err.Error(), strconv.ErrRange.Error()) {
		t.Errorf("overflow error = %v, want ErrRange", err)
	}
}

func TestLineOfQuotedKeys(t *testing.T) {
	p := newPositions()
	p.lines[`env."a.b[c"`] = 4
	p.lines["env"] = 2
	p.lines["listen[1]"] = 7
	tests := []struct {
		path string
		want int
	}{
		{`env."a.b[c"`, 4},
		{`env."a.b[c".x`, 4},
		{`env."x\".y"`, 2},
		{"listen[1].port", 7},
		{"listen[2].port", 0},
		{"other", 0},
	}
	for _, tt := range tests {
		if got := p.lineOf(tt.path); got != tt.want {
			t.Errorf("lineOf(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
	if (*positions)(nil).lineOf("x") != 0 || (*positions)(nil).set("x") {
		t.Error("nil positions know a key")
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("plain message"); got != "plain message" {
		t.Errorf("oneLine changed a plain message: %q", got)
	}
	if got := oneLine("a\nb\x1b[31m\u0085c"); got != `a\nb\x1b[31m\u0085c` {
		t.Errorf("oneLine = %q", got)
	}
	long := oneLine(strings.Repeat("x", 1000))
	if len(long) > 260 || !strings.HasSuffix(long, "…") {
		t.Errorf("oneLine kept %d bytes: %q", len(long), long)
	}
}

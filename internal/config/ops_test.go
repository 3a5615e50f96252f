package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseOps(t *testing.T) {
	c := mustParse(t, `{"root": "/srv",
"listen": [{"addr": "127.0.0.1", "port": 7070, "proxy-protocol": {"trusted": ["127.0.0.1/32", "10.0.0.0/8"]}},
           {"addr": "127.0.0.1", "port": 7071}],
"limits": {"rate": {"requests": "120/1m", "burst": 60, "bytes": "512MiB/1h",
                    "ipv4-prefix": 24, "ipv6-prefix": 56, "exempt": ["127.0.0.0/8"], "max-tracked": 1000}},
"robots-txt": {"disallow": ["/private/", "/big"], "crawl-delay": 10},
"caps": {"admin": "Jane <jane@example.org>", "description": "A small hole", "geolocation": "Berlin, Germany"},
"metrics": {"listen": "127.0.0.1:9170"}
}`)
	if ps := c.check(false); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	wantProxy := &ProxyProtocol{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}}
	if !reflect.DeepEqual(c.Listen[0].Proxy, wantProxy) || c.Listen[1].Proxy != nil {
		t.Errorf("listen proxy-protocol: %+v, %+v", c.Listen[0].Proxy, c.Listen[1].Proxy)
	}
	wantRate := &RateLimits{
		Requests: Rate{120, time.Minute}, Burst: 60, Bytes: Rate{512 << 20, time.Hour},
		IPv4Prefix: 24, IPv6Prefix: 56, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, MaxTracked: 1000,
	}
	if !reflect.DeepEqual(c.Limits.Rate, wantRate) {
		t.Errorf("limits.rate = %+v, want %+v", c.Limits.Rate, wantRate)
	}
	if want := (RobotsTxt{Disallow: []string{"/private/", "/big"}, CrawlDelay: 10}); !reflect.DeepEqual(c.Robots, want) {
		t.Errorf("robots-txt = %+v", c.Robots)
	}
	if want := (Caps{"Jane <jane@example.org>", "A small hole", "Berlin, Germany"}); c.Caps != want {
		t.Errorf("caps = %+v", c.Caps)
	}
	if want := (Metrics{Listen: "127.0.0.1:9170"}); c.Metrics == nil || *c.Metrics != want {
		t.Errorf("metrics = %+v", c.Metrics)
	}

	d := c.Clone()
	d.Listen[0].Proxy.Trusted[0] = netip.Prefix{}
	d.Limits.Rate.Exempt[0] = netip.Prefix{}
	d.Robots.Disallow[0] = "/x"
	d.Metrics.Public = true
	if c.Listen[0].Proxy.Trusted[0] != wantProxy.Trusted[0] || c.Limits.Rate.Exempt[0] != wantRate.Exempt[0] ||
		c.Robots.Disallow[0] != "/private/" || c.Metrics.Public {
		t.Error("Clone shares the operations sections")
	}
	if !c.Listen[0].Equal(c.Clone().Listen[0]) || c.Listen[0].Equal(c.Listen[1]) || c.Listen[0].Equal(d.Listen[0]) {
		t.Error("Listen.Equal does not compare the proxy-protocol setting")
	}

	c = mustParse(t, `{"root": "/srv"}`)
	if c.Limits.Rate != nil || c.Metrics != nil || c.Listen[0].Proxy != nil {
		t.Errorf("absent sections: %+v %+v %+v", c.Limits.Rate, c.Metrics, c.Listen[0].Proxy)
	}
	c = mustParse(t, `{"root": "/srv", "limits": {"rate": {"requests": "10/s"}}, "metrics": {"listen": "[::1]:9170"}}`)
	if r := c.Limits.Rate; r == nil || r.Requests != (Rate{10, time.Second}) || !r.Bytes.IsZero() || r.MaxTracked != 0 {
		t.Errorf("bare unit, defaults left at zero: %+v", r)
	}
	if ps := c.check(false); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
}

func TestOpsShapeErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"proxy not object", "{\"root\": \"/r\", \"listen\": {\n\"proxy-protocol\": true}}", `g.json:2: listen.proxy-protocol: must be an object, got boolean`},
		{"proxy without trusted", "{\"root\": \"/r\", \"listen\": {\n\"proxy-protocol\": {}}}", `g.json:2: listen.proxy-protocol.trusted: required key is missing (the networks of the proxies allowed to send a header, such as ["127.0.0.1/32"])`},
		{"proxy bad prefix", "{\"root\": \"/r\", \"listen\": {\"proxy-protocol\": {\"trusted\": [\n\"127.0.0.1\"]}}}", `g.json:2: listen.proxy-protocol.trusted[0]: invalid prefix "127.0.0.1": want an address and a length such as "10.0.0.0/8"`},
		{"proxy unknown key", "{\"root\": \"/r\", \"listen\": {\"proxy-protocol\": {\n\"trust\": []}}}", `g.json:1: listen.proxy-protocol.trusted: required key is missing (the networks of the proxies allowed to send a header, such as ["127.0.0.1/32"])` + "\n" +
			`g.json:2: listen.proxy-protocol.trust: unknown key (did you mean "trusted"?)`},
		{"rate no slash", "{\"root\": \"/r\", \"limits\": {\"rate\": {\n\"requests\": \"120\"}}}", `g.json:2: limits.rate.requests: invalid rate "120": want a number of requests per period such as "120/1m"`},
		{"rate size for requests", "{\"root\": \"/r\", \"limits\": {\"rate\": {\n\"requests\": \"1KiB/1m\"}}}", `g.json:2: limits.rate.requests: invalid rate "1KiB/1m": want a number of requests per period such as "120/1m"`},
		{"rate bad period", "{\"root\": \"/r\", \"limits\": {\"rate\": {\n\"bytes\": \"1MiB/day\"}}}", `g.json:2: limits.rate.bytes: invalid rate "1MiB/day": the period must be a duration such as "1m" or "1h"`},
		{"rate number", "{\"root\": \"/r\", \"limits\": {\"rate\": {\n\"requests\": 120}}}", `g.json:2: limits.rate.requests: must be a string, got number`},
		{"exempt not list", "{\"root\": \"/r\", \"limits\": {\"rate\": {\"requests\": \"1/s\",\n\"exempt\": \"127.0.0.0/8\"}}}", `g.json:2: limits.rate.exempt: must be a list of prefixes, got string`},
		{"robots delay string", "{\"root\": \"/r\", \"robots-txt\": {\n\"crawl-delay\": \"10s\"}}", `g.json:2: robots-txt.crawl-delay: must be a number, got string`},
		{"caps unknown", "{\"root\": \"/r\", \"caps\": {\n\"server-admin\": \"x\"}}", `g.json:2: caps.server-admin: unknown key`},
		{"metrics no listen", "{\"root\": \"/r\",\n\"metrics\": {\"public\": true}}", `g.json:2: metrics.listen: required key is missing (the HTTP address to serve /metrics on, such as "127.0.0.1:9170")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.src).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestOpsValueErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"proxy empty trusted", "{\"root\": \"/r\", \"listen\": {\"proxy-protocol\": {\n\"trusted\": []}}}", `g.json:2: listen.proxy-protocol.trusted: must name at least one network (a header from any other peer is refused)`},
		{"proxy host bits", "{\"root\": \"/r\", \"listen\": {\"proxy-protocol\": {\"trusted\": [\n\"10.0.0.1/8\"]}}}", `g.json:2: listen.proxy-protocol.trusted[0]: 10.0.0.1/8 has bits set past the prefix length (write 10.0.0.0/8)`},
		{"rate empty", "{\"root\": \"/r\", \"limits\": {\n\"rate\": {}}}", `g.json:2: limits.rate: sets no budget: give "requests", "bytes" or both`},
		{"rate zero amount", "{\"root\": \"/r\", \"limits\": {\"rate\": {\n\"requests\": \"0/1m\"}}}", `g.json:2: limits.rate.requests: the amount must be at least 1, got 0`},
		{"rate short period", "{\"root\": \"/r\", \"limits\": {\"rate\": {\n\"bytes\": \"1MiB/10ms\"}}}", `g.json:2: limits.rate.bytes: the period must be between 1s and 168h0m0s, got 10ms`},
		{"burst without requests", "{\"root\": \"/r\", \"limits\": {\"rate\": {\"bytes\": \"1MiB/1h\",\n\"burst\": 5}}}", `g.json:2: limits.rate.burst: needs "requests"`},
		{"prefix too long", "{\"root\": \"/r\", \"limits\": {\"rate\": {\"requests\": \"1/s\",\n\"ipv4-prefix\": 33}}}", `g.json:2: limits.rate.ipv4-prefix: must be between 1 and 32, got 33`},
		{"tracked zero", "{\"root\": \"/r\", \"limits\": {\"rate\": {\"requests\": \"1/s\",\n\"max-tracked\": 0}}}", `g.json:2: limits.rate.max-tracked: must be between 1 and 10000000, got 0`},
		{"robots relative", "{\"root\": \"/r\", \"robots-txt\": {\"disallow\": [\n\"private\"]}}", `g.json:2: robots-txt.disallow[0]: invalid path "private": must start with "/"`},
		{"robots newline", "{\"root\": \"/r\", \"robots-txt\": {\"disallow\": [\n\"/a\\nAllow: /\"]}}", `g.json:2: robots-txt.disallow[0]: invalid path "/a\nAllow: /": must not contain spaces or control characters`},
		{"robots delay zero", "{\"root\": \"/r\", \"robots-txt\": {\n\"crawl-delay\": 0}}", `g.json:2: robots-txt.crawl-delay: must be between 1 and 86400, got 0`},
		{"caps newline", "{\"root\": \"/r\", \"caps\": {\n\"admin\": \"a\\nServerTLSPort=1\"}}", `g.json:2: caps.admin: must be one line without control characters`},
		{"caps empty", "{\"root\": \"/r\", \"caps\": {\n\"description\": \"\"}}", `g.json:2: caps.description: must not be empty (leave the key out)`},
		{"metrics public address", "{\"root\": \"/r\", \"metrics\": {\n\"listen\": \"0.0.0.0:9170\"}}", `g.json:2: metrics.listen: "0.0.0.0:9170" is not a loopback address: metrics are for this machine unless "public": true`},
		{"metrics every address", "{\"root\": \"/r\", \"metrics\": {\n\"listen\": \":9170\"}}", `g.json:2: metrics.listen: ":9170" is not a loopback address: metrics are for this machine unless "public": true`},
		{"metrics no port", "{\"root\": \"/r\", \"metrics\": {\n\"listen\": \"127.0.0.1\"}}", `g.json:2: metrics.listen: invalid address "127.0.0.1": want host:port such as "127.0.0.1:9170" or "[::1]:9170"`},
		{"metrics gopher port", "{\"root\": \"/r\", \"listen\": {\"port\": 7070}, \"metrics\": {\n\"listen\": \"127.0.0.1:7070\"}}", `g.json:2: metrics.listen: port 7070 is a Gopher listener's: metrics need a port of their own`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(valueLines(t, tt.src), "\n")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	if got := valueLines(t, `{"root": "/r", "metrics": {"listen": "0.0.0.0:9170", "public": true}}`); got != nil {
		t.Errorf("public metrics: %q", got)
	}
}

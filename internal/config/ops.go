package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The keys of a public server's operations: the PROXY protocol of a
// listener, rate budgets, robots.txt, the optional caps.txt keys and the
// metrics listener.

// ProxyProtocol is a listener's proxy-protocol object: the listener takes
// a PROXY protocol header (v1 or v2) from the peers in Trusted, and only
// from them.
type ProxyProtocol struct {
	Trusted []netip.Prefix // never empty in a valid Config
}

// Equal reports whether l and m are the same listener setting.
func (l Listen) Equal(m Listen) bool {
	if l.Addr != m.Addr || l.Port != m.Port || l.TLS != m.TLS || l.Vhost != m.Vhost || (l.Proxy == nil) != (m.Proxy == nil) {
		return false
	}
	return l.Proxy == nil || slices.Equal(l.Proxy.Trusted, m.Proxy.Trusted)
}

// Rate is an amount per period: "120/1m" (requests), "512MiB/1h" (bytes).
type Rate struct {
	Amount int64
	Per    time.Duration
}

// String returns the rate as the file spells it, the amount as a plain
// number.
func (r Rate) String() string { return strconv.FormatInt(r.Amount, 10) + "/" + r.Per.String() }

// IsZero reports whether the rate is not set.
func (r Rate) IsZero() bool { return r.Amount == 0 && r.Per == 0 }

// RateLimits is limits.rate: token buckets per client network for the
// requests it makes and the bytes it is sent. A nil *RateLimits (no rate
// object) means no budgets.
type RateLimits struct {
	// Requests is the request budget; zero means none.
	Requests Rate
	// Burst is how many requests a client may make at once; 0 means
	// Requests.Amount.
	Burst int
	// Bytes is the byte budget; zero means none.
	Bytes Rate
	// IPv4Prefix and IPv6Prefix are the prefix lengths a client address
	// is counted in; 0 means DefaultRateIPv4Prefix and
	// DefaultRateIPv6Prefix.
	IPv4Prefix int
	IPv6Prefix int
	// Exempt networks have no budgets (the connection caps still apply).
	Exempt []netip.Prefix
	// MaxTracked bounds the networks whose buckets are kept (the least
	// recently seen is forgotten first); 0 means DefaultRateMaxTracked.
	MaxTracked int
}

// Defaults of limits.rate.
const (
	DefaultRateIPv4Prefix = 32
	DefaultRateIPv6Prefix = 64
	DefaultRateMaxTracked = 100000
	// maxRateTracked bounds max-tracked: every tracked network costs about
	// 200 bytes.
	maxRateTracked = 10_000_000
	// maxRatePeriod bounds the period of a rate.
	maxRatePeriod = 7 * 24 * time.Hour
)

// RobotsTxt is the robots-txt object: what the generated robots.txt asks
// crawlers to leave alone.
type RobotsTxt struct {
	// Disallow lists selector prefixes, each written as a Disallow line
	// (the gateway's directories are added to them).
	Disallow []string
	// CrawlDelay, when positive, is the Crawl-delay line, in seconds.
	CrawlDelay int
}

// maxCrawlDelay bounds robots-txt.crawl-delay (a day).
const maxCrawlDelay = 86400

// Caps is the caps object: the optional server description keys of the
// generated caps.txt. An empty field is left out.
type Caps struct {
	Admin       string // ServerAdmin
	Description string // ServerDescription
	Geolocation string // ServerGeolocationString
}

// maxCapsValue bounds a caps value.
const maxCapsValue = 512

// Metrics is the metrics object: an HTTP listener of its own serving the
// Prometheus text format at /metrics. A nil *Metrics means none.
type Metrics struct {
	Listen string // host:port
	// Public allows a listen address other than a loopback one.
	Public bool
}

// proxyKeys declares a listen entry's proxy-protocol object.
func proxyKeys(s *section, l *Listen) {
	p := l.Proxy
	if p == nil {
		p = &ProxyProtocol{} // reading: kept if the file has the object
	}
	s.OptionalObject("proxy-protocol", l.Proxy != nil, func(s *section) {
		s.Require("trusted", `the networks of the proxies allowed to send a header, such as ["127.0.0.1/32"]`)
		s.Prefixes("trusted", &p.Trusted)
		s.Rule("trusted", func() string {
			if len(p.Trusted) == 0 {
				return "must name at least one network (a header from any other peer is refused)"
			}
			return ""
		})
	})
	if l.Proxy == nil && s.Set("proxy-protocol") {
		l.Proxy = p
	}
}

// rateKeys declares limits.rate.
func (c *Config) rateKeys(s *section) {
	r := c.Limits.Rate
	if r == nil {
		r = &RateLimits{}
	}
	s.OptionalObject("rate", c.Limits.Rate != nil, func(s *section) {
		s.Text("requests", (*requestRate)(&r.Requests))
		o := s.Optional()
		o.Int("burst", &r.Burst, 1, maxCount)
		s.Text("bytes", (*byteRate)(&r.Bytes))
		o.Int("ipv4-prefix", &r.IPv4Prefix, 1, 32)
		o.Int("ipv6-prefix", &r.IPv6Prefix, 1, 128)
		s.Prefixes("exempt", &r.Exempt)
		o.Int("max-tracked", &r.MaxTracked, 1, maxRateTracked)
		s.Rule("", func() string {
			if r.Requests.IsZero() && r.Bytes.IsZero() {
				return `sets no budget: give "requests", "bytes" or both`
			}
			return ""
		})
		s.Rule("burst", func() string {
			if r.Burst != 0 && r.Requests.IsZero() {
				return `needs "requests"`
			}
			return ""
		})
	})
	if c.Limits.Rate == nil && s.Set("rate") {
		c.Limits.Rate = r
	}
}

// requestRate is a request budget as the file spells it: a whole number,
// "/", a period ("120/1m", "10/s").
type requestRate Rate

func (r *requestRate) UnmarshalText(b []byte) error {
	v, err := parseRate(string(b), false)
	if err != nil {
		return err
	}
	*r = requestRate(v)
	return nil
}

func (r requestRate) validate() string { return Rate(r).check() }

// byteRate is a byte budget: a size, "/", a period ("512MiB/1h").
type byteRate Rate

func (r *byteRate) UnmarshalText(b []byte) error {
	v, err := parseRate(string(b), true)
	if err != nil {
		return err
	}
	*r = byteRate(v)
	return nil
}

func (r byteRate) validate() string { return Rate(r).check() }

// parseRate reads AMOUNT/PERIOD. The amount is a whole number, or a size
// with a unit when sizes is set; the period is a duration ("1m", "1h30m")
// or a bare unit meaning one of it ("s", "m", "h").
func parseRate(s string, sizes bool) (Rate, error) {
	want := `want a number of requests per period such as "120/1m"`
	if sizes {
		want = `want a size per period such as "512MiB/1h"`
	}
	amount, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("invalid rate %s: %s", quote(s), want)
	}
	var n int64
	var err error
	if sizes {
		n, err = parseSize(amount)
	} else if isDigits(amount) {
		n, err = strconv.ParseInt(amount, 10, 64)
	} else {
		err = fmt.Errorf("not a whole number")
	}
	if err != nil {
		return Rate{}, fmt.Errorf("invalid rate %s: %s", quote(s), want)
	}
	if per == "s" || per == "m" || per == "h" {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil {
		return Rate{}, fmt.Errorf("invalid rate %s: the period must be a duration such as \"1m\" or \"1h\"", quote(s))
	}
	return Rate{Amount: n, Per: d}, nil
}

// check is a rate's value rule. A zero rate is not set, which is not a
// problem of the rate itself.
func (r Rate) check() string {
	switch {
	case r.IsZero():
		return ""
	case r.Amount < 1:
		return fmt.Sprintf("the amount must be at least 1, got %d", r.Amount)
	case r.Per < time.Second || r.Per > maxRatePeriod:
		return fmt.Sprintf("the period must be between 1s and %s, got %s", maxRatePeriod, r.Per)
	}
	return ""
}

// robotsKeys declares robots-txt.
func (c *Config) robotsKeys(s *section) {
	s.Object("robots-txt", func(s *section) {
		s.Strings("disallow", &c.Robots.Disallow, checkRobotsPath)
		s.Optional().Int("crawl-delay", &c.Robots.CrawlDelay, 1, maxCrawlDelay)
	})
}

// checkRobotsPath checks a Disallow entry: a selector prefix starting
// with "/", on one line.
func checkRobotsPath(p string) string {
	switch {
	case p == "" || p[0] != '/':
		return fmt.Sprintf(`invalid path %s: must start with "/"`, quote(p))
	case strings.ContainsFunc(p, unicode.IsSpace) || strings.ContainsFunc(p, unicode.IsControl):
		return fmt.Sprintf("invalid path %s: must not contain spaces or control characters", quote(p))
	case len(p) > 1024:
		return "longer than 1024 bytes"
	}
	return ""
}

// capsKeys declares caps.
func (c *Config) capsKeys(s *section) {
	s.Object("caps", func(s *section) {
		o := s.Optional()
		o.String("admin", &c.Caps.Admin, checkCapsValue)
		o.String("description", &c.Caps.Description, checkCapsValue)
		o.String("geolocation", &c.Caps.Geolocation, checkCapsValue)
	})
}

// checkCapsValue checks a caps.txt value: one line of printable text.
func checkCapsValue(v string) string {
	switch {
	case v == "":
		return "must not be empty (leave the key out)"
	case !utf8.ValidString(v):
		return "must be UTF-8"
	case strings.ContainsFunc(v, unicode.IsControl):
		return "must be one line without control characters"
	case len(v) > maxCapsValue:
		return fmt.Sprintf("longer than %d bytes", maxCapsValue)
	}
	return ""
}

// metricsKeys declares metrics.
func (c *Config) metricsKeys(s *section) {
	m := c.Metrics
	if m == nil {
		m = &Metrics{}
	}
	s.OptionalObject("metrics", c.Metrics != nil, func(s *section) {
		s.Require("listen", `the HTTP address to serve /metrics on, such as "127.0.0.1:9170"`)
		s.String("listen", &m.Listen, checkHostPort)
		s.Bool("public", &m.Public)
		s.Rule("listen", func() string {
			if checkHostPort(m.Listen) != "" {
				return ""
			}
			host, port, _ := net.SplitHostPort(m.Listen)
			if !m.Public && !loopbackHost(host) {
				return fmt.Sprintf(`%s is not a loopback address: metrics are for this machine unless "public": true`, quote(m.Listen))
			}
			for _, l := range c.Listen {
				if strconv.Itoa(l.Port) == port {
					return fmt.Sprintf("port %s is a Gopher listener's: metrics need a port of their own", port)
				}
			}
			return ""
		})
	})
	if c.Metrics == nil && s.Set("metrics") {
		c.Metrics = m
	}
}

// checkHostPort checks an address to listen on in host:port form.
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf(`invalid address %s: want host:port such as "127.0.0.1:9170" or "[::1]:9170"`, quote(s))
	}
	if host != "" && !validListenHost(host) {
		return fmt.Sprintf("invalid address %s: want an IP address or a host name", quote(s))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < minPort || n > maxPort {
		return fmt.Sprintf("invalid address %s: the port must be between %d and %d", quote(s), minPort, maxPort)
	}
	return ""
}

func validListenHost(h string) bool { return checkAddr(h) == "" }

// loopbackHost reports whether a listen host is this machine only.
func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}

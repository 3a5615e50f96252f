package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxFileSize bounds what Load reads; real configurations are a few hundred
// bytes, and a mistaken path (a log file, a device) must not eat memory.
const maxFileSize = 1 << 20

// Load reads the configuration file at path and parses it. It does not call
// Validate.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("load config %s: larger than %d bytes", path, maxFileSize)
	}
	return Parse(path, data)
}

// Key sets, per object. Order matters only for suggestions.
var (
	topKeys    = []string{"hostname", "root", "listen", "port", "public-port", "user", "log", "limits", "tls", "http-page"}
	listenKeys = []string{"addr", "port", "tls"}
	tlsKeys    = []string{"certificate", "key"}
	logKeys    = []string{"enable", "hide-ips", "hide-time", "level"}
	limitKeys  = []string{"request-bytes", "request-timeout", "idle-timeout", "max-connections", "max-connections-per-ip"}
)

// Parse reads a configuration from data; name is the file name used in
// messages and stored in Config.Source. Keys that are absent get
// spacecookie's defaults (see the package documentation). It checks syntax,
// types, unknown and duplicate keys and value ranges, and reports every
// problem it finds as an *Error; on error the Config is nil. It does not
// look at the file system: call Validate for that.
func Parse(name string, data []byte) (*Config, error) {
	tree, syntaxErr := decodeTree(name, data)
	if syntaxErr != nil {
		return nil, &Error{Problems: []Problem{*syntaxErr}}
	}
	p := &parser{file: name, where: &positions{lines: map[string]int{}}}
	c := fileDefaults(name)
	p.config(tree, c)
	if len(p.problems) > 0 {
		sortProblems(p.problems)
		return nil, &Error{Problems: p.problems}
	}
	c.Warnings = p.warnings
	c.where = p.where
	return c, nil
}

// sortProblems puts problems in file order, those without a line last.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		li, lj := ps[i].Line, ps[j].Line
		if li == 0 || lj == 0 {
			return lj == 0 && li != 0
		}
		return li < lj
	})
}

type parser struct {
	file     string
	problems []Problem
	warnings []Problem
	where    *positions
}

func (p *parser) errorf(line int, key, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(line int, key, format string, args ...any) {
	p.warnings = append(p.warnings, Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// fields indexes an object's keys, reporting unknown and duplicate keys.
// The first of duplicate keys is the one used. Null values are kept, so
// that callers can tell "null" from "absent" where it matters.
func (p *parser) fields(n *node, prefix string, known []string, nested map[string][]string) map[string]field {
	fs := make(map[string]field, len(n.fields))
	for _, f := range n.fields {
		path := keyPath(prefix, f.key)
		if first, dup := fs[f.key]; dup {
			p.errorf(f.line, path, "duplicate key (first set on line %d)", first.line)
			continue
		}
		fs[f.key] = f
		if !contains(known, f.key) {
			if s := suggest(f.key, known, nested); s != "" {
				p.errorf(f.line, path, "unknown key (did you mean %q?)", s)
			} else {
				p.errorf(f.line, path, "unknown key")
			}
		}
	}
	return fs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// present returns the field for key unless it is absent or null.
func present(fs map[string]field, key string) (field, bool) {
	f, ok := fs[key]
	if !ok || f.val.kind == kindNull {
		return field{}, false
	}
	return f, true
}

func (p *parser) wrongType(line int, path, want string, got kind) {
	p.errorf(line, path, "must be %s, got %s", want, got)
}

func (p *parser) asString(line int, path string, n *node) (string, bool) {
	if n.kind != kindString {
		p.wrongType(line, path, "a string", n.kind)
		return "", false
	}
	return n.text, true
}

func (p *parser) asBool(line int, path string, n *node) (bool, bool) {
	if n.kind != kindBool {
		p.wrongType(line, path, "true or false", n.kind)
		return false, false
	}
	return n.bool, true
}

// asInt reads a whole number in [lo, hi].
func (p *parser) asInt(line int, path string, n *node, lo, hi int) (int, bool) {
	if n.kind != kindNumber {
		p.wrongType(line, path, "a number", n.kind)
		return 0, false
	}
	v, err := strconv.Atoi(n.text)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			p.errorf(line, path, "must be between %d and %d, got %s", lo, hi, quoteNumber(n.text))
		} else {
			p.errorf(line, path, "must be a whole number, got %s", quoteNumber(n.text))
		}
		return 0, false
	}
	if v < lo || v > hi {
		p.errorf(line, path, "must be between %d and %d, got %d", lo, hi, v)
		return 0, false
	}
	return v, true
}

// quoteNumber shows a number literal; literals can be arbitrarily long.
func quoteNumber(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

func (p *parser) asDuration(line int, path string, n *node) (time.Duration, bool) {
	if n.kind != kindString {
		p.errorf(line, path, "must be a duration string such as \"10s\", got %s", n.kind)
		return 0, false
	}
	d, err := time.ParseDuration(n.text)
	if err != nil {
		p.errorf(line, path, "invalid duration %s", quote(n.text))
		return 0, false
	}
	if msg := checkTimeout(d); msg != "" {
		p.errorf(line, path, "%s", msg)
		return 0, false
	}
	return d, true
}

// config fills c from the top-level object.
func (p *parser) config(n *node, c *Config) {
	if n.kind != kindObject {
		p.errorf(n.line, "", "the configuration must be a JSON object, got %s", n.kind)
		return
	}
	fs := p.fields(n, "", topKeys, map[string][]string{
		"listen": listenKeys, "log": logKeys, "limits": limitKeys, "tls": tlsKeys,
	})
	lines := p.where.lines

	if f, ok := present(fs, "hostname"); ok {
		lines["hostname"] = f.line
		if s, ok := p.asString(f.line, "hostname", f.val); ok {
			if msg := checkHostname(s); msg != "" {
				p.errorf(f.line, "hostname", "%s", msg)
			}
			c.Hostname = s
		}
	}

	// root is required, as in spacecookie: serving some default directory
	// by accident is worse than refusing to start. Validate reports it when
	// absent, so that --root on the command line can supply it.
	if f, ok := present(fs, "root"); ok {
		lines["root"] = f.line
		if s, ok := p.asString(f.line, "root", f.val); ok {
			if msg := checkRoot(s); msg != "" {
				p.errorf(f.line, "root", "%s", msg)
			}
			c.Root = s
		}
	}

	p.listen(fs, c)

	if f, ok := present(fs, "public-port"); ok {
		lines["public-port"] = f.line
		if v, ok := p.asInt(f.line, "public-port", f.val, minPort, maxPort); ok {
			c.PublicPort = v
		}
	}

	if f, ok := present(fs, "user"); ok {
		lines["user"] = f.line
		if s, ok := p.asString(f.line, "user", f.val); ok {
			if msg := checkUser(s); msg != "" {
				p.errorf(f.line, "user", "%s", msg)
			}
			c.User = s
		}
	}

	if f, ok := present(fs, "log"); ok {
		p.log(f, c)
	}
	if f, ok := present(fs, "limits"); ok {
		p.limits(f, c)
	}
	if f, ok := present(fs, "tls"); ok {
		p.tls(f, c)
	}
	if f, ok := present(fs, "http-page"); ok {
		lines["http-page"] = f.line
		if v, ok := p.asBool(f.line, "http-page", f.val); ok {
			c.HTTPPage = v
		}
	}
	if !c.TLS.Enabled() {
		for i, l := range c.Listen {
			if l.TLS == TLSOnly {
				k := p.where.listenKeys[i] + ".tls"
				p.errorf(lines[k], k, "%s", tlsOnlyWithoutCert)
			}
		}
	}
}

// tls fills c.TLS from the tls object.
func (p *parser) tls(f field, c *Config) {
	if f.val.kind != kindObject {
		p.wrongType(f.line, "tls", "an object", f.val.kind)
		return
	}
	p.where.lines["tls"] = f.line
	fs := p.fields(f.val, "tls", tlsKeys, nil)
	var t TLS
	for _, k := range []struct {
		key string
		dst *string
	}{{"certificate", &t.Certificate}, {"key", &t.Key}} {
		path := "tls." + k.key
		vf, ok := present(fs, k.key)
		if !ok {
			p.errorf(f.line, path, "required key is missing (the PEM file with the %s)", tlsFileWhat(k.key))
			continue
		}
		p.where.lines[path] = vf.line
		if s, ok := p.asString(vf.line, path, vf.val); ok {
			if msg := checkPath(s); msg != "" {
				p.errorf(vf.line, path, "%s", msg)
			}
			*k.dst = s
		}
	}
	c.TLS = t
}

// tlsFileWhat says what each file of the tls section holds.
func tlsFileWhat(key string) string {
	if key == "key" {
		return "private key"
	}
	return "certificate chain"
}

// listen fills c.Listen from "listen" and the deprecated top-level "port".
func (p *parser) listen(fs map[string]field, c *Config) {
	lines := p.where.lines
	defaultPort := DefaultPort
	pf, portSet := present(fs, "port")
	if portSet {
		lines["port"] = pf.line
		if v, ok := p.asInt(pf.line, "port", pf.val, minPort, maxPort); ok {
			defaultPort = v
		}
	}

	type spec struct {
		obj  *node
		path string
		line int
	}
	var specs []spec
	lf, ok := present(fs, "listen")
	switch {
	case !ok:
		c.Listen = []Listen{{Addr: DefaultAddr, Port: defaultPort}}
		p.where.listenKeys = []string{"listen"}
		if portSet {
			p.warnf(pf.line, "port", "deprecated, use listen.port instead")
		}
		return
	case lf.val.kind == kindObject:
		specs = append(specs, spec{lf.val, "listen", lf.line})
	case lf.val.kind == kindList:
		if len(lf.val.elems) == 0 {
			p.errorf(lf.line, "listen", "must not be an empty list")
		}
		for i, e := range lf.val.elems {
			path := indexPath("listen", i)
			if e.kind != kindObject {
				p.wrongType(e.line, path, "an object", e.kind)
				continue
			}
			specs = append(specs, spec{e, path, e.line})
		}
	default:
		p.wrongType(lf.line, "listen", "an object or a list of objects", lf.val.kind)
		return
	}
	lines["listen"] = lf.line

	before := len(p.problems)
	allHavePort := len(specs) > 0
	for _, s := range specs {
		lfs := p.fields(s.obj, s.path, listenKeys, nil)
		l := Listen{Addr: DefaultAddr, Port: defaultPort}
		lines[s.path] = s.line
		if f, ok := present(lfs, "addr"); ok {
			path := s.path + ".addr"
			lines[path] = f.line
			if a, ok := p.asString(f.line, path, f.val); ok {
				if msg := checkAddr(a); msg != "" {
					p.errorf(f.line, path, "%s", msg)
				}
				l.Addr = a
			}
		}
		if f, ok := present(lfs, "port"); ok {
			path := s.path + ".port"
			lines[path] = f.line
			if v, ok := p.asInt(f.line, path, f.val, 0, maxPort); ok {
				l.Port = v
			}
		} else {
			allHavePort = false
		}
		if f, ok := present(lfs, "tls"); ok {
			path := s.path + ".tls"
			lines[path] = f.line
			if v, ok := p.asString(f.line, path, f.val); ok {
				if m, ok := parseTLSMode(v); ok {
					l.TLS = m
				} else {
					p.errorf(f.line, path, "%s", checkTLSMode(v))
				}
			}
		}
		c.Listen = append(c.Listen, l)
		p.where.listenKeys = append(p.where.listenKeys, s.path)
	}

	if portSet {
		if allHavePort {
			// spacecookie prefers listen.port too; say so rather than fail,
			// so that its configurations keep loading.
			p.warnf(pf.line, "port", "deprecated and ignored, because listen.port is set")
		} else {
			p.warnf(pf.line, "port", "deprecated, use listen.port instead")
		}
	}

	if len(p.problems) > before {
		return // a listener with a mistake would only collide by accident
	}
	for _, d := range duplicateListeners(c.Listen) {
		i, j := d[0], d[1]
		ki, kj := p.where.listenKeys[i], p.where.listenKeys[j]
		p.errorf(lines[kj], kj, "same address as %s (%s)", ki, c.Listen[i])
	}
}

func (p *parser) log(f field, c *Config) {
	if f.val.kind != kindObject {
		p.wrongType(f.line, "log", "an object", f.val.kind)
		return
	}
	fs := p.fields(f.val, "log", logKeys, nil)
	bools := []struct {
		key string
		dst *bool
	}{
		{"enable", &c.Log.Enable},
		{"hide-ips", &c.Log.HideIPs},
		{"hide-time", &c.Log.HideTime},
	}
	for _, b := range bools {
		if bf, ok := present(fs, b.key); ok {
			path := "log." + b.key
			p.where.lines[path] = bf.line
			if v, ok := p.asBool(bf.line, path, bf.val); ok {
				*b.dst = v
			}
		}
	}
	if lf, ok := present(fs, "level"); ok {
		p.where.lines["log.level"] = lf.line
		if s, ok := p.asString(lf.line, "log.level", lf.val); ok {
			if l, ok := normalizeLevel(s); ok {
				c.Log.Level = l
			} else {
				p.errorf(lf.line, "log.level", "%s", checkLevel(s))
			}
		}
	}
}

func (p *parser) limits(f field, c *Config) {
	if f.val.kind != kindObject {
		p.wrongType(f.line, "limits", "an object", f.val.kind)
		return
	}
	fs := p.fields(f.val, "limits", limitKeys, nil)
	ints := []struct {
		key string
		hi  int
		dst *int
	}{
		{"request-bytes", MaxRequestBytes, &c.Limits.RequestBytes},
		{"max-connections", maxCount, &c.Limits.MaxConnections},
		{"max-connections-per-ip", maxCount, &c.Limits.MaxConnectionsPerIP},
	}
	for _, i := range ints {
		if vf, ok := present(fs, i.key); ok {
			path := "limits." + i.key
			p.where.lines[path] = vf.line
			if v, ok := p.asInt(vf.line, path, vf.val, 1, i.hi); ok {
				*i.dst = v
			}
		}
	}
	durs := []struct {
		key string
		dst *time.Duration
	}{
		{"request-timeout", &c.Limits.RequestTimeout},
		{"idle-timeout", &c.Limits.IdleTimeout},
	}
	for _, d := range durs {
		if vf, ok := present(fs, d.key); ok {
			path := "limits." + d.key
			p.where.lines[path] = vf.line
			if v, ok := p.asDuration(vf.line, path, vf.val); ok {
				*d.dst = v
			}
		}
	}
}

// suggest returns the known key that an unknown key was probably meant to
// be, or "". nested lists the keys of sub-objects, so that a top-level
// "level" can point to "log.level".
func suggest(key string, known []string, nested map[string][]string) string {
	norm := strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(key))
	for _, k := range known {
		if norm == k {
			return k
		}
	}
	// Nested exact matches first: "level" at the top is surely log.level.
	parents := make([]string, 0, len(nested))
	for parent := range nested {
		parents = append(parents, parent)
	}
	sort.Strings(parents)
	for _, parent := range parents {
		for _, k := range nested[parent] {
			if norm == k {
				return parent + "." + k
			}
		}
	}
	best, bestDist := "", 3
	if len(norm) > 64 {
		return ""
	}
	for _, k := range known {
		// Only suggest when the typo is small relative to the word.
		if d := editDistance(norm, k); d < bestDist && d < len(k)/2 {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

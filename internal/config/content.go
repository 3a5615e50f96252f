package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Gophermap is the gophermap section: the dialect a host's gophermaps are
// read in. The zero Gophermap reads every map as Bucktooth, as gopherd
// always has.
type Gophermap struct {
	// Dialect reads the host's maps.
	Dialect Dialect
	// Dialects chooses another dialect for the directories under a
	// selector prefix ("/~alice/"), the longest prefix winning. Values
	// are dialect names as the file spells them; nil = none.
	Dialects map[string]string
}

func (g *Gophermap) clone() *Gophermap {
	if g == nil {
		return nil
	}
	d := *g
	d.Dialects = maps.Clone(g.Dialects)
	return &d
}

// Dialect names the syntax gophermaps are written in.
type Dialect int

// The dialects, spelled "bucktooth" and "gophernicus" in the file.
const (
	// DialectBucktooth is the Bucktooth core that Bucktooth, pygopherd,
	// Gophernicus and spacecookie all read (the default).
	DialectBucktooth Dialect = iota
	// DialectGophernicus adds Gophernicus' directives: # comments, !
	// titles, - hidden entries, * the appended listing, :ext=type, =
	// includes, ~ and %.
	DialectGophernicus
)

var dialectNames = [...]string{DialectBucktooth: "bucktooth", DialectGophernicus: "gophernicus"}

// String returns the dialect as the file spells it.
func (d Dialect) String() string {
	if d >= 0 && int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// ParseDialect reads a dialect as the file spells it.
func ParseDialect(s string) (Dialect, bool) {
	i := slices.Index(dialectNames[:], s)
	return Dialect(i), i >= 0
}

// UnmarshalText reads a dialect as the file spells it.
func (d *Dialect) UnmarshalText(b []byte) error {
	v, ok := ParseDialect(string(b))
	if !ok {
		return fmt.Errorf(`unknown dialect %s (want "bucktooth" or "gophernicus")`, quote(string(b)))
	}
	*d = v
	return nil
}

func (d Dialect) validate() string {
	if d < 0 || int(d) >= len(dialectNames) {
		return fmt.Sprintf("unknown dialect %d", int(d))
	}
	return ""
}

// TextMode says how text files (items of type 0) are sent.
type TextMode int

// The text modes, spelled "raw" and "rfc1436" in the file.
const (
	// TextRaw sends them byte-exact, as every modern server does (the
	// default).
	TextRaw TextMode = iota
	// TextRFC1436 sends them as RFC 1436 text: CRLF line endings, a
	// leading "." doubled, a final newline added, then "." CRLF.
	TextRFC1436
)

var textModeNames = [...]string{TextRaw: "raw", TextRFC1436: "rfc1436"}

// String returns the mode as the file spells it.
func (m TextMode) String() string {
	if m >= 0 && int(m) < len(textModeNames) {
		return textModeNames[m]
	}
	return fmt.Sprintf("TextMode(%d)", int(m))
}

// ParseTextMode reads a mode as the file spells it.
func ParseTextMode(s string) (TextMode, bool) {
	i := slices.Index(textModeNames[:], s)
	return TextMode(i), i >= 0
}

// UnmarshalText reads a mode as the file spells it.
func (m *TextMode) UnmarshalText(b []byte) error {
	v, ok := ParseTextMode(string(b))
	if !ok {
		return fmt.Errorf(`unknown text mode %s (want "raw" or "rfc1436")`, quote(string(b)))
	}
	*m = v
	return nil
}

func (m TextMode) validate() string {
	if m < 0 || int(m) >= len(textModeNames) {
		return fmt.Sprintf("unknown text mode %d", int(m))
	}
	return ""
}

// GopherPlus says how requests carrying a Gopher+ marker are answered.
type GopherPlus int

// The modes of gopher-plus, spelled "on" and "off".
const (
	// GopherPlusOn answers "$", "!" and "+" requests with minimal Gopher+
	// replies, as the UMN client needs (the default).
	GopherPlusOn GopherPlus = iota
	// GopherPlusOff answers them as plain requests, as gopherd did before.
	GopherPlusOff
)

var gopherPlusNames = [...]string{GopherPlusOn: "on", GopherPlusOff: "off"}

// String returns the mode as the file spells it.
func (g GopherPlus) String() string {
	if g >= 0 && int(g) < len(gopherPlusNames) {
		return gopherPlusNames[g]
	}
	return fmt.Sprintf("GopherPlus(%d)", int(g))
}

// UnmarshalText reads a mode as the file spells it.
func (g *GopherPlus) UnmarshalText(b []byte) error {
	i := slices.Index(gopherPlusNames[:], string(b))
	if i < 0 {
		return fmt.Errorf(`unknown mode %s (want "on" or "off")`, quote(string(b)))
	}
	*g = GopherPlus(i)
	return nil
}

func (g GopherPlus) validate() string {
	if g < 0 || int(g) >= len(gopherPlusNames) {
		return fmt.Sprintf("unknown mode %d", int(g))
	}
	return ""
}

// contentKeys declares the keys of how a host presents its files
// (gophermap, text-mode, text-mode-paths), read into **gm, **tm and *paths.
// At the top level gm and tm point at the Config's own fields. In a vhost
// they start nil and stay nil when the file leaves the key out (and paths
// too): the host then has the top-level value (Hosts fills it in).
func contentKeys(s *section, gm **Gophermap, tm **TextMode, paths *map[string]string) {
	g := *gm
	if g == nil {
		g = &Gophermap{}
	}
	s.OptionalObject("gophermap", *gm != nil, func(s *section) {
		s.Text("dialect", &g.Dialect)
		s.StringMap("dialects", &g.Dialects, func(prefix, name string) string {
			if msg := checkPrefix(prefix); msg != "" {
				return msg
			}
			if _, ok := ParseDialect(name); !ok {
				return fmt.Sprintf(`unknown dialect %s (want "bucktooth" or "gophernicus")`, quote(name))
			}
			return ""
		})
	})
	if *gm == nil && s.Set("gophermap") {
		*gm = g
	}
	m := *tm
	if m == nil {
		m = new(TextMode)
	}
	s.Text("text-mode", m)
	if *tm == nil && s.Set("text-mode") {
		*tm = m
	}
	s.StringMap("text-mode-paths", paths, func(prefix, mode string) string {
		if msg := checkPrefix(prefix); msg != "" {
			return msg
		}
		if _, ok := ParseTextMode(mode); !ok {
			return fmt.Sprintf(`unknown text mode %s (want "raw" or "rfc1436")`, quote(mode))
		}
		return ""
	})
}

// checkPrefix checks a selector prefix of dialects and text-mode-paths.
func checkPrefix(p string) string {
	switch {
	case p == "" || p[0] != '/':
		return fmt.Sprintf(`invalid prefix %s: a selector starting with "/"`, quote(p))
	case strings.ContainsAny(p, "\t\r\n\x00"):
		return fmt.Sprintf(`invalid prefix %s: must not contain TAB, CR, LF or NUL`, quote(p))
	}
	return ""
}

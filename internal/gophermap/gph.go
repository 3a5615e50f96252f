package gophermap

import (
	"strings"

	"gopherd/internal/gopher"
)

// GPH is the dialect of geomyidae's .gph files, as geomyidae(8) describes
// them and its parser reads them:
//
//   - A line starting with "[" is a link, [type|display|selector|host|port]:
//     fields are split at every "|" not preceded by a backslash (a "\|" is
//     a "|" inside a field; other backslashes are themselves), the last
//     field ends at its first "]", and anything after that "]" is ignored.
//     The type is the first byte of its field.
//   - A host "server" is this server's name and a port "port" its port; an
//     empty host or port means the same (geomyidae writes them empty).
//   - A selector starting with "/" is used as written; so are the selectors
//     of types whose selector is not a path ("i", "2", "3", "8", "w", "T",
//     and "h" with "URL:"). Any other selector is relative to the .gph
//     file's directory and joined to it (geomyidae resolves it through the
//     file system with realpath; gopherd joins it lexically, like every
//     relative selector, whether or not the target exists).
//   - Every other line is info text, byte for byte, except that a leading
//     "t" is dropped: "t[not a link" shows "[not a link", and "text" shows
//     "ext", as in geomyidae. "[|" at the start of a line is the newer
//     escape of geomyidae's manual: "[|[x" shows "[x".
//   - A line starting with "[" that is not exactly five fields and a "]" is
//     shown as text, as geomyidae does, with a warning.
//   - A line holding a TAB is bad (geomyidae shows an error line instead):
//     it is skipped with a warning. So is a link whose port is not a number
//     from 1 to 65535, or whose type is not a printable ASCII character.
//
// There is no end line: a lone "." is text. Includes, listings and titles
// are not part of the format.
type GPH struct{}

var _ Dialect = GPH{}

// gphFields is the number of fields of a .gph link.
const gphFields = 5

// Classify implements Dialect.
func (GPH) Classify(l Line, warn func(Warning)) (Entry, Kind) {
	text, skipped := trimLine(l)
	if i := strings.IndexByte(text, '\t'); i >= 0 {
		return skip(l, RuleType, skipped+i+1, "a .gph line may not hold a TAB", warn)
	}
	text = replaceCR(l, text, skipped, warn)
	info := Entry{Line: l.Num, Type: gopher.TypeInfo}
	switch {
	case strings.HasPrefix(text, "[|"):
		info.Display = text[2:]
		return info, KindItem
	case strings.HasPrefix(text, "["):
		e, ok := gphLink(text)
		if !ok {
			if warn != nil {
				warn(Warning{Line: l.Num, Col: skipped + 1, Rule: RuleSpaces, Msg: `starts with "[" but is not a [type|display|selector|host|port] link: shown as text (write "t[" for text starting with "[")`})
			}
			info.Display = text
			return info, KindItem
		}
		e.Line = l.Num
		if t := e.Type; t <= ' ' || t >= 0x7f {
			return skip(l, RuleType, skipped+2, `item type "`+gopher.Quote(string(t), 1)+`" is not a printable ASCII character`, warn)
		}
		if e.Port < 0 {
			return skip(l, RulePort, skipped+1, `port "`+gopher.Quote(e.Arg, quoteMax)+`" is not a number from 1 to 65535, "port" or empty`, warn)
		}
		return e, KindItem
	case strings.HasPrefix(text, "t"):
		info.Display = text[1:]
		return info, KindItem
	}
	info.Display = text
	return info, KindItem
}

// gphLink parses a line starting with "[". ok is false when it is not a
// well-formed link. A port that does not parse is returned as Port -1,
// with the port as written in Arg.
func gphLink(text string) (e Entry, ok bool) {
	var fields [gphFields]string
	n := 0
	rest := text[1:]
	var b strings.Builder
	for {
		i := strings.IndexByte(rest, '|')
		if i < 0 {
			break
		}
		if i > 0 && rest[i-1] == '\\' {
			// An escaped "|": part of the field.
			b.WriteString(rest[:i-1])
			b.WriteByte('|')
			rest = rest[i+1:]
			continue
		}
		if n == gphFields {
			return e, false
		}
		b.WriteString(rest[:i])
		fields[n] = b.String()
		b.Reset()
		n++
		rest = rest[i+1:]
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 || n != gphFields-1 {
		return e, false
	}
	b.WriteString(rest[:end])
	fields[n] = b.String()
	if fields[0] == "" {
		return e, false
	}
	e = Entry{Type: gopher.ItemType(fields[0][0]), Display: fields[1], Selector: fields[2], HasSelector: true}
	if e.Type == gopher.TypeInfo {
		return Entry{Type: gopher.TypeInfo, Display: e.Display}, true
	}
	if h := fields[3]; h != "" && h != "server" {
		e.Host, e.HasHost = h, true
	}
	if p := strings.Trim(fields[4], " "); p != "" && p != "port" {
		port, ok := parsePort(p)
		if !ok {
			port, e.Arg = -1, p
		}
		e.Port, e.HasPort = port, true
	}
	switch e.Type {
	case '2', '3', '8', 'w', 'T':
		e.Literal = true
	}
	return e, true
}

package gophermap

import (
	"bytes"
	"strings"

	"gopherd/internal/gopher"
)

// utf8BOM is dropped from the start of a map; see the package comment.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// quoteMax bounds how much of an offending field a warning quotes, so one
// absurd line cannot flood the log.
const quoteMax = 40

// Parse splits a gophermap into entries, one per line that is not bad. It
// takes bytes rather than a string so that files in any encoding pass
// unchanged. Bad lines are left out and reported as warnings; Parse never
// fails as a whole.
func Parse(data []byte) ([]Entry, []Warning) {
	// One conversion for the whole file: every field is then a substring of
	// it, instead of one allocation per line.
	text := string(bytes.TrimPrefix(data, utf8BOM))
	// Counting newlines first is cheap (vectorised) and saves regrowing the
	// slice for large maps.
	entries := make([]Entry, 0, strings.Count(text, "\n")+1)
	var warnings []Warning
	for n := 1; len(text) > 0; n++ {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "." {
			break
		}
		if strings.IndexByte(line, '\r') >= 0 {
			line = strings.ReplaceAll(line, "\r", " ")
			warnings = append(warnings, Warning{n, "carriage return inside the line replaced by a space"})
		}
		e, msg := parseLine(line)
		if msg != "" {
			warnings = append(warnings, Warning{n, msg + "; line skipped"})
			continue
		}
		e.Line = n
		entries = append(entries, e)
	}
	return entries, warnings
}

// parseLine parses one line (no line ending, no CR). A non-empty msg means
// the line is bad and says why.
func parseLine(line string) (e Entry, msg string) {
	tab := strings.IndexByte(line, '\t')
	if tab < 0 {
		return Entry{Type: gopher.TypeInfo, Display: line}, ""
	}
	if tab == 0 {
		return e, "line starts with a TAB: no item type and no display string"
	}
	t := line[0]
	if t <= ' ' || t >= 0x7f {
		return e, `item type "` + gopher.Quote(line[:1], 1) + `" is not a printable ASCII character (text lines may not contain a TAB)`
	}
	e = Entry{Type: gopher.ItemType(t), Display: line[1:tab]}
	rest := line[tab+1:]
	if rest == "" {
		// "Tdisplay<TAB>": the display string is the selector.
		if e.Display == "" && e.Type != gopher.TypeInfo {
			return e, "link has neither a display string nor a selector"
		}
		return e, ""
	}
	var more bool
	e.Selector, rest, more = strings.Cut(rest, "\t")
	e.HasSelector = true
	if !more {
		return e, ""
	}
	e.Host, rest, more = strings.Cut(rest, "\t")
	e.HasHost = e.Host != ""
	if !more {
		return e, ""
	}
	port, extra, more := strings.Cut(rest, "\t")
	if more {
		e.Extra = extra
	}
	if port = strings.Trim(port, " "); port != "" {
		p, ok := parsePort(port)
		switch {
		case ok:
			e.Port, e.HasPort = p, true
		case e.Type == gopher.TypeInfo:
			// The fields of an info line are ignored anyway; menus copied
			// from live servers hold junk there.
		default:
			return e, `port "` + gopher.Quote(port, quoteMax) + `" is not a number from 1 to 65535`
		}
	}
	return e, ""
}

// parsePort accepts only ASCII digits (no sign, unlike strconv.Atoi) with a
// value from 1 to 65535.
func parsePort(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, false
		}
	}
	return n, n > 0
}

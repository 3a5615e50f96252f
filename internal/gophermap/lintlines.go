package gophermap

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopherd/internal/gopher"
)

// The checks of single lines that both Lint and the renderer's warnings
// use (GM001, GM003, GM011), and the small helpers of the other rules.

// spacesMessage is GM001's message.
const spacesMessage = "visitors see this line as plain text, not as a link: put one TAB, not spaces, between the display string and the selector (and between selector, host and port)"

// spacedLink reports whether a TAB-less line looks like a link typed with
// spaces where its TABs belong: a known item type (not info or error), a
// display string right after it, a run of two or more spaces, and a
// path-like token (then perhaps a host name and a port, each after such a
// run), as in "0About  about.txt". col is the 1-based column of the run of
// spaces where the first TAB belongs. The shape is strict on purpose: a
// text line that merely starts with a type letter ("I  am here") is not a
// link.
func spacedLink(text string) (col int, ok bool) {
	if len(text) < 4 || text[1] == ' ' {
		return 0, false
	}
	switch t := gopher.ItemType(text[0]); {
	case !t.Known(), t == gopher.TypeInfo, t == gopher.TypeError:
		return 0, false
	}
	body := strings.TrimRight(text, " ")
	var fields []string
	var seps []int // where the run of spaces before fields[i+1] starts
	start := 1
	for i := 1; i < len(body); {
		if body[i] != ' ' || body[i+1] != ' ' {
			i++
			continue
		}
		j := i
		for body[j] == ' ' {
			j++
		}
		fields = append(fields, body[start:i])
		seps = append(seps, i)
		start, i = j, j
	}
	fields = append(fields, body[start:])
	if len(fields) < 2 || len(fields) > 4 || !hasAlnum(fields[0]) || !pathLike(fields[1]) {
		return 0, false
	}
	if len(fields) >= 3 && !hostLike(fields[2]) {
		return 0, false
	}
	if len(fields) == 4 {
		if _, ok := parsePort(fields[3]); !ok {
			return 0, false
		}
	}
	return seps[0] + 1, true
}

// pathLike reports whether s reads as a selector: one token, with a
// letter or digit, that is rooted, relative with a slash, a URL: selector
// or a file name with a common extension.
func pathLike(s string) bool {
	if s == "/" {
		return true
	}
	if strings.ContainsRune(s, ' ') || !hasAlnum(s) || strings.ContainsRune(s, '@') {
		return false
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "URL:") || strings.HasPrefix(s, "~") || strings.Contains(s, "/") {
		return true
	}
	i := strings.LastIndexByte(s, '.')
	if i <= 0 {
		return false
	}
	switch strings.ToLower(s[i+1:]) {
	case "txt", "text", "md", "gph", "gmi", "htm", "html", "pdf", "ps", "epub", "doc", "docx", "odt", "rtf",
		"png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "zip", "gz", "tgz", "tar", "bz2", "xz", "7z",
		"mp3", "ogg", "flac", "wav", "mp4", "mkv", "webm", "avi", "csv", "json", "xml", "iso", "bin", "exe":
		return true
	}
	return false
}

// hostLike reports whether s reads as a host name or address.
func hostLike(s string) bool {
	if s == "localhost" {
		return true
	}
	if !strings.ContainsAny(s, ".:") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '_') {
			return false
		}
	}
	return true
}

func hasAlnum(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

// trailingTabText reports whether a line is text that ends in a TAB and so
// became a link: its one TAB is its last byte, its display string holds a
// space, and its type is not an error item's (which clients show as text
// anyway). "1src<TAB>" is no such line: Bucktooth's way of writing a link
// whose display string is its selector, and selectors rarely hold spaces;
// nor is "1Home<TAB><TAB>", whose empty selector is the root. col is the
// column of the TAB.
func trailingTabText(text string) (col int, ok bool) {
	i := strings.IndexByte(text, '\t')
	if i <= 0 || i != len(text)-1 || gopher.ItemType(text[0]) == gopher.TypeError || !strings.ContainsRune(text[1:i], ' ') {
		return 0, false
	}
	return i + 1, true
}

// trailingTabMessage is GM003's message for entry e.
func trailingTabMessage(e Entry) string {
	return `visitors see "` + quote(e.Display) + `" as a link of type "` + quote(string(rune(e.Type))) + `", not as text, because the line ends in a TAB: remove the trailing TAB (or, for a link, write its selector after the TAB)`
}

// linesWithText counts the lines of text that hold more than whitespace.
func linesWithText(text string) int {
	n := 0
	for l := range Lines(text) {
		if strings.TrimSpace(l.Text) != "" {
			n++
		}
	}
	return n
}

// cutMessage is GM011's message for a map cut with n lines of text after
// the cut.
func cutMessage(n int) string {
	lines := strconv.Itoa(n) + " lines"
	if n == 1 {
		lines = "line"
	}
	return `visitors never see the ` + lines + ` of text after this ".", which ends the map: remove the "." line, or move it to the end`
}

// listingCutMessage is GM011's message for a Gophernicus "*" line with n
// lines of text after it.
func listingCutMessage(n int) string {
	lines := strconv.Itoa(n) + " lines"
	if n == 1 {
		lines = "line"
	}
	return `visitors never see the ` + lines + ` of text after this "*", which ends the map and appends the directory's listing: move them above it`
}

// columns returns how many columns s takes on a terminal, counted in
// characters (a byte that is not UTF-8 counts as one) with TABs expanded
// to the next multiple of 8, and the byte offset in s of the first
// character past width columns, or -1 when s fits.
func columns(s string, width int) (cols, over int) {
	over = -1
	for i, r := range s {
		if r == '\t' {
			cols = (cols/8 + 1) * 8
		} else {
			cols++
		}
		if cols > width && over < 0 {
			over = i
		}
	}
	return cols, over
}

// fieldCols returns the 1-based columns of a link line's fields: [0] the
// display string, [1] the selector, [2] the host, [3] the port, [4] the
// first field after the port; a field that is not there gets the column
// just past the line. skip is added to each.
func (lt *linter) fieldCols(text string, skip int) [5]int {
	var cols [5]int
	cols[0] = skip + 2
	n, from := 1, 0
	sep := func(rest string) int { return strings.IndexByte(rest, '\t') }
	if !lt.set.tabs {
		// [type|display|selector|host|port]: fields after the type,
		// split at each "|" that is not escaped.
		sep = func(rest string) int {
			for i := 0; i < len(rest); i++ {
				if rest[i] == '|' && (i == 0 || rest[i-1] != '\\') {
					return i
				}
			}
			return -1
		}
		n, cols[0] = 0, skip+len(text)+1
		if i := sep(text); strings.HasPrefix(text, "[") && i >= 0 {
			from = i + 1
			cols[0] = skip + from + 1
			n = 1
		}
	}
	for n > 0 && n < len(cols) {
		i := sep(text[from:])
		if i < 0 {
			break
		}
		from += i + 1
		cols[n] = skip + from + 1
		n++
	}
	for ; n < len(cols); n++ {
		if n > 0 {
			cols[n] = skip + len(text) + 1
		}
	}
	return cols
}

// edgeSpace returns the byte offset in s of whitespace at its start or its
// end, ok false when there is none.
func edgeSpace(s string) (at int, ok bool) {
	if s == "" {
		return 0, false
	}
	if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
		return 0, true
	}
	end := len(s)
	for end > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	return end, end < len(s)
}

// invalidAt returns the offset of the first byte of s that is not UTF-8.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return 0
}

// endingName names a line ending.
func endingName(end string) string {
	if end == "\r\n" {
		return "CRLF"
	}
	return "LF"
}

// quote is s made safe and short for a message.
func quote(s string) string { return gopher.Quote(s, quoteMax) }

// serveWarnings are the lint findings the renderer reports as warnings,
// once per version of a map, because a visitor sees a broken menu without
// any line being skipped: a link typed with spaces (GM001), text turned
// into a link by a trailing TAB (GM003), a map cut by a lone "." (GM011).
// src is the whole map; l is one line of it as d classified it.
func serveWarnings(src string, l Line, e Entry, k Kind, warn func(Warning)) {
	text, skip := trimLine(l)
	switch k {
	case KindEnd:
		// A lone "."; Gophernicus' other "." lines have their
		// dialect's own warning.
		if text == "." {
			if n := linesWithText(src[l.Off+len(l.Text)+len(l.End):]); n > 0 {
				warn(Warning{Line: l.Num, Col: skip + 1, Rule: RuleCut, Msg: cutMessage(n)})
			}
		}
	case KindListing:
		if n := linesWithText(src[l.Off+len(l.Text)+len(l.End):]); n > 0 {
			warn(Warning{Line: l.Num, Col: skip + 1, Rule: RuleCut, Msg: listingCutMessage(n)})
		}
	case KindItem:
		if e.Type == gopher.TypeInfo {
			if strings.IndexByte(text, '\t') < 0 {
				if col, ok := spacedLink(text); ok {
					warn(Warning{Line: l.Num, Col: skip + col, Rule: RuleSpaces, Msg: spacesMessage})
				}
			}
		} else if col, ok := trailingTabText(text); ok {
			warn(Warning{Line: l.Num, Col: skip + col, Rule: RuleTrailingTab, Msg: trailingTabMessage(e)})
		}
	}
}

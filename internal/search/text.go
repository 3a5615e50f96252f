package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Column budgets of the menu lines.
const (
	titleCols   = 67 // a result's title, as Gophernicus and most clients expect
	queryCols   = 70 // the query repeated in the "N results" line
	snippetCols = 70 // a result's snippet line
	// snippetLead is how many characters before the hit a snippet shows
	// at most, so that the hit itself is always within the line.
	snippetLead = 24
)

const ellipsis = "…"

// unsafeRune reports whether r must not reach a menu line as it is: control
// characters (C0, DEL, C1: TAB, CR and LF among them, and terminal escapes),
// the Unicode line and paragraph separators, and the bidirectional controls
// (Unicode's Bidi_Control: embeddings, overrides, isolates and the marks
// U+061C, U+200E, U+200F) that can make a line display as something else.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u061c' && unicode.Is(unicode.Bidi_Control, r):
		return true
	}
	return false
}

// clean replaces every unsafe character in s with a space and every byte
// that is not UTF-8 with "?". Whatever a client or a file holds, the result
// cannot break out of a menu field.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte('?')
		case unsafeRune(r):
			b.WriteByte(' ')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// collapse turns every run of white space in s into one space and trims
// both ends.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// runeWidth is how many terminal columns r takes: 0 for combining marks, 2
// for the East Asian wide and full-width ranges (and the emoji blocks), 1
// otherwise.
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me), r == '\u200b', r == '\u200c', r == '\u200d':
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0x303e, r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf, r >= 0x4e00 && r <= 0x9fff, r >= 0xa000 && r <= 0xa4cf,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6, r >= 0x1f300 && r <= 0x1f64f,
		r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// cut returns s when it fits in cols columns, else its longest prefix that
// fits in cols-1 followed by "…".
func cut(s string, cols int) string {
	w := 0
	fit := -1 // where the prefix that leaves room for the ellipsis ends
	for i, r := range s {
		rw := runeWidth(r)
		if w+rw > cols-1 && fit < 0 {
			fit = i
		}
		w += rw
		if w > cols {
			return s[:fit] + ellipsis
		}
	}
	return s
}

// titleOf is a document's title: its first non-blank line, else name, made
// safe and cut to titleCols.
func titleOf(text, name string) string {
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if t := collapse(clean(line)); t != "" {
			return cut(t, titleCols)
		}
	}
	t := collapse(clean(name))
	if t == "" {
		t = "/"
	}
	return cut(t, titleCols)
}

// firstHit returns the byte offset of the first occurrence of any of terms
// in text, knowing that it lies in offsetBlock blk (noOffset: no hit, 0).
// It scans that block only, from the start of the term the block begins
// in. When the text holds nothing there (it cannot, for the index's own
// text) the block's start is returned.
func firstHit(text string, blk uint32, terms []qterm) int {
	if blk == noOffset || len(terms) == 0 {
		return 0
	}
	start := int(blk) * offsetBlock
	if start >= len(text) {
		return 0
	}
	for start > 0 {
		if c := text[start-1]; c < utf8.RuneSelf {
			if foldASCII(c) == 0 {
				break
			}
			start--
			continue
		}
		r, size := utf8.DecodeLastRuneInString(text[:start])
		if r < utf8.RuneSelf && foldASCII(byte(r)) == 0 || r >= utf8.RuneSelf && !inTerm(r) {
			break
		}
		start -= size
	}
	end := min(len(text), int(blk)*offsetBlock+offsetBlock+(maxTermRunes+1)*utf8.UTFMax)
	found := -1
	tokenize(text[start:end], nil, func(t []byte, runes, s, _ int) bool {
		if !validTerm(runes) {
			return true
		}
		for _, q := range terms {
			if q.prefix && len(t) >= len(q.text) && string(t[:len(q.text)]) == q.text || string(t) == q.text {
				found = start + s
				return false
			}
		}
		return true
	})
	if found < 0 {
		return int(blk) * offsetBlock
	}
	return found
}

// snippet is the info line shown under a result: the text around byte
// offset start, from the start of the hit's line or a word boundary at most
// snippetLead characters before it, white space collapsed, made safe and
// cut to snippetCols.
func snippet(text string, start int) string {
	start = min(max(start, 0), len(text))
	b := start
	for k := 0; k < snippetLead && b > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(text[:b])
		if text[b-1] == '\n' {
			break
		}
		b -= size
	}
	lead := b > 0 && text[b-1] != '\n'
	if lead {
		// Start after a space rather than inside a word.
		if i := strings.IndexAny(text[b:start], " \t"); i >= 0 {
			b += i + 1
		}
	}
	prefix := ""
	if lead {
		prefix = ellipsis
	}
	return line(prefix, text[b:], snippetCols)
}

// line returns prefix followed by as much of s as fits in cols columns in
// all, white space collapsed and trimmed, unsafe characters and bytes that
// are not UTF-8 made spaces and "?", ending in "…" when s is cut. It reads
// only as much of s as it shows.
func line(prefix, s string, cols int) string {
	var b strings.Builder
	b.Grow(len(prefix) + cols + 8)
	b.WriteString(prefix)
	w := 0
	for _, r := range prefix {
		w += runeWidth(r)
	}
	// fit is where the text may be cut to leave room for the ellipsis.
	fit := -1
	space := false
	for i := 0; i < len(s); {
		var r rune
		var cw int
		if c := s[i]; c < utf8.RuneSelf {
			// ASCII: one column, or white space if it is a control byte.
			i++
			if c <= ' ' || c == 0x7f {
				space = b.Len() > len(prefix)
				continue
			}
			r, cw = rune(c), 1
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
			switch {
			case r == utf8.RuneError && size == 1:
				r = '?'
			case unicode.IsSpace(r) || unsafeRune(r):
				space = b.Len() > len(prefix)
				continue
			}
			cw = runeWidth(r)
		}
		add := cw
		if space {
			add++
		}
		if w+add > cols-1 && fit < 0 {
			fit = b.Len()
		}
		if w+add > cols {
			return b.String()[:fit] + ellipsis
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		w += add
	}
	return b.String()
}

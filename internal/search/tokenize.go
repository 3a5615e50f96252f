package search

import (
	"unicode"
	"unicode/utf8"
)

// Terms are runs of Unicode letters and digits (and the combining marks
// that belong to them: without them every Devanagari or decomposed accented
// word would fall apart), case-folded, from minTermRunes to maxTermRunes
// characters long.
const (
	minTermRunes = 2
	maxTermRunes = 40
)

// foldASCII returns the folded form of ASCII byte c when it belongs to a
// term, 0 when it separates terms.
func foldASCII(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return c
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	}
	return 0
}

// startsTerm reports whether non-ASCII rune r can start a term.
func startsTerm(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// inTerm reports whether non-ASCII rune r can continue a term.
func inTerm(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// foldRune is simple case folding: through upper case and back, so that
// the Kelvin sign and "k", final and medial sigma, "ſ" and "s" meet.
func foldRune(r rune) rune {
	return unicode.ToLower(unicode.ToUpper(r))
}

// tokenize calls fn for every run of term characters in text: its folded
// bytes (valid only during the call; at most maxTermRunes+1 characters are
// kept, so a longer run is recognisable by runes alone), its length in
// characters and its byte range in text, until fn returns false. Callers
// decide what the length allows. buf is scratch space, returned for reuse.
func tokenize(text string, buf []byte, fn func(term []byte, runes, start, end int) bool) []byte {
	i, n := 0, len(text)
	for i < n {
		if c := text[i]; c < utf8.RuneSelf {
			if foldASCII(c) == 0 {
				i++
				continue
			}
		} else {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !startsTerm(r) {
				i += size
				continue
			}
		}
		start := i
		buf = buf[:0]
		runes := 0
		for i < n {
			c := text[i]
			if c < utf8.RuneSelf {
				f := foldASCII(c)
				if f == 0 {
					break
				}
				if runes <= maxTermRunes {
					buf = append(buf, f)
				}
				i++
				runes++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if !inTerm(r) {
				break
			}
			if runes <= maxTermRunes {
				buf = utf8.AppendRune(buf, foldRune(r))
			}
			i += size
			runes++
		}
		if !fn(buf, runes, start, i) {
			break
		}
	}
	return buf
}

// validTerm reports whether a run of runes characters is a term.
func validTerm(runes int) bool {
	return runes >= minTermRunes && runes <= maxTermRunes
}

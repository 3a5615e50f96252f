package gophermap

import (
	"iter"
	"strings"
)

// Line is one line of a map exactly as the file holds it, before any dialect
// gives it a meaning. Lint rules read these; dialects classify them.
type Line struct {
	// Num is the 1-based line number.
	Num int
	// Off is the byte offset of the line's first byte in the file.
	Off int
	// Text is the line without its ending, byte for byte: a UTF-8 byte
	// order mark at the start of line 1, a stray CR and bytes of any
	// encoding are all still there. Column n of the line is Text[n-1].
	Text string
	// End is the line ending as written: "\n", "\r\n", or "" for a last
	// line without one.
	End string
}

// Lines yields the lines of text in order. An empty text has no lines; a
// final line ending does not start another line. Each Line's Text is a
// substring of text: nothing is copied.
func Lines(text string) iter.Seq[Line] {
	return func(yield func(Line) bool) {
		off := 0
		for n := 1; off < len(text); n++ {
			l := Line{Num: n, Off: off}
			rest := text[off:]
			i := strings.IndexByte(rest, '\n')
			if i < 0 {
				l.Text = rest
			} else {
				l.Text, l.End = rest[:i], "\n"
				if i > 0 && rest[i-1] == '\r' {
					l.Text, l.End = rest[:i-1], "\r\n"
				}
			}
			off += len(l.Text) + len(l.End)
			if !yield(l) {
				return
			}
		}
	}
}

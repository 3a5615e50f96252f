package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopherd/internal/gopher"
)

// TextMode is how a text file (one typed '0') is sent.
type TextMode uint8

// The text modes.
const (
	// TextRaw sends the file byte-exact, as every modern server does
	// (and with sendfile(2)). The default.
	TextRaw TextMode = iota
	// TextRFC1436 sends it as RFC 1436 text: every line ends in CRLF, a
	// line starting with "." gets another one, a missing final newline
	// is added, and "." CRLF ends the file. It is streamed, without
	// sendfile.
	TextRFC1436
)

// TextModeRule chooses the text mode of the files under a selector prefix:
// a directory such as "/rfc/" (everything below it) or one file.
type TextModeRule struct {
	Prefix string
	Mode   TextMode
}

// textModes is the text mode choice of one handler, longest prefix first.
type textModes struct {
	def   TextMode
	rules []TextModeRule
}

func newTextModes(def TextMode, rules []TextModeRule) textModes {
	t := textModes{def: def}
	for _, r := range rules {
		r.Prefix = dirPrefix(r.Prefix)
		t.rules = append(t.rules, r)
	}
	slices.SortStableFunc(t.rules, func(a, b TextModeRule) int { return len(b.Prefix) - len(a.Prefix) })
	return t
}

// of returns the mode of file p (relative to the root). A prefix "/a/b/"
// covers the file "/a/b" itself and everything below it.
func (t textModes) of(p string) TextMode {
	sel := "/" + p + "/"
	for _, r := range t.rules {
		if strings.HasPrefix(sel, r.Prefix) {
			return r.Mode
		}
	}
	return t.def
}

// isText reports whether open file f (path p) is typed '0', by the rules
// listings type it with.
func isText(p string, f *os.File) bool {
	if t, ok := typeByExt(p); ok {
		return t == gopher.TypeText
	}
	head := make([]byte, sniffLen)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return TypeOf(p, head[:n]) == gopher.TypeText
}

// textChunk is how much of a file is read at once in RFC 1436 text mode;
// the output buffer is twice as large plus the terminator, the most a chunk
// can become (every byte a newline, or ".\n" lines).
const textChunk = 32 << 10

// CopyRFC1436 writes what r holds to w as RFC 1436 text (see TextRFC1436),
// terminator included, holding one chunk at a time. It returns the number of
// bytes read from r.
func CopyRFC1436(w io.Writer, r io.Reader) (int64, error) {
	in := make([]byte, textChunk)
	out := make([]byte, 0, 2*textChunk+len(gopher.Terminator)+2)
	var t rfc1436
	var read int64
	for {
		n, err := r.Read(in)
		read += int64(n)
		out = t.appendChunk(out[:0], in[:n])
		if errors.Is(err, io.EOF) {
			out = t.appendEnd(out)
		}
		if len(out) > 0 {
			if _, werr := w.Write(out); werr != nil {
				return read, werr
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return read, nil
		case err != nil:
			return read, fmt.Errorf("reading: %w", err)
		}
	}
}

// rfc1436 is the state of the transformation between chunks.
type rfc1436 struct {
	// mid is true inside a line (so false at the start of the file and
	// right after a newline); cr is true when the last byte was a CR.
	mid, cr bool
}

// appendChunk appends the transformed form of p to out.
func (t *rfc1436) appendChunk(out, p []byte) []byte {
	for len(p) > 0 {
		if !t.mid && p[0] == '.' {
			out = append(out, '.')
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			out = append(out, p...)
			t.mid, t.cr = true, p[len(p)-1] == '\r'
			return out
		}
		out = append(out, p[:i]...)
		if !(i > 0 && p[i-1] == '\r' || i == 0 && t.cr) {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		t.mid, t.cr = false, false
		p = p[i+1:]
	}
	return out
}

// appendEnd ends the text: the last line's newline if it had none, then
// the terminator.
func (t *rfc1436) appendEnd(out []byte) []byte {
	if t.mid {
		if !t.cr {
			out = append(out, '\r')
		}
		out = append(out, '\n')
	}
	return append(out, gopher.Terminator...)
}

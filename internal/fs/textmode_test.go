//go:build unix

package fs

import (
	"bytes"
	"crypto/rand"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCopyRFC1436(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		// The example.
		{"a\n.b\n.\n..c\n", "a\r\n..b\r\n..\r\n...c\r\n.\r\n"},
		{"", ".\r\n"},
		{"no newline", "no newline\r\n.\r\n"},
		{"crlf\r\nkept\r\n", "crlf\r\nkept\r\n.\r\n"},
		{"ends in cr\r", "ends in cr\r\n.\r\n"},
		{"lone\rcr\n", "lone\rcr\r\n.\r\n"},
		{".", "..\r\n.\r\n"},
		{"\n\n", "\r\n\r\n.\r\n"},
		{"x\n.", "x\r\n..\r\n.\r\n"},
		{"mid.dot\n", "mid.dot\r\n.\r\n"},
	} {
		// Whole, and one byte at a time: chunk edges change nothing.
		for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
			var b bytes.Buffer
			n, err := CopyRFC1436(&b, r)
			if err != nil || n != int64(len(tt.in)) || b.String() != tt.want {
				t.Errorf("%q: got %q, %d, %v; want %q", tt.in, b.String(), n, err, tt.want)
			}
		}
	}
	// A file larger than a chunk, with a dot line across the boundary.
	in := strings.Repeat("x", textChunk-1) + "\n.y\n"
	var b bytes.Buffer
	if _, err := CopyRFC1436(&b, strings.NewReader(in)); err != nil || b.String() != strings.Repeat("x", textChunk-1)+"\r\n..y\r\n.\r\n" {
		t.Errorf("chunk boundary: %q…", b.String()[max(0, b.Len()-12):])
	}
}

func TestTextModeServing(t *testing.T) {
	root := t.TempDir()
	text := "a\n.b\n.\n..c\n"
	bin := make([]byte, 4096)
	_, _ = rand.Read(bin)
	bin = append(bin, "\n.\n"...)
	for _, d := range []string{"rfc", "raw", "rfc/keep"} {
		write(t, filepath.Join(root, d, "doc.txt"), text)
		write(t, filepath.Join(root, d, "README"), text) // typed by its content
		write(t, filepath.Join(root, d, "blob.bin"), string(bin))
		write(t, filepath.Join(root, d, "page.html"), text)
	}
	h, _ := newDialectHandler(t, root, Options{TextModes: []TextModeRule{
		{Prefix: "/rfc/", Mode: TextRFC1436},
		{Prefix: "/rfc/keep", Mode: TextRaw},
	}})
	rfc := "a\r\n..b\r\n..\r\n...c\r\n.\r\n"
	for sel, want := range map[string]string{
		"/rfc/doc.txt":        rfc,
		"/rfc/README":         rfc,
		"//rfc//doc.txt":      rfc,
		"/rfc/page.html":      text, // type h: never rewritten
		"/raw/doc.txt":        text,
		"/rfc/keep/doc.txt":   text,
		"/rfc/blob.bin":       string(bin),
		"/raw/blob.bin":       string(bin),
		"/rfc/keep/blob.bin":  string(bin),
		"/raw/README":         text,
		"/rfc/keep/page.html": text,
	} {
		if got := get(t, h, sel).String(); got != want {
			t.Errorf("%s: got %q, want %q", sel, got[:min(len(got), 40)], want[:min(len(want), 40)])
		}
	}
	// The whole tree in RFC 1436 mode: binaries stay byte-identical.
	h2, _ := newDialectHandler(t, root, Options{TextMode: TextRFC1436})
	if got := get(t, h2, "/raw/blob.bin").Bytes(); !bytes.Equal(got, bin) {
		t.Error("a binary was rewritten in rfc1436 mode")
	}
	if got := get(t, h2, "/raw/doc.txt").String(); got != rfc {
		t.Errorf("default rfc1436: %q", got)
	}
}

package fs

import (
	"bytes"
	"testing"

	"gopherd/internal/gopher"
)

func TestTypeOf(t *testing.T) {
	text := []byte("hello, world\n")
	bin := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0}
	tests := []struct {
		name string
		head []byte
		want gopher.ItemType
	}{
		// spacecookie's fixture.
		{"macintosh.hqx", nil, gopher.TypeBinHex},
		{"strange.tXT", text, gopher.TypeText},
		{"mystery-file", nil, gopher.TypeText},
		{"mystery-file", []byte{}, gopher.TypeText},

		{"notes.txt", bin, gopher.TypeText}, // the extension wins over content
		{"README.MD", nil, gopher.TypeText},
		{"data.csv", nil, gopher.TypeText},
		{"server.log", nil, gopher.TypeText},
		{"app.conf", nil, gopher.TypeText},
		{"x.ini", nil, gopher.TypeText},
		{"x.json", nil, gopher.TypeText},
		{"x.xml", nil, gopher.TypeText},
		{"x.text", nil, gopher.TypeText},
		{"index.html", nil, gopher.TypeHTML},
		{"INDEX.HTM", nil, gopher.TypeHTML},
		{"page.xhtml", nil, gopher.TypeHTML},
		{"anim.gif", nil, gopher.TypeGIF},
		{"a.png", nil, gopher.TypeImage},
		{"a.JPG", nil, gopher.TypeImage},
		{"a.jpeg", nil, gopher.TypeImage},
		{"a.bmp", nil, gopher.TypeImage},
		{"a.webp", nil, gopher.TypeImage},
		{"a.tif", nil, gopher.TypeImage},
		{"a.tiff", nil, gopher.TypeImage},
		{"a.svg", nil, gopher.TypeImage},
		{"favicon.ico", nil, gopher.TypeImage},
		{"a.mp3", nil, gopher.TypeSound},
		{"a.wav", nil, gopher.TypeSound},
		{"a.ogg", nil, gopher.TypeSound},
		{"a.flac", nil, gopher.TypeSound},
		{"a.opus", nil, gopher.TypeSound},
		{"a.m4a", nil, gopher.TypeSound},
		{"a.aac", nil, gopher.TypeSound},
		{"a.mid", nil, gopher.TypeSound},
		{"a.mp4", nil, gopher.TypeVideo},
		{"a.mkv", nil, gopher.TypeVideo},
		{"a.webm", nil, gopher.TypeVideo},
		{"a.avi", nil, gopher.TypeVideo},
		{"a.mov", nil, gopher.TypeVideo},
		{"a.mpg", nil, gopher.TypeVideo},
		{"a.mpeg", nil, gopher.TypeVideo},
		{"paper.pdf", nil, gopher.TypeDocument},
		{"a.ps", nil, gopher.TypeDocument},
		{"a.epub", nil, gopher.TypeDocument},
		{"a.djvu", nil, gopher.TypeDocument},
		{"a.doc", nil, gopher.TypeDocument},
		{"a.docx", nil, gopher.TypeDocument},
		{"a.odt", nil, gopher.TypeDocument},
		{"a.rtf", nil, gopher.TypeDocument},
		{"a.zip", nil, gopher.TypeDOS},
		{"a.tar", nil, gopher.TypeDOS},
		{"a.tar.gz", nil, gopher.TypeDOS},
		{"a.tgz", nil, gopher.TypeDOS},
		{"a.bz2", nil, gopher.TypeDOS},
		{"a.xz", nil, gopher.TypeDOS},
		{"a.zst", nil, gopher.TypeDOS},
		{"a.7z", nil, gopher.TypeDOS},
		{"a.rar", nil, gopher.TypeDOS},
		{"a.exe", nil, gopher.TypeBinary},
		{"a.bin", nil, gopher.TypeBinary},
		{"a.iso", nil, gopher.TypeBinary},
		{"a.img", nil, gopher.TypeBinary},
		{"a.dmg", nil, gopher.TypeBinary},
		{"a.deb", nil, gopher.TypeBinary},
		{"a.rpm", nil, gopher.TypeBinary},
		{"a.jar", nil, gopher.TypeBinary},
		{"cal.ics", nil, gopher.TypeCalendar},
		{"msg.eml", nil, gopher.TypeMIME},
		{"inbox.mbox", nil, gopher.TypeMIME},
		{"a.uue", nil, gopher.TypeUUEncode},

		// Unknown or missing extensions: the content decides.
		{"Makefile", text, gopher.TypeText},
		{"program", bin, gopher.TypeBinary},
		{"go.mod", text, gopher.TypeText},
		{"file.", text, gopher.TypeText},
		{"file.", bin, gopher.TypeBinary},
		{"a.verylongextension", bin, gopher.TypeBinary},
		{"release.v2", text, gopher.TypeText},
		{".txt", bin, gopher.TypeBinary}, // a leading dot starts no extension
	}
	for _, tt := range tests {
		if got := TypeOf(tt.name, tt.head); got != tt.want {
			t.Errorf("TypeOf(%q, %q) = %q, want %q", tt.name, tt.head, got, tt.want)
		}
	}
}

func TestLooksLikeText(t *testing.T) {
	utf8Text := bytes.Repeat([]byte("Grüße, 世界! "), 60)
	random := make([]byte, 512)
	for i := range random {
		// A fixed pseudo-random sequence without NUL bytes.
		random[i] = byte(i*167+13)%255 + 1
	}
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"empty", nil, true},
		{"ascii", []byte("line one\r\nline two\tcolumn\n"), true},
		{"utf8", utf8Text, true},
		{"utf8 cut mid-rune at 512", utf8Text[:512], true},
		{"latin1", []byte("caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve fa\xe7ade\n"), true},
		{"ansi art", []byte("\x1b[1;31mred\x1b[0m and bold\b\bld\n"), true},
		{"nul", []byte("text\x00more"), false},
		{"controls", bytes.Repeat([]byte("ab\x01\x02"), 20), false},
		{"random high bytes", random, false},
		{"only high bytes, invalid utf8", bytes.Repeat([]byte{0xff, 0xfe, 0x81}, 30), false},
		{"looked at no further than 512 bytes", append(bytes.Repeat([]byte("a"), 512), 0), true},
	}
	for _, tt := range tests {
		if got := looksLikeText(tt.head); got != tt.want {
			t.Errorf("%s: looksLikeText = %v, want %v", tt.name, got, tt.want)
		}
	}
}

package fs

import (
	"unicode/utf8"

	"gopherd/internal/gopher"
)

// sniffLen is how many leading bytes of a file decide whether a file without
// a known extension is text. It matches what net/http reads for the same job.
const sniffLen = 512

// extTypes maps lower-case file name extensions to item types. Archives get
// '5' as Gophernicus gives them: clients treat '5' and '9' alike (download),
// and '5' tells the reader what to expect.
var extTypes = map[string]gopher.ItemType{
	// Text: read in the client.
	"txt": gopher.TypeText, "text": gopher.TypeText, "md": gopher.TypeText, "markdown": gopher.TypeText,
	"rst": gopher.TypeText, "org": gopher.TypeText, "asc": gopher.TypeText, "nfo": gopher.TypeText,
	"diz": gopher.TypeText, "csv": gopher.TypeText, "tsv": gopher.TypeText, "log": gopher.TypeText,
	"conf": gopher.TypeText, "cfg": gopher.TypeText, "ini": gopher.TypeText, "json": gopher.TypeText,
	"xml": gopher.TypeText, "yaml": gopher.TypeText, "yml": gopher.TypeText, "toml": gopher.TypeText,
	"gmi": gopher.TypeText, "tex": gopher.TypeText, "patch": gopher.TypeText, "diff": gopher.TypeText,
	"c": gopher.TypeText, "h": gopher.TypeText, "go": gopher.TypeText, "py": gopher.TypeText,
	"sh": gopher.TypeText, "pl": gopher.TypeText, "rb": gopher.TypeText, "rs": gopher.TypeText,
	"hs": gopher.TypeText, "lua": gopher.TypeText, "js": gopher.TypeText, "css": gopher.TypeText,
	"java": gopher.TypeText, "lisp": gopher.TypeText, "scm": gopher.TypeText, "el": gopher.TypeText,

	"html": gopher.TypeHTML, "htm": gopher.TypeHTML, "xhtml": gopher.TypeHTML,

	"gif": gopher.TypeGIF,
	"png": gopher.TypeImage, "jpg": gopher.TypeImage, "jpeg": gopher.TypeImage, "bmp": gopher.TypeImage,
	"webp": gopher.TypeImage, "tif": gopher.TypeImage, "tiff": gopher.TypeImage, "svg": gopher.TypeImage,
	"ico": gopher.TypeImage, "avif": gopher.TypeImage, "pcx": gopher.TypeImage,

	// Tracker formats "mod" and "it" are left out: go.mod and the like
	// are far more common on a gopherhole, and sniffing gets those right.
	"mp3": gopher.TypeSound, "wav": gopher.TypeSound, "ogg": gopher.TypeSound, "flac": gopher.TypeSound,
	"opus": gopher.TypeSound, "m4a": gopher.TypeSound, "aac": gopher.TypeSound, "mid": gopher.TypeSound,
	"midi": gopher.TypeSound, "xm": gopher.TypeSound, "s3m": gopher.TypeSound, "au": gopher.TypeSound,
	"aiff": gopher.TypeSound,

	"mp4": gopher.TypeVideo, "mkv": gopher.TypeVideo, "webm": gopher.TypeVideo, "avi": gopher.TypeVideo,
	"mov": gopher.TypeVideo, "mpg": gopher.TypeVideo, "mpeg": gopher.TypeVideo, "m4v": gopher.TypeVideo,
	"ogv": gopher.TypeVideo,

	"pdf": gopher.TypeDocument, "ps": gopher.TypeDocument, "epub": gopher.TypeDocument,
	"djvu": gopher.TypeDocument, "doc": gopher.TypeDocument, "docx": gopher.TypeDocument,
	"odt": gopher.TypeDocument, "rtf": gopher.TypeDocument, "xls": gopher.TypeDocument,
	"xlsx": gopher.TypeDocument, "ods": gopher.TypeDocument, "ppt": gopher.TypeDocument,
	"pptx": gopher.TypeDocument, "odp": gopher.TypeDocument,

	"hqx": gopher.TypeBinHex,
	"uu":  gopher.TypeUUEncode, "uue": gopher.TypeUUEncode,

	"zip": gopher.TypeDOS, "tar": gopher.TypeDOS, "gz": gopher.TypeDOS, "tgz": gopher.TypeDOS,
	"bz2": gopher.TypeDOS, "xz": gopher.TypeDOS, "zst": gopher.TypeDOS, "7z": gopher.TypeDOS,
	"rar": gopher.TypeDOS, "lzh": gopher.TypeDOS, "lha": gopher.TypeDOS, "arj": gopher.TypeDOS,
	"z": gopher.TypeDOS, "lz": gopher.TypeDOS, "txz": gopher.TypeDOS, "tbz2": gopher.TypeDOS,

	"exe": gopher.TypeBinary, "bin": gopher.TypeBinary, "iso": gopher.TypeBinary, "img": gopher.TypeBinary,
	"dmg": gopher.TypeBinary, "deb": gopher.TypeBinary, "rpm": gopher.TypeBinary, "jar": gopher.TypeBinary,
	"com": gopher.TypeBinary, "dll": gopher.TypeBinary, "so": gopher.TypeBinary, "o": gopher.TypeBinary,
	"wasm": gopher.TypeBinary, "d64": gopher.TypeBinary, "adf": gopher.TypeBinary,

	"ics": gopher.TypeCalendar, "ical": gopher.TypeCalendar,

	"eml": gopher.TypeMIME, "mbox": gopher.TypeMIME,

	// geomyidae's menus: served as menus (see IsGPH), never raw.
	"gph": gopher.TypeMenu,
}

// maxExtLen is the longest extension in extTypes; longer ones cannot match,
// so they skip the lookup.
const maxExtLen = 8

// TypeOf returns the item type for a file called name whose first bytes are
// head (at most 512 are looked at; nil or empty means an empty file). A known
// extension (case-insensitive) decides; otherwise the content does: text
// ('0') when it looks like text, binary ('9') when not. Empty files are text,
// as spacecookie lists them.
func TypeOf(name string, head []byte) gopher.ItemType {
	if t, ok := typeByExt(name); ok {
		return t
	}
	if looksLikeText(head) {
		return gopher.TypeText
	}
	return gopher.TypeBinary
}

// typeByExt looks name's extension up in extTypes. A leading dot does not
// start an extension (".profile" has none).
func typeByExt(name string) (gopher.ItemType, bool) {
	dot := -1
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '.' {
			dot = i
			break
		}
		if name[i] == '/' {
			break
		}
	}
	if dot < 0 {
		return 0, false
	}
	ext := name[dot+1:]
	if ext == "" || len(ext) > maxExtLen {
		return 0, false
	}
	// Lower-case into a stack buffer: listings call this once per entry and
	// strings.ToLower would allocate for every mixed-case name.
	var buf [maxExtLen]byte
	for i := 0; i < len(ext); i++ {
		c := ext[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	t, ok := extTypes[string(buf[:len(ext)])]
	return t, ok
}

// looksLikeText decides from a file's first bytes whether it is text. A NUL
// byte means binary (what Git and most tools use). Otherwise the content is
// text when at most 1 in 32 bytes is a control byte that text does not use,
// and, for content that is not valid UTF-8 (Latin-1 and other legacy
// encodings are common on old gopherholes), when at most 30% of the bytes
// have the high bit set: random binary data has half of them set.
func looksLikeText(head []byte) bool {
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	ctrl, high := 0, 0
	for _, c := range head {
		switch {
		case c == 0:
			return false
		case c == 0x7f || (c < 0x20 && !textControl(c)):
			ctrl++
		case c >= 0x80:
			high++
		}
	}
	if ctrl*32 > len(head) {
		return false
	}
	if high == 0 || validUTF8Head(head) {
		return true
	}
	return high*10 <= len(head)*3
}

// textControl reports whether c is a control byte found in ordinary text:
// TAB, LF, VT, FF, CR, backspace (overstrike in man pages) and ESC (ANSI
// colour in ANSI art).
func textControl(c byte) bool {
	switch c {
	case '\t', '\n', '\v', '\f', '\r', '\b', 0x1b:
		return true
	}
	return false
}

// validUTF8Head is utf8.Valid for a prefix of a file: a multi-byte sequence
// cut by the end of the prefix is not an error.
func validUTF8Head(b []byte) bool {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// Package gopher holds the vocabulary of the Gopher protocol (RFC 1436):
// item types, menu items and their wire encoding, requests and their
// parsing, and error responses. It knows nothing about sockets, files or
// configuration.
package gopher

import (
	"io"
	"strconv"
)

// ItemType is the one-byte type of a menu item.
type ItemType byte

// Item types from RFC 1436 and the common extensions every modern client knows.
const (
	TypeText     ItemType = '0'
	TypeMenu     ItemType = '1'
	TypeCSO      ItemType = '2'
	TypeError    ItemType = '3'
	TypeBinHex   ItemType = '4'
	TypeDOS      ItemType = '5'
	TypeUUEncode ItemType = '6'
	TypeSearch   ItemType = '7'
	TypeTelnet   ItemType = '8'
	TypeBinary   ItemType = '9'
	TypeMirror   ItemType = '+'
	TypeGIF      ItemType = 'g'
	TypeImage    ItemType = 'I'
	TypeTN3270   ItemType = 'T'
	TypeHTML     ItemType = 'h'
	TypeInfo     ItemType = 'i'
	TypeSound    ItemType = 's'
	TypeDocument ItemType = 'd'
	TypeVideo    ItemType = ';'
	TypeCalendar ItemType = 'c'
	TypeMIME     ItemType = 'M'
	TypePNG      ItemType = 'p'
)

// Known reports whether t is one of the types above, which clients know
// what to do with. A menu line of another type is shown by some clients as
// a link they cannot open and hidden by others.
func (t ItemType) Known() bool {
	switch t {
	case TypeText, TypeMenu, TypeCSO, TypeError, TypeBinHex, TypeDOS, TypeUUEncode,
		TypeSearch, TypeTelnet, TypeBinary, TypeMirror, TypeGIF, TypeImage, TypeTN3270,
		TypeHTML, TypeInfo, TypeSound, TypeDocument, TypeVideo, TypeCalendar, TypeMIME, TypePNG:
		return true
	}
	return false
}

// Item is one line of a Gopher menu. Fields are byte strings: Go strings may
// hold any bytes, so Latin-1 or other non-UTF-8 names pass through unchanged.
type Item struct {
	Type     ItemType
	Display  string
	Selector string
	Host     string
	Port     int
	// Extra holds fields after the port (Gopher+ "+" marker and the like),
	// written back TAB-separated when non-empty.
	Extra string
}

// Info returns an informational ('i') item. Its selector is empty: the
// display text is not a selector and copying it there (as spacecookie does)
// only invites clients to request it.
func Info(text, host string, port int) Item {
	return Item{Type: TypeInfo, Display: text, Host: host, Port: port}
}

// Valid reports whether the item can be written without corrupting the menu:
// no field may contain TAB, CR or LF.
func (it Item) Valid() bool {
	return clean(it.Display) && clean(it.Selector) && clean(it.Host) && cleanExtra(it.Extra)
}

func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\r', '\n':
			return false
		}
	}
	return true
}

func cleanExtra(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', '\n':
			return false
		}
	}
	return true
}

// AppendTo appends the item's wire form, CRLF included, to b. Control bytes
// that would break the line structure are replaced by a space, so a caller
// that forgot to check Valid still produces a well-formed menu.
func (it Item) AppendTo(b []byte) []byte {
	b = append(b, byte(it.Type))
	b = appendField(b, it.Display)
	b = append(b, '\t')
	b = appendField(b, it.Selector)
	b = append(b, '\t')
	b = appendField(b, it.Host)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(it.Port), 10)
	if it.Extra != "" {
		b = append(b, '\t')
		for i := 0; i < len(it.Extra); i++ {
			c := it.Extra[i]
			if c == '\r' || c == '\n' {
				c = ' '
			}
			b = append(b, c)
		}
	}
	return append(b, '\r', '\n')
}

func appendField(b []byte, s string) []byte {
	if clean(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\t', '\r', '\n':
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// Terminator ends every menu and error response.
const Terminator = ".\r\n"

// Menu is a list of items sent as one response.
type Menu []Item

// AppendTo appends the whole menu, terminator included, to b.
func (m Menu) AppendTo(b []byte) []byte {
	for _, it := range m {
		b = it.AppendTo(b)
	}
	return append(b, Terminator...)
}

// Bytes returns the menu's wire form, terminator included.
func (m Menu) Bytes() []byte {
	size := len(Terminator)
	for _, it := range m {
		size += len(it.Display) + len(it.Selector) + len(it.Host) + len(it.Extra) + 12
	}
	return m.AppendTo(make([]byte, 0, size))
}

// WriteTo writes the menu's wire form to w in one write.
func (m Menu) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(m.Bytes())
	return int64(n), err
}

// Len returns the length of the item's wire form, CRLF included: what
// AppendTo appends. Callers size buffers with it, or decide whether a menu
// fits somewhere, without encoding it.
func (it Item) Len() int {
	n := 1 + len(it.Display) + 1 + len(it.Selector) + 1 + len(it.Host) + 1 + intLen(it.Port) + 2
	if it.Extra != "" {
		n += 1 + len(it.Extra)
	}
	return n
}

// intLen is the number of bytes strconv.AppendInt writes for n.
func intLen(n int) int {
	l := 1
	if n < 0 {
		l++
		if n <= -10 {
			// -n may overflow for the smallest int; divide first.
			n = -(n / 10)
			l++
		} else {
			return l
		}
	}
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

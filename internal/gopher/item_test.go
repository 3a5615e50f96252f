package gopher

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMenuWire(t *testing.T) {
	m := Menu{
		Info("Hello World!", "localhost", 7000),
		Info("", "localhost", 7000),
		{Type: TypeText, Display: "normal text file", Selector: "/plain.txt", Host: "localhost", Port: 7000},
		{Type: TypeMenu, Display: "plus", Selector: "/p", Host: "h", Port: 70, Extra: "+"},
		{Type: TypeText, Display: "bad\tname\r\n", Selector: "/x", Host: "h", Port: 70},
	}
	got := m.Bytes()
	golden := filepath.Join("testdata", "menu.golden")
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("menu wire bytes:\n got %q\nwant %q", got, want)
	}
	var buf bytes.Buffer
	if n, err := m.WriteTo(&buf); err != nil || int(n) != len(want) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
}

func TestItemValid(t *testing.T) {
	for _, tt := range []struct {
		it   Item
		want bool
	}{
		{Item{Type: TypeText, Display: "a", Selector: "/a", Host: "h", Port: 70}, true},
		{Item{Type: TypeText, Display: "a\tb"}, false},
		{Item{Type: TypeText, Selector: "a\nb"}, false},
		{Item{Type: TypeText, Host: "h\r"}, false},
		{Item{Type: TypeText, Extra: "+\tx"}, true},
		{Item{Type: TypeText, Extra: "+\n"}, false},
	} {
		if got := tt.it.Valid(); got != tt.want {
			t.Errorf("%+v Valid() = %v, want %v", tt.it, got, tt.want)
		}
	}
}

func TestErrorResponse(t *testing.T) {
	got := string(ErrorResponse(NotFound, "/not-here.txt", "localhost", 7000))
	want := "3The requested resource '/not-here.txt' does not exist or is not available.\tErr\tlocalhost\t7000\r\n.\r\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	long := strings.Repeat("A", 2<<20)
	if got := ErrorResponse(NotFound, long, "h", 70); len(got) > 300 {
		t.Fatalf("error response for a 2 MiB selector is %d bytes", len(got))
	}
	if got := string(ErrorResponse(NotAllowed, "/.x", "h", 70)); !strings.Contains(got, "not allowed") {
		t.Fatalf("not-allowed message %q", got)
	}
	seen := map[string]bool{}
	for k := NotFound; k <= Internal; k++ {
		msg := k.Message("/s")
		if seen[msg] || seen[k.String()] {
			t.Fatalf("kind %v message %q not distinct", k, msg)
		}
		seen[msg], seen[k.String()] = true, true
	}
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"/plain", 64, "/plain"},
		{"a\tb\r\n", 64, `a\x09b\x0d\x0a`},
		{"\x1b[31mred", 64, `\x1b[31mred`},
		{`back\slash`, 64, `back\\slash`},
		{"café", 64, "café"},
		{"caf\xe9", 64, `caf\xe9`},
		{"\u2028", 64, `\xe2\x80\xa8`},
		// Format characters (Cf): bidirectional overrides and isolates,
		// zero-width characters, the byte-order mark, the soft hyphen.
		{"file\u202etxt.exe", 64, `file\xe2\x80\xaetxt.exe`},
		{"a\u2066b\u2069", 64, `a\xe2\x81\xa6b\xe2\x81\xa9`},
		{"zero\u200bwidth\u200d", 64, `zero\xe2\x80\x8bwidth\xe2\x80\x8d`},
		{"\ufeffbom", 64, `\xef\xbb\xbfbom`},
		{"soft\u00adhyphen", 64, `soft\xc2\xadhyphen`},
		// C1 controls as code points (U+009B is CSI on a terminal), DEL,
		// BEL, BS.
		{"\u009b31m", 64, `\xc2\x9b31m`},
		{"\u0085next", 64, `\xc2\x85next`},
		{"del\x7f bel\x07 bs\x08", 64, `del\x7f bel\x07 bs\x08`},
		// Private use and unassigned code points.
		{"\ue000", 64, `\xee\x80\x80`},
		{"\U000e0001", 64, `\xf3\xa0\x80\x81`},
		// What stays as it is: letters of any script, marks, symbols,
		// spaces.
		{"naïve 日本語 עברית \u00a0\u3000 €", 64, "naïve 日本語 עברית \u00a0\u3000 €"},
		{"e\u0301 \U0001F600", 64, "e\u0301 \U0001F600"},
		{strings.Repeat("x", 10), 4, "xxxx…"},
		{"abcd", 4, "abcd"},
	} {
		if got := Quote(tt.in, tt.max); got != tt.want {
			t.Errorf("Quote(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestValidHost(t *testing.T) {
	for _, tt := range []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"gopher.example.org", true}, {"gopher.example.org.", true},
		{"my_host-1", true}, {"127.0.0.1", true}, {"::1", true}, {"fe80::1%eth0", true},
		{"", false}, {".", false}, {"a..b", false}, {"a b", false}, {"a\tb", false},
		{"[::1]", false}, {"café.example", false}, {strings.Repeat("a", 64) + ".org", false},
		{strings.Repeat("a.", 127) + "ab", false},
	} {
		if got := ValidHost(tt.host); got != tt.want {
			t.Errorf("ValidHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestItemLen(t *testing.T) {
	for _, it := range []Item{
		{},
		{Type: TypeInfo, Display: "x", Host: "localhost", Port: 70},
		{Type: TypeMenu, Display: "d", Selector: "/d", Host: "h", Port: 65535, Extra: "+"},
		{Type: TypeText, Display: "a\tb", Selector: "s\r\n", Host: "h", Port: 9},
		{Type: TypeText, Port: 10},
		{Type: TypeText, Port: -1},
		{Type: TypeText, Port: -10},
		{Type: TypeText, Port: -12345},
		{Type: TypeText, Port: 1 << 40},
		{Type: TypeText, Port: -1 << 63},
		{Type: TypeText, Port: 1<<63 - 1},
	} {
		if got, want := it.Len(), len(it.AppendTo(nil)); got != want {
			t.Errorf("%+v: Len() = %d, AppendTo wrote %d bytes", it, got, want)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"A.Test", "a.test"}, {"a.test.", "a.test"}, {"WWW.A.TEST.", "www.a.test"},
		{"localhost", "localhost"}, {"0:0::1", "::1"}, {"127.0.0.1", "127.0.0.1"},
		{"", ""},
	} {
		if got := CanonicalHost(tt.in); got != tt.want {
			t.Errorf("CanonicalHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

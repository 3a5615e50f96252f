package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestPreview: how the readable form of gopherd render shows menus,
// documents and what it leaves out.
func TestPreview(t *testing.T) {
	menu := "iHello\tfake\tlocalhost\t70\r\n" +
		"0About\t/about.txt\tlocalhost\t70\r\n" +
		"1Far\t/x\tfar.example\t7070\r\n" +
		"1Near by name\t\tLOCALHOST.\t70\r\n" +
		"hWeb\tURL:https://example.org/\tlocalhost\t70\r\n" +
		"0Plus\t/p\tfar.example\t70\t+\r\n" +
		"0Esc\x1b[31m\t/a\x7fb\tlocalhost\t70\r\n" +
		"3Oops\tErr\tlocalhost\t70\r\n.\r\n"
	for _, tt := range []struct {
		name, served, body string
		max                int
		want               string
	}{
		{"menu", "menu", menu, previewMax, "i Hello\n0 About → /about.txt\n1 Far → gopher://far.example:7070/1/x\n1 Near by name → /\n" +
			"h Web → https://example.org/\n0 Plus → gopher://far.example/0/p (more fields: +)\n0 Esc\\x1b[31m → /a\\x7fb\n3 Oops\n"},
		{"search", "search", "0Hit\t/h\tlocalhost\t70\r\n.\r\n", previewMax, "0 Hit → /h\n"},
		{"error item", "not-found", "3Nope\tErr\tlocalhost\t70\r\n.\r\n", previewMax, "3 Nope\n"},
		{"document", "file", "line one\nno newline", previewMax, "line one\nno newline\n"},
		{"binary", "file", "a\x00b", previewMax, "(3 bytes of binary data, served as \"file\": see them with --raw)\n"},
		{"cut at a line", "file", "one\ntwo\nthree\n", 10, "one\ntwo\n(and 6 more bytes, not shown: see them with --raw)\n"},
	} {
		head := &headBuffer{max: tt.max}
		if _, err := io.Copy(head, strings.NewReader(tt.body)); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := writePreview(&b, head, tt.served, "localhost", 70); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, b.String(), tt.want)
		}
	}
}

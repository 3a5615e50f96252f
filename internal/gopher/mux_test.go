package gopher

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func named(name string) Handler {
	return HandlerFunc(func(_ context.Context, w ResponseWriter, _ *Request) {
		_, _ = w.Write([]byte(name))
	})
}

func TestServeMuxRouting(t *testing.T) {
	m := NewServeMux()
	for _, reg := range []struct {
		prefix  bool
		pattern string
	}{
		{true, "/"}, {true, "/cgi-bin/"}, {true, "/cgi-bin/admin/"}, {false, "/search"},
		{false, "caps.txt"}, {true, "URL:"},
	} {
		var err error
		if reg.prefix {
			err = m.HandlePrefix(reg.pattern, named("prefix "+reg.pattern))
		} else {
			err = m.Handle(reg.pattern, named("exact "+reg.pattern))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ sel, want string }{
		{"", "prefix /"},
		{"/", "prefix /"},
		{"/about.txt", "prefix /"},
		{"/cgi-bin/", "prefix /cgi-bin/"},
		{"/cgi-bin/x.cgi", "prefix /cgi-bin/"},
		{"cgi-bin/x.cgi", "prefix /cgi-bin/"},
		{"//cgi-bin//x.cgi", "prefix /cgi-bin/"},
		{"/cgi-bin/admin/y", "prefix /cgi-bin/admin/"},
		{"/cgi-bin", "prefix /"},
		{"/cgi-binx/y", "prefix /"},
		{"/search", "exact /search"},
		{"search", "exact /search"},
		{"/search/", "prefix /"},
		{"/searchx", "prefix /"},
		{"caps.txt", "exact caps.txt"},
		{"/caps.txt", "exact caps.txt"},
		{"URL:http://example.org/", "prefix URL:"},
		{"/URL:https://example.org/", "prefix URL:"},
	} {
		var b bytes.Buffer
		m.ServeGopher(context.Background(), &b, &Request{Selector: tc.sel})
		if b.String() != tc.want {
			t.Errorf("%q: served by %q, want %q", tc.sel, b.String(), tc.want)
		}
	}
}

func TestServeMuxNoMatch(t *testing.T) {
	m := NewServeMux()
	if err := m.Handle("/only", named("only")); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	m.ServeGopher(context.Background(), &b, &Request{Selector: "/other", Host: "h", Port: 70})
	if !strings.HasPrefix(b.String(), "3The requested resource '/other' does not exist") || !strings.HasSuffix(b.String(), "\th\t70\r\n.\r\n") {
		t.Errorf("no match answered %q", b.String())
	}
}

func TestServeMuxDuplicates(t *testing.T) {
	m := NewServeMux()
	if err := m.HandlePrefix("/a/", named("a")); err != nil {
		t.Fatal(err)
	}
	if err := m.HandlePrefix("a/", named("b")); !errors.Is(err, ErrDuplicatePattern) {
		t.Errorf("duplicate prefix: %v", err)
	}
	if err := m.Handle("/x", named("x")); err != nil {
		t.Fatal(err)
	}
	if err := m.Handle("x", named("y")); !errors.Is(err, ErrDuplicatePattern) {
		t.Errorf("duplicate pattern: %v", err)
	}
	if err := m.Handle("/z", nil); err == nil {
		t.Error("nil handler accepted")
	}
}

func TestCanonicalSelector(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "//": "/", "a": "/a", "/a": "/a", "a/": "/a/", "/a//b/": "/a/b/", "a/b": "/a/b",
		"URL:http://x/y": "/URL:http:/x/y",
	} {
		if got := CanonicalSelector(in); got != want {
			t.Errorf("CanonicalSelector(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServedOptional(t *testing.T) {
	// A plain io.Writer is a ResponseWriter: Served and Abort are no-ops.
	var b bytes.Buffer
	Served(&b, "menu")
	Abort(&b)
	if err := WriteError(&b, &Request{Selector: "x", Host: "h", Port: 1}, NotAllowed); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "3Accessing 'x' is not allowed.") {
		t.Errorf("got %q", b.String())
	}
}

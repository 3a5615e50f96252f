package gopher

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		in      string
		want    Request
		wantErr error
	}{
		{in: "\r\n", want: Request{}},
		{in: "\n", want: Request{}},
		{in: "", want: Request{}},
		{in: "/\r\n", want: Request{Selector: "/"}},
		{in: "/dir\r\n", want: Request{Selector: "/dir"}},
		{in: "dir\n", want: Request{Selector: "dir"}},
		{in: "/search\tfoo bar\r\n", want: Request{Selector: "/search", Search: "foo bar", HasSearch: true}},
		{in: "/search\t\r\n", want: Request{Selector: "/search", HasSearch: true}},
		{in: "/x\t+\r\n", want: Request{Selector: "/x", GopherPlus: "+"}},
		{in: "/x\t!\r\n", want: Request{Selector: "/x", GopherPlus: "!"}},
		{in: "/x\t$\r\n", want: Request{Selector: "/x", GopherPlus: "$"}},
		{in: "/x\t+text/plain\r\n", want: Request{Selector: "/x", GopherPlus: "+text/plain"}},
		{in: "/s\tterm\t+\r\n", want: Request{Selector: "/s", Search: "term", HasSearch: true, GopherPlus: "+"}},
		{in: "/s\ta\tb\r\n", want: Request{Selector: "/s", Search: "a\tb", HasSearch: true}},
		{in: "/caf\xe9\r\n", want: Request{Selector: "/caf\xe9"}},
		{in: "/a\x00b\r\n", wantErr: ErrInvalid},
		{in: "/a\rb\r\n", wantErr: ErrInvalid},
		{in: "/a\r\r\n", wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		got, err := ParseRequest([]byte(tt.in))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("ParseRequest(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && *got != tt.want {
			t.Errorf("ParseRequest(%q) = %+v, want %+v", tt.in, *got, tt.want)
		}
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      io.Reader
		limit   int
		want    string
		wantErr error
	}{
		{"crlf", strings.NewReader("/a\r\n"), 16, "/a", nil},
		{"lf", strings.NewReader("/a\n"), 16, "/a", nil},
		{"byte at a time", iotest.OneByteReader(strings.NewReader("/slow/path\r\n")), 16, "/slow/path", nil},
		{"trailing data ignored", strings.NewReader("/a\r\nGARBAGE"), 16, "/a", nil},
		{"eof ends request", strings.NewReader("/a"), 16, "/a", nil},
		{"empty eof", strings.NewReader(""), 16, "", io.EOF},
		{"exactly limit", strings.NewReader("/abc\r\n"), 6, "/abc", nil},
		{"one over limit", strings.NewReader("/abcd\r\n"), 6, "", ErrTooLarge},
		{"no newline over limit", strings.NewReader(strings.Repeat("x", 5000)), 1024, "", ErrTooLarge},
		{"huge stream no newline", iotest.HalfReader(&endless{}), 1024, "", ErrTooLarge},
		{"read error", iotest.ErrReader(errors.New("boom")), 16, "", errors.New("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRequest(tt.in, tt.limit)
			switch {
			case tt.wantErr != nil && tt.wantErr.Error() == "x":
				if err == nil {
					t.Fatalf("want an error, got %+v", got)
				}
			case !errors.Is(err, tt.wantErr):
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			case err == nil && got.Selector != tt.want:
				t.Fatalf("selector = %q, want %q", got.Selector, tt.want)
			}
		})
	}
}

// endless yields 'a' forever: a client that never sends a newline.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += len(p)
	return len(p), nil
}

func TestReadRequestBoundedRead(t *testing.T) {
	e := &endless{}
	if _, err := ReadRequest(e, 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if e.n > 1024+512 {
		t.Fatalf("read %d bytes for a 1024-byte limit", e.n)
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"", "/", "/a\tb", "/a\t+", "x\x00", "\r\n", "/s\tq\t$\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			return
		}
		if strings.ContainsAny(r.Selector, "\x00\r\n\t") {
			t.Fatalf("selector %q holds a forbidden byte", r.Selector)
		}
	})
}

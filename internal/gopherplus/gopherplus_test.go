package gopherplus

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"gopherd/internal/gopher"
)

// recorder is a response writer that keeps what it is told.
type recorder struct {
	bytes.Buffer
	served  string
	aborted bool
	readers int // ReadFrom calls: sendfile's way in
}

func (r *recorder) Served(what string) { r.served = what }
func (r *recorder) Abort()             { r.aborted = true }
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	r.readers++
	return r.Buffer.ReadFrom(src)
}

// tree is a fake handler: a menu at "/", a text file, a binary, errors.
type tree struct{ asked []*gopher.Request }

const menuBody = "iWelcome\t\th\t70\r\n0About\t/about.txt\th\t70\r\n1Sub\t/sub\th\t70\t+\r\n.\r\n"

func (t *tree) ServeGopher(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	t.asked = append(t.asked, r)
	switch r.Selector {
	case "", "/":
		gopher.Served(w, "menu")
		// Written in pieces, one cut mid-line, as a streamed menu is.
		_, _ = io.WriteString(w, menuBody[:20])
		_, _ = io.WriteString(w, menuBody[20:])
	case "/about.txt":
		gopher.Served(w, "file")
		_, _ = io.Copy(w, struct{ io.Reader }{strings.NewReader("about\n")})
	case "/blob":
		gopher.Served(w, "file")
		_, _ = w.Write([]byte("\x00\x01\x02"))
	case "/cut":
		gopher.Served(w, "file")
		_, _ = w.Write([]byte("par"))
		gopher.Abort(w)
	default:
		_ = gopher.WriteError(w, r, gopher.NotFound)
	}
}

// described is tree with a Describer, behind a router.
type described struct{ tree }

func (d *described) Describe(_ context.Context, r *gopher.Request) (gopher.Item, int64, time.Time, bool) {
	if r.Selector != "/about.txt" {
		return gopher.Item{}, 0, time.Time{}, false
	}
	return gopher.Item{Type: '0', Selector: r.Selector, Host: r.Host, Port: r.Port}, 3000, time.Date(1993, 7, 28, 17, 2, 1, 0, time.UTC), true
}

func serve(h gopher.Handler, line string) *recorder {
	r, err := gopher.ParseRequest([]byte(line))
	if err != nil {
		panic(err)
	}
	r.Host, r.Port = "h", 70
	rec := &recorder{}
	h.ServeGopher(context.Background(), rec, r)
	return rec
}

func TestGopherPlus(t *testing.T) {
	plainTree := &tree{}
	mux := gopher.NewServeMux()
	dt := &described{}
	if err := mux.HandlePrefix("/", dt); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		h       gopher.Handler
		req     string
		want    string
		served  string
		readers int
	}{
		{"plain passes", Handler{Next: plainTree}, "/about.txt", "about\n", "file", 1},
		{"$ on a menu", Handler{Next: plainTree}, "\t$",
			"+-1\r\n+INFO: iWelcome\t\th\t70\r\n+INFO: 0About\t/about.txt\th\t70\r\n+INFO: 1Sub\t/sub\th\t70\t+\r\n.\r\n", "menu", 0},
		{"+ on a menu", Handler{Next: plainTree}, "/\t+", "+-1\r\n" + menuBody, "menu", 0},
		{"+view on a file, sendfile kept", Handler{Next: plainTree}, "/about.txt\t+text/plain", "+-2\r\nabout\n", "file", 1},
		{"+ error", Handler{Next: plainTree}, "/nope\t+",
			"--1\r\n1\r\nThe requested resource '/nope' does not exist or is not available.\r\n.\r\n", "not-found", 0},
		{"$ error", Handler{Next: plainTree}, "/nope\t$",
			"--1\r\n1\r\nThe requested resource '/nope' does not exist or is not available.\r\n.\r\n", "not-found", 0},
		{"! probed text", Handler{Next: plainTree}, "/about.txt\t!",
			"+-1\r\n+INFO: 0about.txt\t/about.txt\th\t70\t+\r\n+VIEWS:\r\n text/plain:\r\n.\r\n", "gopher+info", 0},
		{"! probed binary", Handler{Next: plainTree}, "/blob\t!",
			"+-1\r\n+INFO: 9blob\t/blob\th\t70\t+\r\n+VIEWS:\r\n application/octet-stream:\r\n.\r\n", "gopher+info", 0},
		{"! probed menu", Handler{Next: plainTree}, "\t!",
			"+-1\r\n+INFO: 1Main menu\t\th\t70\t+\r\n+VIEWS:\r\n application/gopher+-menu:\r\n.\r\n", "gopher+info", 0},
		{"! probed error", Handler{Next: plainTree}, "/nope\t!",
			"--1\r\n1\r\nThe requested resource '/nope' does not exist or is not available.\r\n.\r\n", "not-found", 0},
		{"! described", Handler{Next: mux}, "/about.txt\t!",
			"+-1\r\n+INFO: 0about.txt\t/about.txt\th\t70\t+\r\n+ADMIN:\r\n Mod-Date: Wed Jul 28 17:02:01 1993 <19930728170201>\r\n+VIEWS:\r\n text/plain: <3k>\r\n.\r\n", "gopher+info", 0},
		{"$ on a file answers as !", Handler{Next: mux}, "/about.txt\t$",
			"+-1\r\n+INFO: 0about.txt\t/about.txt\th\t70\t+\r\n+ADMIN:\r\n Mod-Date: Wed Jul 28 17:02:01 1993 <19930728170201>\r\n+VIEWS:\r\n text/plain: <3k>\r\n.\r\n", "gopher+info", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(tt.h, tt.req)
			if rec.String() != tt.want || rec.served != tt.served || rec.readers != tt.readers {
				t.Errorf("got %q (served %q, %d ReadFrom)\nwant %q (served %q, %d)", rec.String(), rec.served, rec.readers, tt.want, tt.served, tt.readers)
			}
		})
	}
	// The plain request reaches the handler without the marker.
	for _, r := range append(plainTree.asked, dt.asked...) {
		if r.GopherPlus != "" {
			t.Errorf("%q reached the handler with marker %q", r.Selector, r.GopherPlus)
		}
	}
	// A cut response stays cut.
	if rec := serve(Handler{Next: plainTree}, "/cut\t+"); !rec.aborted || rec.String() != "+-2\r\npar" {
		t.Errorf("cut: %q aborted %v", rec.String(), rec.aborted)
	}
}

func TestDisplay(t *testing.T) {
	for sel, want := range map[string]string{"": "Main menu", "/": "Main menu", "/a/b.txt": "b.txt", "/dir/": "dir", "x": "x", "//": "Main menu"} {
		if got := display(sel); got != want {
			t.Errorf("display(%q) = %q, want %q", sel, got, want)
		}
	}
}

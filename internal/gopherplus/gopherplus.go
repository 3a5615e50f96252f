// Package gopherplus answers the Gopher+ requests that real clients send
// with minimal, valid Gopher+ replies, around a host's handler chain. The
// UMN gopher client sends "TAB $" for its first menu and for every
// directory it knows to be a Gopher+ one, and "TAB !" then "TAB +view" for
// an item marked "+"; answered as plain requests, it gives up ("Nothing
// received for main menu") or shows nothing. Other clients send plain
// requests and never reach this package.
//
// What is answered (selector is the request's, the plain request goes to
// Next):
//
//   - "$" (the attributes of a directory's items): "+-1", then each line of
//     the plain menu as "+INFO: " and the line, then ".". A selector that is
//     no menu is answered as for "!".
//   - "!" (the attributes of one item): "+-1", "+INFO: " with the item's
//     line marked "+", "+VIEWS:" with the one view gopherd has of it (its
//     MIME type, and its size when known), then ".". The item is described
//     by the handler that would serve it when that handler is a Describer
//     (internal/fs), else by the start of its plain response.
//   - "+" with or without a view: the plain response, after "+-1" for a
//     menu (which ends in "." already) and "+-2" (until the connection
//     closes) for anything else; a file still goes out with sendfile.
//
// An error is answered as Gopher+ says: "--1", a line with the error code
// (1 not available, 2 try again later) and the message, then ".". The
// access log records what the plain response was.
package gopherplus

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"gopherd/internal/gopher"
)

// Handler answers Gopher+ requests and hands plain ones to Next unchanged.
type Handler struct {
	// Next answers plain requests. When it is a router (a ServeMux), the
	// handler it routes a selector to is asked for a description first.
	Next gopher.Handler
}

var _ gopher.Handler = Handler{}

// Describer is implemented by handlers that can say what they would serve
// for a plain request without serving it.
type Describer interface {
	// Describe returns the item a menu would list for r's selector (its
	// type, a display string, the selector, host and port), its size in
	// bytes (-1 when unknown, as for a menu) and when it was last changed
	// (zero when unknown). ok is false when there is nothing to describe.
	Describe(ctx context.Context, r *gopher.Request) (it gopher.Item, size int64, mod time.Time, ok bool)
}

// router is what a ServeMux offers: the handler for a request.
type router interface {
	Handler(r *gopher.Request) (gopher.Handler, string)
}

// ServeGopher implements gopher.Handler.
func (h Handler) ServeGopher(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	if r.GopherPlus == "" {
		h.Next.ServeGopher(ctx, w, r)
		return
	}
	plain := *r
	plain.GopherPlus = ""
	switch r.GopherPlus[0] {
	case '$':
		h.attributes(ctx, w, &plain)
	case '!':
		h.info(ctx, w, &plain)
	default:
		h.data(ctx, w, &plain)
	}
}

// data answers a "+" request: the plain response after a Gopher+ header.
func (h Handler) data(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	pw := &writer{w: w, r: r, mode: modeData}
	h.Next.ServeGopher(ctx, pw, r)
	pw.finish()
}

// attributes answers a "$" request.
func (h Handler) attributes(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	pw := &writer{w: w, r: r, mode: modeAttributes}
	h.Next.ServeGopher(ctx, pw, r)
	if pw.notMenu {
		h.info(ctx, w, r)
		return
	}
	pw.finish()
}

// info answers a "!" request.
func (h Handler) info(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	if it, size, mod, ok := h.describe(ctx, r); ok {
		if it.Display == "" {
			it.Display = display(r.Selector)
		}
		writeInfo(w, it, size, mod)
		return
	}
	// Nothing can describe it: look at the start of what it serves.
	pw := &writer{w: w, r: r, mode: modeProbe}
	h.Next.ServeGopher(ctx, pw, r)
	if pw.errKind != 0 {
		writeError(w, r, pw.errKind)
		return
	}
	t := gopher.TypeBinary
	switch {
	case pw.served == "menu":
		t = gopher.TypeMenu
	case pw.served == "url":
		t = gopher.TypeHTML
	case looksLikeText(pw.head):
		t = gopher.TypeText
	}
	writeInfo(w, gopher.Item{Type: t, Display: display(r.Selector), Selector: r.Selector, Host: r.Host, Port: r.Port}, -1, time.Time{})
}

// describe asks the handler that would serve r for its description.
func (h Handler) describe(ctx context.Context, r *gopher.Request) (gopher.Item, int64, time.Time, bool) {
	next := h.Next
	if rt, ok := next.(router); ok {
		next, _ = rt.Handler(r)
	}
	if d, ok := next.(Describer); ok {
		return d.Describe(ctx, r)
	}
	return gopher.Item{}, 0, time.Time{}, false
}

// writeInfo writes the "!" reply describing it.
func writeInfo(w gopher.ResponseWriter, it gopher.Item, size int64, mod time.Time) {
	gopher.Served(w, "gopher+info")
	it.Extra = "+"
	b := []byte("+-1\r\n+INFO: ")
	b = it.AppendTo(b)
	if !mod.IsZero() {
		mod = mod.UTC()
		b = append(b, "+ADMIN:\r\n Mod-Date: "...)
		b = mod.AppendFormat(b, time.ANSIC)
		b = append(b, " <"...)
		b = mod.AppendFormat(b, "20060102150405")
		b = append(b, ">\r\n"...)
	}
	b = append(b, "+VIEWS:\r\n "...)
	b = append(b, mimeType(it.Type)...)
	b = append(b, ':')
	if size >= 0 {
		b = append(b, " <"...)
		if size < 1024 {
			b = strconv.AppendInt(b, size, 10)
			b = append(b, 'b')
		} else {
			b = strconv.AppendInt(b, (size+1023)/1024, 10)
			b = append(b, 'k')
		}
		b = append(b, '>')
	}
	b = append(b, "\r\n.\r\n"...)
	_, _ = w.Write(b)
}

// writeError writes the Gopher+ error reply for kind.
func writeError(w gopher.ResponseWriter, r *gopher.Request, kind gopher.ErrorKind) {
	gopher.Served(w, kind.String())
	code := "1"
	if kind == gopher.Busy || kind == gopher.TimedOut {
		code = "2"
	}
	_, _ = w.Write([]byte("--1\r\n" + code + "\r\n" + kind.Message(r.Selector) + "\r\n.\r\n"))
}

// display is the name an item without a menu line of its own is given:
// the last component of its selector.
func display(sel string) string {
	for len(sel) > 1 && sel[len(sel)-1] == '/' {
		sel = sel[:len(sel)-1]
	}
	for i := len(sel) - 1; i >= 0; i-- {
		if sel[i] == '/' && i < len(sel)-1 {
			return sel[i+1:]
		}
	}
	if sel == "" || sel == "/" {
		return "Main menu"
	}
	return sel
}

// mimeType is the Gopher+ view of an item of type t.
func mimeType(t gopher.ItemType) string {
	switch t {
	case gopher.TypeText:
		return "text/plain"
	case gopher.TypeMenu, gopher.TypeSearch:
		return "application/gopher+-menu"
	case gopher.TypeHTML:
		return "text/html"
	case gopher.TypeGIF:
		return "image/gif"
	case gopher.TypePNG:
		return "image/png"
	case gopher.TypeImage:
		return "image/jpeg"
	case gopher.TypeSound:
		return "audio/basic"
	case gopher.TypeDocument:
		return "application/pdf"
	case gopher.TypeMIME:
		return "message/rfc822"
	case gopher.TypeCalendar:
		return "text/calendar"
	case gopher.TypeBinHex:
		return "application/mac-binhex40"
	case gopher.TypeDOS:
		return "application/zip"
	}
	return "application/octet-stream"
}

// looksLikeText is a crude judgement of a response's first bytes: no NUL.
func looksLikeText(head []byte) bool {
	for _, c := range head {
		if c == 0 {
			return false
		}
	}
	return len(head) > 0
}

// errKindOf returns the error kind whose access-log name is served, or 0.
func errKindOf(served string) gopher.ErrorKind {
	for k := gopher.NotFound; k <= gopher.Internal; k++ {
		if k.String() == served {
			return k
		}
	}
	return 0
}

// The writer's modes.
const (
	modeData       = iota // "+": a header, then the plain response
	modeAttributes        // "$": menu lines become +INFO lines
	modeProbe             // "!" without a Describer: keep the first bytes
)

// errDiscard stops a response this package does not pass on.
var errDiscard = errors.New("gopher+: response not passed on")

// probeBytes is how much of a response a probe keeps.
const probeBytes = 512

// writer turns the plain response written to it into the Gopher+ one,
// deciding on the header when it learns what the response is (Served, or
// the first Write).
type writer struct {
	w       gopher.ResponseWriter
	r       *gopher.Request
	mode    int
	served  string
	started bool
	// discard drops what is written (an error item, a probe's rest);
	// errKind is the error the plain response was.
	discard bool
	errKind gopher.ErrorKind
	// notMenu: a "$" request for something that is no menu.
	notMenu bool
	// atLineStart: modeAttributes is at the start of a menu line.
	midLine bool
	head    []byte
}

// Served implements gopher.Recorder.
func (pw *writer) Served(what string) {
	pw.served = what
	if pw.mode != modeProbe {
		gopher.Served(pw.w, what)
	}
}

// Abort implements gopher.Aborter.
func (pw *writer) Abort() { gopher.Abort(pw.w) }

// start writes the header for the response, once it is known what it is.
func (pw *writer) start() error {
	if pw.started {
		return nil
	}
	pw.started = true
	if k := errKindOf(pw.served); k != 0 {
		pw.errKind, pw.discard = k, true
		if pw.mode != modeProbe {
			writeError(pw.w, pw.r, k)
		}
		return nil
	}
	switch pw.mode {
	case modeProbe:
		return nil
	case modeAttributes:
		if pw.served != "menu" {
			pw.notMenu, pw.discard = true, true
			return nil
		}
		_, err := io.WriteString(pw.w, "+-1\r\n")
		return err
	}
	header := "+-2\r\n"
	if pw.served == "menu" {
		header = "+-1\r\n"
	}
	_, err := io.WriteString(pw.w, header)
	return err
}

// Write implements io.Writer.
func (pw *writer) Write(p []byte) (int, error) {
	if err := pw.start(); err != nil {
		return 0, err
	}
	switch {
	case pw.mode == modeProbe:
		if pw.discard {
			return len(p), nil
		}
		pw.head = append(pw.head, p[:min(len(p), probeBytes-len(pw.head))]...)
		if len(pw.head) >= probeBytes || pw.served == "menu" {
			return 0, errDiscard
		}
		return len(p), nil
	case pw.discard:
		if pw.notMenu {
			return 0, errDiscard
		}
		return len(p), nil
	case pw.mode == modeAttributes:
		return pw.writeAttributes(p)
	}
	return pw.w.Write(p)
}

// ReadFrom implements io.ReaderFrom, so that a file sent after a "+" still
// reaches sendfile through the server's writer.
func (pw *writer) ReadFrom(r io.Reader) (int64, error) {
	if pw.mode != modeData {
		return io.Copy(writerOnly{pw}, r)
	}
	if err := pw.start(); err != nil {
		return 0, err
	}
	if pw.discard {
		return io.Copy(io.Discard, r)
	}
	return io.Copy(pw.w, r)
}

// writerOnly hides ReadFrom, so that io.Copy does not call it again.
type writerOnly struct{ io.Writer }

// writeAttributes writes menu bytes p with "+INFO: " before each item line;
// the terminator line passes unchanged.
func (pw *writer) writeAttributes(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if !pw.midLine && p[0] != '.' {
			if _, err := io.WriteString(pw.w, "+INFO: "); err != nil {
				return n, err
			}
		}
		end := len(p)
		for i, c := range p {
			if c == '\n' {
				end = i + 1
				break
			}
		}
		m, err := pw.w.Write(p[:end])
		n += m
		if err != nil {
			return n, err
		}
		pw.midLine = p[end-1] != '\n'
		p = p[end:]
	}
	return n, nil
}

// finish completes a reply whose plain response wrote nothing at all.
func (pw *writer) finish() {
	if !pw.started {
		_ = pw.start()
	}
}

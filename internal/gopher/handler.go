package gopher

import (
	"context"
	"io"
)

// ResponseWriter is where a Handler writes its response: an io.Writer plus
// whichever of the optional interfaces below it chooses to implement
// (Recorder, Aborter). The server's implementation implements both and
// io.ReaderFrom, so io.Copy from an *os.File reaches the kernel's sendfile;
// handlers must therefore not wrap it in a buffered writer when streaming
// files. A test fake can be a bytes.Buffer.
type ResponseWriter interface {
	io.Writer
}

// Handler answers one request. It must write a complete response (menus and
// errors end with the terminator); the server closes the connection after
// ServeGopher returns. ctx is cancelled when the server gives up on the
// connection.
type Handler interface {
	ServeGopher(ctx context.Context, w ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, w ResponseWriter, r *Request)

// ServeGopher calls f(ctx, w, r).
func (f HandlerFunc) ServeGopher(ctx context.Context, w ResponseWriter, r *Request) {
	f(ctx, w, r)
}

// Recorder is implemented by ResponseWriters that note what a response is
// ("menu", "file", an error kind's name …) for the access log and the
// metrics. The last call wins.
type Recorder interface {
	Served(what string)
}

// Served tells w what the response is, when w records it.
func Served(w ResponseWriter, what string) {
	if r, ok := w.(Recorder); ok {
		r.Served(what)
	}
}

// WriteError writes a complete error response of kind k for request r: the
// item echoes a short, escaped prefix of r's selector and names r's host
// and port. It records the kind for the access log.
func WriteError(w ResponseWriter, r *Request, k ErrorKind) error {
	Served(w, k.String())
	_, err := w.Write(ErrorResponse(k, r.Selector, r.Host, r.Port))
	return err
}

// Aborter is implemented by ResponseWriters that can end a response as
// failed. Gopher carries no length, so a file cut short (it shrank while it
// was sent) would look complete to the client; after Abort the server resets
// the connection instead of closing it, and the client reports an error.
type Aborter interface {
	Abort()
}

// Abort marks w's response as failed when w supports it.
func Abort(w ResponseWriter) {
	if a, ok := w.(Aborter); ok {
		a.Abort()
	}
}
